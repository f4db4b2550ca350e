package xlsx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
)

// MaxWorkbookSize is the largest workbook Import reads, in bytes; the shipped
// catalog exports to a few dozen kilobytes.
const MaxWorkbookSize = 10 << 20

// maxUnzipped bounds what a workbook may unpack to, against zip bombs.
const maxUnzipped = 100 << 20

// Status says what a workbook row means for the catalog.
type Status string

// Statuses of a report row. Import sets only StatusInvalid; Compare and
// ImportResult.Compare set the others.
const (
	StatusUnchanged Status = "unchanged"
	StatusChanged   Status = "changed"
	StatusNew       Status = "new"
	StatusInvalid   Status = "invalid"
	// StatusRemoved marks what the catalog has and the workbook no longer
	// does (a deleted row); such a report row has no row number.
	StatusRemoved Status = "removed"
)

// Row reports on one workbook row.
type Row struct {
	Sheet string `json:"sheet"`
	// Row is the 1-based row number as Excel shows it (1 is the header);
	// 0 when there is no such row (a missing sheet, a removed entry).
	Row int `json:"row,omitempty"`
	// ID is the document (Kennung) the row belongs to.
	ID string `json:"id,omitempty"`
	// Key names the entry within the document: step id, notice key or
	// variable name; empty on Leistungen, Gebühren and Schema.
	Key    string `json:"key,omitempty"`
	Status Status `json:"status,omitempty"`
	// Message says in German what is wrong or what changed, starting with
	// the row: `Zeile 7: Schritt review: unbekannte Art "teleport"`.
	Message string `json:"message,omitempty"`
}

// ImportResult is a workbook read back.
type ImportResult struct {
	// Documents are the workbook's documents in the order of the sheet
	// Leistungen, each step list in the order of its positions. Nil when
	// any row is invalid.
	Documents []Document
	// Report has one entry per non-empty row of the editable sheets, in
	// sheet and row order. Rows Import read without problems have an empty
	// Status until ImportResult.Compare fills it in.
	Report []Row
}

// Import reads a workbook written by Export, possibly edited. It checks only
// the shape of each row (numbers, durations, JSON, step kinds, known document
// ids, duplicates), not whether the definitions are complete: Resolve does
// that. If anything is wrong it returns the report, no documents, and an
// EINVALID error listing the bad rows; a body that is empty, too large or not
// an .xlsx workbook gives an error and no result. The sheet Fristen is a
// read-only overview and is not read.
func Import(r io.Reader) (*ImportResult, error) {
	body, err := io.ReadAll(io.LimitReader(r, MaxWorkbookSize+1))
	if err != nil {
		return nil, fmt.Errorf("read workbook: %w", err)
	}
	switch {
	case len(body) == 0:
		return nil, ozgflow.Errorf(ozgflow.EINVALID, "Die Datei ist leer; erwartet wird eine Excel-Arbeitsmappe (.xlsx).")
	case len(body) > MaxWorkbookSize:
		return nil, ozgflow.Errorf(ozgflow.ETOOLARGE, "Die Arbeitsmappe ist größer als %d MB.", MaxWorkbookSize>>20)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body), excelize.Options{UnzipSizeLimit: maxUnzipped})
	if err != nil {
		if errors.Is(err, excelize.ErrWorkbookFileFormat) || errors.Is(err, excelize.ErrWorkbookPassword) {
			return nil, ozgflow.Errorf(ozgflow.EINVALID, "Die Datei ist verschlüsselt oder im alten Format (.xls); erwartet wird eine Excel-Arbeitsmappe (.xlsx) ohne Kennwort.")
		}
		return nil, ozgflow.Errorf(ozgflow.EINVALID, "Die Datei ist keine Excel-Arbeitsmappe (.xlsx).")
	}
	defer f.Close()

	im := &importer{known: map[string]bool{}, docs: map[string]*builder{}}
	for _, s := range editableSheets {
		im.readSheet(f, s)
		if s == servicesSheet && len(im.known) == 0 && im.invalid == 0 {
			im.fail(s.name, 0, "", "", "Das Blatt %s enthält keine Prozessvariante.", s.name)
		}
	}
	res := &ImportResult{Report: im.report}
	if im.invalid > 0 {
		fields := make([]ozgflow.FieldError, 0, im.invalid)
		for _, row := range im.report {
			if row.Status == StatusInvalid {
				ptr := "/" + row.Sheet
				if row.Row > 0 {
					ptr += "/" + strconv.Itoa(row.Row)
				}
				fields = append(fields, ozgflow.FieldError{Pointer: ptr, Detail: row.Message})
			}
		}
		return res, &ozgflow.Error{Code: ozgflow.EINVALID,
			Message: fmt.Sprintf("Die Arbeitsmappe enthält %d fehlerhafte Zeile(n); es wurde nichts übernommen.", im.invalid),
			Fields:  fields}
	}
	res.Documents = make([]Document, 0, len(im.order))
	for _, id := range im.order {
		res.Documents = append(res.Documents, im.docs[id].document())
	}
	return res, nil
}

// importer collects the documents and the report while the sheets are read.
type importer struct {
	report  []Row
	invalid int
	known   map[string]bool // every Kennung in Leistungen, valid or not
	order   []string        // valid documents in the order of Leistungen
	docs    map[string]*builder
}

// builder assembles one document from its rows.
type builder struct {
	raw       map[string]any
	steps     []placedStep
	notices   map[string]any
	vars      map[string]any
	rows      map[elemKey]int // where each entry was read, for duplicates
	positions map[int]int     // step position → row
}

type placedStep struct {
	pos  int
	step map[string]any
}

func (b *builder) document() Document {
	sort.SliceStable(b.steps, func(i, j int) bool { return b.steps[i].pos < b.steps[j].pos })
	if len(b.steps) > 0 {
		steps := make([]any, len(b.steps))
		for i, s := range b.steps {
			steps[i] = s.step
		}
		b.raw["steps"] = steps
	}
	if len(b.notices) > 0 {
		b.raw["notices"] = b.notices
	}
	if len(b.vars) > 0 {
		b.raw["vars"] = b.vars
	}
	doc, _ := newDocument(b.raw) // id is set; extends and version were checked per cell
	return doc
}

func (im *importer) fail(sheet string, row int, id, key, format string, args ...any) {
	im.invalid++
	im.report = append(im.report, Row{Sheet: sheet, Row: row, ID: id, Key: key, Status: StatusInvalid,
		Message: rowMessage(row, fmt.Sprintf(format, args...))})
}

func rowMessage(row int, text string) string {
	if row == 0 {
		return text
	}
	return fmt.Sprintf("Zeile %d: %s", row, text)
}

// readSheet reads one editable sheet: its header, then every non-empty row.
func (im *importer) readSheet(f *excelize.File, s *sheetSpec) {
	if i, err := f.GetSheetIndex(s.name); err != nil || i < 0 {
		im.fail(s.name, 0, "", "", "Das Blatt %s fehlt.", s.name)
		return
	}
	rows, err := f.GetRows(s.name, excelize.Options{RawCellValue: true})
	if err != nil {
		im.fail(s.name, 0, "", "", "Das Blatt %s lässt sich nicht lesen.", s.name)
		return
	}
	if len(rows) == 0 {
		rows = [][]string{nil}
	}
	cols, ok := im.readHeader(s, rows[0])
	if !ok {
		return
	}
	for i, cells := range rows[1:] {
		im.readRow(s, cols, i+2, cells)
	}
}

// readHeader maps each header of s to its column index; every header must be
// there once, and no other.
func (im *importer) readHeader(s *sheetSpec, cells []string) (cols []int, ok bool) {
	at := map[string]int{}
	bad := false
	for j, c := range cells {
		h := strings.TrimSpace(c)
		if h == "" {
			continue
		}
		if _, dup := at[h]; dup {
			im.fail(s.name, 1, "", "", "Die Spalte %q kommt zweimal vor.", h)
			bad = true
		}
		at[h] = j
	}
	headers := s.headers()
	for _, h := range headers {
		j, found := at[h]
		if !found {
			im.fail(s.name, 1, "", "", "Die Spalte %q fehlt.", h)
			bad = true
		}
		cols = append(cols, j)
		delete(at, h)
	}
	for h := range at {
		im.fail(s.name, 1, "", "", "Unbekannte Spalte %q; erwartet: %s.", h, strings.Join(headers, ", "))
		bad = true
	}
	return cols, !bad
}

// readRow reads one data row of s; cols maps its headers to cell indexes.
func (im *importer) readRow(s *sheetSpec, cols []int, n int, cells []string) {
	blank := true
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			blank = false
		}
	}
	if blank {
		return
	}
	cell := func(i int) string {
		if j := cols[i]; j < len(cells) {
			return cells[j]
		}
		return ""
	}
	var problems []string
	problem := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for j, c := range cells {
		if strings.TrimSpace(c) != "" && !slices.Contains(cols, j) {
			name, _ := excelize.ColumnNumberToName(j + 1)
			problem("Wert in Spalte %s ohne Überschrift", name)
		}
	}

	id := strings.TrimSpace(cell(0))
	switch {
	case id == "":
		problem("Kennung fehlt")
	case s != servicesSheet && !im.known[id]:
		problem("unbekannte Kennung %q (nicht im Blatt %s)", id, SheetServices)
	}
	h := 1
	pos := 0
	if s.position {
		v, ok, err := decodeCell(column{header: headerPosition, kind: intCell}, cell(h))
		pos, _ = v.(int)
		switch {
		case err != nil:
			problem("%v", err)
		case !ok:
			problem("%s fehlt", headerPosition)
		case pos < 1:
			problem("%s muss 1 oder größer sein", headerPosition)
		}
		h++
	}
	key := ""
	if s.keyHeader != "" {
		if key = strings.TrimSpace(cell(h)); key == "" {
			problem("%s fehlt", s.keyHeader)
		}
		h++
	}

	source := map[string]any{}
	var value any // Variablen: the variable's value
	anySet := false
	for i, c := range s.columns {
		v, ok, err := decodeCell(c, cell(h+i))
		if err != nil {
			problem("%v", err)
			continue
		}
		if !ok {
			continue
		}
		anySet = true
		if c.path == nil {
			value = v
			continue
		}
		if msg := checkValue(s, c, v); msg != "" {
			problem("%s", msg)
			continue
		}
		set(source, c.path, v)
	}
	if !anySet && len(problems) == 0 {
		switch {
		case s == feesSheet:
			problem("außer der Kennung keine Angaben; Zeile löschen oder Werte eintragen")
		case s == varsSheet || s == schemaSheet:
			problem("%s fehlt", s.columns[0].header)
		}
	}

	elem := elemKey{s.name, id, key}
	b := im.docs[id]
	if len(problems) == 0 && b != nil {
		first, dup := b.rows[elem]
		firstPos, dupPos := b.positions[pos]
		switch {
		case dup && s == servicesSheet:
			problem("steht schon in Zeile %d", first)
		case dup:
			problem("steht für %s schon in Zeile %d", id, first)
		case s.position && dupPos:
			problem("%s %d ist schon in Zeile %d vergeben", headerPosition, pos, firstPos)
		}
	}
	if s == servicesSheet && id != "" {
		im.known[id] = true
	}
	if len(problems) > 0 {
		im.fail(s.name, n, id, key, "%s", prefixed(s.describe(id, key), strings.Join(problems, "; ")))
		return
	}
	im.report = append(im.report, Row{Sheet: s.name, Row: n, ID: id, Key: key})
	if s == servicesSheet {
		source["id"] = id
		b = &builder{raw: source, rows: map[elemKey]int{}, positions: map[int]int{},
			notices: map[string]any{}, vars: map[string]any{}}
		im.docs[id] = b
		im.order = append(im.order, id)
	}
	if b == nil {
		return // the document's own row is invalid; Import fails anyway
	}
	b.rows[elem] = n
	switch s {
	case feesSheet, schemaSheet:
		for k, v := range source {
			b.raw[k] = v
		}
	case stepsSheet:
		source["id"] = key
		b.steps = append(b.steps, placedStep{pos: pos, step: source})
		b.positions[pos] = n
	case noticesSheet:
		b.notices[key] = source
	case varsSheet:
		b.vars[key] = value
	}
}

func prefixed(context, text string) string {
	if context == "" {
		return text
	}
	return context + ": " + text
}

// checkValue checks what a single cell cannot: the step kind and the shape of
// decision rules. It returns a German message or "".
func checkValue(s *sheetSpec, c column, v any) string {
	if s != stepsSheet {
		return ""
	}
	switch c.path[0] {
	case "kind":
		if k, _ := v.(string); !slices.Contains(definitions.Kinds, k) {
			return fmt.Sprintf("unbekannte Art %q (bekannt: %s)", k, strings.Join(definitions.Kinds, ", "))
		}
	case "rules":
		rules, ok := v.([]any)
		if !ok {
			return c.header + ` muss eine JSON-Liste sein, z. B. [{"when": "…", "outcome": "approve"}]`
		}
		for i, item := range rules {
			rule, ok := item.(map[string]any)
			if !ok {
				return fmt.Sprintf("%s: Regel %d ist kein JSON-Objekt", c.header, i+1)
			}
			for _, k := range sortedKeys(rule) {
				if !ruleKeys[k] {
					return fmt.Sprintf("%s: Regel %d hat das unbekannte Feld %q (erlaubt: when, outcome, comment)", c.header, i+1, k)
				}
				if _, ok := rule[k].(string); !ok {
					return fmt.Sprintf("%s: Regel %d: %s muss Text sein", c.header, i+1, k)
				}
			}
		}
	}
	return ""
}
