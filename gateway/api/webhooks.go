package api

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/ozgflow/ozgflow"
)

// paymentWebhook is the body a payment provider posts on a status change.
type paymentWebhook struct {
	PaymentID string `json:"paymentId"`
	CaseID    string `json:"caseId"`
	Status    string `json:"status"`
}

// signatureWebhook is the body a signing service posts after the applicant
// signed or declined.
type signatureWebhook struct {
	CaseID    string `json:"caseId"`
	SessionID string `json:"sessionId"`
	Status    string `json:"status"`
}

// handlePaymentWebhook verifies the provider's HMAC signature and passes the
// status to the case as a signal.
func (s *API) handlePaymentWebhook(w http.ResponseWriter, r *http.Request) {
	var ev paymentWebhook
	const needs = "The webhook needs paymentId, caseId and status."
	if !s.readSignedWebhook(w, r, "Payment", s.webhooks.Payment, &ev, needs) {
		return
	}
	if ev.PaymentID == "" || ev.CaseID == "" || ev.Status == "" {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EINVALID, needs))
		return
	}
	s.signalFromWebhook(w, r, ev.CaseID, ozgflow.SignalPayment, ozgflow.PaymentEvent{PaymentID: ev.PaymentID, Status: ev.Status})
}

// handleSignatureWebhook verifies the signing service's HMAC signature and
// passes the session's new status to the case as a signal; the case then
// asks the service for the signature itself.
func (s *API) handleSignatureWebhook(w http.ResponseWriter, r *http.Request) {
	var ev signatureWebhook
	const needs = "The webhook needs caseId, sessionId and status."
	if !s.readSignedWebhook(w, r, "Signature", s.webhooks.Signature, &ev, needs) {
		return
	}
	if ev.CaseID == "" || ev.SessionID == "" || ev.Status == "" {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EINVALID, needs))
		return
	}
	s.signalFromWebhook(w, r, ev.CaseID, ozgflow.SignalSignature, ozgflow.SignatureEvent{SessionID: ev.SessionID, Status: ev.Status})
}

// readSignedWebhook reads a webhook's body, checks its HMAC signature with
// secret (an empty secret refuses every webhook of the kind) and decodes
// it into v; it answers refusals itself, a body that is no JSON with needs.
func (s *API) readSignedWebhook(w http.ResponseWriter, r *http.Request, kind string, secret []byte, v any, needs string) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.ETOOLARGE, "The webhook body is too large."))
		return false
	}
	if len(secret) == 0 {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EUNAUTHORIZED, "%s webhooks are not configured.", kind))
		return false
	}
	if err := ozgflow.VerifyBody(secret, s.now(), r.Header.Get(ozgflow.HeaderSignatureTimestamp),
		r.Header.Get(ozgflow.HeaderSignature), body); err != nil {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EUNAUTHORIZED, "Webhook signature refused: %v.", err))
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EINVALID, "%s", needs))
		return false
	}
	return true
}

// signalFromWebhook passes a verified webhook's event to its case.
func (s *API) signalFromWebhook(w http.ResponseWriter, r *http.Request, caseID, signal string, event any) {
	if err := s.cases.Signal(r.Context(), caseID, signal, event); err != nil {
		s.errors.Write(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
