package api

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/records"
)

// submitResponse is the answer to a submit.
type submitResponse struct {
	ID string `json:"id"`
	// CaseNumber is there once the case has drawn it: with a payment link,
	// whose answer waits for the case's first steps, always.
	CaseNumber  string       `json:"caseNumber,omitempty"`
	Status      string       `json:"status"`
	Stage       string       `json:"stage"`
	AccessToken string       `json:"accessToken"`
	StatusURL   string       `json:"statusUrl"`
	Payment     *paymentView `json:"payment,omitempty"`
}

// handleSubmit starts a case. With an Idempotency-Key a retry finds the same
// case; a different body under the same key is a conflict.
func (s *API) handleSubmit(w http.ResponseWriter, r *http.Request) {
	body, docs, err := readSubmission(w, r)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	var sub casework.Submission
	if err := web.DecodeJSON(body, &sub); err != nil {
		s.errors.Write(w, r, err)
		return
	}
	sub.Documents = docs
	// A retried multipart submit has another boundary: what identifies it
	// is the application and its documents.
	for _, d := range docs {
		body = append(body, "\x00"+d.SHA256...)
	}
	state, err := s.cases.Submit(r.Context(), ozgflow.IdentityFrom(r.Context()), sub, body, r.Header.Get("Idempotency-Key"))
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/applications/"+state.ID)
	web.WriteJSON(w, http.StatusCreated, submitResponse{
		ID:          state.ID,
		CaseNumber:  state.CaseNumber,
		Status:      string(state.Status),
		Stage:       state.Stage,
		AccessToken: s.tokens.Issue(state.ID),
		StatusURL:   "/api/v1/applications/" + state.ID,
		Payment:     newPaymentView(state.Payment),
	})
}

// readSubmission reads an application as JSON, or as multipart/form-data
// with the JSON in the part "application" and documents in parts "files".
func readSubmission(w http.ResponseWriter, r *http.Request) ([]byte, []records.Document, error) {
	if !web.IsMultipart(r) {
		body, err := web.ReadJSONBody(w, r)
		return body, nil, err
	}
	up, fail := web.ReadSubmitUpload(r)
	if fail != nil {
		return nil, nil, fail.APIError()
	}
	return up.Application, up.Files, nil
}

// caseFor loads the route's case if the caller may see it, and answers the
// refusal itself.
func (s *API) caseFor(w http.ResponseWriter, r *http.Request) (ozgflow.Case, ozgflow.Identity, bool) {
	id := ozgflow.IdentityFrom(r.Context())
	c, err := s.cases.CaseFor(r.Context(), id, mux.Vars(r)["id"])
	if err != nil {
		s.errors.Write(w, r, err)
		return c, id, false
	}
	web.NoteAccount(r.Context(), c.PortalAccount)
	return c, id, true
}

func (s *API) handleGetApplication(w http.ResponseWriter, r *http.Request) {
	c, id, ok := s.caseFor(w, r)
	if !ok {
		return
	}
	view := newCaseView(c, id.Role != ozgflow.RoleApplicant)
	if c.StageKind == definitions.KindDeliver || c.StageKind == definitions.KindArchive {
		if view.Delivery == nil {
			view.Delivery = &deliveryView{State: "pending"}
		}
		if d, ok := s.cases.PendingDelivery(r.Context(), c.ID); ok {
			view.Delivery.Attempts, view.Delivery.NextAttemptAt = d.Attempts, d.NextAttemptAt
			if d.Failed && view.Delivery.State != "rejected" {
				view.Delivery.State, view.Delivery.LastError = "retrying", d.LastError
			}
		}
	}
	web.WriteJSON(w, http.StatusOK, view)
}

// handleReceipt returns the sealed receipt (Eingangsbestätigung).
func (s *API) handleReceipt(w http.ResponseWriter, r *http.Request) {
	c, _, ok := s.caseFor(w, r)
	if !ok {
		return
	}
	if c.Seal == nil {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.ENOTFOUND, "The application has not been sealed yet."))
		return
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{
		"caseId":   c.ID,
		"jws":      c.Seal.JWS,
		"keyId":    c.Seal.KeyID,
		"sealedAt": c.Seal.SealedAt,
		"payload":  sealedPayload(c.Seal.JWS),
		"keysUrl":  "/api/v1/keys",
	})
}

// handleRespond passes the applicant's answer to an information request: as
// JSON, or as multipart/form-data with documents ("files"), which are kept
// in the store and recorded on the case by name, type, size and hash.
func (s *API) handleRespond(w http.ResponseWriter, r *http.Request) {
	c, _, ok := s.caseFor(w, r)
	if !ok {
		return
	}
	var resp ozgflow.Response
	var files []records.Document
	if web.IsMultipart(r) {
		up, fail := web.ReadAnswerUpload(r)
		if fail != nil {
			s.errors.Write(w, r, fail.APIError())
			return
		}
		resp, files = ozgflow.Response{Text: up.Text, Data: up.Data}, up.Files
	} else {
		if !s.readBody(w, r, &resp) {
			return
		}
		if err := s.cases.CheckAnswer(r.Context(), c.ID, resp); err != nil {
			s.errors.Write(w, r, err)
			return
		}
	}
	state, err := s.cases.Respond(r.Context(), c.ID, resp, files)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, newCaseView(state, false))
}

// handleWithdraw withdraws the case for its applicant.
func (s *API) handleWithdraw(w http.ResponseWriter, r *http.Request) {
	c, _, ok := s.caseFor(w, r)
	if !ok {
		return
	}
	var wd ozgflow.Withdrawal
	if r.ContentLength != 0 && !s.readBody(w, r, &wd) {
		return
	}
	state, err := s.cases.Withdraw(r.Context(), c.ID, wd)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, newCaseView(state, false))
}

// handleRetryPayment opens a new payment after a failed or cancelled one.
func (s *API) handleRetryPayment(w http.ResponseWriter, r *http.Request) {
	c, _, ok := s.caseFor(w, r)
	if !ok {
		return
	}
	p, err := s.cases.RetryPayment(r.Context(), c.ID)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, newPaymentView(&p))
}

// handleResendDelivery sends a case again whose delivery its destination
// rejected or never answered, once an administrator fixed the cause.
func (s *API) handleResendDelivery(w http.ResponseWriter, r *http.Request) {
	c, id, ok := s.caseFor(w, r)
	if !ok {
		return
	}
	state, err := s.cases.ResendDelivery(r.Context(), id.Subject, c.ID)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, newCaseView(state, true))
}

// handleExternalEvent passes a back-office system's event to a waiting case.
func (s *API) handleExternalEvent(w http.ResponseWriter, r *http.Request) {
	c, id, ok := s.caseFor(w, r)
	if !ok {
		return
	}
	var ev ozgflow.ExternalEvent
	if !s.readBody(w, r, &ev) {
		return
	}
	if ev.Event == "" {
		s.errors.Write(w, r, &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: "The event needs a name.",
			Fields: []ozgflow.FieldError{{Pointer: "/event", Detail: "is required"}}})
		return
	}
	if ev.Outcome != "" && ev.Outcome != ozgflow.OutcomeApprove && ev.Outcome != ozgflow.OutcomeReject {
		s.errors.Write(w, r, &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: "Unknown outcome.",
			Fields: []ozgflow.FieldError{{Pointer: "/outcome", Detail: "must be approve or reject"}}})
		return
	}
	if err := casework.CheckEvent(ev); err != nil {
		s.errors.Write(w, r, err)
		return
	}
	ev.By = id.Subject
	if err := s.cases.Signal(r.Context(), c.ID, ozgflow.SignalExternal, ev); err != nil {
		s.errors.Write(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// readBody reads and decodes a JSON body, answering the error itself.
func (s *API) readBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := web.ReadJSON(w, r, v); err != nil {
		s.errors.Write(w, r, err)
		return false
	}
	return true
}
