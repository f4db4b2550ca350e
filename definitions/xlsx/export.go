package xlsx

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/locale"
)

// Export writes docs as one workbook, each document as authored: bases with
// all their fields, variants with only their overrides. It refuses, with an
// EINVALID error naming each document and field, anything the workbook could
// not carry back unchanged (an unknown field, an empty step list, a text
// longer than an Excel cell), so that Export followed by Import never loses
// a value silently.
func Export(w io.Writer, docs []Document) error {
	var enc encoder
	seen := map[string]bool{}
	for _, d := range docs {
		if seen[d.ID] {
			enc.fail(d.ID, "Kennung kommt mehrfach vor")
		}
		seen[d.ID] = true
	}
	recs := enc.records(docs)
	if len(enc.problems) > 0 {
		return &ozgflow.Error{Code: ozgflow.EINVALID,
			Message: "Die Prozessvarianten lassen sich nicht verlustfrei als Arbeitsmappe schreiben: " + strings.Join(enc.problems, "; ") + "."}
	}

	f := excelize.NewFile()
	defer f.Close()
	st, err := newStyles(f)
	if err != nil {
		return fmt.Errorf("export workbook: %w", err)
	}
	order := []string{SheetServices, SheetFees, SheetSteps, SheetDeadlines, SheetNotices, SheetVars, SheetSchema, SheetHelp}
	if err := f.SetSheetName(f.GetSheetName(0), order[0]); err != nil {
		return fmt.Errorf("export workbook: %w", err)
	}
	for _, name := range order[1:] {
		if _, err := f.NewSheet(name); err != nil {
			return fmt.Errorf("export workbook: %w", err)
		}
	}
	for _, s := range editableSheets {
		if err := writeSheet(f, st, s, recs[s]); err != nil {
			return fmt.Errorf("export sheet %s: %w", s.name, err)
		}
	}
	if err := writeDeadlines(f, st, docs); err != nil {
		return fmt.Errorf("export sheet %s: %w", SheetDeadlines, err)
	}
	if err := writeHelp(f, st); err != nil {
		return fmt.Errorf("export sheet %s: %w", SheetHelp, err)
	}
	f.SetActiveSheet(0)
	if err := f.Write(w); err != nil {
		return fmt.Errorf("export workbook: %w", err)
	}
	return nil
}

type styles struct{ header, text, wrapText, number, help int }

func newStyles(f *excelize.File) (styles, error) {
	var st styles
	top := &excelize.Alignment{Vertical: "top"}
	defs := []struct {
		id    *int
		style excelize.Style
	}{
		{&st.header, excelize.Style{Font: &excelize.Font{Bold: true},
			Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E1F2"}},
			Border:    []excelize.Border{{Type: "bottom", Color: "808080", Style: 1}},
			Alignment: top, NumFmt: 49}},
		{&st.text, excelize.Style{NumFmt: 49, Alignment: top}}, // 49 = "@": typed text stays text
		{&st.wrapText, excelize.Style{NumFmt: 49, Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}}},
		{&st.number, excelize.Style{Alignment: top}},
		{&st.help, excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}}},
	}
	for _, d := range defs {
		id, err := f.NewStyle(&d.style)
		if err != nil {
			return st, err
		}
		*d.id = id
	}
	return st, nil
}

// writeSheet writes the header, the column formats and the records of s.
func writeSheet(f *excelize.File, st styles, s *sheetSpec, recs []record) error {
	headers := s.headers()
	widths := []float64{30}
	kinds := []cellKind{textCell}
	wraps := []bool{false}
	if s.position {
		widths, kinds, wraps = append(widths, 9), append(kinds, intCell), append(wraps, false)
	}
	if s.keyHeader != "" {
		widths, kinds, wraps = append(widths, s.keyWidth), append(kinds, textCell), append(wraps, false)
	}
	for _, c := range s.columns {
		widths, kinds, wraps = append(widths, c.width), append(kinds, c.kind), append(wraps, c.wrap)
	}
	for i := range headers {
		col, _ := excelize.ColumnNumberToName(i + 1)
		style := st.text
		switch {
		case kinds[i] == intCell:
			style = st.number
		case wraps[i]:
			style = st.wrapText
		}
		if err := f.SetColStyle(s.name, col, style); err != nil {
			return err
		}
		if err := f.SetColWidth(s.name, col, col, widths[i]); err != nil {
			return err
		}
	}
	if err := writeHeader(f, st, s.name, headers); err != nil {
		return err
	}
	for n, r := range recs {
		for i, text := range r.texts() {
			if text == "" {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(i+1, n+2)
			var err error
			if num, perr := strconv.ParseInt(text, 10, 64); kinds[i] == intCell && perr == nil {
				err = f.SetCellInt(s.name, cell, num)
			} else {
				err = f.SetCellStr(s.name, cell, text)
			}
			if err != nil {
				return err
			}
		}
	}
	if s == stepsSheet {
		return addKindList(f, headers)
	}
	return nil
}

func writeHeader(f *excelize.File, st styles, sheet string, headers []string) error {
	for i, h := range headers {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		if err := f.SetCellStr(sheet, cell, h); err != nil {
			return err
		}
	}
	last, _ := excelize.CoordinatesToCellName(len(headers), 1)
	if err := f.SetCellStyle(sheet, "A1", last, st.header); err != nil {
		return err
	}
	return f.SetPanes(sheet, &excelize.Panes{Freeze: true, XSplit: 1, YSplit: 1, TopLeftCell: "B2", ActivePane: "bottomRight"})
}

// addKindList offers the step kinds as a drop-down in the Art column; other
// entries only draw a warning, Import reports them.
func addKindList(f *excelize.File, headers []string) error {
	for i, h := range headers {
		if h != stepsSheet.columns[0].header {
			continue
		}
		col, _ := excelize.ColumnNumberToName(i + 1)
		dv := excelize.NewDataValidation(true)
		dv.Sqref = fmt.Sprintf("%s2:%s%d", col, col, excelize.TotalRows)
		if err := dv.SetDropList(definitions.Kinds); err != nil {
			return err
		}
		dv.SetError(excelize.DataValidationErrorStyleWarning, "Unbekannte Art",
			"Bekannte Arten: "+strings.Join(definitions.Kinds, ", "))
		return f.AddDataValidation(SheetSteps, dv)
	}
	return nil
}

// writeDeadlines writes the read-only overview of the deadlines that apply
// to each document after inheritance, and where each is set.
func writeDeadlines(f *excelize.File, st styles, docs []Document) error {
	headers := []string{headerID, "Frist für", "Schritt", "Dauer", "Festgelegt in"}
	for i, w := range []float64{30, 22, 14, 10, 30} {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetColStyle(SheetDeadlines, col, st.text); err != nil {
			return err
		}
		if err := f.SetColWidth(SheetDeadlines, col, col, w); err != nil {
			return err
		}
	}
	if err := writeHeader(f, st, SheetDeadlines, headers); err != nil {
		return err
	}
	for n, row := range deadlines(docs) {
		cell, _ := excelize.CoordinatesToCellName(1, n+2)
		if err := f.SetSheetRow(SheetDeadlines, cell, &row); err != nil {
			return err
		}
	}
	return f.ProtectSheet(SheetDeadlines, &excelize.SheetProtectionOptions{
		SelectLockedCells: true, SelectUnlockedCells: true, FormatColumns: true, AutoFilter: true, Sort: true})
}

// deadlines lists, per document, the payment deadline, the due time of each
// task and the timeout of each wait-external step that apply after
// inheritance. A document whose chain of bases is broken shows its own values.
func deadlines(docs []Document) [][]string {
	raw := make(map[string]map[string]any, len(docs))
	for _, d := range docs {
		if _, dup := raw[d.ID]; !dup {
			raw[d.ID] = d.Raw
		}
	}
	var rows [][]string
	for _, d := range docs {
		resolved, err := definitions.ResolveDocument(d.ID, raw)
		chain := []string{d.ID}
		if err != nil {
			resolved = d.Raw
		} else {
			for base, _ := d.Raw["extends"].(string); base != ""; base, _ = raw[base]["extends"].(string) {
				chain = append(chain, base)
			}
		}
		if v := resolved["paymentDeadline"]; v != nil && v != "" {
			origin := setIn(chain, raw, func(doc map[string]any) bool { return has(doc, "paymentDeadline") })
			rows = append(rows, []string{d.ID, "Zahlung", "", readableDuration(fmt.Sprint(v)), origin})
		}
		steps, _ := resolved["steps"].([]any)
		for _, item := range steps {
			step, _ := item.(map[string]any)
			id, _ := step["id"].(string)
			for _, dl := range stepDeadlines(step) {
				origin := setIn(chain, raw, func(doc map[string]any) bool {
					own, _ := doc["steps"].([]any)
					for _, o := range own {
						if m, _ := o.(map[string]any); m["id"] == id && has(m, dl.field) {
							return true
						}
					}
					return false
				})
				rows = append(rows, []string{d.ID, dl.what, id, dl.value, origin})
			}
		}
	}
	return rows
}

// stepDeadline is one deadline a step sets: the field, what it bounds and its value.
type stepDeadline struct{ field, what, value string }

// stepDeadlines lists the deadlines of a resolved step.
func stepDeadlines(step map[string]any) []stepDeadline {
	var out []stepDeadline
	add := func(field, what, suffix string) {
		if v := step[field]; v != nil && v != "" && v != 0 && v != 0.0 {
			out = append(out, stepDeadline{field, what, readableDuration(fmt.Sprint(v)) + suffix})
		}
	}
	switch step["kind"] {
	case definitions.KindTask:
		add("due", "Bearbeitung (Aufgabe)", "")
		add("dueWorkingDays", "Bearbeitung (Aufgabe)", " Arbeitstage")
		add("answerDeadline", "Antwort auf Rückfrage", "")
	case definitions.KindRequestInfo:
		add("answerDeadline", "Antwort auf Rückfrage", "")
	case definitions.KindWaitExternal:
		add("timeout", "Warten auf Ereignis", "")
	}
	return out
}

// setIn returns the first document of chain (the document, then its bases)
// for which sets is true.
func setIn(chain []string, raw map[string]map[string]any, sets func(map[string]any) bool) string {
	for _, id := range chain {
		if sets(raw[id]) {
			return id
		}
	}
	return chain[0]
}

var helpLines = []string{
	"Prozessvarianten in Excel bearbeiten",
	"",
	"Jede Zeile gehört über die Spalte Kennung zu einer Prozessvariante im Blatt Leistungen.",
	"Eine Variante (Spalte Erweitert = Kennung der Basis) enthält nur, was sie gegenüber der Basis ändert. Schritte werden über die Spalte Schritt der Basis zugeordnet; neue Schritte einer Variante kommen hinter die Schritte der Basis.",
	"Leere Zelle: nicht gesetzt, bei Varianten gilt der Wert der Basis. Zwei Anführungszeichen \"\" setzen einen Text oder eine Liste ausdrücklich leer.",
	"Beträge in Cent (2500 = 25,00 EUR). Fristen als Dauer: 10d (Tage), 72h (Stunden), 30m (Minuten).",
	"Ergebnisse und Felder: durch Komma getrennt, z. B. approve, reject. Regeln, Variablenwerte und Schema: JSON.",
	"Position: Reihenfolge der Schritte innerhalb einer Prozessvariante; jede Position nur einmal.",
	"Eine Zeile löschen entfernt die Angabe; bei Varianten gilt dann wieder die Basis. Wer eine Prozessvariante löscht, löscht ihre Zeilen in allen Blättern.",
	"Das Blatt Fristen ist eine schreibgeschützte Übersicht der geltenden Fristen mit ihrer Herkunft. Geändert werden Fristen in Gebühren (Zahlungsfrist) und Schritte (Frist, Wartezeit); beim Hochladen wird das Blatt Fristen nicht gelesen.",
}

func writeHelp(f *excelize.File, st styles) error {
	if err := f.SetColWidth(SheetHelp, "A", "A", 120); err != nil {
		return err
	}
	if err := f.SetColStyle(SheetHelp, "A", st.help); err != nil {
		return err
	}
	for i, line := range helpLines {
		if err := f.SetCellStr(SheetHelp, "A"+strconv.Itoa(i+1), line); err != nil {
			return err
		}
	}
	return f.SetCellStyle(SheetHelp, "A1", "A1", st.header)
}

// readableDuration writes a duration of a variant as a person reads it, with
// the form the variant uses: "10 Tage (10d)"; other values as they are.
func readableDuration(v string) string {
	d, err := definitions.ParseDuration(v)
	if err != nil || d <= 0 || strings.TrimSpace(v) == "" {
		return v
	}
	if _, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		return v // a count, such as working days
	}
	return locale.DE.Duration(time.Duration(d)) + " (" + v + ")"
}
