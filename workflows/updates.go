package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/locale"
)

// readyForApplicant reports whether the case knows what the applicant must do
// first: pay through the link, or nothing because no payment step lies ahead.
func (c *caseImpl) readyForApplicant() bool {
	if c.def.FeeAmount() == 0 || c.step > c.lastPayment || c.stopped() || c.state.Decision != nil {
		return true
	}
	return c.state.Status == ozgflow.StatusAwaitingPayment && c.state.Payment != nil && c.state.Payment.RedirectURL != ""
}

// withdrawNotice names the fee to be refunded, if one was paid.
func withdrawNotice(p *ozgflow.Payment) definitions.NoticeData {
	if p == nil || p.Status != ozgflow.PaymentPayed {
		return definitions.NoticeData{}
	}
	return definitions.NoticeData{Refund: locale.DE.Amount(p.Amount, p.Currency)}
}

// refuse builds the error an update validator returns: its type is the
// ozgflow error code, which the gateway maps to an HTTP status; its message
// is English for the API; its details carry no field violations and the
// refusal, which every room words in its language. args fill both the
// message and the refusal's text.
func refuse(code string, reason ozgflow.Reason, format string, args ...string) error {
	anyArgs := make([]any, len(args))
	for i, a := range args {
		anyArgs[i] = a
	}
	return temporal.NewApplicationErrorWithOptions(fmt.Sprintf(format, anyArgs...), code,
		temporal.ApplicationErrorOptions{Details: []any{[]ozgflow.FieldError(nil), ozgflow.Refusal{Reason: reason, Args: args}}})
}

// verbatim escapes text for use inside a format string.
func verbatim(text string) string { return strings.ReplaceAll(text, "%", "%%") }

// temporalError carries an ozgflow error through an update's outcome: the
// code as type, the showable message, the field violations and the refusal
// (if any) as details.
func temporalError(err error) error {
	details := []any{ozgflow.ErrorFields(err)}
	if r := ozgflow.RefusalOf(err); r != nil {
		details = append(details, *r)
	}
	return temporal.NewApplicationErrorWithOptions(ozgflow.ErrorMessage(err), ozgflow.ErrorCode(err),
		temporal.ApplicationErrorOptions{Details: details})
}

// registerTaskUpdates registers claim, release, handover, complete and approve.
func (c *caseImpl) registerTaskUpdates(ctx workflow.Context) error {
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ozgflow.UpdateClaim,
		func(ctx workflow.Context, a ozgflow.TaskAction) (ozgflow.Task, error) {
			t := c.task(a.TaskID)
			t.Status, t.Assignee = ozgflow.TaskClaimed, a.User
			c.audit(ctx, a.User, ozgflow.AuditClaimed, t.ID, "")
			return c.publishTask(ctx, t), nil
		},
		workflow.UpdateHandlerOptions{Validator: func(a ozgflow.TaskAction) error {
			t, err := c.workableTask(a.TaskID)
			if err != nil {
				return err
			}
			if t.Assignee != "" && t.Assignee != a.User {
				return refuse(ozgflow.ECONFLICT, ozgflow.ReasonTaskClaimed, "The task is already claimed by %s.", t.Assignee)
			}
			return nil
		}}); err != nil {
		return fmt.Errorf("register claim: %w", err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ozgflow.UpdateRelease,
		func(ctx workflow.Context, a ozgflow.TaskAction) (ozgflow.Task, error) {
			t := c.task(a.TaskID)
			t.Status, t.Assignee = ozgflow.TaskOpen, ""
			c.audit(ctx, a.User, ozgflow.AuditReleased, t.ID, "")
			return c.publishTask(ctx, t), nil
		},
		workflow.UpdateHandlerOptions{Validator: func(a ozgflow.TaskAction) error {
			t, err := c.workableTask(a.TaskID)
			if err != nil {
				return err
			}
			return heldBy(t, a.User)
		}}); err != nil {
		return fmt.Errorf("register release: %w", err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ozgflow.UpdateHandover,
		func(ctx workflow.Context, h ozgflow.Handover) (ozgflow.Task, error) {
			t := c.task(h.TaskID)
			var moved []string
			if h.Queue != "" && h.Queue != t.Queue {
				t.Queue = h.Queue
				moved = append(moved, "queue "+h.Queue)
			}
			t.Status, t.Assignee = ozgflow.TaskOpen, ""
			if h.To != "" {
				t.Status, t.Assignee = ozgflow.TaskClaimed, h.To
				moved = append(moved, h.To)
			}
			t.Note = h.Note
			detail := "to " + strings.Join(moved, ", ")
			if h.Note != "" {
				detail += ": " + h.Note
			}
			c.audit(ctx, h.User, ozgflow.AuditHandedOver, t.ID, detail)
			return c.publishTask(ctx, t), nil
		},
		workflow.UpdateHandlerOptions{Validator: c.validateHandover}); err != nil {
		return fmt.Errorf("register handover: %w", err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ozgflow.UpdateComplete,
		func(ctx workflow.Context, in ozgflow.CompleteTask) (ozgflow.Task, error) {
			t := c.task(in.TaskID)
			step, _ := c.def.Step(t.StepID)
			now := workflow.Now(ctx).UTC()
			switch {
			case in.Outcome == ozgflow.OutcomeRequestInformation:
				t.Status, t.Assignee, t.Outcome, t.Comment = ozgflow.TaskDone, in.User, in.Outcome, in.Comment
				c.askApplicant(ctx, step, in.Comment, in.Fields, in.User)
			case step.FourEyes:
				t.Status, t.Assignee = ozgflow.TaskApproval, ""
				t.Proposal = &ozgflow.Proposal{Outcome: in.Outcome, Comment: in.Comment, By: in.User, At: now}
				c.audit(ctx, in.User, ozgflow.AuditProposed, t.ID, in.Outcome)
			default:
				t.Status, t.Assignee, t.Outcome, t.Comment = ozgflow.TaskDone, in.User, in.Outcome, in.Comment
				c.audit(ctx, in.User, ozgflow.AuditDecided, t.ID, in.Outcome)
				c.decide(ctx, in.Outcome, in.User, in.Comment)
			}
			return c.publishTask(ctx, t), nil
		},
		workflow.UpdateHandlerOptions{Validator: func(in ozgflow.CompleteTask) error {
			t, err := c.workableTask(in.TaskID)
			if err != nil {
				return err
			}
			if t.Assignee != "" && t.Assignee != in.User {
				return refuse(ozgflow.ECONFLICT, ozgflow.ReasonTaskClaimed, "The task is claimed by %s.", t.Assignee)
			}
			if !t.Offers(in.Outcome) {
				return refuse(ozgflow.EUNPROCESSABLE, ozgflow.ReasonOutcomeNotOffered,
					"Outcome %q is not offered by this task; it offers "+verbatim(fmt.Sprint(t.Outcomes))+".", in.Outcome)
			}
			if in.Outcome == ozgflow.OutcomeRequestInformation && in.Comment == "" {
				return refuse(ozgflow.EUNPROCESSABLE, ozgflow.ReasonQuestionMissing, "A request for information needs the question as comment.")
			}
			return nil
		}}); err != nil {
		return fmt.Errorf("register complete: %w", err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ozgflow.UpdateApprove,
		func(ctx workflow.Context, a ozgflow.Approval) (ozgflow.Task, error) {
			t := c.task(a.TaskID)
			p := *t.Proposal
			if !a.Approve {
				t.Status, t.Assignee, t.Proposal, t.Note = ozgflow.TaskClaimed, p.By, nil, a.Comment
				c.audit(ctx, a.User, ozgflow.AuditApprovalDenied, t.ID, a.Comment)
				return c.publishTask(ctx, t), nil
			}
			t.Status, t.Assignee, t.Outcome, t.Comment, t.ApprovedBy = ozgflow.TaskDone, p.By, p.Outcome, p.Comment, a.User
			c.audit(ctx, a.User, ozgflow.AuditApproved, t.ID, p.Outcome)
			c.decide(ctx, p.Outcome, p.By, p.Comment)
			c.state.Decision.ApprovedBy = a.User
			return c.publishTask(ctx, t), nil
		},
		workflow.UpdateHandlerOptions{Validator: func(a ozgflow.Approval) error {
			t, err := c.activeTask(a.TaskID)
			if err != nil {
				return err
			}
			if t.Status != ozgflow.TaskApproval {
				return refuse(ozgflow.ECONFLICT, ozgflow.ReasonNoApprovalPending, "The task has no decision waiting for approval.")
			}
			if t.Proposal.By == a.User {
				return refuse(ozgflow.EFORBIDDEN, ozgflow.ReasonOwnProposal, "A decision must be approved by a second case worker, not by %s who proposed it.", a.User)
			}
			if !a.Approve && a.Comment == "" {
				return refuse(ozgflow.EUNPROCESSABLE, ozgflow.ReasonDenialReasonMissing, "Say why the decision is not approved.")
			}
			return nil
		}}); err != nil {
		return fmt.Errorf("register approve: %w", err)
	}
	return nil
}

// publishTask flushes the changed state, so the answer to an update is in
// the projection by the time the caller gets it, and returns a copy of t.
func (c *caseImpl) publishTask(ctx workflow.Context, t *ozgflow.Task) ozgflow.Task {
	done := *t
	c.touch()
	c.flushBeside(ctx)
	return done
}

// heldBy refuses unless user holds the task.
func heldBy(t *ozgflow.Task, user string) error {
	switch t.Assignee {
	case user:
		return nil
	case "":
		return refuse(ozgflow.ECONFLICT, ozgflow.ReasonTaskNotClaimed, "The task is not claimed.")
	}
	return refuse(ozgflow.ECONFLICT, ozgflow.ReasonTaskClaimed, "The task is claimed by %s.", t.Assignee)
}

// validateHandover allows the holder of a task, or anyone while it is open,
// to pass it to a colleague or another queue of the variant.
func (c *caseImpl) validateHandover(h ozgflow.Handover) error {
	t, err := c.workableTask(h.TaskID)
	if err != nil {
		return err
	}
	if t.Assignee != "" && t.Assignee != h.User {
		return refuse(ozgflow.ECONFLICT, ozgflow.ReasonTaskClaimed, "The task is claimed by %s.", t.Assignee)
	}
	if h.To == "" && h.Queue == "" {
		return refuse(ozgflow.EUNPROCESSABLE, ozgflow.ReasonHandoverTarget, "Name a colleague or a queue to hand the task over to.")
	}
	if h.Queue != "" && !slices.Contains(c.def.Queues(), h.Queue) {
		return refuse(ozgflow.EUNPROCESSABLE, ozgflow.ReasonQueueUnknown,
			"Queue %q is not a queue of this process; known queues: "+verbatim(fmt.Sprint(c.def.Queues()))+".", h.Queue)
	}
	return nil
}

// submittedWait bounds how long the submit answer waits for the payment link.
const submittedWait = 10 * time.Second

// registerApplicantUpdates registers submitted, respond, withdraw and retry-payment.
func (c *caseImpl) registerApplicantUpdates(ctx workflow.Context) error {
	// submitted is sent with the start of the case; it answers once the case
	// has what the applicant needs next: the payment link, or no fee due.
	if err := workflow.SetUpdateHandler(ctx, ozgflow.UpdateSubmitted,
		func(ctx workflow.Context) (ozgflow.Case, error) {
			if c.readyForApplicant() {
				return c.state, nil // answering at once spares a timer
			}
			_, err := workflow.AwaitWithTimeout(ctx, submittedWait, c.readyForApplicant)
			return c.state, err
		}); err != nil {
		return fmt.Errorf("register submitted: %w", err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ozgflow.UpdateRespond,
		func(ctx workflow.Context, r ozgflow.Response) (ozgflow.Case, error) {
			req := c.openRequest()
			req.Answer, req.AnswerData, req.AnsweredAt = r.Text, r.Data, workflow.Now(ctx).UTC()
			req.Attachments = r.Attachments
			c.audit(ctx, "applicant", ozgflow.AuditAnswered, "", "")
			c.notify(ctx, definitions.NoticeAnswered, definitions.NoticeData{})
			c.touch()
			c.flushBeside(ctx)
			return c.state, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(r ozgflow.Response) error {
			if c.state.Status != ozgflow.StatusInformationRequested || c.openRequest() == nil {
				return refuse(ozgflow.ECONFLICT, ozgflow.ReasonNoQuestionWaiting, "No question is waiting for an answer.")
			}
			if r.Text == "" && len(r.Data) == 0 && len(r.Attachments) == 0 {
				return refuse(ozgflow.EUNPROCESSABLE, ozgflow.ReasonAnswerEmpty, "The answer is empty.")
			}
			return nil
		}}); err != nil {
		return fmt.Errorf("register respond: %w", err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ozgflow.UpdateWithdraw,
		func(ctx workflow.Context, w ozgflow.Withdrawal) (ozgflow.Case, error) {
			c.withdrawn, c.withdrawReason = true, w.Reason
			c.audit(ctx, "applicant", ozgflow.AuditWithdrawn, "", w.Reason)
			c.closeTasks(ozgflow.TaskCancelled)
			c.setStatus(ctx, ozgflow.StatusWithdrawn, withdrawNotice(c.state.Payment))
			c.flushBeside(ctx)
			if c.cancelSteps != nil {
				c.cancelSteps()
			}
			return c.state, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ozgflow.Withdrawal) error {
			if c.state.Status.Final() || c.withdrawn {
				return refuse(ozgflow.ECONFLICT, ozgflow.ReasonNotWithdrawable, "The case is already %s and can no longer be withdrawn.", string(c.state.Status))
			}
			return nil
		}}); err != nil {
		return fmt.Errorf("register withdraw: %w", err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ozgflow.UpdateRetryPayment,
		func(ctx workflow.Context) (ozgflow.Payment, error) { return c.retryPayment(ctx) },
		workflow.UpdateHandlerOptions{Validator: c.validateRetryPayment}); err != nil {
		return fmt.Errorf("register retry-payment: %w", err)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ozgflow.UpdatePaymentReturned,
		func(ctx workflow.Context) (ozgflow.Payment, error) { return c.paymentReturned(ctx) },
		workflow.UpdateHandlerOptions{Validator: c.validatePaymentReturned}); err != nil {
		return fmt.Errorf("register payment-returned: %w", err)
	}
	return nil
}
