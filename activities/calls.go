package activities

import (
	"context"

	"github.com/ozgflow/ozgflow"
)

// CallFailures keeps which cases' calls to external systems fail right
// now, and since when each target fails: the candidates of the
// administrators' list of cases stuck on an external system and of the
// operator's alerts. A record that cannot be written is not worth failing
// a call.
type CallFailures interface {
	CallFailed(ctx context.Context, f ozgflow.CallFailure) error
	CallSucceeded(ctx context.Context, caseID, target string) error
	ForgetCallFailure(ctx context.Context, caseID, target string) error
}

// callTargets are the activities that call a system outside ozgflow and
// the target each calls; "" means the request names it (CallTarget).
var callTargets = map[string]string{
	"CreatePayment": ozgflow.TargetPayment, "PaymentStatus": ozgflow.TargetPayment, "Refund": ozgflow.TargetPayment,
	"Seal": ozgflow.TargetSigner, "StartSignature": ozgflow.TargetSigner, "SignatureStatus": ozgflow.TargetSigner,
	"Deliver": "", "Withdraw": "", "SubmissionOutcome": "",
	"Email": ozgflow.TargetMail,
}

// IsCall says whether an activity calls a system outside ozgflow.
func IsCall(activity string) bool {
	_, ok := callTargets[activity]
	return ok
}

// targeted is a request that names its target.
type targeted interface{ CallTarget() string }

// CallTarget implements targeted: a delivery goes to its target.
func (r DeliverRequest) CallTarget() string { return r.Target }

// CallTarget implements targeted: the answer to a FIT-Connect submission
// is read from the destination it went to.
func (r OutcomeRequest) CallTarget() string { return r.Target }

// CallTarget implements targeted: a withdrawal goes to the target of the
// delivery.
func (r WithdrawRequest) CallTarget() string { return r.Target }

// RetryStatedByStep implements retryStated: a delivery's step may state
// its retry.
func (r DeliverRequest) RetryStatedByStep() bool { return r.StepRetry }

// retryStated is a request that may carry its step's retry.
type retryStated interface{ RetryStatedByStep() bool }

// RetryStatedByStep says whether the variant's step states how the call
// with these arguments is tried again; that retry wins over one stated for
// the call's target.
func RetryStatedByStep(args []any) bool {
	for _, a := range args {
		if r, ok := a.(retryStated); ok && r.RetryStatedByStep() {
			return true
		}
	}
	return false
}

// CallTarget says which external target an activity execution calls, from
// the activity's name and its arguments; ok is false for activities that
// stay inside ozgflow.
func CallTarget(activity string, args []any) (target string, ok bool) {
	target, ok = callTargets[activity]
	if !ok || target != "" {
		return target, ok
	}
	for _, a := range args {
		if t, isT := a.(targeted); isT && t.CallTarget() != "" {
			return t.CallTarget(), true
		}
	}
	return "fachverfahren", true
}
