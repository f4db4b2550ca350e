package definitions

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/ozgflow/ozgflow"
)

// Target is a receiving system an authority's variants may deliver to or
// archive in (a Fachverfahren, a document management system): its key in
// variants (deliver and archive steps) and its display name. Where each
// target lives is the worker's configuration (OZGFLOW_FACHVERFAHREN_TARGETS,
// or OZGFLOW_FACHVERFAHREN_URL for all).
type Target struct {
	Key  string `json:"key" yaml:"key"`
	Name string `json:"name" yaml:"name"`
}

// TargetName returns the display name of the authority's target key, or the
// key when the authority does not list it.
func (a Authority) TargetName(key string) string {
	for _, t := range a.Targets {
		if t.Key == key {
			return t.Name
		}
	}
	return key
}

// HasQueue reports whether the authority lists the queue.
func (a Authority) HasQueue(key string) bool {
	for _, q := range a.Queues {
		if q.Key == key {
			return true
		}
	}
	return false
}

// HasTarget reports whether the authority lists the target.
func (a Authority) HasTarget(key string) bool {
	for _, t := range a.Targets {
		if t.Key == key {
			return true
		}
	}
	return false
}

// CheckReferences checks what a variant names against what exists: its
// authority, the authority's Arbeitskörbe for tasks and escalations, and the
// authority's delivery and archive targets. Every finding is German and
// carries the pointer of the field into the effective definition. A base
// (no authority) names nothing here that could be checked; the variants that
// extend it are checked with what they inherit.
func (d *Definition) CheckReferences(authorities []Authority) []ozgflow.FieldError {
	if d.Authority == "" {
		return nil
	}
	var a *Authority
	for i := range authorities {
		if authorities[i].ARS == d.Authority {
			a = &authorities[i]
		}
	}
	if a == nil {
		return []ozgflow.FieldError{{Pointer: "/authority", Detail: fmt.Sprintf("die Behörde %s ist nicht bekannt (authorities.yaml)", d.Authority)}}
	}
	var out []ozgflow.FieldError
	queue := func(ptr, key string) {
		if key != "" && !a.HasQueue(key) {
			out = append(out, ozgflow.FieldError{Pointer: ptr, Detail: fmt.Sprintf(
				"den Arbeitskorb „%s“ gibt es bei %s nicht; bekannt sind: %s", key, a.Name, a.queueList())})
		}
	}
	for i, s := range d.Steps {
		at := fmt.Sprintf("/steps/%d", i)
		switch s.Kind {
		case KindTask:
			queue(at+"/queue", s.Queue)
			if s.Escalation != nil {
				queue(at+"/escalation/queue", s.Escalation.Queue)
			}
		case KindDeliver, KindArchive:
			if s.Target != "" && !a.HasTarget(s.Target) {
				out = append(out, ozgflow.FieldError{Pointer: at + "/target", Detail: fmt.Sprintf(
					"das Ziel „%s“ ist für %s nicht eingerichtet; eingerichtet sind: %s", s.Target, a.Name, a.targetList())})
			}
		}
	}
	return out
}

func (a *Authority) queueList() string {
	if len(a.Queues) == 0 {
		return "keine"
	}
	names := make([]string, len(a.Queues))
	for i, q := range a.Queues {
		names[i] = q.Key + " (" + q.Name + ")"
	}
	return strings.Join(names, ", ")
}

func (a *Authority) targetList() string {
	if len(a.Targets) == 0 {
		return "keine"
	}
	names := make([]string, len(a.Targets))
	for i, t := range a.Targets {
		names[i] = t.Key + " (" + t.Name + ")"
	}
	return strings.Join(names, ", ")
}

// checkNotice checks one notice template: each of its texts parses, names
// only fields notices have (and, below a data field, only what the data
// schema defines), and fills without error.
func (d *Definition) checkNotice(key string, t NoticeTemplate, props map[string]any, add func(ptr, format string, args ...any)) {
	for _, part := range []struct{ name, src string }{{"title", t.Title}, {"text", t.Text}, {"easy", t.Easy}} {
		if part.src == "" {
			continue
		}
		ptr := "/notices/" + escapePointer(key) + "/" + part.name
		tmpl, err := template.New(part.name).Option("missingkey=error").Parse(part.src)
		if err != nil {
			add(ptr, "die Vorlage lässt sich nicht lesen: %s", templateError(err))
			continue
		}
		bad := false
		for _, f := range templateFields(tmpl.Tree.Root) {
			if msg := noticeFieldProblem(f, props); msg != "" {
				add(ptr, "%s", msg)
				bad = true
			}
		}
		if bad {
			continue
		}
		var b strings.Builder
		if err := tmpl.Execute(&b, NoticeData{}); err != nil {
			add(ptr, "die Vorlage lässt sich nicht füllen: %s", templateError(err))
		}
	}
}

// templateError drops the "template: name:" prefix of text/template's errors.
func templateError(err error) string {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "template: "); ok {
		if _, after, ok := strings.Cut(rest, ": "); ok {
			return after
		}
	}
	return msg
}

// templateFields lists the field chains a template reads from its data
// (.CaseID → [CaseID]), outside the bodies of range and with, where the dot
// is something else.
func templateFields(n parse.Node) [][]string {
	var out [][]string
	var walk func(parse.Node, bool)
	walk = func(n parse.Node, top bool) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c, top)
			}
		case *parse.ActionNode:
			walk(n.Pipe, top)
		case *parse.PipeNode:
			if n == nil {
				return
			}
			for _, c := range n.Cmds {
				walk(c, top)
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a, top)
			}
		case *parse.FieldNode:
			if top {
				out = append(out, n.Ident)
			}
		case *parse.ChainNode:
			walk(n.Node, top)
		case *parse.IfNode:
			walk(n.Pipe, top)
			walk(n.List, top)
			walk(n.ElseList, top)
		case *parse.RangeNode:
			walk(n.Pipe, top)
			walk(n.List, false)
			walk(n.ElseList, top)
		case *parse.WithNode:
			walk(n.Pipe, top)
			walk(n.List, false)
			walk(n.ElseList, top)
		case *parse.TemplateNode:
			walk(n.Pipe, top)
		}
	}
	walk(n, true)
	return out
}

// noticeFields are the fields notice templates may read, e.g. ".CaseID".
func noticeFields() []string {
	t := reflect.TypeOf(NoticeData{})
	var out []string
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() {
			out = append(out, "."+f.Name)
		}
	}
	sort.Strings(out)
	return out
}

// noticeFieldProblem says what is wrong with a field chain a notice reads,
// or "" when notices have it. Below a field that holds the application data
// (a map), the chain must name properties of the data schema.
func noticeFieldProblem(path []string, props map[string]any) string {
	t := reflect.TypeOf(NoticeData{})
	written := "{{." + strings.Join(path, ".") + "}}"
	for i, name := range path {
		if t.Kind() == reflect.Map {
			if !schemaHas(props, path[i:]) {
				return fmt.Sprintf("%s liest data.%s, das im Datenschema nicht vorkommt", written, strings.Join(path[i:], "."))
			}
			return ""
		}
		if t.Kind() != reflect.Struct {
			return fmt.Sprintf("%s: .%s ist ein Text und hat keine Felder", written, strings.Join(path[:i], "."))
		}
		f, ok := t.FieldByName(name)
		if !ok || !f.IsExported() {
			return fmt.Sprintf("das Feld %s gibt es in Mitteilungen nicht; verfügbar sind %s", written, strings.Join(noticeFields(), ", "))
		}
		t = f.Type
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
	}
	return ""
}
