package xlsx_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
	"github.com/ozgflow/ozgflow/definitions/xlsx"
)

const (
	leipzig = "147130000000"
	dresden = "146120000000"
)

func readCatalog(t *testing.T) []xlsx.Document {
	t.Helper()
	docs, err := xlsx.ReadCatalog(catalog.FS)
	if err != nil {
		t.Fatalf("read catalog: %v", err)
	}
	return docs
}

func export(t *testing.T, docs []xlsx.Document) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := xlsx.Export(&buf, docs); err != nil {
		t.Fatalf("export: %v", err)
	}
	return buf.Bytes()
}

// edit opens a workbook with excelize, as Excel would, lets change edit it
// and returns the saved workbook.
func edit(t *testing.T, book []byte, change func(f *excelize.File)) []byte {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(book))
	if err != nil {
		t.Fatalf("open workbook: %v", err)
	}
	defer f.Close()
	change(f)
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatalf("save workbook: %v", err)
	}
	return buf.Bytes()
}

// cell returns the name of the cell in the column headed header, in the row
// whose first column is id and whose column keyHeader (if given) is key.
func cell(t *testing.T, f *excelize.File, sheet, header, id, keyHeader, key string) string {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatalf("rows of %s: %v", sheet, err)
	}
	col := func(h string) int {
		t.Helper()
		i := slices.Index(rows[0], h)
		if i < 0 {
			t.Fatalf("sheet %s has no column %q: %q", sheet, h, rows[0])
		}
		return i
	}
	c, k := col(header), -1
	if keyHeader != "" {
		k = col(keyHeader)
	}
	for n, row := range rows[1:] {
		if len(row) > 0 && row[0] == id && (k < 0 || (k < len(row) && row[k] == key)) {
			name, _ := excelize.CoordinatesToCellName(c+1, n+2)
			return name
		}
	}
	t.Fatalf("sheet %s has no row for %s %s", sheet, id, key)
	return ""
}

func set(t *testing.T, f *excelize.File, sheet, ref string, v any) {
	t.Helper()
	if err := f.SetCellValue(sheet, ref, v); err != nil {
		t.Fatalf("set %s!%s: %v", sheet, ref, err)
	}
}

// normalized writes docs as JSON, so that numbers compare by value.
func normalized(t *testing.T, docs []xlsx.Document) string {
	t.Helper()
	b, err := json.MarshalIndent(docs, "", " ")
	if err != nil {
		t.Fatalf("normalize: %v", err)
	}
	return string(b)
}

func importBook(t *testing.T, book []byte) *xlsx.ImportResult {
	t.Helper()
	res, err := xlsx.Import(bytes.NewReader(book))
	if err != nil {
		if res != nil {
			for _, r := range res.Report {
				if r.Status == xlsx.StatusInvalid {
					t.Log(r.Message)
				}
			}
		}
		t.Fatalf("import: %v", err)
	}
	return res
}

func TestRoundTripOfTheCatalogChangesNothing(t *testing.T) {
	docs := readCatalog(t)
	want := normalized(t, docs)
	res := importBook(t, export(t, docs))

	if got := normalized(t, res.Documents); got != want {
		t.Errorf("documents after export and import differ:\ngot  %s\nwant %s", got, want)
	}
	if got := normalized(t, docs); got != want {
		t.Error("export or import changed the documents passed in")
	}
	reports := map[string][]xlsx.Row{
		"Compare":              xlsx.Compare(docs, res.Documents),
		"ImportResult.Compare": res.Compare(docs),
	}
	for name, rows := range reports {
		if len(rows) != len(res.Report) {
			t.Errorf("%s: %d rows, want one per workbook row (%d)", name, len(rows), len(res.Report))
		}
		for _, r := range rows {
			if r.Status != xlsx.StatusUnchanged || r.Message != "" {
				t.Errorf("%s: %s row %d (%s %s) is %q %q, want unchanged", name, r.Sheet, r.Row, r.ID, r.Key, r.Status, r.Message)
			}
		}
	}

	// What a case gets must not change either: the resolved variants equal
	// those the registry publishes from the catalog files.
	defs, err := xlsx.Resolve(res.Documents)
	if err != nil {
		t.Fatalf("resolve: %v (%v)", err, ozgflow.ErrorFields(err))
	}
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		t.Fatalf("load catalog: %v", err)
	}
	byID := map[string]definitions.Definition{}
	for _, d := range defs {
		byID[d.ID] = d
	}
	for _, pub := range reg.Published() {
		got, _ := json.Marshal(byID[pub.ID])
		want, _ := json.Marshal(pub)
		if !bytes.Equal(got, want) {
			t.Errorf("%s resolved from the workbook:\n%s\nwant\n%s", pub.ID, got, want)
		}
	}
}

func TestWorkbookShowsVariantsWithTheirOverridesOnly(t *testing.T) {
	f, err := excelize.OpenReader(bytes.NewReader(export(t, readCatalog(t))))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tests := []struct {
		name, sheet, header, id, keyHeader, key string
		want                                    string
	}{
		{"base has its LeiKa key", xlsx.SheetServices, "Leistung (LeiKa)", "gewerbeanmeldung", "", "", "99050035001000"},
		{"variant inherits the LeiKa key", xlsx.SheetServices, "Leistung (LeiKa)", "gewerbeanmeldung-dresden", "", "", ""},
		{"variant names its base", xlsx.SheetServices, "Erweitert", "gewerbeanmeldung-dresden", "", "", "gewerbeanmeldung"},
		{"variant's own fee", xlsx.SheetFees, "Betrag (Cent)", "gewerbeanmeldung-leipzig", "", "", "2600"},
		{"variant inherits the currency", xlsx.SheetFees, "Währung", "gewerbeanmeldung-leipzig", "", "", ""},
		{"variant overrides a deadline only", xlsx.SheetSteps, "Frist (Arbeitstage)", "gewerbeanmeldung-dresden", "Schritt", "review", "5"},
		{"four-eyes as JSON", xlsx.SheetSteps, "Vier-Augen-Prinzip", "gewerbeanmeldung-leipzig", "Schritt", "review", "true"},
		{"escalation as JSON", xlsx.SheetSteps, "Eskalation (JSON)", "gewerbeanmeldung", "Schritt", "review", `{"after":"1d","queue":"gewerbe-leitung","priority":3}`},
		{"overridden step keeps the base's kind", xlsx.SheetSteps, "Art", "gewerbeanmeldung-dresden", "Schritt", "review", ""},
		{"explicitly cleared default", xlsx.SheetSteps, "Standardergebnis", "lasttest-pruefung", "Schritt", "decide", `""`},
		{"outcomes comma-separated", xlsx.SheetSteps, "Ergebnisse", "gewerbeanmeldung", "Schritt", "review", "approve, reject, request_information"},
		{"rules as readable JSON", xlsx.SheetSteps, "Regeln (JSON)", "anwohnerparkausweis", "Schritt", "rule",
			`[{"when":"data.zone in vars.zones && data.halterIstAntragsteller == true","outcome":"approve","comment":"Zone und Halter automatisch geprüft."}]`},
		{"variable as JSON", xlsx.SheetVars, "Wert (JSON)", "anwohnerparkausweis", "Name", "zones", "[]"},
		{"notice text", xlsx.SheetNotices, "Titel", "lasttest-pruefung", "Schlüssel", "in_review", "In Prüfung"},
		{"effective deadline and its origin", xlsx.SheetDeadlines, "Festgelegt in", "gewerbeanmeldung-leipzig", "Schritt", "review", "gewerbeanmeldung"},
		{"overridden deadline", xlsx.SheetDeadlines, "Dauer", "gewerbeanmeldung-dresden", "Schritt", "review", "5 Arbeitstage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := cell(t, f, tt.sheet, tt.header, tt.id, tt.keyHeader, tt.key)
			got, err := f.GetCellValue(tt.sheet, ref)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("%s!%s = %q, want %q", tt.sheet, ref, got, tt.want)
			}
		})
	}
}

func TestEditsAreReportedRowByRow(t *testing.T) {
	docs := readCatalog(t)
	book := export(t, docs)
	type want struct {
		sheet, id, key string
		status         xlsx.Status
		message        string // a part of it
	}
	tests := []struct {
		name   string
		change func(t *testing.T, f *excelize.File)
		want   []want
		check  func(t *testing.T, defs []definitions.Definition)
	}{
		{
			name: "fee edited",
			change: func(t *testing.T, f *excelize.File) {
				set(t, f, xlsx.SheetFees, cell(t, f, xlsx.SheetFees, "Betrag (Cent)", "gewerbeanmeldung-leipzig", "", ""), 2700)
			},
			want: []want{{xlsx.SheetFees, "gewerbeanmeldung-leipzig", "", xlsx.StatusChanged, "Gebühr: Betrag (Cent): 2600 → 2700"}},
			check: func(t *testing.T, defs []definitions.Definition) {
				t.Helper()
				fees := map[string]int64{}
				for _, d := range defs {
					fees[d.ID] = d.FeeAmount()
				}
				if fees["gewerbeanmeldung-leipzig"] != 2700 || fees["gewerbeanmeldung-dresden"] != 2500 {
					t.Errorf("fees = %v, want Leipzig 2700 and Dresden unchanged 2500", fees)
				}
			},
		},
		{
			name: "step inserted between rows",
			change: func(t *testing.T, f *excelize.File) {
				ref := cell(t, f, xlsx.SheetSteps, "Kennung", "gewerbeanmeldung-leipzig", "Schritt", "review")
				_, row, _ := excelize.SplitCellName(ref)
				row++ // below Leipzig's last step row, above the next document's
				if err := f.InsertRows(xlsx.SheetSteps, row, 1); err != nil {
					t.Fatal(err)
				}
				for col, v := range map[string]any{"A": "gewerbeanmeldung-leipzig", "B": 3, "C": "vorpruefung", "D": "task",
					"G": "gewerbe", "H": "Vorprüfung", "I": "2d", "K": "approve, reject"} {
					set(t, f, xlsx.SheetSteps, fmt.Sprintf("%s%d", col, row), v)
				}
			},
			want: []want{{xlsx.SheetSteps, "gewerbeanmeldung-leipzig", "vorpruefung", xlsx.StatusNew, "Schritt vorpruefung: neu"}},
			check: func(t *testing.T, defs []definitions.Definition) {
				t.Helper()
				for _, d := range defs {
					if d.ID == "gewerbeanmeldung-leipzig" {
						if s, ok := d.Step("vorpruefung"); !ok || s.Queue != "gewerbe" {
							t.Errorf("new step = %+v, %v", s, ok)
						}
						return
					}
				}
				t.Error("gewerbeanmeldung-leipzig not resolved")
			},
		},
		{
			name: "step deleted, the others keep their numbers",
			change: func(t *testing.T, f *excelize.File) {
				ref := cell(t, f, xlsx.SheetSteps, "Kennung", "gewerbeanmeldung", "Schritt", "payment")
				_, row, _ := excelize.SplitCellName(ref)
				if err := f.RemoveRow(xlsx.SheetSteps, row); err != nil {
					t.Fatal(err)
				}
			},
			want: []want{{xlsx.SheetSteps, "gewerbeanmeldung", "payment", xlsx.StatusRemoved, "Schritt payment von gewerbeanmeldung entfernt"}},
		},
		{
			name: "steps swapped",
			change: func(t *testing.T, f *excelize.File) {
				set(t, f, xlsx.SheetSteps, cell(t, f, xlsx.SheetSteps, "Position", "gewerbeanmeldung", "Schritt", "seal"), 5)
				set(t, f, xlsx.SheetSteps, cell(t, f, xlsx.SheetSteps, "Position", "gewerbeanmeldung", "Schritt", "review"), 3)
			},
			want: []want{
				{xlsx.SheetSteps, "gewerbeanmeldung", "seal", xlsx.StatusChanged, "Reihenfolge: vorher Schritt 3, jetzt Schritt 5"},
				{xlsx.SheetSteps, "gewerbeanmeldung", "review", xlsx.StatusChanged, "Reihenfolge: vorher Schritt 5, jetzt Schritt 3"},
			},
		},
		{
			name: "variable row deleted",
			change: func(t *testing.T, f *excelize.File) {
				ref := cell(t, f, xlsx.SheetVars, "Kennung", "anwohnerparkausweis-dresden", "Name", "zones")
				_, row, _ := excelize.SplitCellName(ref)
				if err := f.RemoveRow(xlsx.SheetVars, row); err != nil {
					t.Fatal(err)
				}
			},
			want: []want{{xlsx.SheetVars, "anwohnerparkausweis-dresden", "zones", xlsx.StatusRemoved, "Variable zones von anwohnerparkausweis-dresden entfernt"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var at map[[3]string]int // entry → row in the edited workbook
			edited := edit(t, book, func(f *excelize.File) {
				tt.change(t, f)
				at = rowsOf(t, f)
			})
			res := importBook(t, edited)
			report := res.Compare(docs)
			var got []want
			for _, r := range report {
				if r.Status == xlsx.StatusUnchanged {
					continue
				}
				got = append(got, want{r.Sheet, r.ID, r.Key, r.Status, r.Message})
				if r.Status != xlsx.StatusRemoved && r.Row != at[[3]string{r.Sheet, r.ID, r.Key}] {
					t.Errorf("%s %s %s reported in row %d, the workbook has it in row %d", r.Sheet, r.ID, r.Key, r.Row, at[[3]string{r.Sheet, r.ID, r.Key}])
				}
				if r.Status != xlsx.StatusRemoved && !strings.HasPrefix(r.Message, fmt.Sprintf("Zeile %d: ", r.Row)) {
					t.Errorf("message %q does not start with its row", r.Message)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("reported %+v, want %+v", got, tt.want)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.sheet != w.sheet || g.id != w.id || g.key != w.key || g.status != w.status || !strings.Contains(g.message, w.message) {
					t.Errorf("reported %+v, want %+v", g, w)
				}
			}
			defs, err := xlsx.Resolve(res.Documents)
			if err != nil {
				t.Fatalf("resolve: %v (%v)", err, ozgflow.ErrorFields(err))
			}
			if tt.check != nil {
				tt.check(t, defs)
			}
		})
	}
}

// rowsOf maps (sheet, Kennung, key) to the row of every editable sheet.
func rowsOf(t *testing.T, f *excelize.File) map[[3]string]int {
	t.Helper()
	out := map[[3]string]int{}
	for _, sheet := range []string{xlsx.SheetServices, xlsx.SheetFees, xlsx.SheetSteps, xlsx.SheetNotices, xlsx.SheetVars, xlsx.SheetSchema} {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		k := slices.IndexFunc(rows[0], func(h string) bool { return h == "Schritt" || h == "Schlüssel" || h == "Name" })
		if sheet == xlsx.SheetServices {
			k = -1
		}
		for n, row := range rows[1:] {
			key := ""
			if k >= 0 && k < len(row) {
				key = row[k]
			}
			if len(row) > 0 {
				out[[3]string{sheet, row[0], key}] = n + 2
			}
		}
	}
	return out
}

func TestWorkbookWithMistakesIsRefused(t *testing.T) {
	docs := readCatalog(t)
	before := normalized(t, docs)
	book := export(t, docs)
	tests := []struct {
		name    string
		change  func(t *testing.T, f *excelize.File) (sheet, ref string)
		message string
	}{
		{"unknown step kind", func(t *testing.T, f *excelize.File) (string, string) {
			ref := cell(t, f, xlsx.SheetSteps, "Art", "gewerbeanmeldung", "Schritt", "review")
			set(t, f, xlsx.SheetSteps, ref, "teleport")
			return xlsx.SheetSteps, ref
		}, `Schritt review: unbekannte Art "teleport"`},
		{"amount not a number", func(t *testing.T, f *excelize.File) (string, string) {
			ref := cell(t, f, xlsx.SheetFees, "Betrag (Cent)", "gewerbeanmeldung-dresden", "", "")
			set(t, f, xlsx.SheetFees, ref, "zwanzig Euro")
			return xlsx.SheetFees, ref
		}, `Gebühr: Betrag (Cent) "zwanzig Euro" ist keine ganze Zahl`},
		{"amount with decimals", func(t *testing.T, f *excelize.File) (string, string) {
			ref := cell(t, f, xlsx.SheetFees, "Betrag (Cent)", "gewerbeanmeldung", "", "")
			set(t, f, xlsx.SheetFees, ref, 20.5)
			return xlsx.SheetFees, ref
		}, `Betrag (Cent) "20.5" ist keine ganze Zahl`},
		{"broken JSON in rules", func(t *testing.T, f *excelize.File) (string, string) {
			ref := cell(t, f, xlsx.SheetSteps, "Regeln (JSON)", "anwohnerparkausweis", "Schritt", "rule")
			set(t, f, xlsx.SheetSteps, ref, `[{"when": "data.zone in vars.zones", "outcome": "approve"`)
			return xlsx.SheetSteps, ref
		}, "Schritt rule: Regeln (JSON) ist kein gültiges JSON"},
		{"step of an unknown document", func(t *testing.T, f *excelize.File) (string, string) {
			ref := cell(t, f, xlsx.SheetSteps, "Kennung", "hundesteuer-anmeldung-leipzig", "Schritt", "deliver")
			set(t, f, xlsx.SheetSteps, ref, "hundesteuer-chemnitz")
			return xlsx.SheetSteps, ref
		}, `unbekannte Kennung "hundesteuer-chemnitz" (nicht im Blatt Leistungen)`},
		{"missing Kennung", func(t *testing.T, f *excelize.File) (string, string) {
			ref := cell(t, f, xlsx.SheetNotices, "Kennung", "lasttest-pruefung", "Schlüssel", "in_review")
			set(t, f, xlsx.SheetNotices, ref, "")
			return xlsx.SheetNotices, ref
		}, "Kennung fehlt"},
		{"deadline not a duration", func(t *testing.T, f *excelize.File) (string, string) {
			ref := cell(t, f, xlsx.SheetSteps, "Frist", "gewerbeanmeldung-dresden", "Schritt", "review")
			set(t, f, xlsx.SheetSteps, ref, "5 Tage")
			return xlsx.SheetSteps, ref
		}, `Frist "5 Tage" ist keine Dauer`},
		{"variable value not JSON", func(t *testing.T, f *excelize.File) (string, string) {
			ref := cell(t, f, xlsx.SheetVars, "Wert (JSON)", "anwohnerparkausweis-leipzig", "Name", "zones")
			set(t, f, xlsx.SheetVars, ref, "Zentrum, Gohlis")
			return xlsx.SheetVars, ref
		}, "Variable zones: Wert (JSON) ist kein gültiges JSON"},
	}
	var all []func(*testing.T, *excelize.File) (string, string)
	for _, tt := range tests {
		all = append(all, tt.change)
		t.Run(tt.name, func(t *testing.T) {
			var sheet, ref string
			edited := edit(t, book, func(f *excelize.File) { sheet, ref = tt.change(t, f) })
			_, row, _ := excelize.SplitCellName(ref)
			invalid := importInvalid(t, edited)
			if len(invalid) != 1 {
				t.Fatalf("invalid rows = %+v, want one", invalid)
			}
			got := invalid[0]
			if got.Sheet != sheet || got.Row != row || !strings.HasPrefix(got.Message, fmt.Sprintf("Zeile %d: ", row)) ||
				!strings.Contains(got.Message, tt.message) {
				t.Errorf("reported %s row %d %q, want %s row %d containing %q", got.Sheet, got.Row, got.Message, sheet, row, tt.message)
			}
		})
	}
	t.Run("all mistakes at once", func(t *testing.T) {
		var want []string
		edited := edit(t, book, func(f *excelize.File) {
			for _, change := range all {
				sheet, ref := change(t, f)
				_, row, _ := excelize.SplitCellName(ref)
				want = append(want, fmt.Sprintf("%s %d", sheet, row))
			}
		})
		var got []string
		for _, r := range importInvalid(t, edited) {
			got = append(got, fmt.Sprintf("%s %d", r.Sheet, r.Row))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("invalid rows = %v, want %v", got, want)
		}
	})
	if normalized(t, docs) != before {
		t.Error("a refused workbook changed the documents it was exported from")
	}
}

// importInvalid imports a workbook that must be refused and returns its
// invalid rows.
func importInvalid(t *testing.T, book []byte) []xlsx.Row {
	t.Helper()
	res, err := xlsx.Import(bytes.NewReader(book))
	if ozgflow.ErrorCode(err) != ozgflow.EINVALID {
		t.Fatalf("import error = %v, want EINVALID", err)
	}
	if res == nil || res.Documents != nil {
		t.Fatalf("result = %+v, want a report and no documents", res)
	}
	if len(ozgflow.ErrorFields(err)) == 0 {
		t.Error("error lists no rows")
	}
	var invalid []xlsx.Row
	for _, r := range res.Report {
		if r.Status == xlsx.StatusInvalid {
			invalid = append(invalid, r)
		} else if r.Status != "" {
			t.Errorf("row %+v: Import set a status other than invalid", r)
		}
	}
	return invalid
}

func TestResolveNamesDocumentAndField(t *testing.T) {
	docs := readCatalog(t)
	edited := edit(t, export(t, docs), func(f *excelize.File) {
		set(t, f, xlsx.SheetSteps, cell(t, f, xlsx.SheetSteps, "Ergebnisse", "gewerbeanmeldung", "Schritt", "review"), "approve, vielleicht")
		set(t, f, xlsx.SheetSteps, cell(t, f, xlsx.SheetSteps, "Arbeitskorb", "gewerbeanmeldung-dresden", "Schritt", "review"), `""`)
	})
	res := importBook(t, edited)
	_, err := xlsx.Resolve(res.Documents)
	if ozgflow.ErrorCode(err) != ozgflow.EINVALID {
		t.Fatalf("resolve error = %v, want EINVALID", err)
	}
	var got []string
	for _, f := range ozgflow.ErrorFields(err) {
		got = append(got, f.Pointer)
	}
	tests := []struct{ name, pointer string }{
		{"base's unknown outcome", "/gewerbeanmeldung/steps/4/outcomes/1"},
		{"inherited by a variant", "/gewerbeanmeldung-leipzig/steps/4/outcomes/1"},
		{"variant's cleared queue", "/gewerbeanmeldung-dresden/steps/4/queue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !slices.Contains(got, tt.pointer) {
				t.Errorf("pointers %v lack %s", got, tt.pointer)
			}
		})
	}
	if !strings.Contains(ozgflow.ErrorMessage(err), "gewerbeanmeldung-dresden") {
		t.Errorf("message %q does not name the definitions", ozgflow.ErrorMessage(err))
	}
}

func TestImportRefusesWhatIsNoWorkbook(t *testing.T) {
	empty := excelize.NewFile()
	defer empty.Close()
	emptyBook, err := empty.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		body     []byte
		wantCode string
		message  string
	}{
		{"empty body", nil, ozgflow.EINVALID, "Die Datei ist leer"},
		{"text", []byte("id,amount\ngewerbeanmeldung,2000\n"), ozgflow.EINVALID, "keine Excel-Arbeitsmappe"},
		{"too large", make([]byte, xlsx.MaxWorkbookSize+1), ozgflow.ETOOLARGE, "größer als"},
		{"workbook without the sheets", emptyBook.Bytes(), ozgflow.EINVALID, "fehlerhafte Zeile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := xlsx.Import(bytes.NewReader(tt.body))
			if got := ozgflow.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("code = %q, want %q (%v)", got, tt.wantCode, err)
			}
			if msg := ozgflow.ErrorMessage(err); !strings.Contains(msg, tt.message) {
				t.Errorf("message %q, want it to contain %q", msg, tt.message)
			}
			if res != nil && res.Documents != nil {
				t.Error("documents returned for a refused body")
			}
		})
	}
}

func TestExportRefusesWhatItCannotCarryBack(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{"id": "x", "version": 1, "name": "X", "steps": []any{map[string]any{"id": "a", "kind": "validate"}}}
	}
	tests := []struct {
		name    string
		change  func(raw map[string]any)
		message string
	}{
		{"unknown field", func(raw map[string]any) { raw["colour"] = "blue" }, `Feld "colour"`},
		{"empty step list", func(raw map[string]any) { raw["steps"] = []any{} }, "leere Schrittliste"},
		{"text longer than a cell", func(raw map[string]any) { raw["name"] = strings.Repeat("x", 40000) }, "länger als"},
		{"outcome with a comma", func(raw map[string]any) {
			raw["steps"].([]any)[0].(map[string]any)["outcomes"] = []any{"a,b"}
		}, "kommagetrennt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := base()
			tt.change(raw)
			err := xlsx.Export(&bytes.Buffer{}, []xlsx.Document{{ID: "x", Version: 1, Raw: raw}})
			if ozgflow.ErrorCode(err) != ozgflow.EINVALID || !strings.Contains(ozgflow.ErrorMessage(err), tt.message) {
				t.Errorf("error = %v, want EINVALID mentioning %q", err, tt.message)
			}
		})
	}
}

func TestRoundTripKeepsUnusualValues(t *testing.T) {
	step := func(fields map[string]any) map[string]any {
		s := map[string]any{"id": "s"}
		for k, v := range fields {
			s[k] = v
		}
		return s
	}
	tests := []struct {
		name string
		raw  map[string]any
	}{
		{"multi-line text with spaces at the ends", map[string]any{"name": " Zeile eins\nZeile zwei\r\n "}},
		{"text looking like a number or formula", map[string]any{"service": "00012", "name": "=SUMME(A1)", "leikaNote": "1e5"}},
		{"characters beyond the BMP", map[string]any{"name": "Hund 🐕 Straße"}},
		{"explicitly empty values", map[string]any{"extends": "", "steps": []any{step(map[string]any{"outcomes": []any{}, "due": "", "when": ""})}}},
		{"step with only its id", map[string]any{"steps": []any{map[string]any{"id": "review"}}}},
		{"steps in authored order", map[string]any{"steps": []any{step(nil), map[string]any{"id": "b"}, map[string]any{"id": "a"}}}},
		{"fee amount only", map[string]any{"fee": map[string]any{"amount": 0}}},
		{"payment deadline without fee", map[string]any{"paymentDeadline": "36h"}},
		{"retention", map[string]any{"retention": "18M"}},
		{"variables of every JSON type", map[string]any{"vars": map[string]any{
			"flag": true, "none": nil, "ratio": 0.25, "big": 9007199254740993, "nested": map[string]any{"a": []any{1, "x", map[string]any{}}}}}},
		{"null schema", map[string]any{"schema": nil}},
		{"notice with title only and empty notice", map[string]any{"notices": map[string]any{"received": map[string]any{"title": "T"}, "x": map[string]any{}}}},
		{"rules with quotes and ampersands", map[string]any{"steps": []any{step(map[string]any{"kind": "decide",
			"rules": []any{map[string]any{"when": `data.a == "x" && data.b < 3`, "outcome": "approve"}}})}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.raw["id"] = "x"
			docs := []xlsx.Document{{ID: "x", Raw: tt.raw}}
			if e, ok := tt.raw["extends"].(string); ok {
				docs[0].Extends = e
			}
			res := importBook(t, export(t, docs))
			if got, want := normalized(t, res.Documents), normalized(t, docs); got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
			for _, r := range res.Compare(docs) {
				if r.Status != xlsx.StatusUnchanged {
					t.Errorf("%+v, want unchanged", r)
				}
			}
		})
	}
}

func TestResolveRefusesBrokenChains(t *testing.T) {
	doc := func(id, extends string) xlsx.Document {
		raw := map[string]any{"id": id, "version": 1}
		if extends != "" {
			raw["extends"] = extends
		}
		return xlsx.Document{ID: id, Extends: extends, Version: 1, Raw: raw}
	}
	tests := []struct {
		name     string
		docs     []xlsx.Document
		pointers []string
	}{
		{"unknown base", []xlsx.Document{doc("a", "gibt-es-nicht")}, []string{"/a/extends"}},
		{"cycle", []xlsx.Document{doc("a", "b"), doc("b", "a")}, []string{"/a/extends", "/b/extends"}},
		{"id used twice", []xlsx.Document{doc("a", ""), doc("a", "")}, []string{"/a/id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defs, err := xlsx.Resolve(tt.docs)
			if ozgflow.ErrorCode(err) != ozgflow.EINVALID || defs != nil {
				t.Fatalf("got %v, %v; want no definitions and EINVALID", defs, err)
			}
			var got []string
			for _, f := range ozgflow.ErrorFields(err) {
				got = append(got, f.Pointer)
			}
			if !slices.Equal(got, tt.pointers) {
				t.Errorf("pointers = %v, want %v", got, tt.pointers)
			}
		})
	}
}
