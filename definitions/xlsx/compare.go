package xlsx

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Compare reports, row by row of the workbook Export would write for after,
// what differs from before (typically the current catalog): each row is
// unchanged, changed (the message lists each changed column with old and new
// value) or new; entries before has and after lacks follow as removed, without
// a row number. For a workbook an administrator uploaded, prefer
// ImportResult.Compare: its row numbers are those of the uploaded file even
// when rows were added or moved.
func Compare(before, after []Document) []Row {
	c := newComparison(before, after)
	var rows []Row
	for _, s := range editableSheets {
		for i, r := range c.after[s] {
			rows = append(rows, c.row(r, i+2))
		}
	}
	return append(rows, c.removed()...)
}

// Compare fills in the status of every row r.Report marks as read without
// problems, comparing the imported documents with before, and appends the
// entries before has and the workbook lacks as removed. Invalid rows keep their
// message. The report is returned as a new slice; r is not changed.
func (r *ImportResult) Compare(before []Document) []Row {
	rows := append([]Row(nil), r.Report...)
	if r.Documents == nil { // the workbook was refused: nothing to compare
		return rows
	}
	c := newComparison(before, r.Documents)
	for i, row := range rows {
		if row.Status == StatusInvalid {
			continue
		}
		if rec, ok := c.afterByElem[elemKey{row.Sheet, row.ID, row.Key}]; ok {
			rows[i] = c.row(rec, row.Row)
		}
	}
	return append(rows, c.removed()...)
}

// comparison holds both sides as workbook records.
type comparison struct {
	before      []record
	beforeBy    map[elemKey]record
	after       map[*sheetSpec][]record
	afterByElem map[elemKey]record
	moved       map[elemKey]bool // steps whose order among the kept steps changed
}

func newComparison(before, after []Document) *comparison {
	// Documents Export would refuse are still compared, cell by cell as far as
	// they go; the encoders' problems do not matter here.
	var eb, ea encoder
	c := &comparison{beforeBy: map[elemKey]record{}, after: ea.records(after), afterByElem: map[elemKey]record{}}
	b := eb.records(before)
	for _, s := range editableSheets {
		for _, r := range b[s] {
			c.before = append(c.before, r)
			c.beforeBy[r.elem()] = r
		}
		for _, r := range c.after[s] {
			c.afterByElem[r.elem()] = r
		}
	}
	c.moved = movedSteps(b[stepsSheet], c.after[stepsSheet])
	return c
}

// movedSteps finds the steps whose place among the steps both sides have
// differs. Positions themselves may change without that (a step before was
// removed, or the administrator numbered 10, 20, 30): that is no change.
func movedSteps(before, after []record) map[elemKey]bool {
	order := func(recs []record, other map[elemKey]bool) map[string][]elemKey {
		out := map[string][]elemKey{}
		for _, r := range recs {
			if other[r.elem()] {
				out[r.id] = append(out[r.id], r.elem())
			}
		}
		return out
	}
	inBefore, inAfter := map[elemKey]bool{}, map[elemKey]bool{}
	for _, r := range before {
		inBefore[r.elem()] = true
	}
	for _, r := range after {
		inAfter[r.elem()] = true
	}
	b, a := order(before, inAfter), order(after, inBefore)
	moved := map[elemKey]bool{}
	for id, seq := range a {
		for i, e := range seq {
			if b[id][i] != e {
				moved[e] = true
			}
		}
	}
	return moved
}

// row reports on record r of after, found in row n of its sheet.
func (c *comparison) row(r record, n int) Row {
	out := Row{Sheet: r.sheet.name, Row: n, ID: r.id, Key: r.key, Status: StatusUnchanged}
	old, ok := c.beforeBy[r.elem()]
	var changes []string
	switch {
	case !ok:
		out.Status = StatusNew
		changes = []string{"neu"}
	default:
		if c.moved[r.elem()] {
			changes = append(changes, fmt.Sprintf("Reihenfolge: vorher Schritt %d, jetzt Schritt %d", old.pos, r.pos))
		}
		for i, col := range r.sheet.columns {
			if old.cells[i] != r.cells[i] {
				changes = append(changes, describeChange(col.header, old.cells[i], r.cells[i]))
			}
		}
		if len(changes) > 0 {
			out.Status = StatusChanged
		}
	}
	if len(changes) > 0 {
		out.Message = rowMessage(n, prefixed(r.sheet.describe(r.id, r.key), strings.Join(changes, "; ")))
	}
	return out
}

// removed reports what before has and after lacks.
func (c *comparison) removed() []Row {
	var rows []Row
	for _, r := range c.before {
		if _, ok := c.afterByElem[r.elem()]; ok {
			continue
		}
		if _, docKept := c.afterByElem[elemKey{SheetServices, r.id, ""}]; !docKept && r.sheet != servicesSheet {
			continue // the whole document is gone: its own row says so
		}
		what := r.sheet.describe(r.id, r.key)
		if r.sheet != servicesSheet {
			what += " von " + r.id
		}
		rows = append(rows, Row{Sheet: r.sheet.name, ID: r.id, Key: r.key, Status: StatusRemoved,
			Message: what + " entfernt"})
	}
	return rows
}

// describeChange writes "Betrag (Cent): 2600 → 2700", or just "Text geändert"
// where the values are too long to quote.
func describeChange(header, old, new string) string {
	if short(old) && short(new) {
		return fmt.Sprintf("%s: %s → %s", header, quoteCell(old), quoteCell(new))
	}
	return header + " geändert"
}

func short(s string) bool {
	return utf8.RuneCountInString(s) <= 120 && !strings.ContainsAny(s, "\r\n")
}

func quoteCell(s string) string {
	switch s {
	case "":
		return "(leer)"
	case emptyMark:
		return emptyMark
	}
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return s
	}
	return strconv.Quote(s)
}
