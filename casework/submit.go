package casework

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/records"
)

// Submission is an application as a portal submits it.
type Submission struct {
	Service     string               `json:"service"`
	Authority   string               `json:"authority"`
	Applicant   ozgflow.Applicant    `json:"applicant"`
	Data        json.RawMessage      `json:"data"`
	Attachments []ozgflow.Attachment `json:"attachments"`
	// Documents are the bytes of attachments sent with the application;
	// each is kept in the records database and listed among Attachments.
	Documents []records.Document `json:"-"`
}

// idempotencyNamespace scopes case IDs derived from idempotency keys.
var idempotencyNamespace = uuid.MustParse("6f0c8a36-4f8e-4a43-9a55-0f0f3d9d1c11")

// Submit checks an application and starts its case. body is the request as
// sent, whose hash tells a retry from a different application; with an
// idempotency key the case ID is derived from the caller and the key, so a
// retry finds the same case and a different body under the same key is a
// conflict.
func (s *Service) Submit(ctx context.Context, caller ozgflow.Identity, sub Submission, body []byte, idempotencyKey string) (ozgflow.Case, error) {
	if err := checkIdempotencyKey(idempotencyKey); err != nil {
		return ozgflow.Case{}, err
	}
	caseID := uuid.NewString()
	if idempotencyKey != "" {
		caseID = uuid.NewSHA1(idempotencyNamespace, []byte(caller.Subject+"\x00"+idempotencyKey)).String()
	}
	hash := sha256.Sum256(body)
	state, err := s.SubmitAs(ctx, caller, caseID, sub, hex.EncodeToString(hash[:]))
	var taken differentRequest
	if errors.As(err, &taken) {
		return state, ozgflow.Errorf(ozgflow.ECONFLICT, "This Idempotency-Key was already used for a different application.")
	}
	return state, err
}

// differentRequest is the refusal of a case ID under which another request
// already started a case.
type differentRequest struct{ err *ozgflow.Error }

func (d differentRequest) Error() string { return d.err.Error() }
func (d differentRequest) Unwrap() error { return d.err }

// SubmitAs checks an application and starts its case under caseID, which
// the caller chose: a case already started under it is answered from its
// state when requestHash (what identifies the request) is the same, and is
// a conflict otherwise. The submit API derives caseID from an idempotency
// key; the FIT-Connect intake takes the case ID it gave the sender.
func (s *Service) SubmitAs(ctx context.Context, caller ozgflow.Identity, caseID string, sub Submission, requestHash string) (ozgflow.Case, error) {
	sub.Attachments = withDocuments(sub.Attachments, sub.Documents)
	if err := checkSubmission(sub); err != nil {
		return ozgflow.Case{}, err
	}
	if account := sub.Applicant.PortalAccount; account != "" && !caller.OwnsAccount(account) {
		return ozgflow.Case{}, &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: "The portal account is not one of this portal client's.",
			Fields: []ozgflow.FieldError{{Pointer: "/applicant/portalAccount", Detail: "must start with " + caller.AccountPrefix}}}
	}
	reg := s.Defs.Registry()
	def, err := reg.Resolve(sub.Service, sub.Authority)
	if err != nil {
		return ozgflow.Case{}, err
	}
	violations, err := reg.ValidateData(def, sub.Data)
	if err != nil {
		return ozgflow.Case{}, err
	}
	if len(violations) > 0 {
		return ozgflow.Case{}, &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE,
			Message: "The data does not match the form of this service.", Fields: violations}
	}
	app := ozgflow.Application{Service: def.Service, Authority: sub.Authority, Applicant: sub.Applicant,
		Data: sub.Data, Attachments: sub.Attachments}
	created, err := s.keepDocuments(ctx, caseID, sub.Documents)
	if err != nil {
		return ozgflow.Case{}, err
	}
	var contact *definitions.Contact
	if a, ok := reg.Authority(sub.Authority); ok {
		contact = a.Contact
	}
	state, err := s.start(ctx, caseID, app, def, contact, requestHash)
	if err != nil {
		s.dropFiles(caseID, created)
		return state, err
	}
	if state.RequestHash != requestHash {
		s.dropFiles(caseID, created) // they came with the other application
		return state, differentRequest{ozgflow.Errorf(ozgflow.ECONFLICT, "A different application was already submitted as case %s.", caseID)}
	}
	state.ID = caseID
	return state, nil
}

// withDocuments lists the documents sent with an application among its
// attachments: one the application names already gets its type and size
// and gives the document its name, any other is added.
func withDocuments(atts []ozgflow.Attachment, docs []records.Document) []ozgflow.Attachment {
	out := append([]ozgflow.Attachment(nil), atts...)
	for k, d := range docs {
		i := slices.IndexFunc(out, func(a ozgflow.Attachment) bool { return a.SHA256 == d.SHA256 })
		if i < 0 {
			out = append(out, d.Attachment())
			continue
		}
		out[i].ContentType, out[i].Size = d.ContentType, d.Size
		if strings.TrimSpace(out[i].Name) != "" {
			docs[k].Name = out[i].Name
		}
	}
	return out
}

// keepDocuments keeps the documents of a new case and returns the hashes
// of those it had not kept before (a retried submit finds them kept).
func (s *Service) keepDocuments(ctx context.Context, caseID string, docs []records.Document) ([]string, error) {
	var created []string
	for _, d := range docs {
		d.CaseID, d.Kind = caseID, records.KindUpload
		isNew, err := s.Records.PutDocument(ctx, d)
		if err != nil {
			s.dropFiles(caseID, created)
			return nil, err
		}
		if isNew {
			created = append(created, d.SHA256)
		}
	}
	return created, nil
}

// checkSubmission reports missing top-level fields, and fields beyond
// their bounds, with their pointers.
func checkSubmission(sub Submission) error {
	if errs := checkSubmissionInput(sub); len(errs) > 0 {
		return ozgflow.InvalidInput(errs)
	}
	var errs []ozgflow.FieldError
	if strings.TrimSpace(sub.Service) == "" {
		errs = append(errs, ozgflow.FieldError{Pointer: "/service", Detail: "is required (LeiKa key or slug)"})
	}
	if strings.TrimSpace(sub.Authority) == "" {
		errs = append(errs, ozgflow.FieldError{Pointer: "/authority", Detail: "is required (12-digit ARS)"})
	}
	if strings.TrimSpace(sub.Applicant.Name) == "" {
		errs = append(errs, ozgflow.FieldError{Pointer: "/applicant/name", Detail: "is required"})
	}
	if d := bytes.TrimSpace(sub.Data); len(d) == 0 || d[0] != '{' {
		errs = append(errs, ozgflow.FieldError{Pointer: "/data", Detail: "must be an object"})
	}
	for i, a := range sub.Attachments {
		if len(a.SHA256) != 64 {
			errs = append(errs, ozgflow.FieldError{Pointer: "/attachments/" + strconv.Itoa(i) + "/sha256", Detail: "must be a hex SHA-256"})
		}
	}
	if len(errs) > 0 {
		return &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: "The application is incomplete.", Fields: errs}
	}
	return nil
}

// start starts the case workflow. When a payment link is due, it sends the
// submitted update with the start and answers once the link exists;
// otherwise a plain start suffices. A case already started under the same ID
// (same idempotency key) is answered from its state.
func (s *Service) start(ctx context.Context, caseID string, app ozgflow.Application, def definitions.Definition,
	contact *definitions.Contact, requestHash string) (ozgflow.Case, error) {
	in := definitions.CaseInput{CaseID: caseID, Application: app, Definition: def, Contact: contact,
		SubmittedAt: s.Now().UTC(), RequestHash: requestHash, Features: definitions.CaseFeatures}
	wfID := ozgflow.CaseWorkflowID(caseID)
	opts := client.StartWorkflowOptions{
		ID:                       wfID,
		TaskQueue:                ozgflow.CaseTaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		// A case already started under this ID is answered from its state.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		WorkflowTaskTimeout:                      CaseTaskTimeout,
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
		handle, err = s.Temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
			StartWorkflowOperation: s.Temporal.NewWithStartWorkflowOperation(opts, ozgflow.CaseWorkflowName, in),
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
		_, err = s.Temporal.ExecuteWorkflow(ctx, opts, ozgflow.CaseWorkflowName, in)
	}
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) || isClosedError(err) {
		return s.Query(ctx, caseID)
	}
	if err != nil {
		return state, FromTemporal(err)
	}
	return state, nil
}

// CaseTaskTimeout bounds how long a worker may take over one workflow task
// of a case before the engine times the task out and schedules it again on
// the case queue; Temporal's default is 10 s. A case's tasks take
// milliseconds. While a local activity runs longer (a case number drawn
// while the records database is away), the SDK keeps its task alive with a
// heartbeat after 80 % of this, 3.2 s, and again every 3.2 s, and retries
// whose wait is longer than this become timers in the history.
//
// The engine keeps a timer for each task's timeout that fires whether or
// not the task ended, and reads the workflow back from its database when
// it is no longer in its cache. At 10 s most of those timers of a case
// that ran through found it gone from `dev`'s cache of 512 workflows, and
// the reads cost the engine's one SQLite connection about half a
// millisecond per case (BENCHMARKS.md, "Cases' workflow tasks time out
// after 4 s …").
const CaseTaskTimeout = 4 * time.Second

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
