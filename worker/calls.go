package worker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/metrics"
)

// TargetPolicy is how ozgflow treats calls to one external target: how
// long one attempt may take, and how long the target may fail before the
// operator is alerted. How often a call is tried again is the workflow's
// retry policy of its kind (workflows/options.go).
type TargetPolicy struct {
	Timeout    time.Duration
	AlertAfter time.Duration
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
	return out
}

// callTracking bounds every attempt of an external call by its target's
// timeout, counts it in the metrics by target, operation and outcome, and
// keeps the index of failing calls: a failed attempt is recorded, a
// success clears the case's call and the target, a call that failed for
// good (refused, or its last attempt) leaves the case, which waits on it no
// more, and a cancelled attempt is no failure of the target.
type callTracking struct {
	interceptor.WorkerInterceptorBase
	policies TargetPolicies
	failures activities.CallFailures
	metrics  *metrics.Metrics
	logger   *slog.Logger
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
	callCtx, cancel := context.WithTimeout(ctx, s.c.policies.For(target).Timeout)
	defer cancel()
	start := time.Now()
	res, err := s.Next.ExecuteActivity(callCtx, in)
	outcome := callOutcome(callCtx, err)
	if s.c.metrics != nil {
		s.c.metrics.ObserveCall(target, name, outcome, time.Since(start))
	}
	caseID, isCase := ozgflow.CaseIDFromWorkflowID(info.WorkflowExecution.ID)
	if s.c.failures == nil || !isCase {
		return res, err
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
	case errors.Is(err, context.Canceled) && !errors.Is(callCtx.Err(), context.DeadlineExceeded):
		// Cancelled (the case ended, the worker stops): the target did
		// not fail; the record stays as it was, and whether the case still
		// waits is Temporal's to say.
	default:
		text := err.Error()
		if len(text) > maxErrorText {
			text = text[:maxErrorText] + "…"
		}
		recErr = s.c.failures.CallFailed(rec, ozgflow.CallFailure{CaseID: caseID, Target: target, Operation: name,
			Error: text, Attempt: int(info.Attempt), At: time.Now().UTC()})
	}
	if recErr != nil && s.c.logger != nil {
		s.c.logger.Warn("Failing calls not recorded", "target", target, "error", recErr)
	}
	return res, err
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
