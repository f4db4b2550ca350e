package staff

// The form of a draft for what administrators change most: the fee and its
// payment deadline, the retention, per task the Arbeitskorb, the deadlines,
// the reminder and the escalation, the applicant's time to answer, the wait
// for outside events, and the notice texts. Everything else stays in the
// YAML view. A field the administrator leaves as it was is not written; a
// changed one is written into the draft's text at its place, so that the text
// keeps its order and comments.

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
)

// variantForm holds the form's fields as text, as shown and as posted.
type variantForm struct {
	Fee             bool // the variant takes a fee (a payment step or a fee)
	FeeAmount       string
	FeePurpose      string
	PaymentDeadline string
	Retention       string
	Steps           []stepForm
	Notices         []noticeForm
	// Queues are the authority's Arbeitskörbe; Base is true for a base,
	// which has no authority and names queues freely.
	Queues []definitions.Queue
	Base   bool
}

// stepForm is one step's deadlines and queues.
type stepForm struct {
	ID, Kind, Title string
	Task            bool // queue, due date, reminder, escalation
	Asks            bool // the applicant's time to answer
	Waits           bool // wait-external: the time to wait

	Queue, Due, DueWorkingDays, RemindBefore string
	EscalationAfter, EscalationQueue         string
	AnswerDeadline, AnswerReminder           string
	Timeout                                  string
}

// noticeForm is one notice's texts.
type noticeForm struct {
	Key, Name, Title, Text, Easy string
}

// newVariantForm fills the form from a draft's effective definition.
func newVariantForm(cat *definitions.Catalog, def *definitions.Definition) *variantForm {
	f := &variantForm{Retention: string(def.Retention), PaymentDeadline: durationText(def.PaymentDeadline), Base: def.Authority == ""}
	if a, ok := authorityOf(cat, def.Authority); ok {
		f.Queues = a.Queues
	}
	if def.Fee != nil {
		f.Fee, f.FeeAmount, f.FeePurpose = true, euros(def.Fee.Amount), def.Fee.Purpose
	}
	for _, s := range def.Steps {
		if s.Kind == definitions.KindPayment {
			f.Fee = true
		}
		sf := stepForm{ID: s.ID, Kind: s.Kind, Title: s.Title}
		switch s.Kind {
		case definitions.KindTask:
			sf.Task, sf.Asks = true, true
		case definitions.KindRequestInfo:
			sf.Asks = true
		case definitions.KindWaitExternal:
			sf.Waits = true
		default:
			continue
		}
		sf.Queue, sf.Due, sf.RemindBefore = s.Queue, durationText(s.Due), durationText(s.RemindBefore)
		if s.DueWorkingDays > 0 {
			sf.DueWorkingDays = strconv.Itoa(s.DueWorkingDays)
		}
		if e := s.Escalation; e != nil {
			sf.EscalationAfter, sf.EscalationQueue = durationText(e.After), e.Queue
		}
		sf.AnswerDeadline, sf.AnswerReminder = durationText(s.AnswerDeadline), durationText(s.AnswerReminder)
		sf.Timeout = durationText(s.Timeout)
		f.Steps = append(f.Steps, sf)
	}
	for _, key := range noticeOrder(def.Notices) {
		n := def.Notices[key]
		f.Notices = append(f.Notices, noticeForm{Key: key, Name: definitions.NoticeName(key), Title: n.Title, Text: n.Text, Easy: n.Easy})
	}
	return f
}

// noticeOrder lists notice keys in the order a case meets them.
func noticeOrder(notices map[string]definitions.NoticeTemplate) []string {
	order := []string{string(ozgflow.StatusReceived), string(ozgflow.StatusAwaitingPayment), definitions.NoticePaymentFailed,
		string(ozgflow.StatusAwaitingSignature), string(ozgflow.StatusForwarded), string(ozgflow.StatusInReview),
		string(ozgflow.StatusInformationRequested), definitions.NoticeAnswerReminder, definitions.NoticeAnswered,
		definitions.NoticeAnswerExpired, string(ozgflow.StatusApproved), string(ozgflow.StatusRejected),
		string(ozgflow.StatusWithdrawn), string(ozgflow.StatusCancelled)}
	var out []string
	seen := map[string]bool{}
	for _, k := range order {
		if _, ok := notices[k]; ok {
			out, seen[k] = append(out, k), true
		}
	}
	var rest []string
	for k := range notices {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// read takes the posted fields into a copy of the form.
func (f *variantForm) read(r *http.Request) *variantForm {
	get := func(name string) string { return strings.ReplaceAll(r.PostFormValue(name), "\r\n", "\n") }
	out := &variantForm{Fee: f.Fee, Base: f.Base, Queues: f.Queues,
		FeeAmount: strings.TrimSpace(get("fee.amount")), FeePurpose: get("fee.purpose"),
		PaymentDeadline: strings.TrimSpace(get("paymentDeadline")), Retention: strings.TrimSpace(get("retention"))}
	for _, s := range f.Steps {
		p := "step." + s.ID + "."
		s.Queue, s.Due, s.DueWorkingDays = strings.TrimSpace(get(p+"queue")), strings.TrimSpace(get(p+"due")), strings.TrimSpace(get(p+"dueWorkingDays"))
		s.RemindBefore, s.EscalationAfter, s.EscalationQueue = strings.TrimSpace(get(p+"remindBefore")), strings.TrimSpace(get(p+"escalation.after")), strings.TrimSpace(get(p+"escalation.queue"))
		s.AnswerDeadline, s.AnswerReminder, s.Timeout = strings.TrimSpace(get(p+"answerDeadline")), strings.TrimSpace(get(p+"answerReminder")), strings.TrimSpace(get(p+"timeout"))
		out.Steps = append(out.Steps, s)
	}
	for _, n := range f.Notices {
		p := "notice." + n.Key + "."
		out.Notices = append(out.Notices, noticeForm{Key: n.Key, Name: n.Name, Title: get(p + "title"), Text: get(p + "text"), Easy: get(p + "easy")})
	}
	return out
}

// edits compares the posted form with f, the draft as it is, and returns
// what to write into the draft's text, or the findings of fields that do not
// read (in German, naming the field).
func (f *variantForm) edits(posted *variantForm) ([]definitions.SourceEdit, []ozgflow.FieldError) {
	var edits []definitions.SourceEdit
	var problems []ozgflow.FieldError
	bad := func(field, format string, args ...any) {
		problems = append(problems, ozgflow.FieldError{Detail: field + ": " + fmt.Sprintf(format, args...)})
	}
	set := func(value any, path ...string) {
		edits = append(edits, definitions.SourceEdit{Path: path, Value: value})
	}
	duration := func(field, old, now string, path ...string) {
		if old == now {
			return
		}
		if _, err := definitions.ParseDuration(now); err != nil {
			bad(field, "%v", err)
			return
		}
		set(now, path...)
	}
	if f.Fee {
		if posted.FeeAmount != f.FeeAmount {
			cents, ok := parseEuros(posted.FeeAmount)
			if !ok {
				bad("Gebühr › Betrag", "„%s“ ist kein Betrag; bitte in Euro eingeben, etwa 30,70", posted.FeeAmount)
			} else {
				set(cents, "fee", "amount")
			}
		}
		if posted.FeePurpose != f.FeePurpose {
			set(posted.FeePurpose, "fee", "purpose")
		}
		duration("Zahlungsfrist", f.PaymentDeadline, posted.PaymentDeadline, "paymentDeadline")
	}
	if posted.Retention != f.Retention {
		if err := definitions.Retention(posted.Retention).Check(); err != nil {
			bad("Aufbewahrungsfrist", "%v", err)
		} else {
			set(posted.Retention, "retention")
		}
	}
	for i, s := range f.Steps {
		p := posted.Steps[i]
		field := func(name string) string { return "Schritt „" + s.ID + "“ › " + name }
		path := func(keys ...string) []string { return append([]string{"steps", s.ID}, keys...) }
		if s.Task {
			if p.Queue != s.Queue {
				set(p.Queue, path("queue")...)
			}
			duration(field("Frist"), s.Due, p.Due, path("due")...)
			if p.DueWorkingDays != s.DueWorkingDays {
				n, err := strconv.Atoi(p.DueWorkingDays)
				switch {
				case p.DueWorkingDays == "":
					set(0, path("dueWorkingDays")...)
				case err != nil || n < 0:
					bad(field("Frist in Arbeitstagen"), "„%s“ ist keine Anzahl von Tagen", p.DueWorkingDays)
				default:
					set(n, path("dueWorkingDays")...)
				}
			}
			duration(field("Erinnerung vor Fristende"), s.RemindBefore, p.RemindBefore, path("remindBefore")...)
			duration(field("Eskalation nach"), s.EscalationAfter, p.EscalationAfter, path("escalation", "after")...)
			if p.EscalationQueue != s.EscalationQueue {
				set(p.EscalationQueue, path("escalation", "queue")...)
			}
		}
		if s.Asks {
			duration(field("Antwortfrist"), s.AnswerDeadline, p.AnswerDeadline, path("answerDeadline")...)
			duration(field("Erinnerung an die Antwort"), s.AnswerReminder, p.AnswerReminder, path("answerReminder")...)
		}
		if s.Waits {
			duration(field("Wartezeit"), s.Timeout, p.Timeout, path("timeout")...)
		}
	}
	for i, n := range f.Notices {
		p := posted.Notices[i]
		for _, t := range []struct{ key, old, now string }{{"title", n.Title, p.Title}, {"text", n.Text, p.Text}, {"easy", n.Easy, p.Easy}} {
			if strings.TrimSpace(t.old) != strings.TrimSpace(t.now) {
				set(t.now, "notices", n.Key, t.key)
			}
		}
	}
	return edits, problems
}

// durationText writes a duration as variants do, "" for none.
func durationText(d definitions.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// euros writes cents as a German amount without currency: 3070 → "30,70".
func euros(cents int64) string {
	return fmt.Sprintf("%d,%02d", cents/100, cents%100)
}

// parseEuros reads "30,70", "30.70", "30" or "1.234,50" as cents.
func parseEuros(s string) (int64, bool) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(strings.TrimSuffix(s, "EUR")), "€"))
	if s == "" {
		return 0, false
	}
	whole, frac := s, ""
	if i := strings.LastIndexAny(s, ",."); i >= 0 && len(s)-i-1 <= 2 {
		whole, frac = s[:i], s[i+1:]
	}
	whole = strings.NewReplacer(".", "", " ", "").Replace(whole)
	for len(frac) < 2 {
		frac += "0"
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	c, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || w < 0 || c < 0 || w > 1e9 {
		return 0, false
	}
	return w*100 + c, true
}
