// Package definitions holds the process variants (Definitions): how one service is
// processed for one authority. Definitions are data: loaded from YAML, inherited
// from a state-wide base, validated, and passed whole to each case workflow.
package definitions

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/locale"
)

// Step kinds the case workflow interprets.
const (
	KindValidate     = "validate"
	KindPayment      = "payment"
	KindSignature    = "signature"
	KindDeliver      = "deliver"
	KindTask         = "task"
	KindRequestInfo  = "request-info"
	KindDecide       = "decide"
	KindWaitExternal = "wait-external"
	KindNotify       = "notify"
	KindArchive      = "archive"
)

// Kinds lists every step kind in the order the documentation presents them.
var Kinds = []string{KindValidate, KindPayment, KindSignature, KindDeliver, KindTask,
	KindRequestInfo, KindDecide, KindWaitExternal, KindNotify, KindArchive}

// Definition is one process variant: a service for an authority (or, with no
// authority, the state-wide base a variant extends).
type Definition struct {
	ID              string                    `json:"id" yaml:"id"`
	Version         int                       `json:"version" yaml:"version"`
	Service         string                    `json:"service" yaml:"service"`
	LeikaNote       string                    `json:"leikaNote,omitempty" yaml:"leikaNote,omitempty"`
	Slug            string                    `json:"slug" yaml:"slug"`
	Name            string                    `json:"name" yaml:"name"`
	Authority       string                    `json:"authority,omitempty" yaml:"authority,omitempty"`
	Extends         string                    `json:"extends,omitempty" yaml:"extends,omitempty"`
	Fee             *Fee                      `json:"fee,omitempty" yaml:"fee,omitempty"`
	PaymentDeadline Duration                  `json:"paymentDeadline,omitempty" yaml:"paymentDeadline,omitempty"`
	Vars            map[string]any            `json:"vars,omitempty" yaml:"vars,omitempty"`
	Schema          Schema                    `json:"schema" yaml:"schema"`
	Steps           []Step                    `json:"steps" yaml:"steps"`
	Notices         map[string]NoticeTemplate `json:"notices" yaml:"notices"`
	// EmailNotices sends every notice to the applicant's email address too.
	EmailNotices bool `json:"emailNotices,omitempty" yaml:"emailNotices,omitempty"`
	// Retention says how long a case's personal data is kept after its
	// final status; DefaultRetention when empty.
	Retention Retention `json:"retention,omitempty" yaml:"retention,omitempty"`
	// ApplicantSummary names where the data holds the business name and
	// address the case workers' list shows beside the applicant's name.
	ApplicantSummary *ApplicantSummary `json:"applicantSummary,omitempty" yaml:"applicantSummary,omitempty"`
	// CaseNumberPrefix starts the short case numbers of the variant's
	// cases, e.g. GEW for GEW-2026-000123; without it the first letters of
	// the slug (NumberPrefix).
	CaseNumberPrefix string `json:"caseNumberPrefix,omitempty" yaml:"caseNumberPrefix,omitempty"`
	// Decisions word the outcomes for the applicant, by outcome (approve,
	// reject): a Gewerbeanmeldung is "bestätigt", not "bewilligt". An
	// outcome without wording takes the locale's.
	Decisions map[string]DecisionWording `json:"decisions,omitempty" yaml:"decisions,omitempty"`
	// LegalRemedy is the Rechtsbehelfsbelehrung every rejection carries:
	// how and where the applicant can object, and by when.
	LegalRemedy *LegalRemedy `json:"legalRemedy,omitempty" yaml:"legalRemedy,omitempty"`
}

// DecisionWording is how the applicant reads an outcome: Label names it
// ("Bestätigt"), Status says it in a sentence ("Ihre Gewerbeanmeldung ist
// bestätigt."), Easy says it in easy-to-read German (Leichte Sprache).
type DecisionWording struct {
	Label  string `json:"label" yaml:"label"`
	Status string `json:"status,omitempty" yaml:"status,omitempty"`
	Easy   string `json:"easy,omitempty" yaml:"easy,omitempty"`
}

// LegalRemedy is a Rechtsbehelfsbelehrung, and the same in easy-to-read
// German.
type LegalRemedy struct {
	Text string `json:"text" yaml:"text"`
	Easy string `json:"easy,omitempty" yaml:"easy,omitempty"`
}

// NumberPrefix is the prefix of the variant's case numbers: its
// CaseNumberPrefix, else the first three letters or digits of its slug in
// capitals, else "ANT" (Antrag).
func (d *Definition) NumberPrefix() string {
	if d.CaseNumberPrefix != "" {
		return d.CaseNumberPrefix
	}
	var b strings.Builder
	for _, r := range d.Slug {
		if b.Len() == 3 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9' && b.Len() > 0:
			b.WriteRune(r)
		}
	}
	if b.Len() < 2 {
		return "ANT"
	}
	return b.String()
}

// Wording returns the variant's wording of an outcome; ok is false when
// the variant has none, and the locale's default applies.
func (d *Definition) Wording(outcome string) (DecisionWording, bool) {
	if d == nil {
		return DecisionWording{}, false
	}
	w, ok := d.Decisions[outcome]
	return w, ok && w.Label != ""
}

// CaseInput is the input of a case workflow: the application and the whole
// definition snapshot, so that a running case keeps the variant it started with.
type CaseInput struct {
	CaseID      string              `json:"caseId"`
	Application ozgflow.Application `json:"application"`
	Definition  Definition          `json:"definition"`
	SubmittedAt time.Time           `json:"submittedAt"`
	// Contact is the office of the authority the applicant turns to, as
	// the authority list named it at the submit; rejections print it.
	// Cases from before it have none.
	Contact *Contact `json:"contact,omitempty"`
	// RequestHash identifies the submit request, so a retried submit with the
	// same idempotency key can be told apart from a different one.
	RequestHash string `json:"requestHash,omitempty"`
	// Features is the version of the case workflow's features the case
	// runs with (CaseFeatures when it was started). Cases started before
	// the input carried it (0) recorded theirs with a version marker.
	Features int `json:"features,omitempty"`
}

// CaseFeatures is the version of the case workflow's features a case
// started now runs with. Its starter passes it in the input: a version
// marker would cost every case an event and a search-attribute upsert, one
// more write to the engine's visibility store. Workers are deployed before
// the gateways that start cases with a newer one.
const CaseFeatures = 5

// Fee is what the applicant pays, in cents. Purpose is the
// Verwendungszweck; Items, if given, are the lines of the fee with the
// booking data the cash office books them with (XBezahldienste
// bookingData), and add up to Amount.
type Fee struct {
	Amount   int64                 `json:"amount" yaml:"amount"`
	Currency string                `json:"currency,omitempty" yaml:"currency,omitempty"`
	Purpose  string                `json:"purpose" yaml:"purpose"`
	Items    []ozgflow.PaymentItem `json:"items,omitempty" yaml:"items,omitempty"`
}

// LineItems returns the lines the provider is asked to collect: the
// variant's items, or for a variant without them one line of the whole
// amount under the purpose. A single line without a price costs the whole
// fee, so that changing the fee's amount needs no change of its line.
func (f *Fee) LineItems() []ozgflow.PaymentItem {
	if f == nil || f.Amount <= 0 {
		return nil
	}
	if len(f.Items) == 0 {
		return []ozgflow.PaymentItem{{ID: "1", Description: f.Purpose, Amount: f.Amount, Quantity: 1}}
	}
	items := make([]ozgflow.PaymentItem, len(f.Items))
	for i, it := range f.Items {
		if len(f.Items) == 1 && it.Amount == 0 {
			it.Amount = f.Amount // a single line without a price is the whole fee
		}
		if it.Quantity == 0 {
			it.Quantity = 1
		}
		if it.ID == "" {
			it.ID = strconv.Itoa(i + 1)
		}
		items[i] = it
	}
	return items
}

// Step is one instruction of a definition. Which fields apply depends on Kind.
type Step struct {
	ID   string `json:"id" yaml:"id"`
	Kind string `json:"kind" yaml:"kind"`
	// When, if set, is an expression over the case; the step runs only if it is true.
	When string `json:"when,omitempty" yaml:"when,omitempty"`

	// signature: "seal" (the authority's seal by the signer) or "applicant"
	// (the applicant signs through the signing service).
	Mode string `json:"mode,omitempty" yaml:"mode,omitempty"`
	// deliver, archive: the name of the receiving system.
	Target string `json:"target,omitempty" yaml:"target,omitempty"`
	// deliver, archive: how a failed call to the target is tried again,
	// before what the worker's configuration states for the target;
	// without either, after 2 s, doubling, at most 5 minutes apart.
	Retry *Retry `json:"retry,omitempty" yaml:"retry,omitempty"`

	// task
	Queue    string   `json:"queue,omitempty" yaml:"queue,omitempty"`
	Title    string   `json:"title,omitempty" yaml:"title,omitempty"`
	Due      Duration `json:"due,omitempty" yaml:"due,omitempty"`
	Priority int      `json:"priority,omitempty" yaml:"priority,omitempty"`
	Outcomes []string `json:"outcomes,omitempty" yaml:"outcomes,omitempty"`
	// DueWorkingDays counts the due date in Saxon working days instead of Due.
	DueWorkingDays int `json:"dueWorkingDays,omitempty" yaml:"dueWorkingDays,omitempty"`
	// RemindBefore sends the assignee a reminder this long before the due date.
	RemindBefore Duration `json:"remindBefore,omitempty" yaml:"remindBefore,omitempty"`
	// Escalation says what happens when the task is overdue.
	Escalation *Escalation `json:"escalation,omitempty" yaml:"escalation,omitempty"`
	// FourEyes has every decision approved by a second case worker.
	FourEyes bool `json:"fourEyes,omitempty" yaml:"fourEyes,omitempty"`

	// task and request-info: how long the applicant has to answer a question,
	// when to remind them, and what happens without an answer.
	AnswerDeadline Duration `json:"answerDeadline,omitempty" yaml:"answerDeadline,omitempty"`
	AnswerReminder Duration `json:"answerReminder,omitempty" yaml:"answerReminder,omitempty"`
	OnNoAnswer     string   `json:"onNoAnswer,omitempty" yaml:"onNoAnswer,omitempty"`

	// decide
	Rules   []Rule `json:"rules,omitempty" yaml:"rules,omitempty"`
	Default string `json:"default,omitempty" yaml:"default,omitempty"`

	// request-info
	Question string   `json:"question,omitempty" yaml:"question,omitempty"`
	Fields   []string `json:"fields,omitempty" yaml:"fields,omitempty"`

	// wait-external: the event name and how long to wait for it.
	Event   string   `json:"event,omitempty" yaml:"event,omitempty"`
	Timeout Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`

	// notify: the key of the notice template to send.
	Notice string `json:"notice,omitempty" yaml:"notice,omitempty"`
}

// Retry says how a call to an external system is tried again: first after
// Initial, each wait Backoff times the one before, at most Maximum apart.
// A delivery is tried until its target answers or the case is stopped.
type Retry struct {
	Initial Duration `json:"initial,omitempty" yaml:"initial,omitempty"`
	Maximum Duration `json:"maximum,omitempty" yaml:"maximum,omitempty"`
	Backoff float64  `json:"backoff,omitempty" yaml:"backoff,omitempty"`
}

// Escalation raises an overdue task: After its due date the task gets
// Priority (or one more than it had) and moves to Queue, if set.
type Escalation struct {
	After    Duration `json:"after" yaml:"after"`
	Queue    string   `json:"queue,omitempty" yaml:"queue,omitempty"`
	Priority int      `json:"priority,omitempty" yaml:"priority,omitempty"`
}

// What happens when an applicant does not answer in time.
const (
	NoAnswerReject = "reject"
	NoAnswerCancel = "cancel"
)

// TaskDue returns when a task of the step created at created is due; zero
// when the step sets no due date.
func (s Step) TaskDue(created time.Time) time.Time {
	switch {
	case s.DueWorkingDays > 0:
		return locale.AddWorkingDays(created, s.DueWorkingDays)
	case s.Due > 0:
		return created.Add(time.Duration(s.Due))
	}
	return time.Time{}
}

// Queues lists the queues a definition's tasks can be in, escalation
// queues included, sorted.
func (d *Definition) Queues() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range d.Steps {
		for _, q := range []string{s.Queue, s.escalationQueue()} {
			if q != "" && !seen[q] {
				seen[q] = true
				out = append(out, q)
			}
		}
	}
	sort.Strings(out)
	return out
}

func (s Step) escalationQueue() string {
	if s.Escalation == nil {
		return ""
	}
	return s.Escalation.Queue
}

// Rule decides a case when its condition holds.
type Rule struct {
	When    string `json:"when" yaml:"when"`
	Outcome string `json:"outcome" yaml:"outcome"`
	Comment string `json:"comment,omitempty" yaml:"comment,omitempty"`
}

// NoticeTemplate is the German title and text of a notice and, optionally,
// the same in easy-to-read German (Leichte Sprache); all are Go
// text/templates over NoticeData.
type NoticeTemplate struct {
	Title string `json:"title" yaml:"title"`
	Text  string `json:"text" yaml:"text"`
	Easy  string `json:"easy,omitempty" yaml:"easy,omitempty"`
}

// Step returns the step with the given ID.
func (d *Definition) Step(id string) (Step, bool) {
	for _, s := range d.Steps {
		if s.ID == id {
			return s, true
		}
	}
	return Step{}, false
}

// FeeAmount returns the fee in cents, zero when none is due.
func (d *Definition) FeeAmount() int64 {
	if d.Fee == nil {
		return 0
	}
	return d.Fee.Amount
}

// Schema is a JSON Schema document, kept as JSON so it survives the trip into a
// workflow unchanged; in YAML it is written as a YAML mapping.
type Schema json.RawMessage

// MarshalJSON implements json.Marshaler.
func (s Schema) MarshalJSON() ([]byte, error) {
	if len(s) == 0 {
		return []byte("null"), nil
	}
	return []byte(s), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *Schema) UnmarshalJSON(b []byte) error {
	*s = append((*s)[:0], b...)
	return nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *Schema) UnmarshalYAML(n *yaml.Node) error {
	var v any
	if err := n.Decode(&v); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	*s = b
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (s Schema) MarshalYAML() (any, error) {
	if len(s) == 0 {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(s, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// Duration is a time span written like "72h", "30m" or "10d" (days of 24 hours).
type Duration time.Duration

// ParseDuration reads "10d" as ten days and anything else as time.ParseDuration.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("„%s“ ist keine Dauer: erwartet wird etwa 10d, 72h oder 30m (Tage, Stunden, Minuten)", s)
		}
		return Duration(time.Duration(n) * 24 * time.Hour), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("„%s“ ist keine Dauer: erwartet wird etwa 10d, 72h oder 30m (Tage, Stunden, Minuten)", s)
	}
	return Duration(d), nil
}

// String writes whole days as "Nd" and everything else as time.Duration does.
func (d Duration) String() string {
	td := time.Duration(d)
	if td != 0 && td%(24*time.Hour) == 0 {
		return strconv.Itoa(int(td/(24*time.Hour))) + "d"
	}
	return td.String()
}

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("eine Dauer wird als Text geschrieben, etwa „10d“: %w", err)
	}
	v, err := ParseDuration(s)
	*d = v
	return err
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	*d = v
	return err
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }
