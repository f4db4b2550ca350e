package definitions

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// LabelledField is one value of an application's data with the label the
// variant's schema gives it, for people to read.
type LabelledField struct {
	Path  string // JSON pointer, e.g. /betrieb/name
	Label string // e.g. "Betrieb – Name des Betriebs"
	Value string
}

// LabelledData flattens application data in the order of the schema's
// properties, labelled with their titles. Keys the schema does not know
// follow, labelled with the key.
func (d *Definition) LabelledData(data json.RawMessage) []LabelledField {
	var value any
	if err := json.Unmarshal(data, &value); err != nil {
		return nil
	}
	var schema map[string]any
	_ = json.Unmarshal(d.Schema, &schema)
	var out []LabelledField
	flatten(&out, "", "", schema, value)
	return out
}

func flatten(out *[]LabelledField, path, label string, schema map[string]any, value any) {
	switch v := value.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		for _, key := range orderedKeys(v, schema) {
			sub, _ := props[key].(map[string]any)
			flatten(out, path+"/"+key, joinLabel(label, title(sub, key)), sub, v[key])
		}
	case []any:
		items, _ := schema["items"].(map[string]any)
		for i, item := range v {
			flatten(out, fmt.Sprintf("%s/%d", path, i), fmt.Sprintf("%s %d", label, i+1), items, item)
		}
	default:
		*out = append(*out, LabelledField{Path: path, Label: label, Value: readable(v)})
	}
}

// orderedKeys lists an object's keys in the schema's order: required
// properties as the schema lists them, then the other known ones, then
// unknown ones, each group sorted where the schema gives no order.
func orderedKeys(obj map[string]any, schema map[string]any) []string {
	seen := map[string]bool{}
	var keys []string
	if req, ok := schema["required"].([]any); ok {
		for _, k := range req {
			if name, ok := k.(string); ok {
				if _, present := obj[name]; present && !seen[name] {
					seen[name] = true
					keys = append(keys, name)
				}
			}
		}
	}
	props, _ := schema["properties"].(map[string]any)
	var known, unknown []string
	for k := range obj {
		if seen[k] {
			continue
		}
		if _, ok := props[k]; ok {
			known = append(known, k)
		} else {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(known)
	sort.Strings(unknown)
	return append(append(keys, known...), unknown...)
}

func title(schema map[string]any, key string) string {
	if t, ok := schema["title"].(string); ok && t != "" {
		return t
	}
	return key
}

func joinLabel(parent, label string) string {
	if parent == "" {
		return label
	}
	return parent + " – " + label
}

// readable writes a value the way a German reader expects: yes/no, dates as
// DD.MM.YYYY, numbers without exponent.
func readable(v any) string {
	switch v := v.(type) {
	case nil:
		return "–"
	case bool:
		if v {
			return "ja"
		}
		return "nein"
	case float64:
		s := strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.6f", v), "0"), ".")
		return strings.Replace(s, ".", ",", 1)
	case string:
		if t, err := time.Parse("2006-01-02", v); err == nil {
			return t.Format("02.01.2006")
		}
		return v
	}
	return fmt.Sprint(v)
}
