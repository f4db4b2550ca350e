package casework

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/store"
)

// Cases stuck on an external system: a case whose current call to a target
// (a Fachverfahren, the archive, the payment provider, the signer, the
// mail server) keeps failing, or whose FIT-Connect destination rejected
// its delivery (or did not answer before the deadline). The worker keeps a
// cheap index of failing calls (store.CallFailures); Temporal says whether
// the call is still pending, how often it was tried and how it last
// failed. The projection's write keeps an index of rejected deliveries
// (store.RejectedDeliveries); the projection says whether the case still
// waits. Administrators resend a failing call at once (Temporal's
// ResetActivity: a fresh count of attempts, tried now), a rejected
// delivery as its delivery page does (a new submission), or cancel the
// case with a reason the applicant is told. A case may wait on two
// targets, one row each; the administrator names the row by its target.

// Why a case is on the list of stuck cases (StuckCase.State).
const (
	// StuckFailing: the case's call to the target keeps failing.
	StuckFailing = "failing"
	// StuckRejected: the FIT-Connect destination rejected the case's
	// delivery, or did not answer before the deadline; the case waits
	// for an administrator to resend it.
	StuckRejected = "rejected"
)

// StuckCase is one case waiting on a target: its call fails, or the
// destination rejected its delivery. For a rejected delivery Since is the
// rejection's time, Attempts counts the submissions (rounds) and LastError
// is the destination's reason.
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
	// State says why the case waits: StuckFailing or StuckRejected.
	State string `json:"state"`
	// Rejection is the destination's rejection of a StuckRejected case.
	Rejection *StuckRejection `json:"rejection,omitempty"`

	activityID string
}

// StuckRejection is the destination's rejection of a case's delivery, with
// the round it rejected.
type StuckRejection struct {
	ozgflow.DeliveryRejection
	// Round is the submission the destination rejected: 1 for the first,
	// one more for every resend.
	Round int `json:"round,omitempty"`
}

// StuckCases lists the cases whose call to an external target keeps
// failing and those whose delivery their destination rejected, longest
// waiting first. Candidates whose case has ended or no longer waits are
// dropped from the indexes.
func (s *Service) StuckCases(ctx context.Context) ([]StuckCase, error) {
	candidates, err := s.Store.CallFailures(ctx)
	if err != nil {
		return nil, ozgflow.Errorf(ozgflow.EUNAVAILABLE, "The list of failing calls cannot be read right now.")
	}
	out, err := appendStuck(ctx, make([]StuckCase, 0, len(candidates)), candidates, s.stuck)
	if err != nil {
		return nil, err
	}
	rejected, err := s.Store.RejectedDeliveries(ctx)
	if err != nil {
		return nil, ozgflow.Errorf(ozgflow.EUNAVAILABLE, "The list of rejected deliveries cannot be read right now.")
	}
	if out, err = appendStuck(ctx, out, rejected, s.rejectedDelivery); err != nil {
		return nil, err
	}
	sortStuck(out)
	return out, nil
}

// appendStuck completes each candidate of an index and appends those that
// still wait; a candidate that no longer does is left out.
func appendStuck[C any](ctx context.Context, out []StuckCase, candidates []C,
	complete func(context.Context, C) (StuckCase, error)) ([]StuckCase, error) {
	for _, c := range candidates {
		sc, err := complete(ctx, c)
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

// sortStuck orders stuck cases longest waiting first; the failing calls
// come sorted, so that equal times keep their order.
func sortStuck(cases []StuckCase) {
	sort.SliceStable(cases, func(i, j int) bool { return cases[i].Since.Before(cases[j].Since) })
}

// rejectedDelivery completes a candidate of the index of rejected
// deliveries from its projection; a case whose delivery is no longer
// rejected (resent, cancelled, gone) is forgotten, unless it was rejected
// anew meanwhile.
func (s *Service) rejectedDelivery(ctx context.Context, r store.RejectedDelivery) (StuckCase, error) {
	c, err := s.Store.Case(ctx, r.CaseID)
	switch {
	case ozgflow.ErrorCode(err) == ozgflow.ENOTFOUND:
		_ = s.Store.ForgetRejectedDelivery(ctx, r.CaseID, r.Since)
		return StuckCase{}, errNotStuck
	case err != nil:
		return StuckCase{}, ozgflow.Errorf(ozgflow.EUNAVAILABLE, "The list of rejected deliveries cannot be read right now.")
	}
	if !c.DeliveryRejected() {
		_ = s.Store.ForgetRejectedDelivery(ctx, r.CaseID, r.Since)
		return StuckCase{}, errNotStuck
	}
	return s.rejectedRow(c), nil
}

// rejectedRow is the row of a case whose delivery is rejected.
func (s *Service) rejectedRow(c ozgflow.Case) StuckCase {
	d := c.Delivery
	r := *d.Rejected
	if r.Target == "" {
		r.Target = d.Target
	}
	sc := StuckCase{CaseID: c.ID, Target: r.Target, Operation: "Deliver", Since: r.Since, LastAttemptAt: r.Since,
		Attempts: max(d.Round, 1), LastError: r.Reason, State: StuckRejected,
		Rejection: &StuckRejection{DeliveryRejection: r, Round: max(d.Round, 1)}}
	s.describeStuck(&sc, c)
	return sc
}

// describeStuck names the case of a row: its number, service and
// authority, from the projection.
func (s *Service) describeStuck(sc *StuckCase, c ozgflow.Case) {
	sc.CaseNumber, sc.Service, sc.Authority = c.CaseNumber, c.Service, c.Authority
	sc.ServiceName = c.ServiceName
	if sc.ServiceName == "" {
		sc.ServiceName = s.ServiceName(c.Service)
	}
	sc.AuthorityName = s.AuthorityName(c.Authority)
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
		s.describeStuck(&sc, c)
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
		LastAttemptAt: f.At, Attempts: f.Attempt, LastError: f.Error, State: StuckFailing}
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

// StuckCase returns the row of a stuck case on target, or its first row
// (longest waiting) when target is empty; a case that does not wait on
// target, or on any, is a conflict.
func (s *Service) StuckCase(ctx context.Context, caseID, target string) (StuckCase, error) {
	rows, err := s.stuckRows(ctx, caseID)
	if err != nil {
		return StuckCase{}, err
	}
	for _, sc := range rows {
		if target == "" || sc.Target == target {
			return sc, nil
		}
	}
	if target != "" && len(rows) > 0 {
		return StuckCase{}, ozgflow.Errorf(ozgflow.ECONFLICT, "Application %s does not wait on the target named.", caseID)
	}
	return StuckCase{}, ozgflow.Errorf(ozgflow.ECONFLICT, "Application %s does not wait on a failing external system or a resend of its delivery.", caseID)
}

// stuckRows returns the rows of one case, longest waiting first: its
// failing calls Temporal says are pending, and its rejected delivery,
// which its projection says (it holds a rejection from before the index
// too).
func (s *Service) stuckRows(ctx context.Context, caseID string) ([]StuckCase, error) {
	candidates, err := s.Store.CallFailures(ctx)
	if err != nil {
		return nil, ozgflow.Errorf(ozgflow.EUNAVAILABLE, "The list of failing calls cannot be read right now.")
	}
	var rows []StuckCase
	for _, f := range candidates {
		if f.CaseID != caseID {
			continue
		}
		sc, err := s.stuck(ctx, f)
		switch {
		case errors.Is(err, errNotStuck):
			continue // the case may wait on another target
		case err != nil:
			return nil, err
		}
		rows = append(rows, sc)
	}
	c, err := s.Store.Case(ctx, caseID)
	switch {
	case err == nil && c.DeliveryRejected():
		rows = append(rows, s.rejectedRow(c))
	case err != nil && ozgflow.ErrorCode(err) != ozgflow.ENOTFOUND:
		return nil, ozgflow.Errorf(ozgflow.EUNAVAILABLE, "Application %s cannot be read right now.", caseID)
	}
	sortStuck(rows)
	return rows, nil
}

// ResendStuck sends a stuck case again on target (its first row when
// target is empty); by names the administrator. A failing call is tried
// again now, with a fresh count of attempts; if the target still fails,
// the retry policy goes on from there. A rejected delivery goes to its
// destination as a new submission, as on the case's delivery page.
func (s *Service) ResendStuck(ctx context.Context, caseID, target string, by ozgflow.Identity) (StuckCase, error) {
	sc, err := s.StuckCase(ctx, caseID, target)
	if err != nil {
		return sc, err
	}
	if sc.State == StuckRejected {
		_, err := s.ResendDelivery(ctx, by.Subject, caseID)
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

// CancelStuck ends a case stuck on target (on any, when target is empty):
// the applicant is told the reason, a paid fee is refunded; by names the
// administrator.
func (s *Service) CancelStuck(ctx context.Context, caseID, target, reason string, by ozgflow.Identity) (ozgflow.Case, error) {
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
	if _, err := s.StuckCase(ctx, caseID, target); err != nil {
		return state, err
	}
	err := s.Update(ctx, caseID, ozgflow.UpdateCancel, &state, ozgflow.Cancellation{Reason: reason, By: by.Subject})
	if err == nil {
		_ = s.Store.ForgetCallFailure(ctx, caseID, "")
		_ = s.Store.ForgetRejectedDelivery(ctx, caseID, time.Time{})
	}
	return state, err
}
