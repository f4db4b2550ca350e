package definitions_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
)

var now = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func seed(t *testing.T) definitions.Catalog {
	t.Helper()
	c, err := definitions.SeedCatalog(catalog.FS, now)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fee(t *testing.T, c *definitions.Catalog, service, authority string) int64 {
	t.Helper()
	reg, err := c.Registry()
	if err != nil {
		t.Fatal(err)
	}
	def, err := reg.Resolve(service, authority)
	if err != nil {
		t.Fatal(err)
	}
	return def.FeeAmount()
}

func TestDraftEditPublishRetire(t *testing.T) {
	c := seed(t)
	if _, err := c.Edit("gewerbeanmeldung-leipzig", 1, map[string]any{"id": "gewerbeanmeldung-leipzig",
		"extends": "gewerbeanmeldung"}, "", "admin", now); ozgflow.ErrorCode(err) != ozgflow.ECONFLICT {
		t.Fatalf("editing the published version: %v, want ECONFLICT", err)
	}
	v, err := c.Draft("gewerbeanmeldung-leipzig", 0, "admin", now)
	if err != nil || v.Number != 2 || v.Status != definitions.StatusDraft {
		t.Fatalf("draft: %+v %v", v, err)
	}
	if _, err := c.Draft("gewerbeanmeldung-leipzig", 0, "admin", now); ozgflow.ErrorCode(err) != ozgflow.ECONFLICT {
		t.Errorf("second draft: %v, want ECONFLICT", err)
	}
	doc := v.Document
	doc["fee"] = map[string]any{"amount": 3100, "purpose": "Gebühr Gewerbeanmeldung Stadt Leipzig"}
	if _, err := c.Edit("gewerbeanmeldung-leipzig", 2, doc, "", "admin", now); err != nil {
		t.Fatal(err)
	}
	if got := fee(t, &c, "gewerbeanmeldung", leipzig); got != 2600 {
		t.Errorf("fee before publishing = %d, want the published 2600", got)
	}
	if err := c.Publish("gewerbeanmeldung-leipzig", 2, "admin", now); err != nil {
		t.Fatal(err)
	}
	if got := fee(t, &c, "gewerbeanmeldung", leipzig); got != 3100 {
		t.Errorf("fee after publishing = %d, want 3100", got)
	}
	e, _ := c.Entry("gewerbeanmeldung-leipzig")
	if v1, _ := e.Version(1); v1.Status != definitions.StatusRetired {
		t.Errorf("version 1 is %s, want retired", v1.Status)
	}
	if err := c.Publish("gewerbeanmeldung-leipzig", 2, "admin", now); ozgflow.ErrorCode(err) != ozgflow.ECONFLICT {
		t.Errorf("publishing twice: %v", err)
	}
	if err := c.Retire("gewerbeanmeldung-leipzig", 2, "admin", now); err != nil {
		t.Fatal(err)
	}
	reg, _ := c.Registry()
	if _, err := reg.Resolve("gewerbeanmeldung", leipzig); ozgflow.ErrorCode(err) != ozgflow.ENOTFOUND {
		t.Errorf("after retiring: %v, want no published variant", err)
	}
	var actions []string
	for _, ch := range c.Changes {
		actions = append(actions, ch.Action+" "+ch.By)
	}
	if len(actions) != 5 {
		t.Errorf("changes recorded: %v", actions)
	}
}

func TestPublishRefusesInvalidDraftsAndNamesThePlace(t *testing.T) {
	tests := []struct {
		name    string
		id      string
		change  func(doc map[string]any)
		pointer string // into the draft, not into the resolved definition
		detail  string
	}{
		{"unknown step kind", "gewerbeanmeldung-dresden", func(doc map[string]any) {
			doc["steps"] = []any{map[string]any{"id": "deliver", "target": "gewerbe-dresden"}, map[string]any{"id": "review", "kind": "teleport"}}
		}, "/steps/1/kind", "Schritt „review“ › Art (kind): unbekannte Art „teleport“"},
		{"task without queue", "gewerbeanmeldung-dresden", func(doc map[string]any) {
			doc["steps"] = []any{map[string]any{"id": "review", "queue": ""}}
		}, "/steps/0/queue", "eine Aufgabe braucht einen Arbeitskorb"},
		{"queue the authority does not have", "gewerbeanmeldung-leipzig", func(doc map[string]any) {
			doc["steps"].([]any)[1].(map[string]any)["queue"] = "gewerbe-typo"
		}, "/steps/1/queue", "Schritt „review“ › Arbeitskorb (queue): den Arbeitskorb „gewerbe-typo“ gibt es bei Stadt Leipzig nicht; bekannt sind: gewerbe (Gewerbeangelegenheiten)"},
		{"escalation to an unknown queue", "gewerbeanmeldung-leipzig", func(doc map[string]any) {
			doc["steps"].([]any)[1].(map[string]any)["escalation"] = map[string]any{"after": "1d", "queue": "leitung"}
		}, "/steps/1/escalation/queue", "„leitung“ gibt es bei Stadt Leipzig nicht"},
		{"target not set up", "anwohnerparkausweis-dresden", func(doc map[string]any) {
			doc["steps"] = []any{map[string]any{"id": "deliver", "target": "parken-dresdn"}}
		}, "/steps/0/target", "das Ziel „parken-dresdn“ ist für Landeshauptstadt Dresden nicht eingerichtet"},
		{"condition that does not compile", "anwohnerparkausweis-leipzig", func(doc map[string]any) {
			doc["steps"] = []any{map[string]any{"id": "deliver", "target": "parken-leipzig"}, map[string]any{"id": "review", "when": "outcome =="}}
		}, "/steps/1/when", "lässt sich nicht lesen"},
		{"notice field that does not exist", "gewerbeanmeldung-dresden", func(doc map[string]any) {
			doc["notices"] = map[string]any{"approved": map[string]any{"title": "x", "text": "Betrag: {{.Betrag}}"}}
		}, "/notices/approved/text", "das Feld {{.Betrag}} gibt es in Mitteilungen nicht"},
		{"base breaks its variants", "hundesteuer-anmeldung", func(doc map[string]any) {
			doc["notices"] = map[string]any{"approved": map[string]any{"title": "x", "text": "{{.Unknown}}"}}
		}, "/notices/approved/text", "Mitteilung „Bewilligt“ › Text (text)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := seed(t)
			v, err := c.Draft(tt.id, 0, "admin", now)
			if err != nil {
				t.Fatal(err)
			}
			tt.change(v.Document)
			if _, err := c.Edit(tt.id, v.Number, v.Document, "", "admin", now); err != nil {
				t.Fatal(err)
			}
			err = c.Publish(tt.id, v.Number, "admin", now)
			found := false
			for _, f := range ozgflow.ErrorFields(err) {
				found = found || f.Pointer == tt.pointer && strings.Contains(f.Detail, tt.detail)
			}
			if ozgflow.ErrorCode(err) != ozgflow.EUNPROCESSABLE || !found {
				t.Fatalf("publish: %v %+v, want a problem at %s", err, ozgflow.ErrorFields(err), tt.pointer)
			}
			e, _ := c.Entry(tt.id)
			if p, _ := e.Published(); p.Number != 1 {
				t.Errorf("published version changed to %d", p.Number)
			}
		})
	}
}

func TestCreateVariantForAnotherAuthority(t *testing.T) {
	c := seed(t)
	doc := map[string]any{"id": "hundesteuer-anmeldung-chemnitz", "extends": "hundesteuer-anmeldung",
		"authority": "145110000000", "steps": []any{map[string]any{"id": "deliver", "target": "steueramt-chemnitz"}}}
	if _, err := c.Create(doc, "admin", now); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(doc, "admin", now); ozgflow.ErrorCode(err) != ozgflow.ECONFLICT {
		t.Errorf("creating twice: %v", err)
	}
	// Chemnitz has set up no Steueramt target yet: publishing is refused,
	// naming the target and those Chemnitz has.
	err := c.Publish("hundesteuer-anmeldung-chemnitz", 1, "admin", now)
	if fe := ozgflow.ErrorFields(err); len(fe) != 1 || fe[0].Pointer != "/steps/0/target" ||
		!strings.Contains(fe[0].Detail, "„steueramt-chemnitz“ ist für Stadt Chemnitz nicht eingerichtet; eingerichtet sind: lasttest (Lasttest-Empfänger)") {
		t.Fatalf("publish with an unknown target: %v %+v", err, fe)
	}
	doc["steps"] = []any{map[string]any{"id": "deliver", "target": "lasttest"}}
	if _, err := c.Edit("hundesteuer-anmeldung-chemnitz", 1, doc, "", "admin", now); err != nil {
		t.Fatal(err)
	}
	if err := c.Publish("hundesteuer-anmeldung-chemnitz", 1, "admin", now); err != nil {
		t.Fatal(err)
	}
	if got := fee(t, &c, "hundesteuer-anmeldung", "145110000000"); got != 0 {
		t.Errorf("fee = %d", got)
	}
	if _, err := c.Create(map[string]any{"id": "x", "nonsense": true}, "admin", now); ozgflow.ErrorCode(err) != ozgflow.EUNPROCESSABLE {
		t.Errorf("unknown field: %v", err)
	}
}
