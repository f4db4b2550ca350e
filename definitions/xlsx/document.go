package xlsx

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
)

// Document is one definition as its administrators author it: a base with all
// its fields, or a variant with only what it overrides of the base it extends.
// Raw is the whole document (including "id", "extends" and "version") as YAML
// decodes it; ID, Extends and Version repeat those three for convenience.
type Document struct {
	ID      string
	Extends string
	Version int
	Raw     map[string]any
}

// authoritiesFile is the catalog file that lists authorities, not a definition.
const authoritiesFile = "authorities.yaml"

// ReadCatalog reads every definition under fsys as authored, without resolving
// extends, ordered by ID. It reads the same files definitions.LoadCatalog
// does (every *.yaml except authorities.yaml and the FIT-Connect
// destinations, definitions.FITConnectFile) and refuses a missing or
// duplicate id the same way.
func ReadCatalog(fsys fs.FS) ([]Document, error) {
	var docs []Document
	files := map[string]string{} // definition ID → file, for messages
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") || path.Base(p) == authoritiesFile ||
			p == definitions.FITConnectFile {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		var raw map[string]any
		if err := yaml.Unmarshal(b, &raw); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		doc, err := newDocument(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if other, dup := files[doc.ID]; dup {
			return fmt.Errorf("%s: id %q already used by %s", p, doc.ID, other)
		}
		files[doc.ID] = p
		docs = append(docs, doc)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	sort.Slice(docs, func(i, j int) bool { return docs[i].ID < docs[j].ID })
	return docs, nil
}

// newDocument fills ID, Extends and Version from raw.
func newDocument(raw map[string]any) (Document, error) {
	id, _ := raw["id"].(string)
	if id == "" {
		return Document{}, fmt.Errorf("missing id")
	}
	doc := Document{ID: id, Raw: raw}
	if v, ok := raw["extends"]; ok && v != nil {
		s, ok := v.(string)
		if !ok {
			return Document{}, fmt.Errorf("%s: extends must be a definition id", id)
		}
		doc.Extends = s
	}
	if v, ok := raw["version"]; ok && v != nil {
		n, ok := v.(int)
		if !ok {
			return Document{}, fmt.Errorf("%s: version must be a whole number", id)
		}
		doc.Version = n
	}
	return doc, nil
}

// Resolve lays every document onto the chain of bases it extends, with the
// rules of definitions.LoadCatalog, decodes it and validates it. It returns
// one resolved Definition per document, bases included, in the order of docs.
// Any problem fails the whole set: the error is an *ozgflow.Error (EINVALID)
// whose fields point at "/<document id>/<pointer into the resolved
// definition>", e.g. "/gewerbeanmeldung-leipzig/fee/amount".
func Resolve(docs []Document) ([]definitions.Definition, error) {
	var problems []ozgflow.FieldError
	add := func(id, ptr, detail string) {
		problems = append(problems, ozgflow.FieldError{Pointer: "/" + escapePointer(id) + ptr, Detail: detail})
	}
	raw := make(map[string]map[string]any, len(docs))
	for _, d := range docs {
		switch {
		case d.ID == "":
			add("", "/id", "a definition needs an id")
		case raw[d.ID] != nil:
			add(d.ID, "/id", fmt.Sprintf("id %q is used by more than one definition", d.ID))
		case d.Raw["id"] != d.ID:
			add(d.ID, "/id", fmt.Sprintf("the document's id %v differs from %q", d.Raw["id"], d.ID))
		default:
			raw[d.ID] = d.Raw
		}
	}
	if len(problems) > 0 {
		return nil, invalidDefinitions(problems)
	}
	defs := make([]definitions.Definition, 0, len(docs))
	for _, d := range docs {
		doc, err := definitions.ResolveDocument(d.ID, raw)
		if err != nil {
			add(d.ID, "/extends", err.Error())
			continue
		}
		def, err := definitions.DecodeDocument(doc)
		if err != nil {
			add(d.ID, "", err.Error())
			continue
		}
		if err := def.Validate(); err != nil {
			fields := ozgflow.ErrorFields(err)
			if len(fields) == 0 {
				add(d.ID, "", ozgflow.ErrorMessage(err))
			}
			for _, f := range fields {
				add(d.ID, f.Pointer, f.Detail)
			}
			continue
		}
		defs = append(defs, def)
	}
	if len(problems) > 0 {
		return nil, invalidDefinitions(problems)
	}
	return defs, nil
}

func invalidDefinitions(problems []ozgflow.FieldError) error {
	var ids []string
	seen := map[string]bool{}
	for _, p := range problems {
		id, _, _ := strings.Cut(strings.TrimPrefix(p.Pointer, "/"), "/")
		if !seen[id] {
			seen[id] = true
			ids = append(ids, unescapePointer(id))
		}
	}
	return &ozgflow.Error{
		Code:    ozgflow.EINVALID,
		Message: fmt.Sprintf("Invalid definitions: %s.", strings.Join(ids, ", ")),
		Fields:  problems,
	}
}

func escapePointer(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

func unescapePointer(s string) string {
	return strings.NewReplacer("~1", "/", "~0", "~").Replace(s)
}
