package xlsx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ozgflow/ozgflow/definitions"
)

// Sheet names of the workbook.
const (
	SheetServices  = "Leistungen"
	SheetFees      = "Gebühren"
	SheetSteps     = "Schritte"
	SheetDeadlines = "Fristen"
	SheetNotices   = "Mitteilungen"
	SheetVars      = "Variablen"
	SheetSchema    = "Schema"
	SheetHelp      = "Hinweise"
)

// emptyMark in a cell sets a value explicitly to the empty text or the empty
// list, which an empty cell (= not set, inherited) cannot express.
const emptyMark = `""`

// maxCellChars is the most characters (UTF-16 units) an Excel cell holds.
const maxCellChars = 32767

// cellKind says how a value is written into a cell and read back.
type cellKind int

const (
	textCell      cellKind = iota // text as is
	intCell                       // a whole number
	durationCell                  // text such as 10d, 72h or 30m
	listCell                      // words separated by commas
	jsonCell                      // one JSON value on one line
	jsonBlockCell                 // one JSON value, indented over several lines
)

// column is one value column of a sheet: its header and where its value sits
// in the map a row is made of (nil: the row's value itself, for Variablen).
type column struct {
	header string
	path   []string
	kind   cellKind
	width  float64
	wrap   bool
	// order lists JSON object keys to write first, for readability.
	order []string
}

// sheetSpec describes an editable sheet. Every row starts with the document
// id (Kennung); Schritte then has a position; sheets with several rows per
// document then name the entry (step id, notice key, variable name).
type sheetSpec struct {
	name      string
	position  bool
	keyHeader string
	keyWidth  float64
	context   string // how messages name a row's entry, %s = its key
	columns   []column
}

const (
	headerID       = "Kennung"
	headerPosition = "Position"
)

var (
	servicesSheet = &sheetSpec{name: SheetServices, context: "Prozessvariante %s", columns: []column{
		{header: "Erweitert", path: []string{"extends"}, kind: textCell, width: 26},
		{header: "Version", path: []string{"version"}, kind: intCell, width: 9},
		{header: "Leistung (LeiKa)", path: []string{"service"}, kind: textCell, width: 18},
		{header: "Kurzname", path: []string{"slug"}, kind: textCell, width: 24},
		{header: "Name", path: []string{"name"}, kind: textCell, width: 30},
		{header: "Behörde (ARS)", path: []string{"authority"}, kind: textCell, width: 16},
		{header: "LeiKa-Hinweis", path: []string{"leikaNote"}, kind: textCell, width: 40},
		{header: "Mitteilungen auch per E-Mail", path: []string{"emailNotices"}, kind: jsonCell, width: 14},
		{header: "Aufbewahrung", path: []string{"retention"}, kind: textCell, width: 14},
		{header: "Präfix der Antragsnummer", path: []string{"caseNumberPrefix"}, kind: textCell, width: 12},
		{header: "Entscheidungen (JSON)", path: []string{"decisions"}, kind: jsonCell, width: 60, wrap: true, order: []string{"approve", "reject", "label", "status", "easy"}},
		{header: "Rechtsbehelfsbelehrung", path: []string{"legalRemedy", "text"}, kind: textCell, width: 90, wrap: true},
		{header: "Rechtsbehelfsbelehrung (Leichte Sprache)", path: []string{"legalRemedy", "easy"}, kind: textCell, width: 90, wrap: true},
		{header: "Betrieb im Arbeitskorb (Datenpfad)", path: []string{"applicantSummary", "businessName"}, kind: textCell, width: 22},
		{header: "Anschrift im Arbeitskorb (Datenpfad)", path: []string{"applicantSummary", "address"}, kind: textCell, width: 22},
	}}
	feesSheet = &sheetSpec{name: SheetFees, context: "Gebühr", columns: []column{
		{header: "Betrag (Cent)", path: []string{"fee", "amount"}, kind: intCell, width: 14},
		{header: "Währung", path: []string{"fee", "currency"}, kind: textCell, width: 10},
		{header: "Verwendungszweck", path: []string{"fee", "purpose"}, kind: textCell, width: 50},
		{header: "Zahlungsfrist", path: []string{"paymentDeadline"}, kind: durationCell, width: 14},
		{header: "Positionen mit Buchungsdaten (JSON)", path: []string{"fee", "items"}, kind: jsonCell, width: 80, wrap: true,
			order: []string{"id", "description", "amount", "quantity", "bookingData"}},
	}}
	stepsSheet = &sheetSpec{name: SheetSteps, position: true, keyHeader: "Schritt", keyWidth: 14, context: "Schritt %s", columns: []column{
		{header: "Art", path: []string{"kind"}, kind: textCell, width: 14},
		{header: "Bedingung", path: []string{"when"}, kind: textCell, width: 24},
		{header: "Ziel", path: []string{"target"}, kind: textCell, width: 18},
		{header: "Arbeitskorb", path: []string{"queue"}, kind: textCell, width: 14},
		{header: "Titel", path: []string{"title"}, kind: textCell, width: 28},
		{header: "Frist", path: []string{"due"}, kind: durationCell, width: 8},
		{header: "Priorität", path: []string{"priority"}, kind: intCell, width: 9},
		{header: "Ergebnisse", path: []string{"outcomes"}, kind: listCell, width: 34},
		{header: "Regeln (JSON)", path: []string{"rules"}, kind: jsonCell, width: 60, wrap: true, order: []string{"when", "outcome", "comment"}},
		{header: "Standardergebnis", path: []string{"default"}, kind: textCell, width: 16},
		{header: "Frage", path: []string{"question"}, kind: textCell, width: 28},
		{header: "Felder", path: []string{"fields"}, kind: listCell, width: 20},
		{header: "Ereignis", path: []string{"event"}, kind: textCell, width: 14},
		{header: "Wartezeit", path: []string{"timeout"}, kind: durationCell, width: 10},
		{header: "Mitteilung", path: []string{"notice"}, kind: textCell, width: 16},
		{header: "Modus", path: []string{"mode"}, kind: textCell, width: 8},
		{header: "Frist (Arbeitstage)", path: []string{"dueWorkingDays"}, kind: intCell, width: 10},
		{header: "Erinnerung vor Fristende", path: []string{"remindBefore"}, kind: durationCell, width: 10},
		{header: "Eskalation (JSON)", path: []string{"escalation"}, kind: jsonCell, width: 40, wrap: true, order: []string{"after", "queue", "priority"}},
		{header: "Vier-Augen-Prinzip", path: []string{"fourEyes"}, kind: jsonCell, width: 10},
		{header: "Antwortfrist", path: []string{"answerDeadline"}, kind: durationCell, width: 10},
		{header: "Erinnerung an die Antwort nach", path: []string{"answerReminder"}, kind: durationCell, width: 10},
		{header: "Ohne Antwort", path: []string{"onNoAnswer"}, kind: textCell, width: 10},
	}}
	noticesSheet = &sheetSpec{name: SheetNotices, keyHeader: "Schlüssel", keyWidth: 24, context: "Mitteilung %s", columns: []column{
		{header: "Titel", path: []string{"title"}, kind: textCell, width: 36},
		{header: "Text", path: []string{"text"}, kind: textCell, width: 90, wrap: true},
		{header: "Leichte Sprache", path: []string{"easy"}, kind: textCell, width: 90, wrap: true},
	}}
	varsSheet = &sheetSpec{name: SheetVars, keyHeader: "Name", keyWidth: 16, context: "Variable %s", columns: []column{
		{header: "Wert (JSON)", kind: jsonCell, width: 90, wrap: true},
	}}
	schemaSheet = &sheetSpec{name: SheetSchema, context: "Schema", columns: []column{
		{header: "JSON-Schema", path: []string{"schema"}, kind: jsonBlockCell, width: 100, wrap: true,
			order: []string{"$schema", "type", "title", "description", "required", "additionalProperties", "properties", "items"}},
	}}

	// editableSheets are read back by Import, in this order.
	editableSheets = []*sheetSpec{servicesSheet, feesSheet, stepsSheet, noticesSheet, varsSheet, schemaSheet}
)

// Keys a document, a fee, a step and a notice may have; the workbook has a
// place for each of them.
var (
	topKeys = keySet("id", "extends", "version", "service", "leikaNote", "slug", "name", "authority", "fee", "paymentDeadline", "vars", "schema", "steps", "notices", "emailNotices", "retention",
		"caseNumberPrefix", "decisions", "legalRemedy", "applicantSummary")
	feeKeys  = keySet("amount", "currency", "purpose", "items")
	stepKeys = keySet("id", "kind", "when", "mode", "target", "queue", "title", "due", "priority", "outcomes", "rules", "default", "question", "fields", "event", "timeout", "notice",
		"dueWorkingDays", "remindBefore", "escalation", "fourEyes", "answerDeadline", "answerReminder", "onNoAnswer")
	noticeKeys = keySet("title", "text", "easy")
	remedyKeys = keySet("text", "easy")
	ruleKeys   = keySet("when", "outcome", "comment")
)

func keySet(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// headers returns the header row of the sheet.
func (s *sheetSpec) headers() []string {
	h := []string{headerID}
	if s.position {
		h = append(h, headerPosition)
	}
	if s.keyHeader != "" {
		h = append(h, s.keyHeader)
	}
	for _, c := range s.columns {
		h = append(h, c.header)
	}
	return h
}

// describe names a row's entry in messages: "Prozessvariante gewerbeanmeldung",
// "Gebühr", "Schritt review"; "" when the row does not say which.
func (s *sheetSpec) describe(id, key string) string {
	switch {
	case s == servicesSheet:
		key = id
	case !strings.Contains(s.context, "%s"):
		return s.context
	}
	if key == "" {
		return ""
	}
	return fmt.Sprintf(s.context, key)
}

// record is one row of an editable sheet, as text.
type record struct {
	sheet *sheetSpec
	id    string
	pos   int // Schritte: 1-based position of the step in its document
	key   string
	cells []string // one per sheet column
}

// elemKey identifies what a row describes, independent of where it sits.
type elemKey struct{ sheet, id, key string }

func (r record) elem() elemKey { return elemKey{r.sheet.name, r.id, r.key} }

// texts returns the row as written, all columns in header order.
func (r record) texts() []string {
	t := []string{r.id}
	if r.sheet.position {
		t = append(t, strconv.Itoa(r.pos))
	}
	if r.sheet.keyHeader != "" {
		t = append(t, r.key)
	}
	return append(t, r.cells...)
}

// encoder turns documents into records and remembers what it could not write
// without losing something.
type encoder struct {
	problems []string
}

func (e *encoder) fail(id, format string, args ...any) {
	e.problems = append(e.problems, id+": "+fmt.Sprintf(format, args...))
}

// records returns the rows of every editable sheet for docs, sheet by sheet,
// documents in the given order; steps in their order, notices and variables
// by key.
func (e *encoder) records(docs []Document) map[*sheetSpec][]record {
	out := map[*sheetSpec][]record{}
	for _, d := range docs {
		for _, r := range e.document(d) {
			out[r.sheet] = append(out[r.sheet], r)
		}
	}
	return out
}

func (e *encoder) document(d Document) []record {
	raw := d.Raw
	if raw == nil {
		raw = map[string]any{}
	}
	if d.ID == "" {
		e.fail("(ohne Kennung)", "Kennung fehlt")
	} else if strings.TrimSpace(d.ID) != d.ID {
		e.fail(d.ID, "Kennung mit Leerzeichen am Rand")
	}
	if v, ok := raw["id"]; ok && v != d.ID {
		e.fail(d.ID, "Kennung im Dokument (%v) weicht ab", v)
	}
	if ext, _ := raw["extends"].(string); ext != d.Extends {
		e.fail(d.ID, "Erweitert im Dokument (%q) weicht von %q ab", ext, d.Extends)
	}
	if n, _ := wholeNumber(raw["version"]); n != int64(d.Version) {
		e.fail(d.ID, "Version im Dokument (%v) weicht von %d ab", raw["version"], d.Version)
	}
	for _, k := range sortedKeys(raw) {
		if !topKeys[k] {
			e.fail(d.ID, "Feld %q hat im Arbeitsblatt keinen Platz", k)
		}
	}
	if v, ok := raw["legalRemedy"]; ok {
		remedy, isMap := v.(map[string]any)
		if !isMap {
			e.fail(d.ID, "legalRemedy ist keine Zuordnung (text, easy)")
		}
		for _, k := range sortedKeys(remedy) {
			if !remedyKeys[k] {
				e.fail(d.ID, "Rechtsbehelfsbelehrung: Feld %q hat im Arbeitsblatt keinen Platz", k)
			}
		}
	}
	var recs []record
	recs = append(recs, e.row(servicesSheet, d.ID, 0, "", raw))

	if _, hasFee := raw["fee"]; hasFee || has(raw, "paymentDeadline") {
		if hasFee {
			fee, ok := raw["fee"].(map[string]any)
			switch {
			case !ok:
				e.fail(d.ID, "fee ist keine Zuordnung (amount, currency, purpose)")
			case len(fee) == 0:
				e.fail(d.ID, "leere Gebühr (fee: {}) lässt sich nicht darstellen")
			}
			for _, k := range sortedKeys(fee) {
				if !feeKeys[k] {
					e.fail(d.ID, "Gebühr: Feld %q hat im Arbeitsblatt keinen Platz", k)
				}
			}
		}
		recs = append(recs, e.row(feesSheet, d.ID, 0, "", raw))
	}

	if v, ok := raw["steps"]; ok {
		steps, isList := v.([]any)
		switch {
		case !isList:
			e.fail(d.ID, "steps ist keine Liste")
		case len(steps) == 0:
			e.fail(d.ID, "leere Schrittliste (steps: []) lässt sich nicht darstellen")
		}
		seen := map[string]bool{}
		for i, item := range steps {
			step, ok := item.(map[string]any)
			id, _ := step["id"].(string)
			if !ok || id == "" || strings.TrimSpace(id) != id {
				e.fail(d.ID, "Schritt %d hat keine brauchbare id", i+1)
				continue
			}
			if seen[id] {
				e.fail(d.ID, "Schritt %s kommt zweimal vor", id)
			}
			seen[id] = true
			for _, k := range sortedKeys(step) {
				if !stepKeys[k] {
					e.fail(d.ID, "Schritt %s: Feld %q hat im Arbeitsblatt keinen Platz", id, k)
				}
			}
			recs = append(recs, e.row(stepsSheet, d.ID, i+1, id, step))
		}
	}

	notices, ok := raw["notices"].(map[string]any)
	if !ok && has(raw, "notices") {
		e.fail(d.ID, "notices ist keine Zuordnung")
	}
	for _, k := range sortedKeys(notices) {
		n, ok := notices[k].(map[string]any)
		if !ok {
			e.fail(d.ID, "Mitteilung %s ist keine Zuordnung (title, text)", k)
			continue
		}
		for _, f := range sortedKeys(n) {
			if !noticeKeys[f] {
				e.fail(d.ID, "Mitteilung %s: Feld %q hat im Arbeitsblatt keinen Platz", k, f)
			}
		}
		e.checkKey(d.ID, "Mitteilung", k)
		recs = append(recs, e.row(noticesSheet, d.ID, 0, k, n))
	}

	vars, ok := raw["vars"].(map[string]any)
	if !ok && has(raw, "vars") {
		e.fail(d.ID, "vars ist keine Zuordnung")
	}
	for _, k := range sortedKeys(vars) {
		e.checkKey(d.ID, "Variable", k)
		recs = append(recs, e.row(varsSheet, d.ID, 0, k, vars[k]))
	}

	if has(raw, "schema") {
		recs = append(recs, e.row(schemaSheet, d.ID, 0, "", raw))
	}
	return recs
}

func (e *encoder) checkKey(id, what, key string) {
	if key == "" || strings.TrimSpace(key) != key {
		e.fail(id, "%s %q: Name leer oder mit Leerzeichen am Rand", what, key)
	}
}

// row encodes the columns of sheet from source.
func (e *encoder) row(sheet *sheetSpec, id string, pos int, key string, source any) record {
	r := record{sheet: sheet, id: id, pos: pos, key: key, cells: make([]string, len(sheet.columns))}
	for i, c := range sheet.columns {
		v, ok := lookup(source, c.path)
		if !ok {
			continue
		}
		text, err := encodeCell(c, v)
		if err != nil {
			e.fail(id, "%s: %s: %v", sheet.describe(id, key), c.header, err)
			text = fallbackText(v)
		}
		r.cells[i] = text
	}
	return r
}

// lookup returns the value at path in source and whether it is set.
func lookup(source any, path []string) (any, bool) {
	v := source
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// set stores v at path in target, creating the maps on the way.
func set(target map[string]any, path []string, v any) {
	for _, k := range path[:len(path)-1] {
		next, ok := target[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			target[k] = next
		}
		target = next
	}
	target[path[len(path)-1]] = v
}

func has(m map[string]any, key string) bool {
	_, ok := m[key]
	return ok
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// encodeCell writes v as the text of a cell of column c. It fails where
// Import would not read back the same value.
func encodeCell(c column, v any) (string, error) {
	var text string
	switch c.kind {
	case textCell, durationCell:
		switch s := v.(type) {
		case nil:
			return emptyMark, nil
		case string:
			if s == "" {
				return emptyMark, nil
			}
			if s == emptyMark {
				return "", fmt.Errorf("der Text %s lässt sich nicht darstellen", emptyMark)
			}
			text = s
		case bool, int, int64, uint64, float64:
			text = fmt.Sprint(s)
		default:
			return "", fmt.Errorf("erwartet Text, nicht %T", v)
		}
	case intCell:
		n, ok := wholeNumber(v)
		if !ok {
			return "", fmt.Errorf("erwartet eine ganze Zahl, nicht %v", v)
		}
		text = strconv.FormatInt(n, 10)
	case listCell:
		items, ok := v.([]any)
		if v == nil {
			ok = true
		}
		if !ok {
			return "", fmt.Errorf("erwartet eine Liste")
		}
		if len(items) == 0 {
			return emptyMark, nil
		}
		words := make([]string, len(items))
		for i, item := range items {
			s, ok := item.(string)
			if !ok || s == "" || strings.Contains(s, ",") || strings.TrimSpace(s) != s {
				return "", fmt.Errorf("Eintrag %v lässt sich nicht kommagetrennt darstellen", item)
			}
			words[i] = s
		}
		text = strings.Join(words, ", ")
	case jsonCell, jsonBlockCell:
		indent := ""
		if c.kind == jsonBlockCell {
			indent = "  "
		}
		var buf bytes.Buffer
		if err := writeJSON(&buf, v, c.order, indent, "\n"); err != nil {
			return "", fmt.Errorf("nicht als JSON darstellbar: %v", err)
		}
		text = buf.String()
	}
	if err := checkCellText(text); err != nil {
		return "", err
	}
	return text, nil
}

// writeJSON writes v as JSON without HTML escapes (rules say "&&"), object
// keys listed in order first and the others sorted, indented by indent per
// level (compact if "").
func writeJSON(buf *bytes.Buffer, v any, order []string, indent, newline string) error {
	obj, isObj := v.(map[string]any)
	list, isList := v.([]any)
	if !isObj && !isList {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return err
		}
		buf.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
		return nil
	}
	open, closing, n := byte('['), byte(']'), len(list)
	if isObj {
		open, closing, n = '{', '}', len(obj)
	}
	buf.WriteByte(open)
	if n == 0 {
		buf.WriteByte(closing)
		return nil
	}
	inner := newline + indent
	sep := ""
	if indent == "" {
		inner = ""
	} else {
		sep = " "
	}
	if isList {
		for i, item := range list {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString(inner)
			if err := writeJSON(buf, item, order, indent, inner); err != nil {
				return err
			}
		}
	} else {
		keys := make([]string, 0, len(obj))
		for _, k := range order {
			if _, ok := obj[k]; ok {
				keys = append(keys, k)
			}
		}
		for _, k := range sortedKeys(obj) {
			if !slices.Contains(order, k) {
				keys = append(keys, k)
			}
		}
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString(inner)
			if err := writeJSON(buf, k, nil, "", ""); err != nil {
				return err
			}
			buf.WriteString(":" + sep)
			if err := writeJSON(buf, obj[k], order, indent, inner); err != nil {
				return err
			}
		}
	}
	if indent != "" {
		buf.WriteString(newline)
	}
	buf.WriteByte(closing)
	return nil
}

// checkCellText refuses text a cell cannot hold unchanged.
func checkCellText(s string) error {
	units := 0
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			return fmt.Errorf("enthält ungültiges UTF-8")
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0xFFFE, r == 0xFFFF:
			return fmt.Errorf("enthält das Steuerzeichen %U", r)
		case r >= 0x10000:
			units += 2
		default:
			units++
		}
	}
	if units > maxCellChars {
		return fmt.Errorf("ist länger als die %d Zeichen einer Excel-Zelle", maxCellChars)
	}
	return nil
}

func fallbackText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func wholeNumber(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case uint64:
		return int64(n), n <= math.MaxInt64
	case float64:
		return int64(n), n == math.Trunc(n) && math.Abs(n) < 1<<53
	}
	return 0, false
}

// decodeCell reads the text of a cell of the given kind; set is false for an
// empty cell. Error messages are German and start with the column header.
func decodeCell(c column, text string) (v any, set bool, err error) {
	trimmed := strings.TrimSpace(text)
	if trimmed == "" {
		if text != "" && c.kind == textCell {
			return text, true, nil
		}
		return nil, false, nil
	}
	switch c.kind {
	case textCell:
		if text == emptyMark {
			return "", true, nil
		}
		return text, true, nil
	case durationCell:
		if trimmed == emptyMark {
			return "", true, nil
		}
		if _, err := definitions.ParseDuration(text); err != nil {
			return nil, false, fmt.Errorf("%s %q ist keine Dauer (z. B. 10d, 72h oder 30m)", c.header, trimmed)
		}
		return text, true, nil
	case intCell:
		if n, err := strconv.ParseInt(trimmed, 10, 64); err == nil {
			return int(n), true, nil
		}
		if f, err := strconv.ParseFloat(trimmed, 64); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int(f), true, nil
		}
		return nil, false, fmt.Errorf("%s %q ist keine ganze Zahl", c.header, trimmed)
	case listCell:
		if trimmed == emptyMark {
			return []any{}, true, nil
		}
		parts := strings.Split(trimmed, ",")
		items := make([]any, len(parts))
		for i, p := range parts {
			p = strings.TrimSpace(p)
			if p == "" {
				return nil, false, fmt.Errorf("%s enthält einen leeren Eintrag", c.header)
			}
			items[i] = p
		}
		return items, true, nil
	case jsonCell, jsonBlockCell:
		v, err := parseJSON(trimmed)
		if err != nil {
			return nil, false, fmt.Errorf("%s ist kein gültiges JSON (%s)", c.header, err)
		}
		return v, true, nil
	}
	return nil, false, fmt.Errorf("%s: unbekannte Spaltenart", c.header)
}

// parseJSON reads exactly one JSON value; whole numbers become int, as YAML
// would have decoded them. Errors are German.
func parseJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var syntax *json.SyntaxError
		switch {
		case errors.As(err, &syntax):
			return nil, fmt.Errorf("Fehler bei Zeichen %d", syntax.Offset)
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return nil, fmt.Errorf("unvollständig")
		}
		return nil, errors.New("nicht lesbar")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("nach dem Wert folgt weiterer Text")
	}
	return fromJSON(v), nil
}

func fromJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil && n >= math.MinInt && n <= math.MaxInt {
			return int(n)
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = fromJSON(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = fromJSON(x[k])
		}
	}
	return v
}
