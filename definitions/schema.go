package definitions

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/ozgflow/ozgflow"
)

// CompileSchema compiles the definition's data schema; date formats are asserted.
func (d *Definition) CompileSchema() (*jsonschema.Schema, error) {
	if len(d.Schema) == 0 {
		return nil, ozgflow.Errorf(ozgflow.EINVALID, "Die Prozessvariante %s hat kein Datenschema.", d.ID)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(d.Schema))
	if err != nil {
		return nil, ozgflow.Errorf(ozgflow.EINVALID, "Prozessvariante %s: Das Datenschema ist kein JSON: %v", d.ID, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	url := "ozgflow:///" + d.ID + ".json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, ozgflow.Errorf(ozgflow.EINVALID, "Prozessvariante %s: Datenschema: %v", d.ID, err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, ozgflow.Errorf(ozgflow.EINVALID, "Prozessvariante %s: Das Datenschema ist kein gültiges JSON Schema: %v", d.ID, err)
	}
	return s, nil
}

var schemaPrinter = message.NewPrinter(language.English)

// validateWith validates JSON data and lists one FieldError per violation,
// ordered by pointer, each pointer starting with /data.
func validateWith(schema *jsonschema.Schema, data []byte) []ozgflow.FieldError {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return []ozgflow.FieldError{{Pointer: "/data", Detail: "data is not valid JSON"}}
	}
	err = schema.Validate(inst)
	var ve *jsonschema.ValidationError
	if err == nil {
		return nil
	} else if !errors.As(err, &ve) {
		return []ozgflow.FieldError{{Pointer: "/data", Detail: err.Error()}}
	}
	var out []ozgflow.FieldError
	collectLeaves(ve, &out)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Pointer < out[j].Pointer })
	return out
}

func collectLeaves(ve *jsonschema.ValidationError, out *[]ozgflow.FieldError) {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			collectLeaves(c, out)
		}
		return
	}
	base := "/data" + pointer(ve.InstanceLocation)
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			*out = append(*out, ozgflow.FieldError{Pointer: base + "/" + escapePointer(m), Detail: "is required"})
		}
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			*out = append(*out, ozgflow.FieldError{Pointer: base + "/" + escapePointer(p), Detail: "is not an allowed field"})
		}
	default:
		*out = append(*out, ozgflow.FieldError{Pointer: base, Detail: ve.ErrorKind.LocalizedString(schemaPrinter)})
	}
}

func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteString("/")
		b.WriteString(escapePointer(t))
	}
	return b.String()
}

func escapePointer(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

// ValidateData validates data against the definition's schema, compiled
// once per schema in a process (compiledSchemas).
func (d *Definition) ValidateData(data []byte) ([]ozgflow.FieldError, error) {
	s, err := compiledSchemas.get(schemaKey{d.ID, sha256.Sum256(d.Schema)}, d.CompileSchema)
	if err != nil {
		return nil, fmt.Errorf("validate data: %w", err)
	}
	return validateWith(s, data), nil
}

// compiledSchemas keeps the schemas the case workflows validated with: each
// case checks its data against its snapshot's schema once more, and
// compiling took longer than validating. The bound is far more than a
// catalog's variants and versions.
var compiledSchemas = memo[schemaKey, *jsonschema.Schema]{limit: 512}

type schemaKey struct {
	id   string
	hash [sha256.Size]byte
}

// SchemaURI names the definition's data schema for senders that say which
// schema their data follows (FIT-Connect's submissionSchema.schemaUri): the
// schema's $id, or, for a schema without one, a URI made of the
// definition's ID and version.
func (d *Definition) SchemaURI() string {
	var head struct {
		ID string `json:"$id"`
	}
	if err := json.Unmarshal(d.Schema, &head); err == nil && head.ID != "" {
		return head.ID
	}
	return fmt.Sprintf("urn:ozgflow:schema:%s:%d", d.ID, d.Version)
}
