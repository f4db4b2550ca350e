package workflows

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
)

// An administrator ends a case that waits on an external system which
// cannot take it (ozgflow.UpdateCancel, "Abbrechen" on the page of stuck
// cases): the case is cancelled, the applicant is told why in the notice
// cancelled_by_authority, the waiting call is cancelled with the steps, and
// what a withdrawal leaves behind is undone (a paid fee refunded, a
// delivered case withdrawn from the Fachverfahren). The update arrives only
// after the deploy that registers it, so no recorded history holds one; a
// history without it replays as before.

// maxCancelReason bounds the reason the applicant reads.
const maxCancelReason = 1000

// registerCancelUpdate registers the administrators' cancellation.
func (c *caseImpl) registerCancelUpdate(ctx workflow.Context) error {
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ozgflow.UpdateCancel,
		func(ctx workflow.Context, r ozgflow.Cancellation) (ozgflow.Case, error) {
			reason := strings.TrimSpace(r.Reason)
			c.cancelled, c.withdrawReason = true, reason
			c.audit(ctx, r.By, ozgflow.AuditCancelled, "", reason)
			c.closeTasks(ozgflow.TaskCancelled)
			c.state.Status = ozgflow.StatusCancelled
			c.notifyDefault(ctx, definitions.NoticeCancelled, definitions.NoticeData{Comment: reason, Refund: withdrawNotice(c.state.Payment).Refund})
			c.touch()
			c.flushBeside(ctx)
			if c.cancelSteps != nil {
				c.cancelSteps()
			}
			return c.state, nil
		},
		workflow.UpdateHandlerOptions{Validator: c.validateCancel}); err != nil {
		return fmt.Errorf("register %s: %w", ozgflow.UpdateCancel, err)
	}
	return nil
}

// validateCancel refuses a cancellation without a reason, or of a case
// that has ended.
func (c *caseImpl) validateCancel(r ozgflow.Cancellation) error {
	reason := strings.TrimSpace(r.Reason)
	switch {
	case reason == "":
		return temporal.NewApplicationErrorWithOptions("A cancellation needs a reason the applicant is told.", ozgflow.EINVALID,
			temporal.ApplicationErrorOptions{Details: []any{[]ozgflow.FieldError{{Pointer: "/reason", Detail: "fehlt"}}}})
	case utf8.RuneCountInString(reason) > maxCancelReason:
		return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("The reason is longer than %d characters.", maxCancelReason), ozgflow.EINVALID,
			temporal.ApplicationErrorOptions{Details: []any{[]ozgflow.FieldError{{Pointer: "/reason", Detail: fmt.Sprintf("darf höchstens %d Zeichen lang sein", maxCancelReason)}}}})
	case c.state.Status.Final() || c.stopped() || c.step >= len(c.def.Steps):
		return temporal.NewApplicationError(fmt.Sprintf("The case is already %s and can no longer be cancelled.", c.state.Status), ozgflow.ECONFLICT)
	}
	return nil
}
