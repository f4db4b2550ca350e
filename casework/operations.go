package casework

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/ozgflow/ozgflow"
)

// Cases stuck on an external system: a case whose current call to a target
// (a Fachverfahren, the archive, the payment provider, the signer, the
// mail server) keeps failing. The worker keeps a cheap index of candidates
// (store.CallFailures); Temporal says whether the call is still pending,
// how often it was tried and how it last failed. Administrators resend
// such a call at once (Temporal's ResetActivity: a fresh count of
// attempts, tried now) or cancel the case with a reason the applicant is
// told.

// StuckCase is one case waiting on a failing target.
type StuckCase struct {
	CaseID        string    `json:"caseId"`
	CaseNumber    string    `json:"caseNumber,omitempty"`
	Service       string    `json:"service"`
	ServiceName   string    `json:"serviceName"`
	Authority     string    `json:"authority"`
	AuthorityName string    `json:"authorityName,omitempty"`
	Target        string    `json:"target"`
	Operation     string    `json:"operation"`
	Since         time.Time `json:"since"`
	LastAttemptAt time.Time `json:"lastAttemptAt"`
	// Attempts counts the attempts made, the failed ones and a running one.
	Attempts      int        `json:"attempts"`
	LastError     string     `json:"lastError"`
	NextAttemptAt *time.Time `json:"nextAttemptAt,omitempty"`

	activityID string
}

// StuckCases lists the cases whose call to an external target keeps
// failing, longest failing first. Candidates whose case has ended or no
// longer waits on the call are dropped from the index.
func (s *Service) StuckCases(ctx context.Context) ([]StuckCase, error) {
	candidates, err := s.Store.CallFailures(ctx)
	if err != nil {
		return nil, ozgflow.Errorf(ozgflow.EUNAVAILABLE, "The list of failing calls cannot be read right now.")
	}
	out := make([]StuckCase, 0, len(candidates))
	for _, f := range candidates {
		sc, err := s.stuck(ctx, f)
		switch {
		case errors.Is(err, errNotStuck):
			continue
		case err != nil:
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}

// errNotStuck says that a candidate no longer waits on its target.
var errNotStuck = errors.New("not stuck")

// WaitsOn says whether a candidate of the index of failing calls still
// waits on its call: its workflow runs and the call is pending. A candidate
// that does not is forgotten. The operator's alerts ask it before they
// count a target as failing.
func (s *Service) WaitsOn(ctx context.Context, f ozgflow.CallFailure) (bool, error) {
	_, err := s.pendingCall(ctx, f)
	switch {
	case errors.Is(err, errNotStuck):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// stuck completes a candidate from Temporal and the projection; a case
// whose workflow ended or whose call is no longer pending is forgotten.
func (s *Service) stuck(ctx context.Context, f ozgflow.CallFailure) (StuckCase, error) {
	sc, err := s.pendingCall(ctx, f)
	if err != nil {
		return sc, err
	}
	if c, err := s.Store.Case(ctx, f.CaseID); err == nil {
		sc.CaseNumber, sc.Service, sc.Authority = c.CaseNumber, c.Service, c.Authority
		sc.ServiceName = c.ServiceName
		if sc.ServiceName == "" {
			sc.ServiceName = s.ServiceName(c.Service)
		}
		sc.AuthorityName = s.AuthorityName(c.Authority)
	}
	return sc, nil
}

// pendingCall completes a candidate from Temporal: its pending call's
// attempts, last failure and next attempt. A case whose workflow ended is
// forgotten on every target, a call no longer pending on its target.
func (s *Service) pendingCall(ctx context.Context, f ozgflow.CallFailure) (StuckCase, error) {
	desc, err := s.Temporal.DescribeWorkflowExecution(ctx, ozgflow.CaseWorkflowID(f.CaseID), "")
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		_ = s.Store.ForgetCallFailure(ctx, f.CaseID, "")
		return StuckCase{}, errNotStuck
	case err != nil:
		return StuckCase{}, FromTemporal(err)
	}
	if desc.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		_ = s.Store.ForgetCallFailure(ctx, f.CaseID, "")
		return StuckCase{}, errNotStuck
	}
	sc := StuckCase{CaseID: f.CaseID, Target: f.Target, Operation: f.Operation, Since: f.Since,
		LastAttemptAt: f.At, Attempts: f.Attempt, LastError: f.Error}
	found := false
	for _, pa := range desc.GetPendingActivities() {
		if pa.GetActivityType().GetName() != f.Operation {
			continue
		}
		found = true
		sc.activityID = pa.GetActivityId()
		// A call waiting for its next attempt has made one fewer than
		// the number of the attempt it waits for.
		made := int(pa.GetAttempt())
		if pa.GetState() == enumspb.PENDING_ACTIVITY_STATE_SCHEDULED {
			made--
		}
		sc.Attempts = max(sc.Attempts, made)
		if fail := pa.GetLastFailure(); fail != nil && fail.GetMessage() != "" {
			sc.LastError = ozgflow.RedactCallError(fail.GetMessage())
		}
		if t := pa.GetLastStartedTime(); t != nil && t.AsTime().After(sc.LastAttemptAt) {
			sc.LastAttemptAt = t.AsTime()
		}
		if t := pa.GetNextAttemptScheduleTime(); t != nil {
			next := t.AsTime()
			sc.NextAttemptAt = &next
		}
	}
	if !found {
		_ = s.Store.ForgetCallFailure(ctx, f.CaseID, f.Target)
		return StuckCase{}, errNotStuck
	}
	return sc, nil
}

// StuckCase returns one stuck case; a case that is not stuck is a conflict.
func (s *Service) StuckCase(ctx context.Context, caseID string) (StuckCase, error) {
	candidates, err := s.Store.CallFailures(ctx)
	if err != nil {
		return StuckCase{}, ozgflow.Errorf(ozgflow.EUNAVAILABLE, "The list of failing calls cannot be read right now.")
	}
	for _, f := range candidates {
		if f.CaseID != caseID {
			continue
		}
		sc, err := s.stuck(ctx, f)
		if errors.Is(err, errNotStuck) {
			continue // the case may wait on another target
		}
		return sc, err
	}
	return StuckCase{}, ozgflow.Errorf(ozgflow.ECONFLICT, "Application %s does not wait on a failing external system.", caseID)
}

// ResendStuck tries a stuck case's call again now, with a fresh count of
// attempts; if the target still fails, the retry policy goes on from there.
func (s *Service) ResendStuck(ctx context.Context, caseID string) (StuckCase, error) {
	sc, err := s.StuckCase(ctx, caseID)
	if err != nil {
		return sc, err
	}
	_, err = s.Temporal.WorkflowService().ResetActivity(ctx, &workflowservice.ResetActivityRequest{
		Namespace: s.Namespace,
		Execution: &commonpb.WorkflowExecution{WorkflowId: ozgflow.CaseWorkflowID(caseID)},
		Activity:  &workflowservice.ResetActivityRequest_Id{Id: sc.activityID},
		Identity:  "ozgflow-administration",
	})
	if err != nil {
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			return sc, ozgflow.Errorf(ozgflow.ECONFLICT, "Application %s does not wait on a failing external system any more.", caseID)
		}
		return sc, FromTemporal(err)
	}
	return sc, nil
}

// MaxCancelReason bounds the reason of a cancellation, in characters.
const MaxCancelReason = 1000

// CancelStuck ends a stuck case: the applicant is told the reason, a paid
// fee is refunded; by names the administrator.
func (s *Service) CancelStuck(ctx context.Context, caseID, reason string, by ozgflow.Identity) (ozgflow.Case, error) {
	var state ozgflow.Case
	reason = strings.TrimSpace(reason)
	detail := ""
	switch {
	case reason == "":
		detail = "is required: say why the case is cancelled; the applicant reads it"
	case utf8.RuneCountInString(reason) > MaxCancelReason:
		detail = fmt.Sprintf("must be at most %d characters", MaxCancelReason)
	}
	if detail != "" {
		return state, &ozgflow.Error{Code: ozgflow.EINVALID, Message: "The cancellation is invalid.",
			Fields: []ozgflow.FieldError{{Pointer: "/reason", Detail: detail}}}
	}
	if _, err := s.StuckCase(ctx, caseID); err != nil {
		return state, err
	}
	err := s.Update(ctx, caseID, ozgflow.UpdateCancel, &state, ozgflow.Cancellation{Reason: reason, By: by.Subject})
	if err == nil {
		_ = s.Store.ForgetCallFailure(ctx, caseID, "")
	}
	return state, err
}
