package definitions

// The YAML text administrators write: read with problems named by line in
// German, written in the order people expect when no text was kept, edited
// field by field without losing the order and comments of the rest, and the
// findings about an effective definition traced back to the field and line of
// the text being edited.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/locale"
)

// ParseSource reads the YAML text of a definition document. A text that is
// no YAML mapping is refused with one German finding that names the line.
func ParseSource(text string) (map[string]any, error) {
	if strings.TrimSpace(text) == "" {
		return nil, sourceError(0, "der Text ist leer; eine Prozessvariante beginnt etwa mit „id: …“")
	}
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		line, msg := firstBrokenPrefix(text, err)
		return nil, sourceError(line, yamlProblem(msg))
	}
	if doc == nil {
		return nil, sourceError(0, "der Text enthält keine Schlüssel; eine Prozessvariante beginnt etwa mit „id: …“")
	}
	return doc, nil
}

// SourceErrorMessage is the message of a text that is no YAML.
const SourceErrorMessage = "Der Text ist kein gültiges YAML."

func sourceError(line int, detail string) error {
	if line > 0 {
		detail = fmt.Sprintf("Zeile %d: %s", line, detail)
	}
	return &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: SourceErrorMessage,
		Fields: []ozgflow.FieldError{{Detail: detail}}}
}

var (
	yamlLine      = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	yamlDuplicate = regexp.MustCompile(`^mapping key "(.*)" already defined at line (\d+)$`)
	yamlUnmarshal = regexp.MustCompile(`cannot unmarshal !!(\w+)`)
)

// yamlMessages says yaml.v3's syntax errors in German.
var yamlMessages = map[string]string{
	"did not find expected key":                                    "hier wird ein Schlüssel erwartet; bitte die Einrückung prüfen",
	"could not find expected ':'":                                  "hier fehlt der Doppelpunkt nach einem Schlüssel",
	"mapping values are not allowed in this context":               "ein Doppelpunkt steht, wo kein Schlüssel stehen kann; bitte die Einrückung prüfen oder einen Text mit Doppelpunkt in Anführungszeichen setzen",
	"found character that cannot start any token":                  "ein Zeichen, mit dem kein Wert beginnen kann (etwa ein Tabulator; bitte mit Leerzeichen einrücken)",
	"found a tab character that violates indentation":              "ein Tabulator in der Einrückung; bitte mit Leerzeichen einrücken",
	"found a tab character where an indentation space is expected": "ein Tabulator in der Einrückung; bitte mit Leerzeichen einrücken",
	"did not find expected '-' indicator":                          "hier wird ein Listeneintrag („- “) erwartet; bitte die Einrückung prüfen",
	"did not find expected node content":                           "hier fehlt ein Wert",
	"found unexpected end of stream":                               "der Text endet mitten in einem Wert; fehlt ein schließendes Anführungszeichen?",
	"did not find expected ',' or ']'":                             "eine Liste in eckigen Klammern ist nicht geschlossen („]“ fehlt)",
	"did not find expected ',' or '}'":                             "eine Zuordnung in geschweiften Klammern ist nicht geschlossen („}“ fehlt)",
	"block sequence entries are not allowed in this context":       "ein Listeneintrag („- “) steht, wo keiner stehen kann; bitte die Einrückung prüfen",
	"found unknown escape character while parsing a quoted scalar": "ein unbekanntes Zeichen nach „\\“ in einem Text in doppelten Anführungszeichen",
	"found unexpected ':'":                                         "ein unerwarteter Doppelpunkt",
}

// firstBrokenPrefix finds the line of a mistake: yaml.v3 reports a wrong
// indentation at the line where the list or mapping it breaks began, while
// the first lines of the text up to the mistake fail at the mistake itself.
// It returns the line and err's message; err's own line when the first
// failing run of lines fails for another reason.
func firstBrokenPrefix(text string, err error) (int, string) {
	line, msg := yamlLineOf(err)
	lines := strings.SplitAfter(text, "\n")
	if len(lines) > 2000 {
		return line, msg
	}
	var prefix strings.Builder
	for k, l := range lines {
		prefix.WriteString(l)
		var probe any
		perr := yaml.Unmarshal([]byte(prefix.String()), &probe)
		if perr == nil {
			continue
		}
		if _, pmsg := yamlLineOf(perr); pmsg == msg && k+1 > line {
			return k + 1, msg
		}
		break
	}
	return line, msg
}

// yamlLineOf splits a yaml.v3 error into its line (0 if none) and message.
func yamlLineOf(err error) (int, string) {
	msg := err.Error()
	if te, ok := err.(*yaml.TypeError); ok && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return line, m[2]
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

// yamlProblem says a yaml.v3 error message in German.
func yamlProblem(msg string) string {
	if m := yamlDuplicate.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("der Schlüssel „%s“ steht doppelt (zuerst in Zeile %s)", m[1], m[2])
	}
	if yamlUnmarshal.MatchString(msg) {
		return "die oberste Ebene muss aus Schlüsseln mit Werten bestehen (id: …, steps: …), nicht aus einer Liste oder einem einzelnen Wert"
	}
	for en, de := range yamlMessages {
		if strings.Contains(msg, en) {
			return de
		}
	}
	return "der Text ist hier kein gültiges YAML (" + msg + ")"
}

// SourceLine is the line of the text where the JSON pointer's place is: the
// line of the key or list item it ends at or, when the text does not hold
// all of it, of the deepest part it holds; 0 when the text holds none of it
// or is no YAML.
func SourceLine(text, pointer string) int {
	var root yaml.Node
	if yaml.Unmarshal([]byte(text), &root) != nil || len(root.Content) == 0 {
		return 0
	}
	n := root.Content[0]
	line := 0
	for _, tok := range pointerTokens(pointer) {
		switch n.Kind {
		case yaml.MappingNode:
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == tok {
					line, n, found = n.Content[i].Line, n.Content[i+1], true
					break
				}
			}
			if !found {
				return line
			}
		case yaml.SequenceNode:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n.Content) {
				return line
			}
			n = n.Content[i]
			line = n.Line
		default:
			return line
		}
	}
	return line
}

// pointerTokens splits a JSON pointer into its unescaped tokens.
func pointerTokens(p string) []string {
	if p == "" || p == "/" {
		return nil
	}
	toks := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, t := range toks {
		toks[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(t)
	}
	return toks
}

// withVersion writes number as the value of the text's top-level version
// key, changing nothing else; a text without one, or whose version is not
// written plainly, comes back unchanged.
func withVersion(text string, number int) string {
	if text == "" {
		return ""
	}
	var root yaml.Node
	if yaml.Unmarshal([]byte(text), &root) != nil || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return text
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		v := m.Content[i+1]
		if m.Content[i].Value != "version" || v.Kind != yaml.ScalarNode || v.Style != 0 || v.Line < 1 {
			continue
		}
		lines := strings.SplitAfter(text, "\n")
		if v.Line > len(lines) {
			return text
		}
		l := lines[v.Line-1]
		col := v.Column - 1
		if col < 0 || col > len(l) || !strings.HasPrefix(l[col:], v.Value) {
			return text
		}
		lines[v.Line-1] = l[:col] + strconv.Itoa(number) + l[col+len(v.Value):]
		return strings.Join(lines, "")
	}
	return text
}

// FormatDocument writes a document as YAML in the order people read a
// definition (the order of the fields of Definition, Step and the others;
// keys of free mappings sorted), for documents that have no text of their
// own, such as those created through the API or an Excel import.
func FormatDocument(doc map[string]any) string {
	n := orderedNode(doc, reflect.TypeOf(Definition{}))
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		out, _ := yaml.Marshal(doc)
		return string(out)
	}
	_ = enc.Close()
	return b.String()
}

// orderedNode builds the YAML node of v, ordering the keys of a mapping by
// the fields of t where t is a struct.
func orderedNode(v any, t reflect.Type) *yaml.Node {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch v := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		rank := map[string]int{}
		if t != nil && t.Kind() == reflect.Struct {
			for i := range t.NumField() {
				rank[jsonName(t.Field(i))] = i + 1
			}
		} else if t == reflect.TypeOf(Schema{}) {
			for i, k := range []string{"$schema", "type", "title", "description", "required", "additionalProperties", "properties", "items"} {
				rank[k] = i + 1
			}
		}
		sort.SliceStable(keys, func(i, j int) bool {
			ri, rj := rank[keys[i]], rank[keys[j]]
			if ri == 0 {
				ri = 1 << 20
			}
			if rj == 0 {
				rj = 1 << 20
			}
			if ri != rj {
				return ri < rj
			}
			return keys[i] < keys[j]
		})
		for _, k := range keys {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, orderedNode(v[k], fieldType(t, k)))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		var elem reflect.Type
		if t != nil && t.Kind() == reflect.Slice {
			elem = t.Elem()
		}
		for _, item := range v {
			n.Content = append(n.Content, orderedNode(item, elem))
		}
		return n
	}
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Value: fmt.Sprint(v)}
	}
	if s, ok := v.(string); ok && strings.Contains(s, "\n") {
		n.Style = yaml.LiteralStyle
	}
	return &n
}

// fieldType is the type of the field named k (by its JSON name) of t: the
// field of a struct, the element of a map; nil when unknown.
func fieldType(t reflect.Type, k string) reflect.Type {
	if t == nil {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		for i := range t.NumField() {
			if jsonName(t.Field(i)) == k {
				return t.Field(i).Type
			}
		}
	case reflect.Map:
		return t.Elem()
	}
	if t == reflect.TypeOf(Schema{}) {
		return t // nested schemas order their keys alike
	}
	return nil
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}

// SourceEdit sets one value of a document: Path names the keys from the
// top; below a list of steps the next element is a step's id. A nil Value
// removes the key.
type SourceEdit struct {
	Path  []string
	Value any
}

// EditSource applies edits to a YAML text, keeping the order and comments of
// everything else: a missing key is added at the end of its mapping, a
// missing step as a new item {id: …} at the end of steps. An empty text
// starts as an empty mapping.
func EditSource(text string, edits []SourceEdit) (string, error) {
	var root yaml.Node
	if strings.TrimSpace(text) != "" {
		if err := yaml.Unmarshal([]byte(text), &root); err != nil {
			line, msg := firstBrokenPrefix(text, err)
			return "", sourceError(line, yamlProblem(msg))
		}
	}
	if len(root.Content) == 0 {
		root = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	for _, e := range edits {
		if err := setNode(root.Content[0], e.Path, e.Value); err != nil {
			return "", err
		}
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return "", err
	}
	_ = enc.Close()
	return b.String(), nil
}

func setNode(n *yaml.Node, path []string, value any) error {
	if len(path) == 0 {
		return nil
	}
	key := path[0]
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value != key {
				continue
			}
			if len(path) == 1 {
				if value == nil {
					n.Content = append(n.Content[:i], n.Content[i+2:]...)
					return nil
				}
				return setScalar(n.Content[i+1], value)
			}
			child := n.Content[i+1]
			if child.Kind == yaml.ScalarNode && (child.Tag == "!!null" || child.Value == "") {
				*child = yaml.Node{Kind: containerKind(path[0])}
			}
			return setNode(child, path[1:], value)
		}
		if value == nil {
			return nil
		}
		k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}
		var v *yaml.Node
		if len(path) == 1 {
			v = &yaml.Node{}
			if err := setScalar(v, value); err != nil {
				return err
			}
		} else {
			v = &yaml.Node{Kind: containerKind(key)}
			if err := setNode(v, path[1:], value); err != nil {
				return err
			}
		}
		n.Content = append(n.Content, k, v)
		return nil
	case yaml.SequenceNode:
		for _, item := range n.Content {
			if item.Kind != yaml.MappingNode {
				continue
			}
			for i := 0; i+1 < len(item.Content); i += 2 {
				if item.Content[i].Value == "id" && item.Content[i+1].Value == key {
					return setNode(item, path[1:], value)
				}
			}
		}
		if value == nil {
			return nil
		}
		item := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Tag: "!!str", Value: "id"}, {Kind: yaml.ScalarNode, Tag: "!!str", Value: key}}}
		n.Content = append(n.Content, item)
		return setNode(item, path[1:], value)
	}
	return fmt.Errorf("%s: hier steht ein einzelner Wert, keine Zuordnung", key)
}

// containerKind is the kind of node a missing key holds: the steps are a
// list, everything else a mapping.
func containerKind(key string) yaml.Kind {
	if key == "steps" {
		return yaml.SequenceNode
	}
	return yaml.MappingNode
}

// setScalar makes n the scalar value, keeping a quoted or block style where
// the text had one.
func setScalar(n *yaml.Node, value any) error {
	var fresh yaml.Node
	if err := fresh.Encode(value); err != nil {
		return err
	}
	style := n.Style
	if n.Kind != yaml.ScalarNode || fresh.Kind != yaml.ScalarNode {
		style = 0
	}
	n.Kind, n.Tag, n.Value, n.Content, n.Alias = fresh.Kind, fresh.Tag, fresh.Value, fresh.Content, nil
	n.Style = fresh.Style
	if fresh.Tag == "!!str" {
		switch {
		case strings.Contains(fresh.Value, "\n"):
			n.Style = yaml.LiteralStyle
		case style == yaml.DoubleQuotedStyle || style == yaml.SingleQuotedStyle:
			n.Style = style
		}
	}
	return nil
}

// Finding is a problem of an effective definition as the administrator who
// edits a document reads it: the pointer into that document ("" when the
// document does not hold the step at all), the field in German words, and
// whether the value comes from the base rather than from the document.
type Finding struct {
	Pointer   string
	Field     string
	Detail    string
	Inherited bool
}

// Trace traces a finding about the effective definition eff (pointer into
// it) back to the authored document doc it was resolved from: a step is
// found by its id, so /steps/4/queue of the effective definition becomes
// /steps/1/queue where the document's second step is that one.
func Trace(doc map[string]any, eff *Definition, f ozgflow.FieldError) Finding {
	toks := pointerTokens(f.Pointer)
	out := Finding{Field: FieldLabel(eff, f.Pointer), Detail: f.Detail}
	authored := append([]string(nil), toks...)
	if len(toks) >= 2 && toks[0] == "steps" {
		if i, err := strconv.Atoi(toks[1]); err == nil && eff != nil && i >= 0 && i < len(eff.Steps) {
			j := stepIndex(doc, eff.Steps[i].ID)
			if j < 0 {
				out.Inherited = true
				return out
			}
			authored[1] = strconv.Itoa(j)
		}
	}
	out.Pointer = pointerOf(authored)
	if _, ok := lookup(doc, authored); !ok && eff != nil {
		var effDoc any
		if b, err := json.Marshal(eff); err == nil && json.Unmarshal(b, &effDoc) == nil {
			if v, ok := lookup(effDoc, toks); ok && !isZero(v) {
				out.Inherited = true
			}
		}
	}
	return out
}

func isZero(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case float64:
		return v == 0
	case bool:
		return !v
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

// stepIndex is the index of the step with the id in the document's steps, -1
// when it has none.
func stepIndex(doc map[string]any, id string) int {
	steps, _ := doc["steps"].([]any)
	for j, s := range steps {
		if m, ok := s.(map[string]any); ok && m["id"] == id {
			return j
		}
	}
	return -1
}

// lookup follows tokens through maps and lists.
func lookup(v any, toks []string) (any, bool) {
	for _, t := range toks {
		switch c := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = c[t]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}

func pointerOf(toks []string) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteString("/" + escapePointer(t))
	}
	return b.String()
}

// fieldWords are the German names of a definition's fields.
var fieldWords = map[string]string{
	"id": "Kennung", "version": "Version", "service": "Leistung (LeiKa)", "leikaNote": "LeiKa-Hinweis",
	"slug": "Kurzname", "name": "Name", "authority": "Behörde", "extends": "Basis",
	"fee": "Gebühr", "amount": "Betrag in Cent", "currency": "Währung", "purpose": "Verwendungszweck",
	"paymentDeadline": "Zahlungsfrist", "vars": "Variablen", "schema": "Datenschema", "steps": "Schritte",
	"notices": "Mitteilungen", "emailNotices": "Mitteilungen auch per E-Mail", "retention": "Aufbewahrungsfrist",
	"kind": "Art", "when": "Bedingung", "mode": "Art der Unterschrift", "target": "Ziel",
	"queue": "Arbeitskorb", "title": "Titel", "due": "Frist", "priority": "Priorität", "outcomes": "Ergebnisse",
	"dueWorkingDays": "Frist in Arbeitstagen", "remindBefore": "Erinnerung vor Fristende", "escalation": "Eskalation",
	"after": "nach", "fourEyes": "Vier-Augen-Prinzip", "answerDeadline": "Antwortfrist",
	"answerReminder": "Erinnerung an die Antwort", "onNoAnswer": "ohne Antwort", "rules": "Regeln",
	"default": "sonst", "question": "Frage", "fields": "Felder", "event": "Ereignis", "timeout": "Wartezeit",
	"notice": "Mitteilung", "outcome": "Ergebnis", "comment": "Kommentar", "text": "Text",
	"easy": "Einfache Sprache",
}

// FieldLabel names the field a pointer into the definition d points at, in
// German with its key: `Schritt „review“ › Arbeitskorb (queue)`. Steps are
// named by their id, notices by their key; "" for the whole definition.
func FieldLabel(d *Definition, pointer string) string {
	toks := pointerTokens(pointer)
	var parts []string
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t == "steps" && i+1 < len(toks):
			i++
			id := toks[i]
			if n, err := strconv.Atoi(id); err == nil && d != nil && n >= 0 && n < len(d.Steps) {
				id = d.Steps[n].ID
			}
			parts = append(parts, "Schritt „"+id+"“")
		case t == "notices" && i+1 < len(toks):
			i++
			parts = append(parts, "Mitteilung „"+NoticeName(toks[i])+"“")
		case (t == "rules" || t == "outcomes" || t == "fields") && i+1 < len(toks):
			i++
			n, _ := strconv.Atoi(toks[i])
			word := map[string]string{"rules": "Regel", "outcomes": "Ergebnis", "fields": "Feld"}[t]
			parts = append(parts, fmt.Sprintf("%s %d", word, n+1))
		case t == "schema" || t == "vars":
			parts = append(parts, fieldWords[t]+" ("+t+")")
			if i+1 < len(toks) {
				parts = append(parts, strings.Join(toks[i+1:], "/"))
			}
			i = len(toks)
		default:
			if w, ok := fieldWords[t]; ok {
				parts = append(parts, w+" ("+t+")")
			} else {
				parts = append(parts, t)
			}
		}
	}
	return strings.Join(parts, " › ")
}

// noticeWords name the notices that are no status.
var noticeWords = map[string]string{
	NoticePaymentFailed:  "Zahlung fehlgeschlagen",
	NoticeAnswered:       "Antwort eingegangen",
	NoticeAnswerReminder: "Erinnerung an die Rückfrage",
	NoticeAnswerExpired:  "Antwortfrist abgelaufen",
}

// NoticeName names a notice by its key as people read it: the German word
// of the status it is sent at ("Bewilligt" for approved), or of the event.
func NoticeName(key string) string {
	if w, ok := noticeWords[key]; ok {
		return w
	}
	return locale.DE.CaseStatus(ozgflow.Status(key))
}
