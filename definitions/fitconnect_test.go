package definitions_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
)

// TestShippedFITConnectDestinations: every shipped destination is a
// published variant whose schema carries the $id senders name, and the
// schema still compiles and validates with it.
func TestShippedFITConnectDestinations(t *testing.T) {
	dests, err := definitions.LoadFITConnectDestinations(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	if len(dests) != len(reg.Published()) {
		t.Errorf("%d destinations for %d published variants", len(dests), len(reg.Published()))
	}
	for _, d := range dests {
		def, err := reg.Resolve(d.Service, d.Authority)
		if err != nil {
			t.Errorf("destination %s: %v", d.ID, err)
			continue
		}
		if uri := def.SchemaURI(); !strings.HasPrefix(uri, "urn:ozgflow:schema:") || strings.Contains(uri, def.ID+":") {
			t.Errorf("%s: schema URI %q is not the schema's $id", def.ID, uri)
		}
		if v, err := reg.ValidateData(def, []byte(`{}`)); err != nil || len(v) == 0 {
			t.Errorf("%s: empty data passed the schema with $id: %v %v", def.ID, v, err)
		}
	}
}

func TestSchemaURIWithoutID(t *testing.T) {
	d := definitions.Definition{ID: "x-leipzig", Version: 3, Schema: definitions.Schema(`{"type":"object"}`)}
	if got := d.SchemaURI(); got != "urn:ozgflow:schema:x-leipzig:3" {
		t.Errorf("got %s", got)
	}
}

func TestFITConnectDestinationsRefused(t *testing.T) {
	for name, text := range map[string]string{
		"no UUID":       "- {destinationId: x, service: \"99050035001000\", authority: \"147130000000\"}",
		"bad service":   "- {destinationId: 7d900fc4-f31d-505b-bf13-3afb3a55c5b1, service: \"9\", authority: \"147130000000\"}",
		"variant twice": "- {destinationId: 7d900fc4-f31d-505b-bf13-3afb3a55c5b1, service: \"99050035001000\", authority: \"147130000000\"}\n- {destinationId: a455f64c-a1ae-52b8-84c1-b5ba663bd1d1, service: \"99050035001000\", authority: \"147130000000\"}",
	} {
		_, err := definitions.LoadFITConnectDestinations(fstest.MapFS{definitions.FITConnectFile: {Data: []byte(text)}})
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
