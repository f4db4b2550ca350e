package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/definitions"
)

// Activities are called through nil pointers of their family's type, so the
// compiler checks every name; the worker registers the real instances.
var (
	payments    *activities.Payments
	seals       *activities.Seals
	deliveries  *activities.Deliveries
	projections *activities.Projections
	notices     *activities.Notices
)

// Retry and timeout policies by kind of call. How a failed call to an
// external system is tried again is decided, first to last, by:
//
//  1. the variant's deliver or archive step, for that step's calls
//     (`retry:`, definitions.Retry; deliveryOptionsOf), marked in the
//     request (activities.DeliverRequest.StepRetry);
//  2. the worker's configuration for the call's target
//     (OZGFLOW_TARGET_POLICIES: retry, backoff, maxinterval), which asks
//     Temporal for the next wait with each failure (worker/calls.go);
//  3. the policies below.
//
// None limits the attempts of a call to an external system that may be
// down for a while: the case waits until it answers or an administrator
// resends or cancels it (the stuck cases). The polls do (pollOptions),
// and keep their own waits whatever the target's configuration says. The timeout of one attempt is
// the worker's, by target; StartToCloseTimeout is its upper bound.
var (
	// projectionOptions: a quick local write; a failure is healed by the next one.
	projectionOptions = workflow.LocalActivityOptions{
		StartToCloseTimeout: 5 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
	}
	// providerOptions: calls to the signer and to the payment provider
	// (opening and refunding a payment). The provider deduplicates by
	// request ID and refunds once, so a retry is safe; the worker bounds
	// each attempt (OZGFLOW_PAYMENT_TIMEOUT, default 10 s, for the payment
	// provider) and a refused request is not retried. A provider that is
	// down is tried again after 1, 2, 4 … s, at most a minute apart, until
	// it answers.
	providerOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	}
	// pollOptions: one status poll; the next poll comes anyway.
	pollOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 15 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 2},
	}
	// deliveryOptions: a Fachverfahren may be down for hours; keep trying with
	// backoff until it answers or the case is withdrawn.
	deliveryOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    2 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    5 * time.Minute,
		},
	}
	// emailOptions: a mail server may be down for a while; a day of tries.
	emailOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 24 * time.Hour,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    5 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Minute,
		},
	}
)

// Payment polling starts at paymentPollStart and doubles up to paymentPollMax.
const (
	paymentPollStart = 30 * time.Second
	paymentPollMax   = time.Hour
)

// deliveryOptionsOf is deliveryOptions with the retry the step states
// (definitions.Retry); what it leaves out keeps the default. A stated retry
// wins over the target's in the worker's configuration: the step's
// requests say so (StepRetry). It depends on the case's variant snapshot
// only, so a replay computes the same.
func deliveryOptionsOf(step definitions.Step) workflow.ActivityOptions {
	opts := deliveryOptions
	r := step.Retry
	if r == nil {
		return opts
	}
	policy := *opts.RetryPolicy
	if r.Initial > 0 {
		policy.InitialInterval = time.Duration(r.Initial)
	}
	if r.Maximum > 0 {
		policy.MaximumInterval = time.Duration(r.Maximum)
	}
	if r.Backoff >= 1 {
		policy.BackoffCoefficient = r.Backoff
	}
	policy.MaximumInterval = max(policy.MaximumInterval, policy.InitialInterval)
	opts.RetryPolicy = &policy
	return opts
}
