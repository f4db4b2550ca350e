// Package casework is the case service: the operations on cases and tasks
// that every HTTP room (the JSON API, the staff pages, the applicant pages)
// calls, between HTTP and Temporal and the Redis projections. It decides who
// may see what, speaks to the case workflows through starts, updates,
// queries and signals, and keeps the refusals' reasons so that each room
// can word them in its language.
package casework

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/records"
	"github.com/ozgflow/ozgflow/store"
)

// Definitions gives the registry of the published definitions for new cases.
type Definitions interface {
	Registry() *definitions.Registry
}

// StaticDefinitions serves one fixed registry, for tests and tools.
type StaticDefinitions struct{ Reg *definitions.Registry }

// Registry implements Definitions.
func (s StaticDefinitions) Registry() *definitions.Registry { return s.Reg }

// Service holds what the operations on cases need.
type Service struct {
	Temporal  client.Client
	Store     *store.Store
	Records   *records.DB // documents, audit trail, read marks, closed cases
	Defs      Definitions
	Directory ozgflow.Directory // the case workers, by authority; may be nil
	Catalog   *Catalog          // the variants administrators manage; may be nil
	Namespace string
	// Destinations are the FIT-Connect destinations online services
	// deliver to (fitconnect.go); none without the intake.
	Destinations []definitions.FITConnectDestination
	Logger       *slog.Logger
	Now          func() time.Time
}

// Query asks the workflow itself for the state of a case.
func (s *Service) Query(ctx context.Context, caseID string) (ozgflow.Case, error) {
	var c ozgflow.Case
	val, err := s.Temporal.QueryWorkflow(ctx, ozgflow.CaseWorkflowID(caseID), "", ozgflow.QueryState)
	if err != nil {
		return c, FromTemporal(err)
	}
	if err := val.Get(&c); err != nil {
		return c, err
	}
	return c, nil
}

// Load reads the projection of a case; a case Redis does not hold (yet,
// or any more) is read from its final record when it is closed, and from
// its workflow otherwise.
func (s *Service) Load(ctx context.Context, caseID string) (ozgflow.Case, error) {
	if _, err := uuid.Parse(caseID); err != nil {
		return ozgflow.Case{}, ozgflow.Errorf(ozgflow.ENOTFOUND, "Application %s not found.", caseID)
	}
	c, err := s.Stored(ctx, caseID)
	if ozgflow.ErrorCode(err) == ozgflow.ENOTFOUND {
		return s.Query(ctx, caseID)
	}
	return c, err
}

// Stored reads a case without asking the engine: its projection in
// Redis, else the final record of a closed case.
func (s *Service) Stored(ctx context.Context, caseID string) (ozgflow.Case, error) {
	c, err := s.Store.Case(ctx, caseID)
	if ozgflow.ErrorCode(err) != ozgflow.ENOTFOUND || s.Records == nil {
		return c, err
	}
	rec, err := s.Records.ClosedCase(ctx, caseID)
	if err != nil {
		return ozgflow.Case{}, err
	}
	return rec.Case, nil
}

// CaseFor loads a case the caller may see; anyone else gets ENOTFOUND, as if
// it did not exist.
func (s *Service) CaseFor(ctx context.Context, id ozgflow.Identity, caseID string) (ozgflow.Case, error) {
	c, err := s.Load(ctx, caseID)
	if err != nil {
		return c, err
	}
	if !id.Sees(c) {
		return ozgflow.Case{}, ozgflow.Errorf(ozgflow.ENOTFOUND, "Application %s not found.", caseID)
	}
	return c, nil
}

// Input reads what a case started with: its application and the variant.
// A closed case whose workflow history is gone answers from its final
// record and the catalog's version of its variant.
func (s *Service) Input(ctx context.Context, caseID string) (definitions.CaseInput, error) {
	var in definitions.CaseInput
	val, err := s.Temporal.QueryWorkflow(ctx, ozgflow.CaseWorkflowID(caseID), "", ozgflow.QueryInput)
	if err == nil {
		return in, val.Get(&in)
	}
	err = FromTemporal(err)
	if ozgflow.ErrorCode(err) != ozgflow.ENOTFOUND || s.Records == nil {
		return in, err
	}
	rec, recErr := s.Records.ClosedCase(ctx, caseID)
	if recErr != nil {
		return in, err
	}
	in = definitions.CaseInput{CaseID: caseID, Application: rec.Application, SubmittedAt: rec.Case.SubmittedAt,
		RequestHash: rec.Case.RequestHash}
	if s.Catalog != nil {
		snapshot := s.Catalog.Snapshot()
		if def, defErr := snapshot.Effective(rec.Case.DefinitionID, rec.Case.DefinitionVersion); defErr == nil {
			in.Definition = def
		}
	}
	return in, nil
}

// Update sends a workflow update to a case and waits for its result.
func (s *Service) Update(ctx context.Context, caseID, name string, result any, args ...any) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	handle, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
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
		return ozgflow.Refuse(ozgflow.ECONFLICT, ozgflow.ReasonCaseClosed, "The case is already closed.")
	}
	if err != nil {
		return FromTemporal(err)
	}
	return nil
}

// Withdraw withdraws a case for its applicant.
func (s *Service) Withdraw(ctx context.Context, caseID string, wd ozgflow.Withdrawal) (ozgflow.Case, error) {
	var state ozgflow.Case
	if err := CheckWithdrawal(wd); err != nil {
		return state, err
	}
	err := s.Update(ctx, caseID, ozgflow.UpdateWithdraw, &state, wd)
	return state, err
}

// RetryPayment opens a new payment after a failed or cancelled one.
func (s *Service) RetryPayment(ctx context.Context, caseID string) (ozgflow.Payment, error) {
	var p ozgflow.Payment
	err := s.Update(ctx, caseID, ozgflow.UpdateRetryPayment, &p)
	return p, err
}

// paymentReturnWait bounds how long the applicant's page waits for the
// provider's answer after the return from the payment page.
const paymentReturnWait = 5 * time.Second

// PaymentReturned tells a case that its applicant came back from the
// payment provider: the case asks the provider for the status at once and
// answers with the payment as it stands then. A case without an open
// payment refuses with ECONFLICT.
func (s *Service) PaymentReturned(ctx context.Context, caseID string) (ozgflow.Payment, error) {
	ctx, cancel := context.WithTimeout(ctx, paymentReturnWait)
	defer cancel()
	var p ozgflow.Payment
	err := s.Update(ctx, caseID, ozgflow.UpdatePaymentReturned, &p)
	return p, err
}

// ResendDelivery sends a case again whose delivery its destination
// rejected or did not answer in time; by names the administrator.
func (s *Service) ResendDelivery(ctx context.Context, by, caseID string) (ozgflow.Case, error) {
	var state ozgflow.Case
	err := s.Update(ctx, caseID, ozgflow.UpdateResendDelivery, &state, by)
	return state, err
}

// Signal passes an event to a case's workflow.
func (s *Service) Signal(ctx context.Context, caseID, name string, arg any) error {
	if err := s.Temporal.SignalWorkflow(ctx, ozgflow.CaseWorkflowID(caseID), "", name, arg); err != nil {
		return FromTemporal(err)
	}
	return nil
}

// DeliveryAttempt is what Temporal knows about a pending delivery.
type DeliveryAttempt struct {
	Attempts int
	// Failed is set once an attempt failed; LastError says how.
	Failed        bool
	LastError     string
	NextAttemptAt *time.Time
}

// PendingDelivery reads the pending delivery attempt of a case from
// Temporal, so that a Fachverfahren outage shows while it lasts; ok is false
// when there is none or Temporal cannot say.
func (s *Service) PendingDelivery(ctx context.Context, caseID string) (DeliveryAttempt, bool) {
	var d DeliveryAttempt
	desc, err := s.Temporal.DescribeWorkflowExecution(ctx, ozgflow.CaseWorkflowID(caseID), "")
	if err != nil {
		return d, false
	}
	found := false
	for _, pa := range desc.PendingActivities {
		if pa.GetActivityType().GetName() != "Deliver" {
			continue
		}
		found = true
		d.Attempts = int(pa.GetAttempt())
		if f := pa.GetLastFailure(); f != nil {
			d.Failed, d.LastError = true, f.GetMessage()
		}
		if t := pa.GetNextAttemptScheduleTime(); t != nil {
			next := t.AsTime()
			d.NextAttemptAt = &next
		}
	}
	return d, found
}

// FromTemporal turns errors of Temporal calls into ozgflow errors: update
// refusals carry their code as the application error type, their field
// violations and their refusal as details.
func FromTemporal(err error) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		if ozgflow.IsErrorCode(appErr.Type()) {
			e := &ozgflow.Error{Code: appErr.Type(), Message: appErr.Message()}
			if appErr.HasDetails() {
				var refusal ozgflow.Refusal
				if appErr.Details(&e.Fields, &refusal) == nil && refusal.Reason != "" {
					e.Refusal = &refusal
				} else {
					_ = appErr.Details(&e.Fields)
				}
			}
			return e
		}
	}
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return ozgflow.Errorf(ozgflow.ENOTFOUND, "Application not found.")
	}
	var unavailable *serviceerror.Unavailable
	if errors.As(err, &unavailable) {
		return ozgflow.Errorf(ozgflow.EUNAVAILABLE, "The processing engine is not reachable; please try again.")
	}
	if notInTime(err) {
		return ozgflow.Errorf(ozgflow.EUNAVAILABLE, "The processing engine did not answer in time; please try again.")
	}
	if isClosedError(err) {
		return ozgflow.Refuse(ozgflow.ECONFLICT, ozgflow.ReasonCaseClosed, "The case is already closed.")
	}
	return err
}

// notInTime reports a call to the engine that ended before it answered:
// its deadline passed or the engine cancelled it, as an engine under more
// load than it can take does. What was asked may still happen, so the
// caller is told to try again (a submit with the same Idempotency-Key finds
// its case), not that something broke.
func notInTime(err error) bool {
	var deadline *serviceerror.DeadlineExceeded
	var cancelled *serviceerror.Canceled
	return errors.As(err, &deadline) || errors.As(err, &cancelled) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// isClosedError reports Temporal's refusal to touch a workflow that ended.
func isClosedError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "workflow execution already completed")
}
