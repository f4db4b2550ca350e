package definitions

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

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

// msgIdent says what an identifier may hold.
const msgIdent = "darf nur Kleinbuchstaben, Ziffern und Bindestriche enthalten und muss mit einem Buchstaben oder einer Ziffer beginnen"

var (
	idPattern      = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	prefixPattern  = regexp.MustCompile(`^[A-Z][A-Z0-9]{1,5}$`)
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
		add("/id", "%s", msgIdent)
	}
	if d.Version < 1 {
		add("/version", "muss 1 oder größer sein")
	}
	if !leikaPattern.MatchString(d.Service) {
		add("/service", "muss ein 14-stelliger LeiKa-Schlüssel sein")
	}
	if !idPattern.MatchString(d.Slug) {
		add("/slug", "%s", msgIdent)
	}
	if d.Name == "" {
		add("/name", "fehlt")
	}
	if d.Authority != "" && !arsPattern.MatchString(d.Authority) {
		add("/authority", "muss ein 12-stelliger Amtlicher Regionalschlüssel sein")
	}
	if err := d.Retention.Check(); err != nil {
		add("/retention", "%s", err)
	}
	if d.CaseNumberPrefix != "" && !prefixPattern.MatchString(d.CaseNumberPrefix) {
		add("/caseNumberPrefix", "must be 2 to 6 capital letters or digits, starting with a letter, e.g. GEW")
	}
	for _, outcome := range sortedKeys(d.Decisions) {
		w := d.Decisions[outcome]
		if !slices.Contains(decideOutcomes, outcome) {
			add("/decisions/"+outcome, "unknown outcome: decisions word %s", strings.Join(decideOutcomes, " and "))
		}
		if strings.TrimSpace(w.Label) == "" {
			add("/decisions/"+outcome+"/label", "is required")
		}
	}
	if r := d.LegalRemedy; r != nil && strings.TrimSpace(r.Text) == "" {
		add("/legalRemedy/text", "is required")
	}
	if d.Fee != nil && d.Fee.Amount < 0 {
		add("/fee/amount", "darf nicht negativ sein")
	}
	if d.Fee != nil {
		d.Fee.validateItems(add)
	}
	if _, err := d.CompileSchema(); err != nil {
		add("/schema", "%s", ozgflow.ErrorMessage(err))
	}
	if len(d.Steps) == 0 {
		add("/steps", "eine Prozessvariante braucht mindestens einen Schritt")
	}
	seen := map[string]bool{}
	var props map[string]any // the schema's properties, for conditions
	_ = json.Unmarshal(d.Schema, &struct {
		Properties *map[string]any `json:"properties"`
	}{&props})
	checkCondition := func(ptr, src string) {
		if _, err := CompileCondition(src); err != nil {
			if inner := errors.Unwrap(err); inner != nil {
				err = inner
			}
			add(ptr, "die Bedingung „%s“ lässt sich nicht lesen: %v", src, err)
			return
		}
		paths, _ := dataPaths(src)
		for _, path := range paths {
			if !schemaHas(props, path) {
				add(ptr, "die Bedingung liest data.%s, das im Datenschema nicht vorkommt", strings.Join(path, "."))
			}
		}
	}
	d.validateApplicantSummary(props, add)
	decidedBy := "" // a decide step before that always decides
	for i, s := range d.Steps {
		at := fmt.Sprintf("/steps/%d", i)
		if !idPattern.MatchString(s.ID) {
			add(at+"/id", "%s", msgIdent)
		} else if seen[s.ID] {
			add(at+"/id", "die Schritt-Kennung „%s“ kommt zweimal vor", s.ID)
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
			add(at, "wird nie erreicht: Schritt „%s“ entscheidet den Vorgang immer vorher, und nach einer Entscheidung laufen nur noch Schritte der Art notify und archive", decidedBy)
		}
		if s.Kind == KindDecide && s.When == "" && (s.Default != "" || alwaysMatches(s.Rules)) {
			decidedBy = s.ID
		}
		if s.Kind == KindDecide && s.Default == "" && !alwaysMatches(s.Rules) && !taskAfter(d.Steps[i+1:]) {
			add(at+"/default", "wenn keine Regel zutrifft, entscheidet nichts den Vorgang: Geben Sie einen default an oder lassen Sie einen Schritt der Art task folgen")
		}
		d.validateStep(s, at, add)
	}
	for _, key := range sortedKeys(d.Notices) {
		d.checkNotice(key, d.Notices[key], props, add)
	}
	for _, status := range []ozgflow.Status{ozgflow.StatusReceived, ozgflow.StatusApproved, ozgflow.StatusRejected,
		ozgflow.StatusWithdrawn, ozgflow.StatusCancelled} {
		if _, ok := d.Notices[string(status)]; !ok {
			add("/notices/"+string(status), "für diesen Status fehlt der Text der Mitteilung")
		}
	}
	if len(errs) > 0 {
		// Notices come from a map: sort, so the report reads the same each time.
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Pointer < errs[j].Pointer })
		return &ozgflow.Error{Code: ozgflow.EINVALID, Message: fmt.Sprintf("Die Prozessvariante %s ist fehlerhaft.", d.ID), Fields: errs}
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
		add(at+"/onNoAnswer", "muss „reject“ oder „cancel“ sein")
	}
	if s.OnNoAnswer != "" && s.AnswerDeadline <= 0 {
		add(at+"/answerDeadline", "onNoAnswer braucht eine Antwortfrist (answerDeadline)")
	}
	if s.AnswerReminder > 0 && s.AnswerReminder >= s.AnswerDeadline {
		add(at+"/answerReminder", "die Erinnerung muss vor dem Ende der Antwortfrist liegen")
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

// deliversBefore reports whether a deliver step comes before the step id.
func (d *Definition) deliversBefore(id string) bool {
	for _, s := range d.Steps {
		if s.ID == id {
			return false
		}
		if s.Kind == KindDeliver {
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
	if r := s.Retry; r != nil {
		switch {
		case s.Kind != KindDeliver && s.Kind != KindArchive:
			add(at+"/retry", "nur Schritte der Art deliver und archive haben eine Wiederholung (retry)")
		case r.Initial < Duration(time.Second) && r.Initial != 0:
			add(at+"/retry/initial", "mindestens 1s")
		case r.Maximum != 0 && r.Maximum < r.Initial:
			add(at+"/retry/maximum", "darf nicht kürzer sein als initial")
		case r.Maximum > Duration(24*time.Hour):
			add(at+"/retry/maximum", "höchstens 24h")
		case r.Backoff != 0 && (r.Backoff < 1 || r.Backoff > 10):
			add(at+"/retry/backoff", "muss zwischen 1 und 10 liegen")
		}
	}
	switch s.Kind {
	case KindValidate, KindArchive:
	case KindPayment:
		if d.FeeAmount() > 0 && d.PaymentDeadline <= 0 {
			add("/paymentDeadline", "ein Schritt der Art payment braucht eine Zahlungsfrist")
		}
	case KindSignature:
		if s.Mode != "seal" && s.Mode != "applicant" {
			add(at+"/mode", "muss „seal“ oder „applicant“ sein")
		}
	case KindDeliver:
		if s.Target == "" {
			add(at+"/target", "ein Schritt der Art deliver braucht ein Ziel (target)")
		}
	case KindTask:
		if s.Queue == "" {
			add(at+"/queue", "eine Aufgabe braucht einen Arbeitskorb (queue)")
		}
		if s.Title == "" {
			add(at+"/title", "eine Aufgabe braucht einen Titel")
		}
		if len(s.Outcomes) == 0 {
			add(at+"/outcomes", "eine Aufgabe braucht mindestens ein Ergebnis")
		}
		for j, o := range s.Outcomes {
			if !slices.Contains(knownOutcomes, o) {
				add(fmt.Sprintf("%s/outcomes/%d", at, j), "unbekanntes Ergebnis „%s“; möglich sind approve, reject und request_information", o)
			}
		}
		if s.Due > 0 && s.DueWorkingDays > 0 {
			add(at+"/dueWorkingDays", "entweder due oder dueWorkingDays angeben, nicht beides")
		}
		if s.DueWorkingDays < 0 {
			add(at+"/dueWorkingDays", "darf nicht negativ sein")
		}
		if (s.RemindBefore > 0 || s.Escalation != nil) && s.Due <= 0 && s.DueWorkingDays <= 0 {
			add(at, "Erinnerung und Eskalation brauchen eine Frist (due oder dueWorkingDays)")
		}
		if e := s.Escalation; e != nil {
			if e.After < 0 {
				add(at+"/escalation/after", "darf nicht negativ sein")
			}
			if e.Queue != "" && !idPattern.MatchString(e.Queue) {
				add(at+"/escalation/queue", "%s", msgIdent)
			}
			if e.Queue == "" && e.Priority == 0 {
				add(at+"/escalation", "eine Eskalation braucht einen Arbeitskorb, eine Priorität oder beides")
			}
		}
		validateAnswerDeadline(s, at, add)
	case KindDecide:
		if len(s.Rules) == 0 && s.Default == "" {
			add(at+"/rules", "ein Schritt der Art decide braucht Regeln oder einen default")
		}
		for j, r := range s.Rules {
			if r.When == "" {
				add(fmt.Sprintf("%s/rules/%d/when", at, j), "eine Regel braucht eine Bedingung")
			}
			if !slices.Contains(decideOutcomes, r.Outcome) {
				add(fmt.Sprintf("%s/rules/%d/outcome", at, j), "muss approve oder reject sein")
			}
		}
		if s.Default != "" && !slices.Contains(decideOutcomes, s.Default) {
			add(at+"/default", "muss approve oder reject sein")
		}
	case KindRequestInfo:
		if s.Question == "" {
			add(at+"/question", "ein Schritt der Art request-info braucht eine Frage")
		}
		validateAnswerDeadline(s, at, add)
	case KindWaitExternal:
		if s.Event == "" {
			add(at+"/event", "ein Schritt der Art wait-external braucht einen Ereignisnamen (event)")
		}
		if s.Event == ozgflow.CallbackDecided && !d.deliversBefore(s.ID) {
			add(at+"/event", "the Fachverfahren decides (event decided) only a case delivered to it: add a deliver step before this one")
		}
		if s.Timeout <= 0 {
			add(at+"/timeout", "ein Schritt der Art wait-external braucht eine Wartezeit (timeout)")
		}
	case KindNotify:
		if _, ok := d.Notices[s.Notice]; !ok {
			add(at+"/notice", "die Mitteilung „%s“ gibt es in dieser Prozessvariante nicht", s.Notice)
		}
	default:
		add(at+"/kind", "unbekannte Art „%s“; möglich sind %s", s.Kind, strings.Join(Kinds, ", "))
	}
}

// bookingKeyPattern is what a key of an item's booking data may look like:
// haushaltsstelle, objektnummer, buchungskennzeichen, …
var bookingKeyPattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]{0,39}$`)

// maxItemAmount bounds the price of one line: a million euros, in cents.
const maxItemAmount = 100_000_000

// validateItems checks the lines of a fee: each names what is paid for, has
// a positive price, a quantity of 1 or more and readable booking data, no
// two share an ID, and together they come to the fee's amount.
func (f *Fee) validateItems(add func(ptr, format string, args ...any)) {
	if len(f.Items) == 0 {
		return
	}
	if strings.TrimSpace(f.Purpose) == "" {
		add("/fee/purpose", "fehlt; der Verwendungszweck steht auf jeder Zahlung")
	}
	var sum int64
	ids := map[string]bool{}
	for i, it := range f.LineItems() {
		ptr := fmt.Sprintf("/fee/items/%d", i)
		if ids[it.ID] {
			add(ptr+"/id", "„%s“ kommt mehrfach vor", it.ID)
		}
		ids[it.ID] = true
		if strings.TrimSpace(it.Description) == "" {
			add(ptr+"/description", "fehlt")
		}
		if it.Amount <= 0 || it.Amount > maxItemAmount {
			add(ptr+"/amount", "muss ein positiver Betrag in Cent bis %d sein", int64(maxItemAmount))
		}
		if it.Quantity < 1 || it.Quantity > 9999 {
			add(ptr+"/quantity", "muss zwischen 1 und 9999 liegen")
		}
		for _, key := range sortedKeys(it.BookingData) {
			switch {
			case !bookingKeyPattern.MatchString(key):
				add(ptr+"/bookingData/"+key, "der Name darf nur Buchstaben, Ziffern, - und _ enthalten und muss mit einem Buchstaben beginnen")
			case strings.TrimSpace(it.BookingData[key]) == "":
				add(ptr+"/bookingData/"+key, "fehlt")
			case len(it.BookingData[key]) > 250:
				add(ptr+"/bookingData/"+key, "ist länger als 250 Zeichen")
			}
		}
		if it.Amount > 0 && it.Amount <= maxItemAmount && it.Quantity > 0 && it.Quantity <= 9999 {
			sum += it.Total()
		}
	}
	if sum != f.Amount {
		add("/fee/items", "die Positionen ergeben %d Cent, die Gebühr beträgt %d Cent", sum, f.Amount)
	}
}
