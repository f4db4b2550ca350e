package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/store"
)

func (s *Server) registerApplicationRoutes(r *mux.Router) {
	r.HandleFunc("/applications", s.handleSubmit).Methods(http.MethodPost)
	r.HandleFunc("/applications/{id}", s.handleGetApplication).Methods(http.MethodGet)
	r.HandleFunc("/applications/{id}/receipt", s.handleReceipt).Methods(http.MethodGet)
	r.HandleFunc("/applications/{id}/responses", s.handleRespond).Methods(http.MethodPost)
	r.HandleFunc("/applications/{id}/withdraw", s.handleWithdraw).Methods(http.MethodPost)
	r.HandleFunc("/applications/{id}/payment", s.handleRetryPayment).Methods(http.MethodPost)
	r.HandleFunc("/applications/{id}/events", s.handleExternalEvent).Methods(http.MethodPost)
	r.HandleFunc("/accounts/{account}/notices", s.handleNotices).Methods(http.MethodGet)
}

// submitRequest is the body of POST /applications.
type submitRequest struct {
	Service     string               `json:"service"`
	Authority   string               `json:"authority"`
	Applicant   ozgflow.Applicant    `json:"applicant"`
	Data        json.RawMessage      `json:"data"`
	Attachments []ozgflow.Attachment `json:"attachments"`
}

// submitResponse is the answer to a submit.
type submitResponse struct {
	ID          string       `json:"id"`
	Status      string       `json:"status"`
	Stage       string       `json:"stage"`
	AccessToken string       `json:"accessToken"`
	StatusURL   string       `json:"statusUrl"`
	Payment     *paymentView `json:"payment,omitempty"`
}

// idempotencyNamespace scopes case IDs derived from idempotency keys.
var idempotencyNamespace = uuid.MustParse("6f0c8a36-4f8e-4a43-9a55-0f0f3d9d1c11")

// handleSubmit starts a case. With an Idempotency-Key the case ID is derived
// from client and key, so a retry finds the same case; a different body under
// the same key is a conflict.
func (s *Server) handleSubmit(w http.ResponseWriter, r *http.Request) {
	id, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if id.Role != RolePortal && id.Role != RoleAdmin {
		s.writeError(w, r, ozgflow.Errorf(ozgflow.EFORBIDDEN, "Only portal clients may submit applications."))
		return
	}
	body, err := readJSONBody(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req submitRequest
	if err := decodeJSON(body, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := checkSubmit(req); err != nil {
		s.writeError(w, r, err)
		return
	}
	reg := s.defs.Registry()
	def, err := reg.Resolve(req.Service, req.Authority)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	violations, err := reg.ValidateData(def, req.Data)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(violations) > 0 {
		s.writeError(w, r, &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE,
			Message: "The data does not match the form of this service.", Fields: violations})
		return
	}

	caseID := uuid.NewString()
	hash := sha256.Sum256(body)
	requestHash := hex.EncodeToString(hash[:])
	key := r.Header.Get("Idempotency-Key")
	if key != "" {
		if len(key) > 255 {
			s.writeError(w, r, &ozgflow.Error{Code: ozgflow.EINVALID, Message: "Idempotency-Key is too long (255 characters at most)."})
			return
		}
		caseID = uuid.NewSHA1(idempotencyNamespace, []byte(id.Subject+"\x00"+key)).String()
	}
	app := ozgflow.Application{Service: def.Service, Authority: req.Authority, Applicant: req.Applicant,
		Data: req.Data, Attachments: req.Attachments}
	state, err := s.startCase(r.Context(), caseID, app, def, requestHash)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if state.RequestHash != requestHash {
		s.writeError(w, r, ozgflow.Errorf(ozgflow.ECONFLICT,
			"This Idempotency-Key was already used for a different application."))
		return
	}
	w.Header().Set("Location", "/api/v1/applications/"+caseID)
	writeJSON(w, http.StatusCreated, submitResponse{
		ID:          caseID,
		Status:      string(state.Status),
		Stage:       state.Stage,
		AccessToken: s.tokens.Issue(caseID),
		StatusURL:   "/api/v1/applications/" + caseID,
		Payment:     newPaymentView(state.Payment),
	})
}

// checkSubmit reports missing top-level fields with their pointers.
func checkSubmit(req submitRequest) error {
	var errs []ozgflow.FieldError
	if strings.TrimSpace(req.Service) == "" {
		errs = append(errs, ozgflow.FieldError{Pointer: "/service", Detail: "is required (LeiKa key or slug)"})
	}
	if strings.TrimSpace(req.Authority) == "" {
		errs = append(errs, ozgflow.FieldError{Pointer: "/authority", Detail: "is required (12-digit ARS)"})
	}
	if strings.TrimSpace(req.Applicant.Name) == "" {
		errs = append(errs, ozgflow.FieldError{Pointer: "/applicant/name", Detail: "is required"})
	}
	if e := req.Applicant.Email; e != "" && (!strings.Contains(e, "@") || strings.ContainsAny(e, " \t\r\n")) {
		errs = append(errs, ozgflow.FieldError{Pointer: "/applicant/email", Detail: "is not an e-mail address"})
	}
	if d := bytes.TrimSpace(req.Data); len(d) == 0 || d[0] != '{' {
		errs = append(errs, ozgflow.FieldError{Pointer: "/data", Detail: "must be an object"})
	}
	for i, a := range req.Attachments {
		if len(a.SHA256) != 64 {
			errs = append(errs, ozgflow.FieldError{Pointer: "/attachments/" + itoa(i) + "/sha256", Detail: "must be a hex SHA-256"})
		}
	}
	if len(errs) > 0 {
		return &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: "The application is incomplete.", Fields: errs}
	}
	return nil
}

// startCase starts the case workflow. When a payment link is due, it sends
// the submitted update with the start and answers once the link exists;
// otherwise a plain start suffices. A case already started under the same ID
// (same idempotency key) is answered from its state.
func (s *Server) startCase(ctx context.Context, caseID string, app ozgflow.Application, def definitions.Definition, requestHash string) (ozgflow.Case, error) {
	in := definitions.CaseInput{CaseID: caseID, Application: app, Definition: def,
		SubmittedAt: s.now().UTC(), RequestHash: requestHash}
	wfID := ozgflow.CaseWorkflowID(caseID)
	opts := client.StartWorkflowOptions{
		ID:                       wfID,
		TaskQueue:                ozgflow.CaseTaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		// A case already started under this ID is answered from its state.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword(ozgflow.SearchAttrService).ValueSet(def.Service),
			temporal.NewSearchAttributeKeyKeyword(ozgflow.SearchAttrAuthority).ValueSet(app.Authority),
			temporal.NewSearchAttributeKeyKeyword(ozgflow.SearchAttrStatus).ValueSet(string(ozgflow.StatusReceived)),
			temporal.NewSearchAttributeKeyKeyword(ozgflow.SearchAttrDefinition).ValueSet(fmt.Sprintf("%s@%d", def.ID, def.Version)),
		),
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	state := ozgflow.Case{ID: caseID, Status: ozgflow.StatusReceived, Stage: "received", RequestHash: requestHash}
	var err error
	if needsPaymentLink(def) {
		opts.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
		var handle client.WorkflowUpdateHandle
		handle, err = s.temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
			StartWorkflowOperation: s.temporal.NewWithStartWorkflowOperation(opts, ozgflow.CaseWorkflowName, in),
			UpdateOptions: client.UpdateWorkflowOptions{
				WorkflowID:   wfID,
				UpdateName:   ozgflow.UpdateSubmitted,
				WaitForStage: client.WorkflowUpdateStageCompleted,
			},
		})
		if err == nil {
			err = handle.Get(ctx, &state)
		}
	} else {
		_, err = s.temporal.ExecuteWorkflow(ctx, opts, ozgflow.CaseWorkflowName, in)
	}
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) || isClosedError(err) {
		return s.queryCase(ctx, caseID)
	}
	if err != nil {
		return state, fromTemporal(err)
	}
	return state, nil
}

// needsPaymentLink reports whether the first answer to a submit must carry
// a payment link: a fee is due and a payment step will collect it.
func needsPaymentLink(def definitions.Definition) bool {
	if def.FeeAmount() <= 0 {
		return false
	}
	for _, step := range def.Steps {
		if step.Kind == definitions.KindPayment {
			return true
		}
	}
	return false
}

// isClosedError reports Temporal's refusal to touch a workflow that ended.
func isClosedError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "workflow execution already completed")
}

// queryCase asks the workflow itself for the state of a case.
func (s *Server) queryCase(ctx context.Context, caseID string) (ozgflow.Case, error) {
	var c ozgflow.Case
	val, err := s.temporal.QueryWorkflow(ctx, ozgflow.CaseWorkflowID(caseID), "", ozgflow.QueryState)
	if err != nil {
		return c, fromTemporal(err)
	}
	if err := val.Get(&c); err != nil {
		return c, err
	}
	return c, nil
}

// loadCase reads the projection of a case and falls back to asking the
// workflow when Redis does not have it (yet, or any more).
func (s *Server) loadCase(ctx context.Context, caseID string) (ozgflow.Case, error) {
	if _, err := uuid.Parse(caseID); err != nil {
		return ozgflow.Case{}, ozgflow.Errorf(ozgflow.ENOTFOUND, "Application %s not found.", caseID)
	}
	c, err := s.store.Case(ctx, caseID)
	if ozgflow.ErrorCode(err) == ozgflow.ENOTFOUND {
		return s.queryCase(ctx, caseID)
	}
	return c, err
}

// caseWorkerSees reports whether a case worker may see a case: one of their
// authority and, if it has tasks, with a task in a queue they work.
func caseWorkerSees(id Identity, c ozgflow.Case) bool {
	if c.Authority != id.Authority {
		return false
	}
	for _, t := range c.Tasks {
		if id.MemberOf(t.Queue) {
			return true
		}
	}
	return len(c.Tasks) == 0
}

// caseFor loads a case the caller may see: its applicant, a case worker of its
// authority, an administrator. Anyone else gets 404, as if it did not exist.
func (s *Server) caseFor(w http.ResponseWriter, r *http.Request, roles ...Role) (ozgflow.Case, Identity, bool) {
	caseID := mux.Vars(r)["id"]
	id, ok := s.authenticateFor(w, r, caseID)
	if !ok {
		return ozgflow.Case{}, id, false
	}
	notFound := ozgflow.Errorf(ozgflow.ENOTFOUND, "Application %s not found.", caseID)
	allowed := len(roles) == 0
	for _, role := range roles {
		allowed = allowed || id.Role == role
	}
	if !allowed {
		s.writeError(w, r, ozgflow.Errorf(ozgflow.EFORBIDDEN, "This action is not open to %s.", id.Role))
		return ozgflow.Case{}, id, false
	}
	c, err := s.loadCase(r.Context(), caseID)
	if err != nil {
		s.writeError(w, r, err)
		return c, id, false
	}
	switch id.Role {
	case RoleApplicant, RoleAdmin, RoleSystem:
	case RoleCaseWorker:
		if !caseWorkerSees(id, c) {
			s.writeError(w, r, notFound)
			return c, id, false
		}
	default:
		s.writeError(w, r, notFound)
		return c, id, false
	}
	return c, id, true
}

func (s *Server) handleGetApplication(w http.ResponseWriter, r *http.Request) {
	c, id, ok := s.caseFor(w, r)
	if !ok {
		return
	}
	view := newCaseView(c, id.Role != RoleApplicant)
	if c.StageKind == definitions.KindDeliver || c.StageKind == definitions.KindArchive {
		view.Delivery = s.deliveryProgress(r.Context(), c, view.Delivery)
	}
	writeJSON(w, http.StatusOK, view)
}

// deliveryProgress reads the pending delivery attempt from Temporal, so that
// a Fachverfahren outage shows on the case while it lasts.
func (s *Server) deliveryProgress(ctx context.Context, c ozgflow.Case, d *deliveryView) *deliveryView {
	if d == nil {
		d = &deliveryView{State: "pending"}
	}
	desc, err := s.temporal.DescribeWorkflowExecution(ctx, ozgflow.CaseWorkflowID(c.ID), "")
	if err != nil {
		return d
	}
	for _, pa := range desc.PendingActivities {
		if pa.GetActivityType().GetName() != "Deliver" {
			continue
		}
		d.Attempts = int(pa.GetAttempt())
		if f := pa.GetLastFailure(); f != nil {
			d.State, d.LastError = "retrying", f.GetMessage()
		}
		if t := pa.GetNextAttemptScheduleTime(); t != nil {
			next := t.AsTime()
			d.NextAttemptAt = &next
		}
	}
	return d
}

// handleReceipt returns the sealed receipt (Eingangsbestätigung).
func (s *Server) handleReceipt(w http.ResponseWriter, r *http.Request) {
	c, _, ok := s.caseFor(w, r)
	if !ok {
		return
	}
	if c.Seal == nil {
		s.writeError(w, r, ozgflow.Errorf(ozgflow.ENOTFOUND, "The application has not been sealed yet."))
		return
	}
	var payload json.RawMessage
	if parts := strings.Split(c.Seal.JWS, "."); len(parts) == 3 {
		if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil && json.Valid(b) {
			payload = b
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"caseId":   c.ID,
		"jws":      c.Seal.JWS,
		"keyId":    c.Seal.KeyID,
		"sealedAt": c.Seal.SealedAt,
		"payload":  payload,
		"keysUrl":  "/api/v1/keys",
	})
}

// handleRespond passes the applicant's answer to an information request: as
// JSON, or as multipart/form-data with documents ("files"), which are kept
// in the store and recorded on the case by name, type, size and hash.
func (s *Server) handleRespond(w http.ResponseWriter, r *http.Request) {
	c, _, ok := s.caseFor(w, r, RoleApplicant)
	if !ok {
		return
	}
	var resp ozgflow.Response
	var files []store.File
	if isMultipart(r) {
		up, fail := readAnswerUpload(r)
		if fail != nil {
			s.writeError(w, r, fail.apiError())
			return
		}
		resp, files = ozgflow.Response{Text: up.Text, Data: up.Data}, up.Files
	} else {
		if !s.readBody(w, r, &resp) {
			return
		}
		if err := s.checkAnswer(r.Context(), c.ID, resp); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	state, err := s.respondWithFiles(r.Context(), c.ID, resp, files)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newCaseView(state, false))
}

// handleWithdraw withdraws the case for its applicant.
func (s *Server) handleWithdraw(w http.ResponseWriter, r *http.Request) {
	c, _, ok := s.caseFor(w, r, RoleApplicant)
	if !ok {
		return
	}
	var wd ozgflow.Withdrawal
	if r.ContentLength != 0 && !s.readBody(w, r, &wd) {
		return
	}
	var state ozgflow.Case
	if err := s.update(r.Context(), c.ID, ozgflow.UpdateWithdraw, &state, wd); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newCaseView(state, false))
}

// handleRetryPayment opens a new payment after a failed or cancelled one.
func (s *Server) handleRetryPayment(w http.ResponseWriter, r *http.Request) {
	c, _, ok := s.caseFor(w, r, RoleApplicant)
	if !ok {
		return
	}
	var p ozgflow.Payment
	if err := s.update(r.Context(), c.ID, ozgflow.UpdateRetryPayment, &p); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newPaymentView(&p))
}

// handleExternalEvent passes a back-office system's event to a waiting case.
func (s *Server) handleExternalEvent(w http.ResponseWriter, r *http.Request) {
	c, id, ok := s.caseFor(w, r, RoleSystem, RoleAdmin)
	if !ok {
		return
	}
	var ev ozgflow.ExternalEvent
	if !s.readBody(w, r, &ev) {
		return
	}
	if ev.Event == "" {
		s.writeError(w, r, &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: "The event needs a name.",
			Fields: []ozgflow.FieldError{{Pointer: "/event", Detail: "is required"}}})
		return
	}
	if ev.Outcome != "" && ev.Outcome != ozgflow.OutcomeApprove && ev.Outcome != ozgflow.OutcomeReject {
		s.writeError(w, r, &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: "Unknown outcome.",
			Fields: []ozgflow.FieldError{{Pointer: "/outcome", Detail: "must be approve or reject"}}})
		return
	}
	ev.By = id.Subject
	if err := s.temporal.SignalWorkflow(r.Context(), ozgflow.CaseWorkflowID(c.ID), "", ozgflow.SignalExternal, ev); err != nil {
		s.writeError(w, r, fromTemporal(err))
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// handleNotices lists the notices of a portal account, newest first, across
// its cases, with their read state and the number of unread notices.
func (s *Server) handleNotices(w http.ResponseWriter, r *http.Request) {
	if !s.mailboxReader(w, r) {
		return
	}
	offset, limit, err := paging(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.store.Mailbox(r.Context(), mux.Vars(r)["account"], offset, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newMailboxView(page, offset, limit))
}

// update sends a workflow update to a case and waits for its result.
func (s *Server) update(ctx context.Context, caseID, name string, result any, args ...any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	handle, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   ozgflow.CaseWorkflowID(caseID),
		UpdateName:   name,
		Args:         args,
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = handle.Get(ctx, result)
	}
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		// The case exists (the caller loaded it), so its workflow has ended.
		return ozgflow.Errorf(ozgflow.ECONFLICT, "The case is already closed.")
	}
	if err != nil {
		return fromTemporal(err)
	}
	return nil
}

// authenticate resolves the bearer token; it answers 401 itself when it fails.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (Identity, bool) {
	return s.authenticateFor(w, r, "")
}

// authenticateFor also accepts the access token of the given case.
func (s *Server) authenticateFor(w http.ResponseWriter, r *http.Request, caseID string) (Identity, bool) {
	token := bearerToken(r)
	if c, err := r.Cookie(sessionCookie); token == "" && err == nil && r.Method == http.MethodGet {
		token = c.Value // downloads linked from the pages; never for changes, against CSRF
	}
	if token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ozgflow"`)
		s.writeError(w, r, ozgflow.Errorf(ozgflow.EUNAUTHORIZED, "A bearer token is required."))
		return Identity{}, false
	}
	if s.tokens.Valid(caseID, token) {
		return Identity{Subject: "applicant:" + caseID, Role: RoleApplicant, CaseID: caseID}, true
	}
	id, ok := s.auth.Authenticate(r.Context(), token)
	if !ok {
		if strings.HasPrefix(token, "at_") && caseID != "" {
			// An access token of another case: the case stays hidden.
			s.writeError(w, r, ozgflow.Errorf(ozgflow.ENOTFOUND, "Application %s not found.", caseID))
			return Identity{}, false
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="ozgflow", error="invalid_token"`)
		s.writeError(w, r, ozgflow.Errorf(ozgflow.EUNAUTHORIZED, "The bearer token is not valid."))
		return Identity{}, false
	}
	return id, true
}

// readJSONBody checks content type and size and returns the body.
func readJSONBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return nil, ozgflow.Errorf(ozgflow.EUNSUPPORTED, "The body must be application/json.")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, ozgflow.Errorf(ozgflow.ETOOLARGE, "The body is larger than %d MiB.", MaxBodyBytes>>20)
	} else if err != nil {
		return nil, ozgflow.Errorf(ozgflow.EINVALID, "The body could not be read.")
	}
	return body, nil
}

// decodeJSON decodes a JSON object, answering EINVALID for malformed JSON.
func decodeJSON(body []byte, v any) error {
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
		return ozgflow.Errorf(ozgflow.EINVALID, "The body must be a JSON object.")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: "A field has the wrong type.",
				Fields: []ozgflow.FieldError{{Pointer: "/" + strings.ReplaceAll(typeErr.Field, ".", "/"),
					Detail: "must be " + typeErr.Type.String()}}}
		}
		return ozgflow.Errorf(ozgflow.EINVALID, "The body is not valid JSON: %v", err)
	}
	return nil
}

// readBody reads and decodes a JSON body, answering the error itself.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := readJSONBody(w, r)
	if err == nil {
		err = decodeJSON(body, v)
	}
	if err != nil {
		s.writeError(w, r, err)
		return false
	}
	return true
}
