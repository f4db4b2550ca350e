package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/records"
)

// Callbacks from the Fachverfahren (POST /api/v1/fachverfahren/callbacks):
// a back-office system reports what became of a case delivered to it. The
// request is signed as ozgflow signs deliveries, HMAC-SHA256 over
// "<timestamp>.<body>" with the delivery secret, and refused when the
// timestamp is more than 5 minutes from the gateway's clock. Each callback
// carries an ID of its own (unique per case), the same on every retry: the
// gateway remembers an ID it took for webhookMemory, and a repeat within that time is answered
// like the first and has no effect; the case itself takes an ID once,
// however late it comes again. Every refusal is a problem document.

// webhookCallback keeps the callbacks' IDs apart from the webhooks'.
const webhookCallback = "fachverfahren-callback"

// fachverfahrenSystem acts in the audit trail for a signed callback: the
// request carries no identity, the signature with the delivery secret
// stands for the Fachverfahren.
var fachverfahrenSystem = ozgflow.Identity{Subject: "fachverfahren-callback", Name: "Fachverfahren (Rückmeldung)",
	Role: ozgflow.RoleSystem}

// handleCallback takes a callback of the Fachverfahren: it checks the
// signature and the fields, keeps the decision's document with the case
// and passes the callback to the case, once per ID.
func (s *API) handleCallback(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, ozgflow.MaxCallbackBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.ETOOLARGE, "The callback is larger than %d MiB.", ozgflow.MaxCallbackBytes>>20))
		return
	case err != nil:
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EINVALID, "The callback's body could not be read."))
		return
	}
	if len(s.webhooks.Fachverfahren) == 0 {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EUNAUTHORIZED, "Callbacks are not configured: the gateway has no OZGFLOW_FACHVERFAHREN_SECRET."))
		return
	}
	if err := ozgflow.VerifyBody(s.webhooks.Fachverfahren, s.now(), r.Header.Get(ozgflow.HeaderSignatureTimestamp),
		r.Header.Get(ozgflow.HeaderSignature), body); err != nil {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EUNAUTHORIZED, "Callback signature refused: %v.", err))
		return
	}
	if err := web.CheckJSON(body); err != nil {
		s.errors.Write(w, r, err)
		return
	}
	var req ozgflow.CallbackRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EINVALID, "The callback is not of the documented shape: %v.", err))
		return
	}
	if err := checkCallback(req); err != nil {
		s.errors.Write(w, r, err)
		return
	}
	web.NoteCase(r.Context(), req.CaseID)
	web.NoteDetail(r.Context(), "callback "+req.ID+" "+req.Event)

	// IDs are the Fachverfahren's: unique per case, so remembered per case.
	key := req.CaseID + ":" + req.ID
	first, err := s.store.FirstSeen(r.Context(), webhookCallback, key, webhookMemory)
	if err != nil {
		s.logger.Warn("Callback not checked for repeats", "callbackId", req.ID, "error", err)
		w.Header().Set("Retry-After", "5")
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EUNAVAILABLE, "The callback cannot be taken now; send it again later."))
		return
	}
	if !first {
		// A repeat may come while the first attempt still runs, or after it
		// failed on the way back: it goes to the case too, which takes each
		// ID once (the update's ID is the callback's), so only a case that
		// has closed since answers for the first attempt.
		err := s.takeCallback(r.Context(), req)
		if ref := ozgflow.RefusalOf(err); ref != nil && ref.Reason == ozgflow.ReasonCaseClosed {
			err = nil
		}
		if err != nil {
			if ozgflow.ErrorCode(err) == ozgflow.EUNAVAILABLE {
				w.Header().Set("Retry-After", "5")
			}
			s.errors.Write(w, r, err)
			return
		}
		s.logger.Info("Callback repeated; taken once", "callbackId", req.ID, "caseId", req.CaseID)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err := s.takeCallback(r.Context(), req); err != nil {
		if ferr := s.store.Forget(context.WithoutCancel(r.Context()), webhookCallback, key); ferr != nil {
			s.logger.Warn("Refused callback's ID not forgotten; a retry within 10 minutes is taken for a repeat",
				"callbackId", req.ID, "error", ferr)
		}
		if ozgflow.ErrorCode(err) == ozgflow.EUNAVAILABLE {
			w.Header().Set("Retry-After", "5")
		}
		s.errors.Write(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// takeCallback passes a checked callback to its case, with its document.
func (s *API) takeCallback(ctx context.Context, req ozgflow.CallbackRequest) error {
	c, err := s.cases.Load(ctx, req.CaseID)
	if err != nil {
		return err
	}
	cb := ozgflow.Callback{ID: req.ID, CaseID: c.ID, Reference: req.Reference, Event: req.Event, At: req.At,
		Outcome: req.Outcome, Comment: req.Comment}
	var doc *records.Document
	if d := req.Document; d != nil {
		doc = &records.Document{Name: d.Name, ContentType: d.ContentType, Size: int64(len(d.Content)),
			SHA256: records.SumSHA256(d.Content), Data: d.Content}
	}
	return s.cases.Callback(ctx, cb, doc)
}

// checkCallback refuses a callback whose fields are missing or out of
// bounds, naming each: a signature vouches for the sender, not for what it
// sends.
func checkCallback(req ozgflow.CallbackRequest) error {
	var errs []ozgflow.FieldError
	need := func(pointer, value string) {
		if value == "" {
			errs = append(errs, ozgflow.FieldError{Pointer: pointer, Detail: "is required"})
		}
	}
	need("/id", req.ID)
	need("/caseId", req.CaseID)
	need("/reference", req.Reference)
	need("/event", req.Event)
	if req.ID != "" && !ozgflow.ValidWebhookID(req.ID) {
		errs = append(errs, ozgflow.FieldError{Pointer: "/id",
			Detail: "must be 1 to 128 letters, digits, '-' or '_', the same on every retry of the callback"})
	}
	if req.Event != "" && !ozgflow.KnownCallbackEvent(req.Event) {
		errs = append(errs, ozgflow.FieldError{Pointer: "/event", Detail: "must be received, in_review or decided"})
	}
	switch {
	case req.Event == ozgflow.CallbackDecided && req.Outcome != ozgflow.OutcomeApprove && req.Outcome != ozgflow.OutcomeReject:
		errs = append(errs, ozgflow.FieldError{Pointer: "/outcome", Detail: "a decision's outcome must be approve or reject"})
	case req.Event != ozgflow.CallbackDecided && req.Outcome != "":
		errs = append(errs, ozgflow.FieldError{Pointer: "/outcome", Detail: "only a decision (event decided) has an outcome"})
	case req.Event != ozgflow.CallbackDecided && req.Document != nil:
		errs = append(errs, ozgflow.FieldError{Pointer: "/document", Detail: "only a decision (event decided) has a document"})
	}
	errs = append(errs, ozgflow.CheckText(
		ozgflow.Line("/caseId", req.CaseID, ozgflow.MaxSubjectRunes),
		ozgflow.Line("/reference", req.Reference, ozgflow.MaxSubjectRunes),
		ozgflow.Prose("/comment", req.Comment, ozgflow.MaxCommentRunes),
	)...)
	if d := req.Document; d != nil {
		need("/document/name", d.Name)
		errs = append(errs, ozgflow.CheckText(ozgflow.Line("/document/name", d.Name, ozgflow.MaxFileNameRunes))...)
		switch {
		case len(d.Content) == 0:
			errs = append(errs, ozgflow.FieldError{Pointer: "/document/content", Detail: "is required: the PDF, base64"})
		case len(d.Content) > ozgflow.MaxDecisionDocumentBytes:
			errs = append(errs, ozgflow.FieldError{Pointer: "/document/content", Rule: ozgflow.RuleTooLarge,
				Limit: ozgflow.MaxDecisionDocumentBytes, Detail: "is larger than 10 MiB"})
		case !bytes.HasPrefix(d.Content, []byte("%PDF-")):
			errs = append(errs, ozgflow.FieldError{Pointer: "/document/content", Detail: "is no PDF"})
		}
		if d.ContentType != "application/pdf" {
			errs = append(errs, ozgflow.FieldError{Pointer: "/document/contentType", Detail: "must be application/pdf"})
		}
	}
	return ozgflow.InvalidInput(errs)
}
