package definitions

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Change kinds of a Difference.
const (
	DiffChanged = "changed"
	DiffAdded   = "added"
	DiffRemoved = "removed"
)

// Difference is one field that differs between two effective definitions,
// named as people read it, with both values written out ("" where a side
// does not have the field).
type Difference struct {
	Pointer string // into the newer definition, steps by index
	Field   string // e.g. `Schritt „review“ › Arbeitskorb (queue)`
	Kind    string // DiffChanged, DiffAdded or DiffRemoved
	Old     string
	New     string
}

// Diff lists what changes for new cases when next replaces old: every field
// of the effective definitions whose value differs, steps matched by their
// id and notices by their key, in the order of next (removed fields last).
// The version number is left out: it always differs.
func Diff(old, next *Definition) []Difference {
	a, b := flattenDef(old), flattenDef(next)
	var out []Difference
	seen := map[string]bool{}
	for _, f := range b.order {
		seen[f] = true
		nv := b.values[f]
		ov, had := a.values[f]
		switch {
		case !had:
			out = append(out, Difference{Pointer: b.pointers[f], Field: FieldLabel(next, b.pointers[f]), Kind: DiffAdded, New: nv})
		case ov != nv:
			out = append(out, Difference{Pointer: b.pointers[f], Field: FieldLabel(next, b.pointers[f]), Kind: DiffChanged, Old: ov, New: nv})
		}
	}
	for _, f := range a.order {
		if !seen[f] {
			out = append(out, Difference{Pointer: a.pointers[f], Field: FieldLabel(old, a.pointers[f]), Kind: DiffRemoved, Old: a.values[f]})
		}
	}
	return out
}

// flat is a definition as leaf values by a key that names steps by id.
type flat struct {
	order    []string
	values   map[string]string
	pointers map[string]string
}

func flattenDef(d *Definition) flat {
	f := flat{values: map[string]string{}, pointers: map[string]string{}}
	if d == nil {
		return f
	}
	var doc map[string]any
	b, _ := json.Marshal(d)
	_ = json.Unmarshal(b, &doc)
	delete(doc, "version")
	var walk func(v any, key, ptr string, t fieldKind)
	walk = func(v any, key, ptr string, t fieldKind) {
		switch v := v.(type) {
		case map[string]any:
			if len(v) == 0 {
				return
			}
			for _, k := range diffKeys(v, t) {
				walk(v[k], key+"/"+escapePointer(k), ptr+"/"+escapePointer(k), t.child(k))
			}
			return
		case []any:
			if t == kindSteps {
				for i, s := range v {
					id, _ := s.(map[string]any)["id"].(string)
					walk(s, key+"/"+escapePointer(id), fmt.Sprintf("%s/%d", ptr, i), kindStep)
				}
				return
			}
			if allScalars(v) {
				parts := make([]string, len(v))
				for i, x := range v {
					parts[i] = scalarText(x)
				}
				f.add(key, ptr, strings.Join(parts, ", "))
				return
			}
			for i, x := range v {
				walk(x, fmt.Sprintf("%s/%d", key, i), fmt.Sprintf("%s/%d", ptr, i), kindOther)
			}
			return
		}
		if v == nil {
			return
		}
		f.add(key, ptr, scalarText(v))
	}
	walk(doc, "", "", kindTop)
	return f
}

func (f *flat) add(key, ptr, value string) {
	if value == "" {
		return
	}
	f.order = append(f.order, key)
	f.values[key], f.pointers[key] = value, ptr
}

// fieldKind says which struct a mapping is, for the order of its keys.
type fieldKind int

const (
	kindOther fieldKind = iota
	kindTop
	kindSteps
	kindStep
)

func (k fieldKind) child(key string) fieldKind {
	if k == kindTop && key == "steps" {
		return kindSteps
	}
	return kindOther
}

var (
	topOrder  = structOrder(Definition{})
	stepOrder = structOrder(Step{})
)

func structOrder(v any) map[string]int {
	out := map[string]int{}
	t := reflect.TypeOf(v)
	for i := range t.NumField() {
		out[jsonName(t.Field(i))] = i + 1
	}
	return out
}

func diffKeys(m map[string]any, k fieldKind) []string {
	keys := sortedKeys(m)
	rank := map[string]int{}
	switch k {
	case kindTop:
		rank = topOrder
	case kindStep:
		rank = stepOrder
	}
	sort.SliceStable(keys, func(i, j int) bool {
		ri, rj := rank[keys[i]], rank[keys[j]]
		if ri == 0 {
			ri = 1 << 20
		}
		if rj == 0 {
			rj = 1 << 20
		}
		return ri < rj
	})
	return keys
}

func allScalars(v []any) bool {
	for _, x := range v {
		switch x.(type) {
		case map[string]any, []any:
			return false
		}
	}
	return true
}

func scalarText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		if v {
			return "ja"
		}
		return "nein"
	case float64:
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%f", v), "0"), ".")
	}
	b, _ := json.Marshal(v)
	return string(b)
}
