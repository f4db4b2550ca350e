package definitions_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
)

func TestCaseApplicantReadsTheShippedVariantsSummaries(t *testing.T) {
	reg := mustCatalog(t)
	applicant := ozgflow.Applicant{Name: "Anna Muster", Email: "anna@example.org", PortalAccount: "amt24-anna"}
	for _, tt := range []struct {
		service, authority, data string
		want                     ozgflow.CaseApplicant
	}{
		{"gewerbeanmeldung", leipzig,
			`{"betrieb":{"name":"Café Anna","taetigkeit":"Café","beginn":"2026-12-01","rechtsform":"einzelunternehmen"},
			  "anschrift":{"strasse":"Markt","hausnummer":"1","plz":"04109","ort":"Leipzig"}}`,
			ozgflow.CaseApplicant{Name: "Anna Muster", Email: "anna@example.org", BusinessName: "Café Anna", Address: "Markt 1, 04109 Leipzig"}},
		{"anwohnerparkausweis", leipzig,
			`{"kennzeichen":"L-AB 123","zone":"Z1","halterIstAntragsteller":true,
			  "anschrift":{"strasse":"Karl-Liebknecht-Straße","hausnummer":"10","plz":"04107","ort":"Leipzig"}}`,
			ozgflow.CaseApplicant{Name: "Anna Muster", Email: "anna@example.org", Address: "Karl-Liebknecht-Straße 10, 04107 Leipzig"}},
		{"hundesteuer-anmeldung", dresden,
			`{"hund":{"name":"Bello","rasse":"Dackel","geburtsdatum":"2024-03-01"},"haltungSeit":"2026-10-01",
			  "anschrift":{"strasse":"Prager Straße","hausnummer":"3","plz":"01069","ort":"Dresden"}}`,
			ozgflow.CaseApplicant{Name: "Anna Muster", Email: "anna@example.org", Address: "Prager Straße 3, 01069 Dresden"}},
	} {
		def, err := reg.Resolve(tt.service, tt.authority)
		if err != nil {
			t.Fatal(err)
		}
		got := def.CaseApplicant(ozgflow.Application{Applicant: applicant, Data: json.RawMessage(tt.data)})
		if *got != tt.want {
			t.Errorf("%s: %+v, want %+v", def.ID, *got, tt.want)
		}
	}
}

func TestCaseApplicantWithoutSummaryOrData(t *testing.T) {
	app := ozgflow.Application{Applicant: ozgflow.Applicant{Name: "Ben"}, Data: json.RawMessage(`{"anschrift":"Hauptstraße 2"}`)}
	var none definitions.Definition
	if got := none.CaseApplicant(app); *got != (ozgflow.CaseApplicant{Name: "Ben"}) {
		t.Errorf("without a summary: %+v", *got)
	}
	plain := definitions.Definition{ApplicantSummary: &definitions.ApplicantSummary{Address: "/anschrift", BusinessName: "/firma"}}
	if got := plain.CaseApplicant(app); *got != (ozgflow.CaseApplicant{Name: "Ben", Address: "Hauptstraße 2"}) {
		t.Errorf("an address as text, no business in the data: %+v", *got)
	}
	other := definitions.Definition{ApplicantSummary: &definitions.ApplicantSummary{Address: "/adresse"}}
	app.Data = json.RawMessage(`{"adresse":{"zeile1":"c/o Muster","zeile2":"Hauptstraße 2"}}`)
	if got := other.CaseApplicant(app); got.Address != "c/o Muster, Hauptstraße 2" {
		t.Errorf("an address of other parts: %q", got.Address)
	}
	app.Data = json.RawMessage(`not json`)
	if got := other.CaseApplicant(app); *got != (ozgflow.CaseApplicant{Name: "Ben"}) {
		t.Errorf("broken data: %+v", *got)
	}
}

func TestApplicantSummaryMustNameSchemaProperties(t *testing.T) {
	def, err := mustCatalog(t).Resolve("gewerbeanmeldung", leipzig)
	if err != nil {
		t.Fatal(err)
	}
	def.ApplicantSummary = &definitions.ApplicantSummary{BusinessName: "/betrieb/firma", Address: "anschrift"}
	err = def.Validate()
	var pointers []string
	for _, f := range ozgflow.ErrorFields(err) {
		pointers = append(pointers, f.Pointer+": "+f.Detail)
	}
	got := strings.Join(pointers, "\n")
	for _, want := range []string{"/applicantSummary/businessName: the data schema does not define /betrieb/firma",
		"/applicantSummary/address: must be a JSON pointer"} {
		if !strings.Contains(got, want) {
			t.Errorf("validation lacks %q:\n%s", want, got)
		}
	}
}
