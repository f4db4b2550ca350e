package definitions_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
)

// A YAML mistake is one finding, in German, with the line of the text.
func TestYAMLMistakesNameTheirLineInGerman(t *testing.T) {
	tests := []struct {
		name, text string
		line       string
		says       string
	}{
		{"tab in indentation", "id: x\nsteps:\n\t- id: review\n", "Zeile 3:", "Leerzeichen"},
		{"missing colon", "id: x\nname Gewerbe\nsteps: []\n", "Zeile 2:", "Doppelpunkt"},
		{"wrong indentation", "id: x\nsteps:\n  - id: review\n   kind: task\n", "Zeile 4:", "Einrückung"},
		{"duplicate key", "id: x\nname: a\nname: b\n", "Zeile 3:", "„name“ steht doppelt (zuerst in Zeile 2)"},
		{"unclosed quote", "id: x\nname: \"Gewerbe\n", "Zeile ", "Anführungszeichen"},
		{"a list at the top", "- id: x\n", "", "oberste Ebene"},
		{"empty", "  \n", "", "leer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := definitions.ParseSource(tt.text)
			fe := ozgflow.ErrorFields(err)
			if ozgflow.ErrorCode(err) != ozgflow.EUNPROCESSABLE || len(fe) != 1 {
				t.Fatalf("err = %v %+v, want one finding", err, fe)
			}
			d := fe[0].Detail
			if !strings.HasPrefix(d, tt.line) || !strings.Contains(d, tt.says) {
				t.Errorf("finding %q, want it to start with %q and say %q", d, tt.line, tt.says)
			}
			if strings.Contains(d, "yaml:") || strings.Contains(ozgflow.ErrorMessage(err), d) {
				t.Errorf("finding %q repeats the message or yaml's English", d)
			}
		})
	}
}

// Publishing a draft of a text names the field and the line of the text,
// not the place in the resolved definition.
func TestPublishFindingsPointIntoTheTextBeingEdited(t *testing.T) {
	c, err := definitions.SeedCatalog(catalog.FS, time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	const id = "gewerbeanmeldung-leipzig"
	v, err := c.Draft(id, 0, "admin", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(v.Source, "# Gewerbeanmeldung in Leipzig") || !strings.Contains(v.Source, "version: 2\n") {
		t.Fatalf("the draft's text lost the file's comments or kept the old version:\n%s", v.Source)
	}
	text := strings.Replace(v.Source, "    fourEyes: true", "    fourEyes: true\n    queue: gewerbe-typo", 1)
	doc, err := definitions.ParseSource(text)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Edit(id, v.Number, doc, text, "admin", time.Now()); err != nil {
		t.Fatal(err)
	}
	err = c.Publish(id, v.Number, "admin", time.Now())
	fe := ozgflow.ErrorFields(err)
	if len(fe) != 1 {
		t.Fatalf("publish: %v %+v, want one finding", err, fe)
	}
	if fe[0].Pointer != "/steps/1/queue" {
		t.Errorf("pointer %q, want /steps/1/queue (the draft has two steps)", fe[0].Pointer)
	}
	want := "Schritt „review“ › Arbeitskorb (queue): den Arbeitskorb „gewerbe-typo“ gibt es bei Stadt Leipzig nicht"
	if !strings.HasPrefix(fe[0].Detail, want) {
		t.Errorf("detail %q, want it to start with %q", fe[0].Detail, want)
	}
	lines := strings.Split(text, "\n")
	line := definitions.SourceLine(text, fe[0].Pointer)
	if line < 1 || !strings.Contains(lines[line-1], "queue: gewerbe-typo") {
		t.Errorf("line %d of the text is not the queue:\n%s", line, text)
	}
	// A step the draft does not hold is named by its id, without a pointer.
	eff, _ := c.Effective(id, v.Number)
	f := definitions.Trace(doc, &eff, ozgflow.FieldError{Pointer: "/steps/0/kind", Detail: "x"})
	if f.Pointer != "" || !f.Inherited || f.Field != "Schritt „validate“ › Art (kind)" {
		t.Errorf("inherited step: %+v", f)
	}
	// A field of a step the draft holds but does not set is inherited.
	f = definitions.Trace(doc, &eff, ozgflow.FieldError{Pointer: "/steps/4/title", Detail: "x"})
	if f.Pointer != "/steps/1/title" || !f.Inherited {
		t.Errorf("inherited field: %+v", f)
	}
	if l := definitions.SourceLine(text, "/steps/1/title"); l < 1 || !strings.Contains(lines[l-1], "id: review") {
		t.Errorf("a missing field points at line %d, want the line of its step", l)
	}
}

func TestShapeFindingsNameTheFieldInGerman(t *testing.T) {
	doc := map[string]any{"id": "x", "fee": map[string]any{"amount": "viel"}, "paymentDeadline": "3 Tage",
		"steps": []any{map[string]any{"id": "review", "queu": "gewerbe"}}, "notices": map[string]any{"approved": "nur Text"}}
	fe := definitions.CheckShape(doc)
	got := map[string]string{}
	for _, f := range fe {
		got[f.Pointer] = f.Detail
	}
	for ptr, want := range map[string]string{
		"/fee/amount":       "erwartet wird eine ganze Zahl",
		"/paymentDeadline":  "„3 Tage“ ist keine Dauer",
		"/steps/0/queu":     "gemeint ist wohl „queue“",
		"/notices/approved": "erwartet wird eine Zuordnung",
	} {
		if !strings.Contains(got[ptr], want) {
			t.Errorf("%s: %q, want %q (all: %v)", ptr, got[ptr], want, got)
		}
	}
	if len(fe) != 4 {
		t.Errorf("%d findings, want 4: %v", len(fe), fe)
	}
}

func TestEditSourceKeepsOrderAndComments(t *testing.T) {
	text := "# Leipzig\nid: x\nextends: base\nversion: 2\nauthority: \"147130000000\"\n" +
		"steps:\n  - id: deliver\n    target: gewerbe-leipzig   # Fachverfahren\n"
	out, err := definitions.EditSource(text, []definitions.SourceEdit{
		{Path: []string{"fee", "amount"}, Value: 4000},
		{Path: []string{"steps", "review", "queue"}, Value: "gewerbe-leitung"},
		{Path: []string{"steps", "deliver", "target"}, Value: "dms"},
		{Path: []string{"notices", "approved", "text"}, Value: "Zeile 1\nZeile 2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "# Leipzig\nid: x\nextends: base\nversion: 2\nauthority: \"147130000000\"\n" +
		"steps:\n  - id: deliver\n    target: dms # Fachverfahren\n  - id: review\n    queue: gewerbe-leitung\n" +
		"fee:\n  amount: 4000\nnotices:\n  approved:\n    text: |-\n      Zeile 1\n      Zeile 2\n"
	if out != want {
		t.Errorf("edited text:\n%s\nwant:\n%s", out, want)
	}
	removed, err := definitions.EditSource(out, []definitions.SourceEdit{{Path: []string{"fee"}}})
	if err != nil || strings.Contains(removed, "fee") {
		t.Errorf("removing fee: %v\n%s", err, removed)
	}
}

func TestFormatDocumentWritesFieldsInTheirOrder(t *testing.T) {
	doc := map[string]any{"steps": []any{map[string]any{"queue": "q", "kind": "task", "id": "review"}},
		"name": "Gewerbe", "id": "x", "version": 1, "fee": map[string]any{"purpose": "p", "amount": 1}}
	got := definitions.FormatDocument(doc)
	want := "id: x\nversion: 1\nname: Gewerbe\nfee:\n  amount: 1\n  purpose: p\nsteps:\n  - id: review\n    kind: task\n    queue: q\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// Every shipped variant passes publishing's checks of what it names.
func TestEveryShippedVariantNamesOnlyWhatExists(t *testing.T) {
	c, err := definitions.SeedCatalog(catalog.FS, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range c.Entries {
		def, err := c.Effective(e.ID, e.Versions[0].Number)
		if err != nil {
			t.Fatal(err)
		}
		if err := def.Validate(); err != nil {
			t.Errorf("%s: %v", e.ID, err)
		}
		if fe := def.CheckReferences(c.Authorities); len(fe) > 0 {
			t.Errorf("%s: %+v", e.ID, fe)
		}
	}
}

func TestDiffNamesWhatChangesForNewCases(t *testing.T) {
	c, err := definitions.SeedCatalog(catalog.FS, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	const id = "gewerbeanmeldung-leipzig"
	old, _ := c.Effective(id, 1)
	v, _ := c.Draft(id, 0, "admin", time.Now())
	text, err := definitions.EditSource(v.Source, []definitions.SourceEdit{
		{Path: []string{"fee", "amount"}, Value: 3100},
		{Path: []string{"steps", "review", "remindBefore"}, Value: "3d"},
		{Path: []string{"notices", "approved", "title"}, Value: "Gewerbeanmeldung angenommen"},
	})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := definitions.ParseSource(text)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Edit(id, v.Number, doc, text, "admin", time.Now()); err != nil {
		t.Fatal(err)
	}
	next, _ := c.Effective(id, v.Number)
	got := map[string]definitions.Difference{}
	for _, d := range definitions.Diff(&old, &next) {
		got[d.Field] = d
	}
	for field, want := range map[string][2]string{
		"Gebühr (fee) › Betrag in Cent (amount)":                     {"2600", "3100"},
		"Schritt „review“ › Erinnerung vor Fristende (remindBefore)": {"2d", "3d"},
		"Mitteilung „Bewilligt“ › Titel (title)":                     {"Gewerbeanmeldung bestätigt", "Gewerbeanmeldung angenommen"},
	} {
		if d := got[field]; d.Old != want[0] || d.New != want[1] || d.Kind != definitions.DiffChanged {
			t.Errorf("%s: %+v, want %v", field, d, want)
		}
	}
	if len(got) != 3 {
		t.Errorf("%d differences, want 3: %v", len(got), got)
	}
}

func TestCheckSaysWhatPublishingWouldRefuse(t *testing.T) {
	c, err := definitions.SeedCatalog(catalog.FS, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if fe := c.Check("gewerbeanmeldung-leipzig", 1); fe != nil {
		t.Errorf("the published version: %v", fe)
	}
	v, _ := c.Draft("gewerbeanmeldung-leipzig", 0, "admin", time.Now())
	v.Document["steps"].([]any)[1].(map[string]any)["queue"] = "nirgends"
	if _, err := c.Edit("gewerbeanmeldung-leipzig", v.Number, v.Document, "", "admin", time.Now()); err != nil {
		t.Fatal(err)
	}
	before := c.Revision
	fe := c.Check("gewerbeanmeldung-leipzig", v.Number)
	if len(fe) != 1 || fe[0].Pointer != "/steps/1/queue" || !strings.Contains(fe[0].Detail, "„nirgends“") || c.Revision != before {
		t.Errorf("check: %+v (revision %d → %d)", fe, before, c.Revision)
	}
}
