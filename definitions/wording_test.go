package definitions_test

import (
	"strings"
	"testing"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
)

// TestEveryNoticeHasAnEasyText walks every notice of every shipped variant:
// each says in easy-to-read German (Leichte Sprache) what its standard
// text says, so the easy view of the applicant's page and the portal show
// no notice in standard language.
func TestEveryNoticeHasAnEasyText(t *testing.T) {
	reg := mustCatalog(t)
	data := definitions.NoticeData{CaseID: "c1", CaseNumber: "GEW-2026-000001", Service: "Gewerbeanmeldung",
		Amount: "26,00 EUR", Deadline: "24.11.2026 18:00", Question: "Bitte Ausweis?", Comment: "Fehlt.", Refund: "26,00 EUR"}
	n := 0
	for _, def := range reg.Published() {
		for key, tmpl := range def.Notices {
			n++
			if strings.TrimSpace(tmpl.Easy) == "" {
				t.Errorf("%s: notice %s has no easy-to-read text", def.ID, key)
				continue
			}
			easy, err := tmpl.RenderEasy(data)
			if err != nil || easy == "" {
				t.Errorf("%s: notice %s: easy text %q, %v", def.ID, key, easy, err)
			}
		}
		if r := def.LegalRemedy; r != nil && strings.TrimSpace(r.Easy) == "" {
			t.Errorf("%s: the Rechtsbehelfsbelehrung has no easy-to-read text", def.ID)
		}
		for outcome, w := range def.Decisions {
			if w.Status != "" && w.Easy == "" {
				t.Errorf("%s: decision %s has no easy-to-read sentence", def.ID, outcome)
			}
		}
	}
	if n < 40 {
		t.Fatalf("walked only %d notices", n)
	}
}

// TestShippedVariantsWordTheirDecisions: every shipped variant a person
// applies for names its case numbers, words its outcomes and carries a
// Rechtsbehelfsbelehrung; a Gewerbeanmeldung is confirmed, not granted.
func TestShippedVariantsWordTheirDecisions(t *testing.T) {
	reg := mustCatalog(t)
	prefixes := map[string]string{"gewerbeanmeldung": "GEW", "anwohnerparkausweis": "APA", "hundesteuer-anmeldung": "HST"}
	for slug, prefix := range prefixes {
		for _, ars := range []string{leipzig, dresden} {
			def, err := reg.Resolve(slug, ars)
			if err != nil {
				t.Fatal(err)
			}
			if def.NumberPrefix() != prefix {
				t.Errorf("%s: prefix %q, want %q", def.ID, def.NumberPrefix(), prefix)
			}
			if r := def.LegalRemedy; r == nil || !strings.Contains(r.Text, "Widerspruch") || !strings.Contains(r.Text, "innerhalb eines Monats") {
				t.Errorf("%s: Rechtsbehelfsbelehrung %+v", def.ID, r)
			}
			for _, outcome := range []string{ozgflow.OutcomeApprove, ozgflow.OutcomeReject} {
				if _, ok := def.Wording(outcome); !ok {
					t.Errorf("%s: no wording for %s", def.ID, outcome)
				}
			}
		}
	}
	def, _ := reg.Resolve("gewerbeanmeldung", leipzig)
	if w, _ := def.Wording(ozgflow.OutcomeApprove); w.Label != "Bestätigt" || !strings.Contains(w.Status, "bestätigt") {
		t.Errorf("Gewerbeanmeldung approved reads %+v", w)
	}
	for _, a := range reg.Authorities() {
		if a.Contact == nil || a.Contact.Office == "" || a.Contact.Address == "" {
			t.Errorf("authority %s has no contact", a.ARS)
		}
	}
}

func TestNumberPrefix(t *testing.T) {
	tests := []struct{ prefix, slug, want string }{
		{"GEW", "gewerbeanmeldung", "GEW"},
		{"", "gewerbeanmeldung", "GEW"},
		{"", "hundesteuer-anmeldung", "HUN"},
		{"", "a-b", "AB"},
		{"", "a", "ANT"},
		{"", "x2-y", "X2Y"},
		{"", "", "ANT"},
	}
	for _, tt := range tests {
		d := definitions.Definition{CaseNumberPrefix: tt.prefix, Slug: tt.slug}
		if got := d.NumberPrefix(); got != tt.want {
			t.Errorf("prefix %q slug %q: %q, want %q", tt.prefix, tt.slug, got, tt.want)
		}
	}
}

func TestWordingAndPrefixAreValidated(t *testing.T) {
	reg := mustCatalog(t)
	def, err := reg.Resolve("gewerbeanmeldung", leipzig)
	if err != nil {
		t.Fatal(err)
	}
	def.CaseNumberPrefix = "gew-1"
	def.Decisions = map[string]definitions.DecisionWording{"approve": {}, "shrug": {Label: "Achselzucken"}}
	def.LegalRemedy = &definitions.LegalRemedy{Easy: "Nur leicht."}
	err = def.Validate()
	for _, ptr := range []string{"/caseNumberPrefix", "/decisions/approve/label", "/decisions/shrug", "/legalRemedy/text"} {
		found := false
		for _, fe := range ozgflow.ErrorFields(err) {
			found = found || fe.Pointer == ptr
		}
		if !found {
			t.Errorf("no problem at %s in %v", ptr, err)
		}
	}
}
