package definitions

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/ozgflow/ozgflow"
)

// Notice keys beyond the statuses, for events that do not change the status.
const (
	NoticePaymentFailed = "payment_failed"
	NoticeAnswered      = "information_received"
	// NoticeAnswerReminder reminds the applicant of an unanswered question.
	NoticeAnswerReminder = "information_reminder"
	// NoticeAnswerExpired tells the applicant the case was cancelled because
	// the question was not answered in time.
	NoticeAnswerExpired = "information_expired"
)

var (
	idPattern      = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	leikaPattern   = regexp.MustCompile(`^[0-9]{14}$`)
	knownOutcomes  = []string{ozgflow.OutcomeApprove, ozgflow.OutcomeReject, ozgflow.OutcomeRequestInformation}
	decideOutcomes = []string{ozgflow.OutcomeApprove, ozgflow.OutcomeReject}
)

// Validate checks a complete definition and reports every problem with the
// place it was found, as JSON pointers into the definition.
func (d *Definition) Validate() error {
	var errs []ozgflow.FieldError
	add := func(ptr, format string, args ...any) {
		errs = append(errs, ozgflow.FieldError{Pointer: ptr, Detail: fmt.Sprintf(format, args...)})
	}
	if !idPattern.MatchString(d.ID) {
		add("/id", "must be lower-case letters, digits and dashes")
	}
	if d.Version < 1 {
		add("/version", "must be 1 or more")
	}
	if !leikaPattern.MatchString(d.Service) {
		add("/service", "must be a 14-digit LeiKa key")
	}
	if !idPattern.MatchString(d.Slug) {
		add("/slug", "must be lower-case letters, digits and dashes")
	}
	if d.Name == "" {
		add("/name", "is required")
	}
	if d.Authority != "" && !arsPattern.MatchString(d.Authority) {
		add("/authority", "must be a 12-digit Amtlicher Regionalschlüssel")
	}
	if err := d.Retention.Check(); err != nil {
		add("/retention", "%s", err)
	}
	if d.Fee != nil && d.Fee.Amount < 0 {
		add("/fee/amount", "must not be negative")
	}
	if _, err := d.CompileSchema(); err != nil {
		add("/schema", "%s", ozgflow.ErrorMessage(err))
	}
	if len(d.Steps) == 0 {
		add("/steps", "a definition needs at least one step")
	}
	seen := map[string]bool{}
	var props map[string]any // the schema's properties, for conditions
	_ = json.Unmarshal(d.Schema, &struct {
		Properties *map[string]any `json:"properties"`
	}{&props})
	checkCondition := func(ptr, src string) {
		if _, err := CompileCondition(src); err != nil {
			add(ptr, "%v", err)
			return
		}
		paths, _ := dataPaths(src)
		for _, path := range paths {
			if !schemaHas(props, path) {
				add(ptr, "the condition reads data.%s, which the data schema does not define", strings.Join(path, "."))
			}
		}
	}
	d.validateApplicantSummary(props, add)
	decidedBy := "" // a decide step before that always decides
	for i, s := range d.Steps {
		at := fmt.Sprintf("/steps/%d", i)
		if !idPattern.MatchString(s.ID) {
			add(at+"/id", "must be lower-case letters, digits and dashes")
		} else if seen[s.ID] {
			add(at+"/id", "step id %q is used twice", s.ID)
		}
		seen[s.ID] = true
		if s.When != "" {
			checkCondition(at+"/when", s.When)
		}
		for j, r := range s.Rules {
			if r.When != "" {
				checkCondition(fmt.Sprintf("%s/rules/%d/when", at, j), r.When)
			}
		}
		if decidedBy != "" && s.Kind != KindNotify && s.Kind != KindArchive {
			add(at, "unreachable: step %q always decides the case before it, and only notify and archive steps run after a decision", decidedBy)
		}
		if s.Kind == KindDecide && s.When == "" && (s.Default != "" || alwaysMatches(s.Rules)) {
			decidedBy = s.ID
		}
		if s.Kind == KindDecide && s.Default == "" && !alwaysMatches(s.Rules) && !taskAfter(d.Steps[i+1:]) {
			add(at+"/default", "when no rule matches nothing decides the case: add a default or a task step after it")
		}
		d.validateStep(s, at, add)
	}
	for key, t := range d.Notices {
		_, _, err := t.Render(NoticeData{})
		if err == nil {
			_, err = t.RenderEasy(NoticeData{})
		}
		if err != nil {
			add("/notices/"+key, "%v", err)
		}
	}
	for _, status := range []ozgflow.Status{ozgflow.StatusReceived, ozgflow.StatusApproved, ozgflow.StatusRejected,
		ozgflow.StatusWithdrawn, ozgflow.StatusCancelled} {
		if _, ok := d.Notices[string(status)]; !ok {
			add("/notices/"+string(status), "a notice text for this status is required")
		}
	}
	if len(errs) > 0 {
		// Notices come from a map: sort, so the report reads the same each time.
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Pointer < errs[j].Pointer })
		return &ozgflow.Error{Code: ozgflow.EINVALID, Message: fmt.Sprintf("Definition %s is invalid.", d.ID), Fields: errs}
	}
	return nil
}

// schemaHas reports whether a path of properties exists in a JSON Schema's
// properties (nested through "properties").
func schemaHas(props map[string]any, path []string) bool {
	for i, name := range path {
		p, ok := props[name].(map[string]any)
		if !ok {
			return false
		}
		if i == len(path)-1 {
			return true
		}
		props, _ = p["properties"].(map[string]any)
	}
	return false
}

// validateAnswerDeadline checks what happens when an applicant does not answer.
func validateAnswerDeadline(s Step, at string, add func(ptr, format string, args ...any)) {
	if s.OnNoAnswer != "" && s.OnNoAnswer != NoAnswerReject && s.OnNoAnswer != NoAnswerCancel {
		add(at+"/onNoAnswer", "must be \"reject\" or \"cancel\"")
	}
	if s.OnNoAnswer != "" && s.AnswerDeadline <= 0 {
		add(at+"/answerDeadline", "onNoAnswer needs an answer deadline")
	}
	if s.AnswerReminder > 0 && s.AnswerReminder >= s.AnswerDeadline {
		add(at+"/answerReminder", "the reminder must come before the answer deadline")
	}
}

// alwaysMatches reports whether some rule's condition is literally true.
func alwaysMatches(rules []Rule) bool {
	for _, r := range rules {
		if strings.TrimSpace(r.When) == "true" {
			return true
		}
	}
	return false
}

// taskAfter reports whether a task step follows, which decides what rules leave open.
func taskAfter(steps []Step) bool {
	for _, s := range steps {
		if s.Kind == KindTask {
			return true
		}
	}
	return false
}

func (d *Definition) validateStep(s Step, at string, add func(ptr, format string, args ...any)) {
	switch s.Kind {
	case KindValidate, KindArchive:
	case KindPayment:
		if d.FeeAmount() > 0 && d.PaymentDeadline <= 0 {
			add("/paymentDeadline", "a payment step needs a payment deadline")
		}
	case KindSignature:
		if s.Mode != "seal" && s.Mode != "applicant" {
			add(at+"/mode", "must be \"seal\" or \"applicant\"")
		}
	case KindDeliver:
		if s.Target == "" {
			add(at+"/target", "a deliver step needs a target")
		}
	case KindTask:
		if s.Queue == "" {
			add(at+"/queue", "a task needs a queue")
		}
		if s.Title == "" {
			add(at+"/title", "a task needs a title")
		}
		if len(s.Outcomes) == 0 {
			add(at+"/outcomes", "a task needs at least one outcome")
		}
		for j, o := range s.Outcomes {
			if !slices.Contains(knownOutcomes, o) {
				add(fmt.Sprintf("%s/outcomes/%d", at, j), "unknown outcome %q", o)
			}
		}
		if s.Due > 0 && s.DueWorkingDays > 0 {
			add(at+"/dueWorkingDays", "set either due or dueWorkingDays, not both")
		}
		if s.DueWorkingDays < 0 {
			add(at+"/dueWorkingDays", "must not be negative")
		}
		if (s.RemindBefore > 0 || s.Escalation != nil) && s.Due <= 0 && s.DueWorkingDays <= 0 {
			add(at, "reminders and escalation need a due date (due or dueWorkingDays)")
		}
		if e := s.Escalation; e != nil {
			if e.After < 0 {
				add(at+"/escalation/after", "must not be negative")
			}
			if e.Queue != "" && !idPattern.MatchString(e.Queue) {
				add(at+"/escalation/queue", "must be lower-case letters, digits and dashes")
			}
			if e.Queue == "" && e.Priority == 0 {
				add(at+"/escalation", "an escalation needs a queue, a priority or both")
			}
		}
		validateAnswerDeadline(s, at, add)
	case KindDecide:
		if len(s.Rules) == 0 && s.Default == "" {
			add(at+"/rules", "a decide step needs rules or a default")
		}
		for j, r := range s.Rules {
			if r.When == "" {
				add(fmt.Sprintf("%s/rules/%d/when", at, j), "a rule needs a condition")
			}
			if !slices.Contains(decideOutcomes, r.Outcome) {
				add(fmt.Sprintf("%s/rules/%d/outcome", at, j), "must be approve or reject")
			}
		}
		if s.Default != "" && !slices.Contains(decideOutcomes, s.Default) {
			add(at+"/default", "must be approve or reject")
		}
	case KindRequestInfo:
		if s.Question == "" {
			add(at+"/question", "a request-info step needs a question")
		}
		validateAnswerDeadline(s, at, add)
	case KindWaitExternal:
		if s.Event == "" {
			add(at+"/event", "a wait-external step needs an event name")
		}
		if s.Timeout <= 0 {
			add(at+"/timeout", "a wait-external step needs a timeout")
		}
	case KindNotify:
		if _, ok := d.Notices[s.Notice]; !ok {
			add(at+"/notice", "unknown notice %q", s.Notice)
		}
	default:
		add(at+"/kind", "unknown step kind %q; known kinds: %v", s.Kind, Kinds)
	}
}
