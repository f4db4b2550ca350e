package definitions_test

import (
	"encoding/json"
	"testing"

	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
)

func TestLabelledDataUsesSchemaTitles(t *testing.T) {
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	def, err := reg.Resolve("gewerbeanmeldung", "147130000000")
	if err != nil {
		t.Fatal(err)
	}
	data := `{"betrieb":{"name":"Café Anna","taetigkeit":"Gastronomie","beginn":"2026-12-01","rechtsform":"gmbh"},
		"anschrift":{"strasse":"Markt","hausnummer":"1","plz":"04109","ort":"Leipzig"},"extra":true}`
	got := def.LabelledData(json.RawMessage(data))
	want := []definitions.LabelledField{
		{"/betrieb/name", "Betrieb – Name des Betriebs", "Café Anna"},
		{"/betrieb/taetigkeit", "Betrieb – Angemeldete Tätigkeit", "Gastronomie"},
		{"/betrieb/beginn", "Betrieb – Beginn der Tätigkeit", "01.12.2026"},
		{"/betrieb/rechtsform", "Betrieb – Rechtsform", "gmbh"},
		{"/anschrift/strasse", "Anschrift der Betriebsstätte – Straße", "Markt"},
		{"/anschrift/hausnummer", "Anschrift der Betriebsstätte – Hausnummer", "1"},
		{"/anschrift/plz", "Anschrift der Betriebsstätte – Postleitzahl", "04109"},
		{"/anschrift/ort", "Anschrift der Betriebsstätte – Ort", "Leipzig"},
		{"/extra", "extra", "ja"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d fields %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("field %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
