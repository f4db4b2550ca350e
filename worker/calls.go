package worker

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"math"
	"reflect"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/metrics"
)

// TargetPolicy is how ozgflow treats calls to one external target: how
// long one attempt may take, how long the target may fail before the
// operator is alerted, and, if the configuration states it, how a failed
// call is tried again. Without a stated retry the workflow's retry policy
// of the call's kind decides (workflows/options.go).
type TargetPolicy struct {
	Timeout    time.Duration
	AlertAfter time.Duration
	Retry      Retry
}

// Retry is how a failed call to a target is tried again where the
// configuration states it: the first time after Initial, each wait Backoff
// times the one before, at most Maximum apart. A zero field keeps the
// value of the call's own retry policy. The count of attempts stays the
// workflow's: a call is tried until it answers or an administrator acts.
type Retry struct {
	Initial time.Duration
	Backoff float64
	Maximum time.Duration
}

// Stated says whether the configuration states a retry at all.
func (r Retry) Stated() bool { return r != Retry{} }

// Delay is how long to wait after the failed attempt (1 for the first):
// Initial·Backoff^(attempt-1), at most Maximum. What r leaves out comes
// from own, the call's retry policy, and then from Temporal's defaults.
func (r Retry) Delay(attempt int32, own *temporal.RetryPolicy) time.Duration {
	if own != nil {
		r.Initial = cmp.Or(r.Initial, own.InitialInterval)
		r.Backoff = cmp.Or(r.Backoff, own.BackoffCoefficient)
		r.Maximum = cmp.Or(r.Maximum, own.MaximumInterval)
	}
	r.Initial = cmp.Or(r.Initial, time.Second)
	r.Backoff = cmp.Or(r.Backoff, 2)
	r.Maximum = max(cmp.Or(r.Maximum, 100*r.Initial), r.Initial)
	d := float64(r.Initial) * math.Pow(r.Backoff, float64(max(attempt, 1)-1))
	if math.IsNaN(d) || d >= float64(r.Maximum) {
		return r.Maximum
	}
	return time.Duration(d)
}

// Defaults of a target's policy.
const (
	DefaultCallTimeout = 20 * time.Second
	DefaultAlertAfter  = 15 * time.Minute
	// MaxCallTimeout is the longest an attempt may take: the activities'
	// start-to-close timeout ends it anyway.
	MaxCallTimeout = 30 * time.Second
)

// TargetPolicies are the policies of the targets: Default for any target
// without one of its own.
type TargetPolicies struct {
	Default TargetPolicy
	Targets map[string]TargetPolicy
}

// For returns the policy of a target, its zero fields filled from the
// default and the defaults in code.
func (p TargetPolicies) For(target string) TargetPolicy {
	out := p.Targets[target]
	if out.Timeout <= 0 {
		out.Timeout = p.Default.Timeout
	}
	if out.Timeout <= 0 {
		out.Timeout = DefaultCallTimeout
	}
	if out.AlertAfter <= 0 {
		out.AlertAfter = p.Default.AlertAfter
	}
	if out.AlertAfter <= 0 {
		out.AlertAfter = DefaultAlertAfter
	}
	if !out.Retry.Stated() {
		out.Retry = p.Default.Retry
	}
	return out
}

// callTracking bounds every attempt of an external call by its target's
// timeout, counts it in the metrics by target, operation and outcome, and
// keeps the index of failing calls: a failed attempt is recorded, a
// success clears the case's call and the target, a call that failed for
// good (refused, or its last attempt) leaves the case, which waits on it no
// more, and a cancelled attempt is no failure of the target. Where the
// configuration states a retry for the target, an attempt that failed and
// may be tried again asks Temporal to wait as that retry says, unless the
// variant's step states its own.
type callTracking struct {
	interceptor.WorkerInterceptorBase
	policies TargetPolicies
	failures activities.CallFailures
	metrics  *metrics.Metrics
	logger   *slog.Logger
	// cases tells a case whose call keeps failing or is slow so
	// (SignalCallFailing, tellsTheCase); nil tells none.
	cases caseSignaller
	// slowCall is how long an attempt of a call may take before its case
	// is told, as of a failed one; zero means SlowCallAfter.
	slowCall time.Duration
}

// SlowCallAfter is how long an attempt of a call may take before the case
// is told (SignalCallFailing; the attempts that tellsTheCase names, the
// first above all): the case writes no projection before a call, so that
// its state and notices reach the store and the portal no later than this
// while a target is slow to answer.
const SlowCallAfter = 2 * time.Second

func (c *callTracking) slowAfter() time.Duration {
	if c.slowCall > 0 {
		return c.slowCall
	}
	return SlowCallAfter
}

// caseSignaller sends a signal to a case's workflow (client.Client does).
type caseSignaller interface {
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
}

func (c *callTracking) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	in := &callTrackingInbound{c: c}
	in.Next = next
	return in
}

type callTrackingInbound struct {
	interceptor.ActivityInboundInterceptorBase
	c *callTracking
}

// maxErrorText bounds the error text kept in the index.
const maxErrorText = 500

func (s *callTrackingInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	info := activity.GetInfo(ctx)
	name := info.ActivityType.Name
	target, ok := activities.CallTarget(name, in.Args)
	if !ok {
		return s.Next.ExecuteActivity(ctx, in)
	}
	policy := s.c.policies.For(target)
	callCtx, cancel := context.WithTimeout(ctx, policy.Timeout)
	defer cancel()
	start := time.Now()
	var slow *time.Timer
	if tellsTheCase(info.Attempt) && target != ozgflow.TargetMail && !triedAFewTimes(info) {
		slow = time.AfterFunc(s.c.slowAfter()-time.Since(attemptBegan(info)), func() { s.tellCase(ctx, info) })
	}
	res, err := s.Next.ExecuteActivity(callCtx, in)
	told := slow != nil && !slow.Stop() // the case was told of this attempt already, as slow
	outcome := callOutcome(callCtx, err)
	if s.c.metrics != nil {
		s.c.metrics.ObserveCall(target, name, outcome, time.Since(start))
	}
	// Cancelled (the case ended, the worker stops): the target did not fail.
	cancelled := errors.Is(err, context.Canceled) && !errors.Is(callCtx.Err(), context.DeadlineExceeded)
	s.record(ctx, info, target, outcome, cancelled, err)
	// A failed attempt that Temporal tries again while the case waits on it.
	retried := (outcome == metrics.CallError || outcome == metrics.CallTimeout) && !cancelled && !triedAFewTimes(info)
	if retried && target != ozgflow.TargetMail && tellsTheCase(info.Attempt) && !told {
		s.tellCase(ctx, info)
	}
	if retried && policy.Retry.Stated() && !activities.RetryStatedByStep(in.Args) {
		err = retryAfter(err, policy.Retry.Delay(info.Attempt, info.RetryPolicy))
	}
	return res, err
}

// attemptBegan is when an attempt began for the case: the first when the
// workflow scheduled it, so that one that waited for a worker is slow
// already; a later one now, as it starts (the activity's scheduled time is
// its first attempt's).
func attemptBegan(info activity.Info) time.Time {
	if info.Attempt <= 1 && !info.ScheduledTime.IsZero() {
		return info.ScheduledTime
	}
	return time.Now()
}

// triedAFewTimes says whether the call's own policy tries it only a few
// times: a status poll, which the case waits for in line and which the
// next poll replaces anyway. A target's stated retry would only hold the
// case up, so such calls keep their own.
func triedAFewTimes(info activity.Info) bool {
	return info.RetryPolicy != nil && info.RetryPolicy.MaximumAttempts > 0
}

// record keeps the attempt's outcome in the index of failing calls.
func (s *callTrackingInbound) record(ctx context.Context, info activity.Info, target, outcome string, cancelled bool, err error) {
	caseID, isCase := ozgflow.CaseIDFromWorkflowID(info.WorkflowExecution.ID)
	if s.c.failures == nil || !isCase {
		return
	}
	// The record is written even when the attempt's context has ended.
	rec, done := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer done()
	var recErr error
	switch {
	case outcome == metrics.CallOK:
		recErr = s.c.failures.CallSucceeded(rec, caseID, target)
	case outcome == metrics.CallRejected || lastAttempt(info):
		// Failed for good: the case waits on this call no more.
		recErr = s.c.failures.ForgetCallFailure(rec, caseID, target)
	case cancelled:
		// The record stays as it was, and whether the case still waits is
		// Temporal's to say.
	default:
		text := err.Error()
		if len(text) > maxErrorText {
			text = text[:maxErrorText] + "…"
		}
		recErr = s.c.failures.CallFailed(rec, ozgflow.CallFailure{CaseID: caseID, Target: target, Operation: info.ActivityType.Name,
			Error: text, Attempt: int(info.Attempt), At: time.Now().UTC()})
	}
	if recErr != nil && s.c.logger != nil {
		s.c.logger.Warn("Failing calls not recorded", "target", target, "error", recErr)
	}
}

// tellsTheCase says whether a failed attempt is signalled to its case: the
// first, and then the second, fourth, eighth and so on, in case an earlier
// signal was lost (a worker that stopped in the attempt, an engine that did
// not answer). A case that owes no memo writes nothing.
func tellsTheCase(attempt int32) bool {
	return attempt > 0 && attempt&(attempt-1) == 0
}

// tellCase signals the case that an attempt of a call it waits on failed
// or is slow, so that it writes its state to its projection and the memo
// before it may wait long. Email notices, which the case does not wait
// on, and status polls, which follow a wait that wrote the memo, tell
// nothing.
func (s *callTrackingInbound) tellCase(ctx context.Context, info activity.Info) {
	if s.c.cases == nil || info.IsLocalActivity {
		return
	}
	if _, isCase := ozgflow.CaseIDFromWorkflowID(info.WorkflowExecution.ID); !isCase {
		return
	}
	sig, done := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer done()
	err := s.c.cases.SignalWorkflow(sig, info.WorkflowExecution.ID, info.WorkflowExecution.RunID, ozgflow.SignalCallFailing, nil)
	if err != nil && s.c.logger != nil {
		s.c.logger.Warn("Case not told of its failing call", "workflowId", info.WorkflowExecution.ID, "error", err)
	}
}

// retryAfter returns the failure of an attempt that may be tried again as
// an ApplicationError that asks Temporal to try again after delay instead
// of the activity's own backoff. Its type and message are err's as
// Temporal would report them, and err is its cause, so what the workflow
// looks at stays the same. A failure that names its own delay (a target
// that said when to come back) keeps it, and an activity that completes
// later stays pending.
func retryAfter(err error, delay time.Duration) error {
	if err == activity.ErrResultPending {
		return err
	}
	msg, typ := err.Error(), errorType(err)
	var category temporal.ApplicationErrorCategory
	if named := (*temporal.ApplicationError)(nil); errors.As(err, &named) && named.NextRetryDelay() > 0 {
		return err
	}
	if app, ok := err.(*temporal.ApplicationError); ok {
		msg, typ, category = app.Message(), app.Type(), app.Category()
	}
	return temporal.NewApplicationErrorWithOptions(msg, typ, temporal.ApplicationErrorOptions{
		Cause: err, NextRetryDelay: delay, Category: category})
}

// errorType is the type Temporal gives an error that is no
// ApplicationError: the name of its Go type, none for errors.New's.
func errorType(err error) string {
	t := reflect.TypeOf(err)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeOf(errors.New("")).Elem() {
		return ""
	}
	return t.Name()
}

// lastAttempt says whether a failed attempt was the last its retry policy
// allows, so that the call failed for good; unknown without a policy.
func lastAttempt(info activity.Info) bool {
	p := info.RetryPolicy
	return p != nil && p.MaximumAttempts > 0 && info.Attempt >= p.MaximumAttempts
}

// callOutcome names how an attempt ended: ok, rejected (a non-retryable
// error: trying again would not help), timeout (the target did not answer
// within its time), or error.
func callOutcome(ctx context.Context, err error) string {
	var app *temporal.ApplicationError
	switch {
	case err == nil:
		return metrics.CallOK
	case errors.As(err, &app) && app.NonRetryable():
		return metrics.CallRejected
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return metrics.CallTimeout
	}
	return metrics.CallError
}
