package signer

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/activities/internal/sandbox"
)

// SignaturePagePath is where the sandbox serves the applicant's signing
// page, followed by the session ID.
const SignaturePagePath = "/sandbox/signatur/"

// SignatureType is the typ header of an applicant's signature. It tells the
// signature apart from the authority's seal over the same payload, so that
// nobody can pass it off as a receipt (receipt.ApplicantSignatureType).
const SignatureType = "ozgflow-applicant-signature+jws"

// SignatureEvent is the body the sandbox posts to the webhook URL after the
// applicant signed or declined, with a webhook ID and signed like the
// payment sandbox's webhooks (ozgflow.SignWebhook).
type SignatureEvent struct {
	CaseID    string `json:"caseId"`
	SessionID string `json:"sessionId"`
	Status    string `json:"status"` // ozgflow.SignatureSigned or SignatureDeclined
}

// Errors of Decide; the signing page answers them with 404, 400 and 409.
var (
	ErrUnknownSession = errors.New("unknown signature session")
	ErrBadDecision    = errors.New("unknown action, want sign or decline")
	ErrDecided        = errors.New("the signature session is already decided")
)

// decisions maps the signing page's buttons to the statuses they set.
var decisions = map[string]string{
	"sign":    ozgflow.SignatureSigned,
	"decline": ozgflow.SignatureDeclined,
}

// session is one applicant signature the sandbox holds; the journal has a
// line per change.
type session struct {
	ID        string    `json:"id"`
	RequestID string    `json:"requestId"`
	CaseID    string    `json:"caseId"`
	Payload   []byte    `json:"payload"`
	Status    string    `json:"status"`
	JWS       string    `json:"jws,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// replay takes one journal line.
func (s *Sandbox) replay(line []byte) error {
	var rec session
	if err := json.Unmarshal(line, &rec); err != nil {
		return err
	}
	if rec.ID == "" || rec.RequestID == "" {
		return errors.New("signature session without ID or request ID")
	}
	s.sessions[rec.ID], s.byRequest[rec.RequestID] = &rec, rec.ID
	return nil
}

// view is the signing service's answer about a session.
func (s *Sandbox) view(rec *session) activities.SignatureSession {
	v := activities.SignatureSession{ID: rec.ID, Status: rec.Status,
		RedirectURL: s.cfg.PublicURL + SignaturePagePath + rec.ID}
	if rec.Status == ozgflow.SignatureSigned {
		v.JWS, v.KeyID = rec.JWS, s.key.KeyID
	}
	return v
}

// returnURL is the applicant's status page of a case.
func (s *Sandbox) returnURL(caseID string) string {
	return s.cfg.ReturnURL + "/antraege/" + caseID
}

func (s *Sandbox) handleStartSignature(w http.ResponseWriter, r *http.Request) {
	var req activities.SignatureRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 2*MaxPayload)).Decode(&req); err != nil {
		sandbox.WriteError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return
	}
	var missing []string
	if strings.TrimSpace(req.RequestID) == "" {
		missing = append(missing, "requestId")
	}
	if strings.TrimSpace(req.CaseID) == "" {
		missing = append(missing, "caseId")
	}
	if len(req.Payload) == 0 {
		missing = append(missing, "payload")
	}
	if len(missing) > 0 {
		sandbox.WriteError(w, http.StatusBadRequest, "missing "+strings.Join(missing, ", "))
		return
	}
	if len(req.Payload) > MaxPayload {
		sandbox.WriteError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("payload larger than %d bytes", MaxPayload))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.byRequest[req.RequestID]; ok {
		rec := s.sessions[id]
		if rec.CaseID != req.CaseID || string(rec.Payload) != string(req.Payload) {
			sandbox.WriteError(w, http.StatusConflict, "requestId "+req.RequestID+" belongs to another signature")
			return
		}
		sandbox.WriteJSON(w, http.StatusOK, s.view(rec))
		return
	}
	id, err := newSessionID()
	if err != nil {
		sandbox.WriteError(w, http.StatusInternalServerError, "no session ID")
		return
	}
	now := time.Now().UTC()
	rec := &session{ID: id, RequestID: req.RequestID, CaseID: req.CaseID, Payload: req.Payload,
		Status: ozgflow.SignaturePending, CreatedAt: now, UpdatedAt: now}
	if err := s.journal.Append(rec); err != nil {
		s.log.Error("Signature session not saved", "caseId", req.CaseID, "error", err)
		sandbox.WriteError(w, http.StatusInternalServerError, "signature session not saved")
		return
	}
	s.sessions[id], s.byRequest[req.RequestID] = rec, id
	s.log.Info("Signature session opened", "sessionId", id, "caseId", req.CaseID)
	sandbox.WriteJSON(w, http.StatusCreated, s.view(rec))
}

func (s *Sandbox) handleSignatureStatus(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.sessions[mux.Vars(r)["id"]]
	if !ok {
		sandbox.WriteError(w, http.StatusNotFound, ErrUnknownSession.Error())
		return
	}
	sandbox.WriteJSON(w, http.StatusOK, s.view(rec))
}

// Decide performs the applicant's choice on the signing page, "sign" or
// "decline": signing makes a JWS over the payload with the sandbox key and
// typ SignatureType. The decision is saved, then posted to the webhook URL;
// a webhook that fails is retried in the background and does not fail the
// decision. It returns the case ID. Errors are ErrUnknownSession,
// ErrBadDecision, ErrDecided or a failure to sign or save.
func (s *Sandbox) Decide(sessionID, action string) (string, error) {
	s.mu.Lock()
	rec, ok := s.sessions[sessionID]
	if !ok {
		s.mu.Unlock()
		return "", fmt.Errorf("signature %s: %w", sessionID, ErrUnknownSession)
	}
	status, ok := decisions[action]
	if !ok {
		s.mu.Unlock()
		return rec.CaseID, fmt.Errorf("signature %s: %w: %q", sessionID, ErrBadDecision, action)
	}
	if rec.Status != ozgflow.SignaturePending {
		s.mu.Unlock()
		return rec.CaseID, fmt.Errorf("signature %s is %s: %w", sessionID, rec.Status, ErrDecided)
	}
	next := *rec
	next.Status, next.UpdatedAt = status, time.Now().UTC()
	if status == ozgflow.SignatureSigned {
		obj, err := s.sigSign.Sign(rec.Payload)
		if err == nil {
			next.JWS, err = obj.CompactSerialize()
		}
		if err != nil {
			s.mu.Unlock()
			return rec.CaseID, fmt.Errorf("signature %s: sign: %w", sessionID, err)
		}
	}
	if err := s.journal.Append(&next); err != nil {
		s.mu.Unlock()
		return rec.CaseID, fmt.Errorf("signature %s: %w", sessionID, err)
	}
	*rec = next
	s.mu.Unlock()

	s.log.Info("Signature decided", "sessionId", sessionID, "caseId", next.CaseID, "status", status)
	body, err := json.Marshal(SignatureEvent{CaseID: next.CaseID, SessionID: next.ID, Status: status})
	if err == nil {
		s.webhooks.Send(body, "sessionId", next.ID, "caseId", next.CaseID, "status", status)
	}
	return next.CaseID, nil
}

// sessionView is a copy of a session for the page, taken under the lock.
func (s *Sandbox) sessionView(sessionID string) (session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.sessions[sessionID]
	if !ok {
		return session{}, false
	}
	return *rec, true
}

// newSessionID makes a session ID that cannot be guessed from another one.
func newSessionID() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("signature session ID: %w", err)
	}
	return "sig_" + hex.EncodeToString(b), nil
}
