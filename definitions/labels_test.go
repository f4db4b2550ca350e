package definitions_test

import (
	"encoding/json"
	"testing"

	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
)

func gewerbeanmeldung(t *testing.T) definitions.Definition {
	t.Helper()
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	def, err := reg.Resolve("99050035001000", "147130000000")
	if err != nil {
		t.Fatal(err)
	}
	return def
}

func TestLabelledDataUsesSchemaTitles(t *testing.T) {
	def := gewerbeanmeldung(t)
	data := `{"extra":true,"anschrift":{"ort":"Leipzig","plz":"04109","hausnummer":"1","strasse":"Markt"},
		"betrieb":{"rechtsform":"einzelunternehmen","beginn":"2026-12-01","taetigkeit":"Gastronomie","name":"Café Anna"}}`
	got := def.LabelledData(json.RawMessage(data))
	want := []definitions.LabelledField{
		{"/betrieb/name", "Betrieb – Name des Betriebs", "Café Anna"},
		{"/betrieb/taetigkeit", "Betrieb – Angemeldete Tätigkeit", "Gastronomie"},
		{"/betrieb/beginn", "Betrieb – Beginn der Tätigkeit", "01.12.2026"},
		{"/betrieb/rechtsform", "Betrieb – Rechtsform", "Einzelunternehmen"},
		{"/anschrift/strasse", "Anschrift der Betriebsstätte – Straße", "Markt"},
		{"/anschrift/hausnummer", "Anschrift der Betriebsstätte – Hausnummer", "1"},
		{"/anschrift/plz", "Anschrift der Betriebsstätte – Postleitzahl", "04109"},
		{"/anschrift/ort", "Anschrift der Betriebsstätte – Ort", "Leipzig"},
		{"/extra", "extra", "ja"},
	}
	assertFields(t, got, want)
}

func TestLabelledDataValues(t *testing.T) {
	// A schema authored as JSON keeps its property order; oneOf titles name
	// enum values.
	schema := `{"type":"object","required":["name"],"properties":{
		"zweck":{"title":"Zweck","type":"string"},
		"name":{"title":"Name","type":"string"},
		"form":{"title":"Rechtsform","oneOf":[{"const":"gmbh","title":"GmbH"},{"const":"ag","title":"AG"}]},
		"art":{"title":"Art","enum":["mit_kind","ohne"]},
		"seit":{"title":"Seit","type":"string","format":"date-time"},
		"anzahl":{"title":"Anzahl","type":"number"},
		"aktiv":{"title":"Aktiv","type":"boolean"},
		"leer":{"title":"Leer"},
		"rassen":{"title":"Rassen","type":"array","items":{"type":"string"}},
		"kinder":{"title":"Kind","type":"array","items":{"type":"object","properties":{"vorname":{"title":"Vorname"}}}},
		"a/b":{"title":"Schrägstrich"}}}`
	def := definitions.Definition{Schema: definitions.Schema(schema)}
	data := `{"kinder":[{"vorname":"Ida"},{"vorname":"Max"}],"rassen":["Dackel","Pudel"],"leer":null,"aktiv":false,
		"anzahl":2.5,"seit":"2026-11-20T09:30:00Z","art":"mit_kind","form":"gmbh","name":"Anna","zweck":"Test","a/b":1}`
	want := []definitions.LabelledField{
		{"/name", "Name", "Anna"},
		{"/zweck", "Zweck", "Test"},
		{"/form", "Rechtsform", "GmbH"},
		{"/art", "Art", "Mit kind"},
		{"/seit", "Seit", "20.11.2026, 10:30 Uhr"},
		{"/anzahl", "Anzahl", "2,5"},
		{"/aktiv", "Aktiv", "nein"},
		{"/leer", "Leer", "–"},
		{"/rassen", "Rassen", "Dackel, Pudel"},
		{"/kinder/0/vorname", "Kind 1 – Vorname", "Ida"},
		{"/kinder/1/vorname", "Kind 2 – Vorname", "Max"},
		{"/a~1b", "Schrägstrich", "1"},
	}
	assertFields(t, def.LabelledData(json.RawMessage(data)), want)
}

func TestLabelledDataWithoutSchema(t *testing.T) {
	tests := []struct {
		name string
		def  *definitions.Definition
		data string
		want []definitions.LabelledField
	}{
		{"no definition", nil, `{"b":"2026-01-02","a":12345678901234567890}`,
			[]definitions.LabelledField{{"/a", "a", "12345678901234567890"}, {"/b", "b", "02.01.2026"}}},
		{"broken schema", &definitions.Definition{Schema: definitions.Schema(`{"properties":[1]}`)}, `{"x":"y"}`,
			[]definitions.LabelledField{{"/x", "x", "y"}}},
		{"not JSON", &definitions.Definition{}, `{"x":`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertFields(t, tt.def.LabelledData(json.RawMessage(tt.data)), tt.want)
		})
	}
}

func assertFields(t *testing.T, got, want []definitions.LabelledField) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d fields %+v, want %d %+v", len(got), got, len(want), want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("field %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
