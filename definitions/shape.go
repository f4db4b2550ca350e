package definitions

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"

	"github.com/ozgflow/ozgflow"
)

// CheckShape checks an authored document before it is read into a
// Definition: every key is a field definitions have, and every value has the
// field's type (a number, a text, a duration, a list, a mapping). Findings
// are German and point into the document, so that a typo such as "queu"
// names its place instead of failing the whole document.
func CheckShape(doc map[string]any) []ozgflow.FieldError {
	var out []ozgflow.FieldError
	shapeOf(doc, reflect.TypeOf(Definition{}), nil, &out)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Pointer < out[j].Pointer })
	return out
}

var (
	durationType  = reflect.TypeOf(Duration(0))
	retentionType = reflect.TypeOf(Retention(""))
	schemaType    = reflect.TypeOf(Schema{})
)

func shapeOf(v any, t reflect.Type, path []string, out *[]ozgflow.FieldError) {
	add := func(format string, args ...any) {
		*out = append(*out, ozgflow.FieldError{Pointer: pointerOf(path), Detail: fmt.Sprintf(format, args...)})
	}
	if v == nil {
		return // null leaves the field unset
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		s, ok := v.(string)
		if !ok {
			add("erwartet wird eine Dauer als Text, etwa 10d, 72h oder 30m")
		} else if _, err := ParseDuration(s); err != nil {
			add("%v", err)
		}
		return
	case t == retentionType:
		if _, ok := v.(string); !ok {
			add("erwartet wird eine Aufbewahrungsfrist als Text, etwa 90d, 2W, 6M oder 1Y")
		}
		return
	case t == schemaType:
		if _, ok := v.(map[string]any); !ok {
			if _, ok := v.(bool); !ok {
				add("erwartet wird ein JSON Schema (eine Zuordnung mit type, properties …)")
			}
		}
		return
	}
	switch t.Kind() {
	case reflect.String:
		if _, ok := v.(string); !ok {
			add("erwartet wird ein Text")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			add("erwartet wird true oder false")
		}
	case reflect.Int, reflect.Int64:
		if !isWhole(v) {
			add("erwartet wird eine ganze Zahl")
		}
	case reflect.Interface:
	case reflect.Slice:
		items, ok := v.([]any)
		if !ok {
			add("erwartet wird eine Liste")
			return
		}
		for i, item := range items {
			shapeOf(item, t.Elem(), append(path, fmt.Sprint(i)), out)
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			add("erwartet wird eine Zuordnung (Schlüssel: Wert)")
			return
		}
		for _, k := range sortedKeys(m) {
			shapeOf(m[k], t.Elem(), append(path, k), out)
		}
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			add("erwartet wird eine Zuordnung (Schlüssel: Wert)")
			return
		}
		fields := map[string]reflect.Type{}
		var names []string
		for i := range t.NumField() {
			name := jsonName(t.Field(i))
			fields[name] = t.Field(i).Type
			names = append(names, name)
		}
		for _, k := range sortedKeys(m) {
			ft, known := fields[k]
			if !known {
				*out = append(*out, ozgflow.FieldError{Pointer: pointerOf(append(path, k)), Detail: unknownField(k, names)})
				continue
			}
			shapeOf(m[k], ft, append(path, k), out)
		}
	}
}

func isWhole(v any) bool {
	switch n := v.(type) {
	case int, int64, uint64:
		return true
	case float64:
		return n == math.Trunc(n) && math.Abs(n) < 1<<53
	}
	return false
}

// unknownField says that a key is no field, suggesting the nearest one.
func unknownField(k string, names []string) string {
	best, dist := "", 3
	for _, n := range names {
		if d := editDistance(strings.ToLower(k), strings.ToLower(n)); d < dist {
			best, dist = n, d
		}
	}
	if best != "" {
		return fmt.Sprintf("das Feld „%s“ gibt es hier nicht; gemeint ist wohl „%s“", k, best)
	}
	return fmt.Sprintf("das Feld „%s“ gibt es hier nicht; möglich sind %s", k, strings.Join(names, ", "))
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
