package locale

import (
	"fmt"
	"strings"

	"github.com/ozgflow/ozgflow"
)

// How the pages say that a field broke a bound on input (ozgflow's
// FieldError.Rule): the field by its label, the bound by its number.

// inputRules word each rule; %s is the field's label, %d the limit.
var inputRules = map[string]words{
	ozgflow.RuleTooLong:     {"%s ist zu lang: höchstens %d Zeichen sind möglich.", "%s is too long: at most %d characters are possible."},
	ozgflow.RuleTooLarge:    {"%s ist zu groß: höchstens %d KiB sind möglich.", "%s is too large: at most %d KiB are possible."},
	ozgflow.RuleControl:     {"%s enthält Steuerzeichen. Bitte entfernen Sie sie.", "%s contains control characters. Please remove them."},
	ozgflow.RuleInvalidText: {"%s enthält ungültige Zeichen. Bitte geben Sie den Text neu ein.", "%s contains invalid characters. Please enter the text again."},
	ozgflow.RuleCharset:     {"%s darf nur Buchstaben, Ziffern und - _ . @ : enthalten.", "%s may contain only letters, digits and - _ . @ :."},
	ozgflow.RuleEmail:       {"%s ist keine gültige E-Mail-Adresse.", "%s is not a valid e-mail address."},
}

// inputLabels name the fields by their pointers; the first segment decides
// for lists (/fields/3 is "Felder").
var inputLabels = map[string]words{
	"":                           {"Der Text zusammen", "The text together"},
	"/comment":                   {"Der Kommentar", "The comment"},
	"/note":                      {"Die Notiz", "The note"},
	"/outcome":                   {"Die Entscheidung", "The decision"},
	"/to":                        {"Die Kollegin oder der Kollege", "The colleague"},
	"/queue":                     {"Der Arbeitskorb", "The queue"},
	"/fields":                    {"Die Liste der Felder", "The list of fields"},
	"/taskIds":                   {"Die Auswahl", "The selection"},
	"/text":                      {"Ihre Antwort", "Your answer"},
	"/data":                      {"Der Datenteil", "The data"},
	"/reason":                    {"Der Grund", "The reason"},
	"/event":                     {"Der Name des Ereignisses", "The event's name"},
	"/service":                   {"Die Leistung", "The service"},
	"/authority":                 {"Die Behörde", "The authority"},
	"/applicant/name":            {"Der Name", "The name"},
	"/applicant/email":           {"Die E-Mail-Adresse", "The e-mail address"},
	"/applicant/portalAccount":   {"Das Servicekonto", "The portal account"},
	"/attachments":               {"Die Liste der Dokumente", "The list of documents"},
	"/attachments/*/name":        {"Der Name eines Dokuments", "A document's name"},
	"/attachments/*/contentType": {"Die Art eines Dokuments", "A document's type"},
}

// InputProblem words a field's violation of an input bound; a field
// without a rule keeps its detail.
func (l Lang) InputProblem(fe ozgflow.FieldError) string {
	text, ok := inputRules[fe.Rule]
	if !ok {
		return fe.Detail
	}
	label, ok := inputLabels[fe.Pointer]
	if !ok && strings.HasPrefix(fe.Pointer, "/attachments/") {
		// An element's field: /attachments/0/name is a document's name.
		label, ok = inputLabels["/attachments/*/"+fe.Pointer[strings.LastIndex(fe.Pointer, "/")+1:]]
	}
	if !ok {
		first, _, _ := strings.Cut(strings.TrimPrefix(fe.Pointer, "/"), "/")
		label, ok = inputLabels["/"+first]
	}
	name := fe.Pointer
	if ok {
		name = l.pick(label)
	}
	if fe.Rule == ozgflow.RuleTooLarge {
		return fmt.Sprintf(l.pick(text), name, fe.Limit>>10)
	}
	if fe.Rule == ozgflow.RuleTooLong {
		return fmt.Sprintf(l.pick(text), name, fe.Limit)
	}
	return fmt.Sprintf(l.pick(text), name)
}

// InputProblems words the violations of input bounds among fields, with
// their pointers left out, as the pages list them; it gives nil when no
// field broke a bound.
func (l Lang) InputProblems(fields []ozgflow.FieldError) []ozgflow.FieldError {
	var out []ozgflow.FieldError
	for _, fe := range fields {
		if fe.Rule != "" {
			out = append(out, ozgflow.FieldError{Detail: l.InputProblem(fe)})
		}
	}
	return out
}
