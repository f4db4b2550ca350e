package definitions

import (
	"maps"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ozgflow/ozgflow/definitions/catalog"
)

// FuzzDefinitionDocument loads an administrator's document as the catalog
// does: YAML or JSON, extending a shipped variant or standing alone, merged,
// decoded and validated. Nothing may panic; a document is either refused
// with an error or a definition that validates.
func FuzzDefinitionDocument(f *testing.F) {
	_, shipped, _, err := readDocuments(catalog.FS)
	if err != nil {
		f.Fatal(err)
	}
	for id, doc := range shipped {
		b, _ := yaml.Marshal(doc)
		f.Add(b)
		f.Add([]byte(`{"id":"fuzz-` + id + `","extends":"` + id + `"}`))
	}
	f.Add([]byte(`{"id":"x","extends":"x"}`))
	f.Add([]byte("id: y\nsteps: [{id: a, type: task, queue: q}, {id: a}]\nschema: {type: object, properties: {n: {type: string}}}"))
	f.Fuzz(func(t *testing.T, input []byte) {
		var doc map[string]any
		if err := yaml.Unmarshal(input, &doc); err != nil || doc == nil {
			return
		}
		id, _ := doc["id"].(string)
		if id == "" {
			id = "fuzz"
			doc["id"] = id
		}
		docs := maps.Clone(shipped)
		docs[id] = doc
		resolved, err := ResolveDocument(id, docs)
		if err != nil {
			return
		}
		d, err := DecodeDocument(resolved)
		if err != nil {
			return
		}
		_ = d.Validate()
	})
}

// FuzzCondition evaluates any condition over any data: a condition either
// fails to compile, fails to run, or answers; it never panics.
func FuzzCondition(f *testing.F) {
	for _, src := range []string{
		`data.betrieb.rechtsform == "gmbh"`, `paid && outcome == "approve"`, `len(data.zonen) > 2`,
		`data.a.b.c + 1 > vars.limit`, `any(data.list, {# > 3})`, `"x" in data`, `data["k"] ?? false`,
	} {
		f.Add(src, []byte(`{"betrieb":{"rechtsform":"gmbh"},"zonen":["a","b","c"],"list":[1,5],"k":true}`))
	}
	f.Fuzz(func(t *testing.T, src string, data []byte) {
		if len(src) > 1000 || strings.Count(src, "(") > 50 {
			return // conditions are short lines an administrator writes
		}
		env := ConditionEnv{Data: DataMap(data), Vars: map[string]any{"limit": 3}, Outcome: "approve", Paid: true}
		first, err1 := EvalCondition(src, env)
		second, err2 := EvalCondition(src, env)
		if first != second || (err1 == nil) != (err2 == nil) {
			t.Fatalf("condition %q is not deterministic: %v %v / %v %v", src, first, err1, second, err2)
		}
	})
}
