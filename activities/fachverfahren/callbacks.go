package fachverfahren

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities/internal/sandbox"
)

// The simulator's callbacks: where a delivery names a callbackUrl and
// awaits the back office's decision (or the mode is CallbacksAll), the
// simulator reports received, then in review, then its decision with a
// PDF, each after CallbackDelay, signed like a delivery (ozgflow.SignBody
// with the shared secret, afresh for every attempt), and tries each again
// with a growing pause while the receiver is unavailable (network errors,
// 408, 425, 429, 5xx). Each callback has an ID of its own that its retries
// keep, so the receiver takes it once.

// callbackBackoff is the first pause between tries of a callback, and the
// longest.
const (
	callbackBackoff    = 250 * time.Millisecond
	callbackBackoffMax = 10 * time.Second
)

// reportsOn reports whether the simulator reports back on rec by itself.
// The caller holds s.mu.
func (s *Simulator) reportsOn(rec Record) bool {
	if rec.CallbackURL == "" || rec.Kind != "case" || rec.Withdrawn || s.cfg.Callbacks == CallbacksOff {
		return false
	}
	return rec.Submission.AwaitsDecision || s.cfg.Callbacks == CallbacksAll
}

// planned lists the events the simulator reports on rec by itself.
func (s *Simulator) planned(rec Record) []string {
	events := []string{ozgflow.CallbackReceived, ozgflow.CallbackInReview}
	if rec.Submission.AwaitsDecision && s.cfg.Callbacks != CallbacksProgress {
		events = append(events, ozgflow.CallbackDecided)
	}
	return events
}

// pending lists the planned events of rec not sent yet. The caller holds s.mu.
func (s *Simulator) pending(rec Record) []string {
	var out []string
	for _, event := range s.planned(rec) {
		if !rec.sent(event) {
			out = append(out, event)
		}
	}
	return out
}

// sent reports whether a callback of the event was sent (or given up).
func (rec Record) sent(event string) bool {
	for _, cb := range rec.Callbacks {
		if cb.Event == event {
			return true
		}
	}
	return false
}

// startCallbacks reports back on the delivery ref in the background. The
// caller holds s.mu.
func (s *Simulator) startCallbacks(ref string) {
	if s.closed || s.sending[ref] {
		return
	}
	s.sending[ref] = true
	s.senders.Go(func() { s.report(ref) })
}

// report sends the pending callbacks of the delivery ref, one after the
// other, until all are sent or the case is withdrawn.
func (s *Simulator) report(ref string) {
	defer func() {
		s.mu.Lock()
		delete(s.sending, ref)
		s.mu.Unlock()
	}()
	for {
		s.mu.Lock()
		rec := s.state.Records[s.byRef[ref]]
		pending := s.pending(rec)
		s.mu.Unlock()
		if len(pending) == 0 || rec.Withdrawn {
			return
		}
		if !s.pause(s.cfg.CallbackDelay) {
			return
		}
		req := s.callback(rec, pending[0], s.cfg.Outcome, "", true)
		req.ID = "cb-" + rec.Reference + "-" + strings.ReplaceAll(pending[0], "_", "-")
		sent := s.send(s.stop, rec.CallbackURL, req)
		if s.stop.Err() != nil {
			return // not recorded: sent again after a restart
		}
		s.keep(ref, sent) // taken or not, the next event follows: a back office reports each
	}
}

// pause waits d, or until the simulator closes; it reports whether it waited.
func (s *Simulator) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.stop.Done():
		return false
	case <-t.C:
		return true
	}
}

// callback builds the report of event on rec; a decision carries outcome,
// comment (a default one when empty) and, if withDocument, the decision as
// PDF.
func (s *Simulator) callback(rec Record, event, outcome, comment string, withDocument bool) ozgflow.CallbackRequest {
	req := ozgflow.CallbackRequest{ID: "cb-" + rec.Reference + "-" + strings.ToLower(rand.Text()[:10]),
		CaseID: rec.CaseID, Reference: rec.Reference, Event: event, At: time.Now().UTC()}
	if event != ozgflow.CallbackDecided {
		req.Comment = comment
		return req
	}
	req.Outcome, req.Comment = outcome, comment
	if req.Comment == "" && outcome == ozgflow.OutcomeReject {
		req.Comment = "Die Voraussetzungen liegen nicht vor."
	}
	if withDocument {
		req.Document = &ozgflow.CallbackDocument{Name: "Bescheid-" + rec.Reference + ".pdf", ContentType: "application/pdf",
			Content: DecisionPDF(rec.Reference, rec.CaseID, rec.Submission.Service, outcome, req.Comment, req.At)}
	}
	return req
}

// keep records a sent callback on the delivery ref and in the journal.
func (s *Simulator) keep(ref string, sent SentCallback) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.byRef[ref]
	s.state.Records[i].Callbacks = append(s.state.Records[i].Callbacks, sent)
	if err := s.journal.Append(journalEntry{Record: s.state.Records[i]}); err != nil {
		s.log.Error("Callback not saved", "reference", ref, "error", err)
	}
}

// send posts a callback to url until the receiver takes or refuses it, or
// ctx ends, and says how it went.
func (s *Simulator) send(ctx context.Context, url string, req ozgflow.CallbackRequest) SentCallback {
	sent := SentCallback{ID: req.ID, Event: req.Event, Outcome: req.Outcome, At: req.At}
	body, err := json.Marshal(req)
	if err != nil {
		sent.Error = err.Error()
		return sent
	}
	key := s.cfg.Secret
	if s.cfg.Faults.WrongCallbackSignatures {
		key = append([]byte("not-the-secret:"), key...)
	}
	wait := callbackBackoff
	for sent.Attempts < s.cfg.CallbackAttempts {
		if sent.Attempts > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return sent
			case <-t.C:
			}
			wait = min(2*wait, callbackBackoffMax)
		}
		sent.Attempts++
		status, answer, err := postSigned(ctx, s.cfg.HTTPClient, url, key, body)
		sent.Status, sent.Error = status, ""
		switch {
		case err != nil:
			sent.Error = err.Error()
		case status >= 200 && status < 300:
			s.log.Info("Callback taken", "caseId", req.CaseID, "reference", req.Reference, "event", req.Event,
				"callbackId", req.ID, "attempts", sent.Attempts)
			return sent
		default:
			sent.Error = answer
		}
		if err == nil && !retryable(status) {
			break
		}
		if ctx.Err() != nil {
			return sent
		}
	}
	s.log.Warn("Callback not taken", "caseId", req.CaseID, "reference", req.Reference, "event", req.Event,
		"callbackId", req.ID, "status", sent.Status, "attempts", sent.Attempts, "error", sent.Error)
	return sent
}

// retryable reports whether an answer may change when the callback comes again.
func retryable(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	}
	return status >= 500
}

// postSigned posts body to url signed with key at this moment, and returns
// the answer's status and, for a refusal, a line of its body.
func postSigned(ctx context.Context, hc *http.Client, url string, key, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	now := time.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(ozgflow.HeaderSignatureTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(ozgflow.HeaderSignature, ozgflow.SignBody(key, now, body))
	res, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 4<<10))
	answer := ""
	if res.StatusCode >= 300 {
		answer = strings.Join(strings.Fields(string(b)), " ")
	}
	return res.StatusCode, answer, nil
}

// sendRequest is the body of POST {path}/callbacks: the back office reports
// on a delivery now, as a person at its desk would.
type sendRequest struct {
	Reference string `json:"reference"`
	Event     string `json:"event"`
	Outcome   string `json:"outcome,omitempty"`
	Comment   string `json:"comment,omitempty"`
	// NoDocument sends a decision without its PDF.
	NoDocument bool `json:"noDocument,omitempty"`
}

// handleSendCallback reports on a delivery now: received, in_review, or
// decided with outcome approve or reject, and answers what the receiver
// said.
func (s *Simulator) handleSendCallback(w http.ResponseWriter, r *http.Request) {
	var req sendRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		sandbox.WriteError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return
	}
	if !ozgflow.KnownCallbackEvent(req.Event) {
		sandbox.WriteError(w, http.StatusBadRequest, "event must be received, in_review or decided")
		return
	}
	if req.Event == ozgflow.CallbackDecided {
		if req.Outcome == "" {
			req.Outcome = s.cfg.Outcome
		}
		if req.Outcome != ozgflow.OutcomeApprove && req.Outcome != ozgflow.OutcomeReject {
			sandbox.WriteError(w, http.StatusBadRequest, "outcome must be approve or reject")
			return
		}
	}
	s.mu.Lock()
	i, ok := s.byRef[req.Reference]
	var rec Record
	if ok {
		rec = s.state.Records[i]
	}
	s.mu.Unlock()
	switch {
	case !ok:
		sandbox.WriteError(w, http.StatusNotFound, "no delivery with reference "+req.Reference)
		return
	case rec.CallbackURL == "":
		sandbox.WriteError(w, http.StatusConflict, "the delivery "+req.Reference+" named no callbackUrl")
		return
	}
	sent := s.send(r.Context(), rec.CallbackURL, s.callback(rec, req.Event, req.Outcome, req.Comment, !req.NoDocument))
	s.keep(rec.Reference, sent)
	status := http.StatusOK
	if sent.Status < 200 || sent.Status > 299 {
		status = http.StatusBadGateway
	}
	sandbox.WriteJSON(w, status, sent)
}

// errNoDelivery is Callback's error for an unknown reference.
var errNoDelivery = errors.New("no such delivery")

// Callback reports on the delivery ref now, as handleSendCallback does,
// for tests and tools: event, and for a decision outcome and comment, with
// the PDF.
func (s *Simulator) Callback(ctx context.Context, ref, event, outcome, comment string) (SentCallback, error) {
	s.mu.Lock()
	i, ok := s.byRef[ref]
	var rec Record
	if ok {
		rec = s.state.Records[i]
	}
	s.mu.Unlock()
	if !ok {
		return SentCallback{}, fmt.Errorf("%w: %s", errNoDelivery, ref)
	}
	if rec.CallbackURL == "" {
		return SentCallback{}, fmt.Errorf("delivery %s named no callbackUrl", ref)
	}
	if outcome == "" {
		outcome = s.cfg.Outcome
	}
	sent := s.send(ctx, rec.CallbackURL, s.callback(rec, event, outcome, comment, true))
	s.keep(ref, sent)
	return sent, nil
}
