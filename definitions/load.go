package definitions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"gopkg.in/yaml.v3"
)

// Authority is a municipality or office, identified by its Amtlicher
// Regionalschlüssel (ARS, 12 digits).
type Authority struct {
	ARS  string `json:"ars" yaml:"ars"`
	Name string `json:"name" yaml:"name"`
	// Contact is the office applicants turn to, printed on notices and
	// rejections.
	Contact *Contact `json:"contact,omitempty" yaml:"contact,omitempty"`
	// Queues are the authority's Arbeitskörbe with the names people read;
	// a variant's tasks may only go to these.
	Queues []Queue `json:"queues,omitempty" yaml:"queues,omitempty"`
	// Targets are the receiving systems (Fachverfahren, archive) the
	// authority's variants may deliver to, with the names people read.
	Targets []Target `json:"targets,omitempty" yaml:"targets,omitempty"`
}

// Contact is how an office is reached.
type Contact struct {
	Office  string `json:"office" yaml:"office"`   // e.g. "Ordnungsamt, Gewerbebehörde"
	Address string `json:"address" yaml:"address"` // one line
	Phone   string `json:"phone,omitempty" yaml:"phone,omitempty"`
	Email   string `json:"email,omitempty" yaml:"email,omitempty"`
	Hours   string `json:"hours,omitempty" yaml:"hours,omitempty"` // Sprechzeiten
}

// Queue is an Arbeitskorb: its key in variants and tasks, its display name.
type Queue struct {
	Key  string `json:"key" yaml:"key"`
	Name string `json:"name" yaml:"name"`
}

// QueueName returns the display name of the authority's queue key, or the key
// when the authority does not list it.
func (a Authority) QueueName(key string) string {
	for _, q := range a.Queues {
		if q.Key == key {
			return q.Name
		}
	}
	return key
}

// authoritiesFile lists the authorities known to a catalog.
const authoritiesFile = "authorities.yaml"

// LoadCatalog reads every *.yaml file under fsys: authorities.yaml and the
// definitions, resolving each variant against the base it extends.
func LoadCatalog(fsys fs.FS) (*Registry, error) {
	authorities, docs, files, err := readDocuments(fsys)
	if err != nil {
		return nil, err
	}
	return buildRegistry(authorities, docs, files)
}

// readDocuments reads authorities.yaml and the authored definition documents
// by ID, with the file each came from.
func readDocuments(fsys fs.FS) ([]Authority, map[string]map[string]any, map[string]string, error) {
	var authorities []Authority
	raw := map[string]map[string]any{} // definition ID → document
	files := map[string]string{}       // definition ID → file, for messages
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		if p == FITConnectFile {
			return nil // the destinations, read by LoadFITConnectDestinations
		}
		if path.Base(p) == authoritiesFile {
			if err := yaml.Unmarshal(b, &authorities); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			return nil
		}
		var doc map[string]any
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		id, _ := doc["id"].(string)
		if id == "" {
			return fmt.Errorf("%s: missing id", p)
		}
		if other, dup := files[id]; dup {
			return fmt.Errorf("%s: id %q already used by %s", p, id, other)
		}
		raw[id], files[id] = doc, p
		return nil
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load catalog: %w", err)
	}
	return authorities, raw, files, nil
}

// buildRegistry resolves and validates documents into a registry; files, if
// given, name where each document came from in messages.
func buildRegistry(authorities []Authority, docs map[string]map[string]any, files map[string]string) (*Registry, error) {
	reg := NewRegistry(authorities)
	for _, id := range sortedKeys(docs) {
		where := id
		if f, ok := files[id]; ok {
			where = f
		}
		doc, err := resolve(id, docs, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		def, err := DecodeDocument(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if err := reg.Add(def); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
	}
	return reg, nil
}

// ResolveDocument lays the authored document of id onto the chain of bases it
// extends, all taken from docs, with the inheritance rules of the catalog.
func ResolveDocument(id string, docs map[string]map[string]any) (map[string]any, error) {
	return resolve(id, docs, nil)
}

// resolve returns the document of id merged onto the chain of bases it extends.
func resolve(id string, raw map[string]map[string]any, seen []string) (map[string]any, error) {
	for _, s := range seen {
		if s == id {
			return nil, fmt.Errorf("die Prozessvarianten erben im Kreis voneinander: %s", strings.Join(append(seen, id), " → "))
		}
	}
	doc, ok := raw[id]
	if !ok {
		return nil, fmt.Errorf("erbt von „%s“, die es nicht gibt", id)
	}
	base, _ := doc["extends"].(string)
	if base == "" {
		return doc, nil
	}
	parent, err := resolve(base, raw, append(seen, id))
	if err != nil {
		return nil, err
	}
	return merge(parent, doc).(map[string]any), nil
}

// merge lays override onto base: mappings merge key by key, lists of mappings
// that all carry an "id" merge item by id (new ids are appended), anything
// else in override replaces what base had.
func merge(base, override any) any {
	switch o := override.(type) {
	case map[string]any:
		b, ok := base.(map[string]any)
		if !ok {
			return o
		}
		out := make(map[string]any, len(b)+len(o))
		for k, v := range b {
			out[k] = v
		}
		for k, v := range o {
			out[k] = merge(b[k], v)
		}
		return out
	case []any:
		b, ok := base.([]any)
		if !ok || !allHaveIDs(b) || !allHaveIDs(o) {
			return o
		}
		out := append([]any(nil), b...)
		for _, item := range o {
			id := item.(map[string]any)["id"]
			replaced := false
			for i, existing := range out {
				if existing.(map[string]any)["id"] == id {
					out[i] = merge(existing, item)
					replaced = true
				}
			}
			if !replaced {
				out = append(out, item)
			}
		}
		return out
	}
	return override
}

func allHaveIDs(items []any) bool {
	for _, item := range items {
		m, ok := item.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := m["id"].(string); !ok {
			return false
		}
	}
	return len(items) > 0
}

// DecodeDocument reads a resolved document into a Definition, refusing
// unknown fields. It goes through JSON, which keeps large integers exact
// whether the document came from YAML or from a JSON round trip.
func DecodeDocument(doc map[string]any) (Definition, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return Definition{}, err
	}
	var d Definition
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return Definition{}, fmt.Errorf("read definition: %w", err)
	}
	return d, nil
}
