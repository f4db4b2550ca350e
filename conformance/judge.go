package conformance

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ozgflow/ozgflow"
)

// verdict is a requirement's outcome with what shows it.
type verdict struct {
	passed   bool
	evidence []string
}

func (v *verdict) add(format string, args ...any) {
	v.evidence = append(v.evidence, fmt.Sprintf(format, args...))
}

// judge holds the exchanges and the callbacks to each requirement.
func (r *run) judge() map[string]verdict {
	r.mu.Lock()
	defer r.mu.Unlock()
	arrivals := r.rcv.all()
	out := map[string]verdict{
		ReqDeliveryAccepted: r.judgeAccepted(),
		ReqSignatureChecked: r.judgeSignatures(),
		ReqIdempotent:       r.judgeIdempotent(),
		ReqTimely:           r.judgeTimely(),
		ReqWithdrawal:       r.judgeWithdrawal(),
		ReqCallbacksSent:    r.judgeSent(arrivals),
		ReqCallbacksSigned:  r.judgeSigned(arrivals),
		ReqCallbacksValid:   r.judgeValid(arrivals),
		ReqCallbacksRetried: r.judgeRetried(arrivals),
		ReqDecisionReported: r.judgeDecision(arrivals),
	}
	for _, err := range r.rcv.errs {
		v := out[ReqCallbacksSent]
		v.add("the kit's receiver failed: %v", err)
		out[ReqCallbacksSent] = v
	}
	return out
}

// short is the start of a case ID, as the evidence names cases.
func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func (r *run) judgeAccepted() verdict {
	v := verdict{passed: true}
	for _, what := range []string{exDeliverA, exDeliverC} {
		e, ok := r.one(what)
		switch {
		case !ok:
			v.passed = false
			v.add("%s: not sent", what)
		case !e.ok():
			v.passed = false
			v.add("%s (%s): %s, want 2xx with the receipt", what, short(e.caseID), e.answer())
		case e.receipt.Reference == "" || e.receipt.ReceivedAt.IsZero():
			v.passed = false
			v.add("%s (%s): %s, but the receipt lacks reference or receivedAt: %s", what, short(e.caseID), e.answer(), e.body)
		default:
			v.add("%s (%s): %s, reference %s", what, short(e.caseID), e.answer(), e.receipt.Reference)
		}
	}
	return v
}

func (r *run) judgeSignatures() verdict {
	v := verdict{passed: true}
	for _, what := range []string{exWrongSecret, exNoSignature, exStale} {
		e, _ := r.one(what)
		if e.err == nil && (e.status == http.StatusUnauthorized || e.status == http.StatusForbidden) {
			v.add("%s: refused, %s", what, e.answer())
			continue
		}
		v.passed = false
		v.add("%s: %s, want 401 or 403", what, e.answer())
	}
	return v
}

func (r *run) judgeIdempotent() verdict {
	first, _ := r.one(exDeliverA)
	again, _ := r.one(exRepeatA)
	switch {
	case !first.ok() || first.receipt.Reference == "":
		return verdict{evidence: []string{"the first delivery of case A was not accepted with a receipt: " + first.answer()}}
	case !again.ok():
		return verdict{evidence: []string{fmt.Sprintf("%s: %s, want 2xx with the first receipt", exRepeatA, again.answer())}}
	case again.receipt.Reference != first.receipt.Reference:
		return verdict{evidence: []string{fmt.Sprintf("first delivery: reference %s; the same delivery again: reference %q, "+
			"a second case in the Fachverfahren", first.receipt.Reference, again.receipt.Reference)}}
	}
	return verdict{passed: true, evidence: []string{fmt.Sprintf("first delivery: reference %s; the same delivery again: %s, reference %s",
		first.receipt.Reference, again.answer(), again.receipt.Reference)}}
}

func (r *run) judgeTimely() verdict {
	v := verdict{passed: true}
	var slowest exchange
	for _, e := range r.exchanges {
		if e.took >= slowest.took {
			slowest = e
		}
		if e.err != nil || e.took > r.cfg.Timeout {
			v.passed = false
			v.add("%s: %s, longer than %s", e.what, e.answer(), r.cfg.Timeout)
		}
	}
	if v.passed {
		v.add("%d requests answered, the slowest (%s) in %s", len(r.exchanges), slowest.what, slowest.took.Round(time.Millisecond))
	}
	return v
}

func (r *run) judgeWithdrawal() verdict {
	v := verdict{passed: true}
	if e, _ := r.one(exWithdrawC); e.ok() {
		v.add("%s: %s", exWithdrawC, e.answer())
	} else {
		v.passed = false
		v.add("%s: %s, want 2xx", exWithdrawC, e.answer())
	}
	if e, _ := r.one(exWithdrawNone); e.ok() || (e.err == nil && e.status == http.StatusNotFound) {
		v.add("%s: %s", exWithdrawNone, e.answer())
	} else {
		v.passed = false
		v.add("%s: %s, want 2xx or 404", exWithdrawNone, e.answer())
	}
	return v
}

// noDelivery explains missing callbacks when case A was not delivered.
func (r *run) noDelivery() (verdict, bool) {
	if a, _ := r.one(exDeliverA); !a.ok() {
		return verdict{evidence: []string{"case A was not delivered (" + a.answer() + "), so nothing was reported on it"}}, true
	}
	return verdict{}, false
}

// describe names a callback for the evidence.
func describe(a arrival) string {
	if !a.parsed {
		return fmt.Sprintf("a request that is no callback (%d bytes)", len(a.body))
	}
	s := fmt.Sprintf("%s %s", a.callback.ID, a.callback.Event)
	if a.callback.Outcome != "" {
		s += " " + a.callback.Outcome
	}
	return s
}

func (r *run) judgeSent(arrivals []arrival) verdict {
	if v, ok := r.noDelivery(); ok {
		return v
	}
	v := verdict{}
	var seen []string
	for _, a := range arrivals {
		seen = append(seen, fmt.Sprintf("%s (answered %d)", describe(a), a.answered))
		if a.parsed && a.callback.CaseID == r.caseA &&
			(a.callback.Event == ozgflow.CallbackReceived || a.callback.Event == ozgflow.CallbackInReview) {
			v.passed = true
		}
	}
	if len(arrivals) == 0 {
		v.add("no callback arrived at %s within %s", r.cfg.CallbackURL, r.cfg.CallbackWait)
		return v
	}
	v.add("%d requests arrived: %s", len(arrivals), strings.Join(seen, ", "))
	if !v.passed {
		v.add("none reported case A (%s) received or in review", short(r.caseA))
	}
	return v
}

func (r *run) judgeSigned(arrivals []arrival) verdict {
	if v, ok := r.noDelivery(); ok {
		return v
	}
	if len(arrivals) == 0 {
		return verdict{evidence: []string{"no callback arrived, so none could be checked"}}
	}
	v := verdict{passed: true}
	for _, a := range arrivals {
		if a.signature != nil {
			v.passed = false
			v.add("%s: signature refused: %v", describe(a), a.signature)
		}
	}
	if v.passed {
		v.add("all %d callbacks signed with the shared secret, timestamps within 5 minutes", len(arrivals))
	}
	return v
}

func (r *run) judgeValid(arrivals []arrival) verdict {
	if v, ok := r.noDelivery(); ok {
		return v
	}
	if len(arrivals) == 0 {
		return verdict{evidence: []string{"no callback arrived, so none could be checked"}}
	}
	v := verdict{passed: true}
	byID := map[string]ozgflow.CallbackRequest{}
	for _, a := range arrivals {
		for _, problem := range r.shapeProblems(a, byID) {
			v.passed = false
			v.add("%s: %s", describe(a), problem)
		}
	}
	if v.passed {
		v.add("all %d callbacks of the documented shape, naming the delivered case and its reference", len(arrivals))
	}
	return v
}

// shapeProblems lists what is wrong with a callback; byID remembers the
// callbacks by case and ID, whose retries must be the same callback.
func (r *run) shapeProblems(a arrival, byID map[string]ozgflow.CallbackRequest) []string {
	if !a.parsed {
		return []string{"the body is no JSON object of the documented shape"}
	}
	cb := a.callback
	var out []string
	if !ozgflow.ValidWebhookID(cb.ID) {
		out = append(out, fmt.Sprintf("id %q must be 1 to 128 letters, digits, '-' or '_'", cb.ID))
	}
	key := cb.CaseID + ":" + cb.ID // IDs are unique per case
	if first, seen := byID[key]; seen && (first.Event != cb.Event || first.Outcome != cb.Outcome) {
		out = append(out, fmt.Sprintf("id %s came before with another event: an id names one callback of a case, "+
			"the same on its retries", cb.ID))
	} else if !seen {
		byID[key] = cb
	}
	refs := r.references(cb.CaseID)
	switch {
	case len(refs) == 0:
		out = append(out, fmt.Sprintf("caseId %q is no case the kit delivered", cb.CaseID))
	case !slices.Contains(refs, cb.Reference):
		out = append(out, fmt.Sprintf("reference %q is not the receipt's (%s)", cb.Reference, strings.Join(refs, ", ")))
	}
	if !ozgflow.KnownCallbackEvent(cb.Event) {
		out = append(out, fmt.Sprintf("event %q is none of received, in_review, decided", cb.Event))
	}
	if cb.Event == ozgflow.CallbackDecided {
		if cb.Outcome != ozgflow.OutcomeApprove && cb.Outcome != ozgflow.OutcomeReject {
			out = append(out, fmt.Sprintf("outcome %q: a decision is approve or reject", cb.Outcome))
		}
		if d := cb.Document; d != nil {
			out = append(out, documentProblems(d)...)
		}
	} else if cb.Outcome != "" || cb.Document != nil {
		out = append(out, "only a decision (event decided) has an outcome or a document")
	}
	return out
}

// documentProblems lists what is wrong with a decision's document.
func documentProblems(d *ozgflow.CallbackDocument) []string {
	var out []string
	if d.Name == "" {
		out = append(out, "the document has no name")
	}
	if d.ContentType != "application/pdf" {
		out = append(out, fmt.Sprintf("the document's contentType %q is not application/pdf", d.ContentType))
	}
	switch {
	case len(d.Content) == 0:
		out = append(out, "the document has no content")
	case len(d.Content) > ozgflow.MaxDecisionDocumentBytes:
		out = append(out, fmt.Sprintf("the document has %d bytes, more than 10 MiB", len(d.Content)))
	case !bytes.HasPrefix(d.Content, []byte("%PDF-")):
		out = append(out, "the document's content is no PDF")
	}
	return out
}

func (r *run) judgeRetried(arrivals []arrival) verdict {
	if v, ok := r.noDelivery(); ok {
		return v
	}
	var refused *arrival
	for i, a := range arrivals {
		if a.answered == http.StatusServiceUnavailable {
			refused = &arrivals[i]
			continue
		}
		if refused != nil && a.parsed && a.callback.ID == refused.callback.ID {
			return verdict{passed: true, evidence: []string{fmt.Sprintf("callback %s, answered 503, came again after %s",
				describe(*refused), a.at.Sub(refused.at).Round(time.Millisecond))}}
		}
	}
	if refused == nil {
		return verdict{evidence: []string{"no callback arrived, so none could be answered 503"}}
	}
	return verdict{evidence: []string{fmt.Sprintf("callback %s, answered 503, did not come again within %s",
		describe(*refused), r.cfg.CallbackWait)}}
}

func (r *run) judgeDecision(arrivals []arrival) verdict {
	if v, ok := r.noDelivery(); ok {
		return v
	}
	v := verdict{}
	for _, a := range arrivals {
		cb := a.callback
		if !a.parsed || cb.CaseID != r.caseA || cb.Event != ozgflow.CallbackDecided {
			continue
		}
		problems := []string{}
		if cb.Outcome != ozgflow.OutcomeApprove && cb.Outcome != ozgflow.OutcomeReject {
			problems = append(problems, fmt.Sprintf("outcome %q", cb.Outcome))
		}
		if cb.Document == nil {
			problems = append(problems, "no document")
		} else {
			problems = append(problems, documentProblems(cb.Document)...)
		}
		if len(problems) == 0 {
			return verdict{passed: true, evidence: []string{fmt.Sprintf("%s with %s (%d bytes, PDF)",
				describe(a), cb.Document.Name, len(cb.Document.Content))}}
		}
		v.add("%s: %s", describe(a), strings.Join(problems, "; "))
	}
	if len(v.evidence) == 0 {
		v.add("no decision on case A (%s) arrived within %s, though its delivery said awaitsDecision", short(r.caseA), r.cfg.CallbackWait)
	}
	return v
}
