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

// handlePaymentWebhook verifies the provider's HMAC signature and passes the
// status to the case as a signal.
func (s *API) handlePaymentWebhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.ETOOLARGE, "The webhook body is too large."))
		return
	}
	if err := ozgflow.VerifyBody(s.webhooks.Payment, s.now(), r.Header.Get(ozgflow.HeaderSignatureTimestamp),
		r.Header.Get(ozgflow.HeaderSignature), body); err != nil {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EUNAUTHORIZED, "Webhook signature refused: %v.", err))
		return
	}
	var ev paymentWebhook
	if err := json.Unmarshal(body, &ev); err != nil || ev.PaymentID == "" || ev.CaseID == "" || ev.Status == "" {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EINVALID, "The webhook needs paymentId, caseId and status."))
		return
	}
	err = s.cases.Signal(r.Context(), ev.CaseID, ozgflow.SignalPayment, ozgflow.PaymentEvent{PaymentID: ev.PaymentID, Status: ev.Status})
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// signatureWebhook is the body a signing service posts after the applicant
// signed or declined.
type signatureWebhook struct {
	CaseID    string `json:"caseId"`
	SessionID string `json:"sessionId"`
	Status    string `json:"status"`
}

// handleSignatureWebhook verifies the signing service's HMAC signature and
// passes the session's new status to the case as a signal; the case then
// asks the service for the signature itself.
func (s *API) handleSignatureWebhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.ETOOLARGE, "The webhook body is too large."))
		return
	}
	if len(s.webhooks.Signature) == 0 {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EUNAUTHORIZED, "Signature webhooks are not configured."))
		return
	}
	if err := ozgflow.VerifyBody(s.webhooks.Signature, s.now(), r.Header.Get(ozgflow.HeaderSignatureTimestamp),
		r.Header.Get(ozgflow.HeaderSignature), body); err != nil {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EUNAUTHORIZED, "Webhook signature refused: %v.", err))
		return
	}
	var ev signatureWebhook
	if err := json.Unmarshal(body, &ev); err != nil || ev.CaseID == "" || ev.SessionID == "" || ev.Status == "" {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EINVALID, "The webhook needs caseId, sessionId and status."))
		return
	}
	err = s.cases.Signal(r.Context(), ev.CaseID, ozgflow.SignalSignature, ozgflow.SignatureEvent{SessionID: ev.SessionID, Status: ev.Status})
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
