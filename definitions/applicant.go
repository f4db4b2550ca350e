package definitions

import (
	"strings"

	"github.com/ozgflow/ozgflow"
)

// ApplicantSummary says where a variant's data holds what the case workers'
// list and case view show of who applied, beside the applicant's name and
// e-mail address: the business's name and the address. Each is a JSON
// pointer into the application data, e.g. /betrieb/name; the address may
// point to a string or to an object of strasse, hausnummer, plz and ort
// (other objects read as their values in the schema's order). Both are
// optional, and so is the whole summary.
type ApplicantSummary struct {
	BusinessName string `json:"businessName,omitempty" yaml:"businessName,omitempty"`
	Address      string `json:"address,omitempty" yaml:"address,omitempty"`
}

// CaseApplicant is who applied as the case workers see and search it: the
// applicant's name and e-mail address from the application, the business
// name and address from the data where the variant's ApplicantSummary
// names them. It depends on its arguments alone, so the case workflow may
// call it.
func (d *Definition) CaseApplicant(app ozgflow.Application) *ozgflow.CaseApplicant {
	out := &ozgflow.CaseApplicant{Name: app.Applicant.Name, Email: app.Applicant.Email}
	if d == nil || d.ApplicantSummary == nil {
		return out
	}
	s := d.ApplicantSummary
	if s.BusinessName == "" && s.Address == "" {
		return out
	}
	fields := d.LabelledData(app.Data)
	out.BusinessName = strings.Join(valuesAt(fields, s.BusinessName), ", ")
	out.Address = addressOf(fields, s.Address)
	return out
}

// labelled is one value under a pointer: the key it has in its object and
// its readable value.
type labelled struct{ key, value string }

// labelledAt returns the values at pointer or below it, in the schema's
// order; none for an empty pointer.
func labelledAt(fields []LabelledField, pointer string) []labelled {
	if pointer == "" || !strings.HasPrefix(pointer, "/") {
		return nil
	}
	pointer = strings.TrimSuffix(pointer, "/")
	var out []labelled
	for _, f := range fields {
		if f.Path != pointer && !strings.HasPrefix(f.Path, pointer+"/") {
			continue
		}
		if f.Value == "" || f.Value == "–" {
			continue
		}
		key := f.Path[strings.LastIndex(f.Path, "/")+1:]
		out = append(out, labelled{key: key, value: f.Value})
	}
	return out
}

func valuesAt(fields []LabelledField, pointer string) []string {
	var out []string
	for _, l := range labelledAt(fields, pointer) {
		out = append(out, l.value)
	}
	return out
}

// addressOf writes the address at pointer on one line: "Markt 1, 04109
// Leipzig" for an object of strasse, hausnummer, plz and ort, the values
// joined by commas for anything else.
func addressOf(fields []LabelledField, pointer string) string {
	values := labelledAt(fields, pointer)
	part := map[string]string{}
	for _, l := range values {
		part[l.key] = l.value
	}
	if part["strasse"] == "" && part["ort"] == "" {
		var all []string
		for _, l := range values {
			all = append(all, l.value)
		}
		return strings.Join(all, ", ")
	}
	join := func(sep string, items ...string) string {
		var kept []string
		for _, s := range items {
			if s != "" {
				kept = append(kept, s)
			}
		}
		return strings.Join(kept, sep)
	}
	return join(", ", join(" ", part["strasse"], part["hausnummer"]), join(" ", part["plz"], part["ort"]))
}

// validateApplicantSummary checks that the summary's pointers name
// properties of the data schema.
func (d *Definition) validateApplicantSummary(props map[string]any, add func(ptr, format string, args ...any)) {
	s := d.ApplicantSummary
	if s == nil {
		return
	}
	for _, f := range []struct{ at, pointer string }{
		{"/applicantSummary/businessName", s.BusinessName}, {"/applicantSummary/address", s.Address},
	} {
		if f.pointer == "" {
			continue
		}
		if !strings.HasPrefix(f.pointer, "/") || strings.HasSuffix(f.pointer, "/") {
			add(f.at, "must be a JSON pointer into the data, e.g. /betrieb/name")
			continue
		}
		path := strings.Split(f.pointer[1:], "/")
		for i, p := range path {
			path[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(p)
		}
		if !schemaHas(props, path) {
			add(f.at, "the data schema does not define %s", f.pointer)
		}
	}
}
