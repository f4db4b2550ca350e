package definitions_test

import (
	"encoding/json"
	"testing"
)

// TestShippedSchemasBoundEveryString walks the schema of every shipped
// variant: a string without maxLength would let one field carry an
// application to Temporal's payload limit.
func TestShippedSchemasBoundEveryString(t *testing.T) {
	reg := mustCatalog(t)
	defs := reg.Published()
	if len(defs) == 0 {
		t.Fatal("no published definitions")
	}
	for _, def := range defs {
		var schema any
		if err := json.Unmarshal(def.Schema, &schema); err != nil {
			t.Fatalf("%s: schema: %v", def.ID, err)
		}
		for _, at := range unboundedStrings(schema, "") {
			t.Errorf("%s@%d: string %s has no maxLength", def.ID, def.Version, at)
		}
	}
}

// unboundedStrings lists the places in a schema, as JSON pointers into the
// schema, of string schemas without maxLength.
func unboundedStrings(node any, at string) []string {
	var out []string
	switch n := node.(type) {
	case map[string]any:
		if isString(n["type"]) {
			if _, ok := n["maxLength"]; !ok {
				out = append(out, at)
			}
		}
		for k, v := range n {
			out = append(out, unboundedStrings(v, at+"/"+k)...)
		}
	case []any:
		for _, v := range n {
			out = append(out, unboundedStrings(v, at+"/*")...)
		}
	}
	return out
}

func isString(t any) bool {
	switch t := t.(type) {
	case string:
		return t == "string"
	case []any:
		for _, v := range t {
			if v == "string" {
				return true
			}
		}
	}
	return false
}
