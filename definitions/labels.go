package definitions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ozgflow/ozgflow/locale"
)

// LabelledField is one value of an application's data with the label the
// variant's schema gives it, for people to read: the case workers' case view
// and the applicant's receipt show the data this way.
type LabelledField struct {
	Path  string // JSON pointer, e.g. /betrieb/name
	Label string // e.g. "Betrieb – Name des Betriebs"
	Value string // e.g. "01.12.2026", "ja", "Einzelunternehmen"
}

// LabelledData flattens application data into labelled values in the order
// of the schema: the required properties in the order the schema lists them,
// then the other properties in the order the schema document has them, then
// keys the schema does not know, sorted and labelled with the key. Nested
// objects join their titles ("Betrieb – Name des Betriebs"). Booleans read
// "ja" and "nein", dates DD.MM.YYYY, enum values their oneOf/anyOf title or
// the value with a capital letter. Data that is not JSON gives nothing.
func (d *Definition) LabelledData(data json.RawMessage) []LabelledField {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var value any
	if err := dec.Decode(&value); err != nil {
		return nil
	}
	var schema *schemaNode
	if d != nil && len(d.Schema) > 0 {
		var root schemaNode
		if json.Unmarshal(d.Schema, &root) == nil {
			schema = &root
		}
	}
	var out []LabelledField
	flatten(&out, "", "", schema, value)
	return out
}

// schemaNode is the part of a JSON Schema that labels data. Properties keep
// the order of the document.
type schemaNode struct {
	Title      string
	Format     string
	Required   []string
	Properties []namedSchema
	Items      *schemaNode
	Enum       bool
	Choices    []choice // oneOf/anyOf entries with a const and a title
}

type namedSchema struct {
	Name   string
	Schema *schemaNode
}

type choice struct {
	Value any
	Title string
}

// UnmarshalJSON reads a schema leniently: parts it does not understand are
// left out rather than failing the whole document.
func (n *schemaNode) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil // a boolean schema or something else without labels
	}
	_ = json.Unmarshal(raw["title"], &n.Title)
	_ = json.Unmarshal(raw["format"], &n.Format)
	_ = json.Unmarshal(raw["required"], &n.Required)
	if props, ok := raw["properties"]; ok {
		n.Properties, _ = orderedProperties(props)
	}
	if items, ok := raw["items"]; ok {
		var sub schemaNode
		if json.Unmarshal(items, &sub) == nil {
			n.Items = &sub
		}
	}
	_, n.Enum = raw["enum"]
	for _, key := range []string{"oneOf", "anyOf"} {
		var entries []struct {
			Const *json.RawMessage `json:"const"`
			Title string           `json:"title"`
		}
		if json.Unmarshal(raw[key], &entries) != nil {
			continue
		}
		for _, e := range entries {
			if e.Const == nil || e.Title == "" {
				continue
			}
			dec := json.NewDecoder(bytes.NewReader(*e.Const))
			dec.UseNumber()
			var v any
			if dec.Decode(&v) == nil {
				n.Choices = append(n.Choices, choice{v, e.Title})
			}
		}
	}
	return nil
}

// orderedProperties reads a "properties" object keeping its keys in order.
func orderedProperties(b []byte) ([]namedSchema, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("properties: not an object")
	}
	var out []namedSchema
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return out, err
		}
		name, _ := tok.(string)
		var sub schemaNode
		if err := dec.Decode(&sub); err != nil {
			return out, err
		}
		out = append(out, namedSchema{name, &sub})
	}
	return out, nil
}

// property returns the schema of an object's property, or nil.
func (n *schemaNode) property(name string) *schemaNode {
	if n == nil {
		return nil
	}
	for _, p := range n.Properties {
		if p.Name == name {
			return p.Schema
		}
	}
	return nil
}

func flatten(out *[]LabelledField, path, label string, schema *schemaNode, value any) {
	switch v := value.(type) {
	case map[string]any:
		for _, key := range orderedKeys(v, schema) {
			sub := schema.property(key)
			flatten(out, path+"/"+escapePointer(key), joinLabel(label, titleOf(sub, key)), sub, v[key])
		}
	case []any:
		var items *schemaNode
		if schema != nil {
			items = schema.Items
		}
		if scalars(v) {
			values := make([]string, len(v))
			for i, item := range v {
				values[i] = readable(items, item)
			}
			joined := strings.Join(values, ", ")
			if joined == "" {
				joined = "–"
			}
			*out = append(*out, LabelledField{Path: path, Label: label, Value: joined})
			return
		}
		for i, item := range v {
			flatten(out, fmt.Sprintf("%s/%d", path, i), fmt.Sprintf("%s %d", label, i+1), items, item)
		}
	default:
		*out = append(*out, LabelledField{Path: path, Label: label, Value: readable(schema, v)})
	}
}

// scalars reports whether no element of a list is an object or a list.
func scalars(list []any) bool {
	for _, item := range list {
		switch item.(type) {
		case map[string]any, []any:
			return false
		}
	}
	return true
}

// orderedKeys lists an object's keys: required ones in the schema's order,
// the other known ones in the order of the schema document, unknown ones
// sorted.
func orderedKeys(obj map[string]any, schema *schemaNode) []string {
	seen := map[string]bool{}
	var keys []string
	take := func(name string) {
		if _, present := obj[name]; present && !seen[name] {
			seen[name] = true
			keys = append(keys, name)
		}
	}
	if schema != nil {
		for _, name := range schema.Required {
			take(name)
		}
		for _, p := range schema.Properties {
			take(p.Name)
		}
	}
	var unknown []string
	for k := range obj {
		if !seen[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	return append(keys, unknown...)
}

func titleOf(schema *schemaNode, key string) string {
	if schema != nil && schema.Title != "" {
		return schema.Title
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
// DD.MM.YYYY, times in German time, decimal commas, enum values by title.
func readable(schema *schemaNode, v any) string {
	if schema != nil {
		for _, c := range schema.Choices {
			if fmt.Sprint(c.Value) == fmt.Sprint(v) {
				return c.Title
			}
		}
	}
	switch v := v.(type) {
	case nil:
		return "–"
	case bool:
		if v {
			return "ja"
		}
		return "nein"
	case json.Number:
		s := v.String()
		if strings.ContainsAny(s, "eE") {
			if f, err := v.Float64(); err == nil {
				s = strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.6f", f), "0"), ".")
			}
		}
		return strings.Replace(s, ".", ",", 1)
	case string:
		if t, err := time.Parse("2006-01-02", v); err == nil {
			return t.Format("02.01.2006")
		}
		if schema != nil && schema.Format == "date-time" {
			if t, err := time.Parse(time.RFC3339, v); err == nil {
				return locale.DE.Time(t)
			}
		}
		if schema != nil && schema.Enum {
			return humanize(v)
		}
		return v
	}
	return fmt.Sprint(v)
}

// humanize turns an enum code like "einzelunternehmen" or "mit_kind" into
// "Einzelunternehmen" and "Mit kind" for a schema that gives no titles.
func humanize(code string) string {
	s := strings.NewReplacer("_", " ", "-", " ").Replace(code)
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}
