package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/gateway/web"
)

// webhookMemory is how long the gateway remembers a webhook's ID: a
// signature is accepted up to ozgflow.SignatureMaxSkew either side of its
// timestamp, so a recording can be replayed at most that long after the
// first delivery was taken, even if that came early; a minute more covers
// clocks of several gateways drifting apart.
const webhookMemory = 2*ozgflow.SignatureMaxSkew + time.Minute

// Kinds of signed webhooks; each keeps its IDs apart from the others'.
const (
	webhookPayment   = "payment"
	webhookSignature = "signature"
)

// paymentWebhook is the body a payment provider posts on a status change.
type paymentWebhook struct {
	PaymentID     string `json:"paymentId"`
	CaseID        string `json:"caseId"`
	Status        string `json:"status"`
	Kassenzeichen string `json:"kassenzeichen"` // optional
}

// signatureWebhook is the body a signing service posts after the applicant
// signed or declined.
type signatureWebhook struct {
	CaseID    string `json:"caseId"`
	SessionID string `json:"sessionId"`
	Status    string `json:"status"`
}

// handlePaymentWebhook verifies the provider's HMAC signature and passes the
// status to the case as a signal, once per webhook ID.
func (s *API) handlePaymentWebhook(w http.ResponseWriter, r *http.Request) {
	var ev paymentWebhook
	const needs = "The webhook needs paymentId, caseId and status."
	id, ok := s.readSignedWebhook(w, r, "Payment", s.webhooks.Payment, &ev, needs)
	if !ok {
		return
	}
	if !s.webhookFields(w, r, needs, ozgflow.Line("/paymentId", ev.PaymentID, ozgflow.MaxSubjectRunes),
		ozgflow.Line("/caseId", ev.CaseID, ozgflow.MaxSubjectRunes), ozgflow.Line("/status", ev.Status, ozgflow.MaxCodeRunes)) {
		return
	}
	if bad := ozgflow.CheckText(ozgflow.Line("/kassenzeichen", ev.Kassenzeichen, ozgflow.MaxSubjectRunes)); len(bad) > 0 {
		s.errors.Write(w, r, ozgflow.InvalidInput(bad))
		return
	}
	s.signalFromWebhook(w, r, webhookPayment, id, ev.CaseID, ozgflow.SignalPayment,
		ozgflow.PaymentEvent{PaymentID: ev.PaymentID, Status: ev.Status, Kassenzeichen: ev.Kassenzeichen})
}

// handleSignatureWebhook verifies the signing service's HMAC signature and
// passes the session's new status to the case as a signal, once per webhook
// ID; the case then asks the service for the signature itself.
func (s *API) handleSignatureWebhook(w http.ResponseWriter, r *http.Request) {
	var ev signatureWebhook
	const needs = "The webhook needs caseId, sessionId and status."
	id, ok := s.readSignedWebhook(w, r, "Signature", s.webhooks.Signature, &ev, needs)
	if !ok {
		return
	}
	if !s.webhookFields(w, r, needs, ozgflow.Line("/caseId", ev.CaseID, ozgflow.MaxSubjectRunes),
		ozgflow.Line("/sessionId", ev.SessionID, ozgflow.MaxSubjectRunes), ozgflow.Line("/status", ev.Status, ozgflow.MaxCodeRunes)) {
		return
	}
	s.signalFromWebhook(w, r, webhookSignature, id, ev.CaseID, ozgflow.SignalSignature,
		ozgflow.SignatureEvent{SessionID: ev.SessionID, Status: ev.Status})
}

// webhookFields refuses a webhook that lacks one of its fields (saying what
// it needs) or whose fields are too long or hold control characters,
// naming them; a signature vouches for the sender, not for what it sends.
func (s *API) webhookFields(w http.ResponseWriter, r *http.Request, needs string, fields ...ozgflow.Text) bool {
	for _, f := range fields {
		if f.Value == "" {
			s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EINVALID, "%s", needs))
			return false
		}
	}
	if bad := ozgflow.CheckText(fields...); len(bad) > 0 {
		s.errors.Write(w, r, ozgflow.InvalidInput(bad))
		return false
	}
	return true
}

// readSignedWebhook reads a webhook's body, checks its HMAC signature over
// its ID with secret (an empty secret refuses every webhook of the kind)
// and decodes it into v; it returns the webhook's ID and answers refusals
// itself: 401 for a missing or bad signature, 400 for a webhook signed
// without an ID (a sender from before IDs, told which header it lacks),
// and for a body that is no JSON with needs.
func (s *API) readSignedWebhook(w http.ResponseWriter, r *http.Request, kind string, secret []byte, v any, needs string) (string, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.ETOOLARGE, "The webhook body is too large."))
		return "", false
	}
	if len(secret) == 0 {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EUNAUTHORIZED, "%s webhooks are not configured.", kind))
		return "", false
	}
	id := r.Header.Get(ozgflow.HeaderWebhookID)
	ts, sig := r.Header.Get(ozgflow.HeaderSignatureTimestamp), r.Header.Get(ozgflow.HeaderSignature)
	if id == "" {
		// Only a sender that proves itself learns what it lacks.
		if err := ozgflow.VerifyBody(secret, s.now(), ts, sig, body); err != nil {
			s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EUNAUTHORIZED, "Webhook signature refused: %v.", err))
			return "", false
		}
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EINVALID,
			"The webhook has no %s header: send a unique ID per event there and sign it with the body.", ozgflow.HeaderWebhookID))
		return "", false
	}
	if !ozgflow.ValidWebhookID(id) {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EINVALID,
			"The %s header must be 1 to %d letters, digits, '-' or '_'.", ozgflow.HeaderWebhookID, ozgflow.WebhookIDMaxLen))
		return "", false
	}
	if err := ozgflow.VerifyWebhook(secret, s.now(), ts, id, sig, body); err != nil {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EUNAUTHORIZED, "Webhook signature refused: %v.", err))
		return "", false
	}
	if err := web.CheckJSON(body); err != nil {
		s.errors.Write(w, r, err)
		return "", false
	}
	if err := json.Unmarshal(body, v); err != nil {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EINVALID, "%s", needs))
		return "", false
	}
	return id, true
}

// The providers act in the audit trail when their signed webhooks change a
// case: the request carries no identity of theirs, the signature stands for it.
var (
	paymentProvider = ozgflow.Identity{Subject: "payment-provider", Name: "Zahlungsdienstleister", Role: ozgflow.RoleProvider}
	signingService  = ozgflow.Identity{Subject: "signing-service", Name: "Signaturdienst", Role: ozgflow.RoleProvider}
)

// signalFromWebhook passes a verified webhook's event to its case, unless
// a webhook with its ID was taken within webhookMemory: a repeat is answered
// 204 like the first and changes nothing. When Redis cannot say, the
// answer is 503, so the sender tries again, and nothing is signalled twice.
// A signal that fails forgets the ID again, so the sender's retry counts.
func (s *API) signalFromWebhook(w http.ResponseWriter, r *http.Request, kind, id, caseID, signal string, event any) {
	web.NoteCase(r.Context(), caseID)
	web.NoteDetail(r.Context(), "webhook "+id)
	first, err := s.store.FirstSeen(r.Context(), kind, id, webhookMemory)
	if err != nil {
		s.logger.Warn("Webhook not checked for repeats", "kind", kind, "webhookId", id, "error", err)
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EUNAVAILABLE, "The webhook cannot be taken now; send it again later."))
		return
	}
	if !first {
		s.logger.Info("Webhook repeated; ignored", "kind", kind, "webhookId", id, "caseId", caseID)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err := s.cases.Signal(r.Context(), caseID, signal, event); err != nil {
		if ferr := s.store.Forget(context.WithoutCancel(r.Context()), kind, id); ferr != nil {
			s.logger.Warn("Failed webhook's ID not forgotten; a retry is taken for a repeat, the case learns the status by polling",
				"kind", kind, "webhookId", id, "error", ferr)
		}
		s.errors.Write(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
