package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/definitions"
)

// A deliver step to a FIT-Connect destination sends a submission and then
// waits, polling the submission's event log with growing intervals, for the
// destination's signed accept or reject. An accept lets the case go on. A
// reject, or no answer before the deadline (the step's timeout, else the
// target's configuration), leaves the case waiting in the deliver step with
// the reason on its delivery, until an administrator resends it (update
// resend-delivery): a new submission, and the wait starts again. Cases
// record the version below when their first FIT-Connect receipt arrives;
// cases delivering to ozgflow's own protocol never reach it.

// versionFITConnectDelivery guards the wait for a FIT-Connect destination's
// answer and the resend after a rejection.
const versionFITConnectDelivery = "fitconnect-delivery"

// Polling the event log starts at outcomePollStart and doubles up to
// outcomePollMax; defaultAnswerWithin bounds the wait when neither the
// variant nor the target says.
const (
	outcomePollStart    = 5 * time.Second
	outcomePollMax      = time.Hour
	defaultAnswerWithin = 72 * time.Hour
)

// outcomeNoAnswer is the outcome of a submission whose destination did not
// answer before the deadline.
const outcomeNoAnswer = "no-answer"

// awaitsAnswer reports whether a delivery's receipt is a FIT-Connect
// submission whose answer the case waits for.
func (c *caseImpl) awaitsAnswer(ctx workflow.Context, receipt activities.Receipt) bool {
	if receipt.Protocol != ozgflow.DeliveryFITConnect || receipt.Sent == nil {
		return false
	}
	if c.features >= featuresFITConnectDelivery {
		return true // no version of its own: each costs a marker and a visibility write
	}
	return workflow.GetVersion(ctx, versionFITConnectDelivery, workflow.DefaultVersion, 1) >= 1
}

// deliverByFITConnect waits for the destination's answer to the submission
// of receipt, and resends what was rejected once an administrator asks,
// until the destination accepts or the case is stopped.
func (c *caseImpl) deliverByFITConnect(ctx workflow.Context, step definitions.Step, req activities.DeliverRequest, receipt activities.Receipt) error {
	round := max(req.Round, 1)
	for {
		c.state.Delivery = &ozgflow.Delivery{Target: step.Target, Reference: receipt.Reference,
			Protocol: ozgflow.DeliveryFITConnect, Round: round, Pending: true}
		c.touch()
		out, err := c.awaitOutcome(ctx, step, receipt)
		if err != nil {
			return err
		}
		if c.stopped() {
			return nil
		}
		d := c.state.Delivery
		d.Pending = false
		if out.Outcome == activities.OutcomeAccepted {
			d.DeliveredAt = out.At
			c.audit(ctx, "system", ozgflow.AuditDeliveryAccepted, "", step.Target+": "+receipt.Reference)
			c.touch()
			if c.state.Decision == nil {
				c.setStatus(ctx, ozgflow.StatusForwarded, definitions.NoticeData{Reference: receipt.Reference})
			}
			return nil
		}
		d.Rejected = rejection(workflow.Now(ctx).UTC(), step.Target, receipt.Reference, out)
		c.audit(ctx, "system", ozgflow.AuditDeliveryRejected, "", step.Target+": "+d.Rejected.Reason)
		c.touch()
		c.resendAsked = false
		if err := c.await(ctx, func() bool { return c.resendAsked || c.stopped() }); err != nil {
			return err
		}
		if c.stopped() {
			return nil
		}
		round++
		req.Round = round
		for {
			err := c.execute(ctx, deliveryOptionsOf(step), deliveries.Deliver, req).Get(ctx, &receipt)
			if err == nil || c.stopped() {
				break
			}
			// The Submission API refused the resend for good (the
			// destination is no longer active, say): the case waits for
			// the next fix and resend instead of failing.
			c.logger.Warn("Resend refused", "target", step.Target, "round", round, "error", err)
			d.Rejected = &ozgflow.DeliveryRejection{Target: step.Target, Since: workflow.Now(ctx).UTC(),
				Reason: "Erneutes Senden abgelehnt: " + err.Error()}
			c.audit(ctx, "system", ozgflow.AuditDeliveryRejected, "", step.Target+": "+d.Rejected.Reason)
			c.touch()
			c.resendAsked = false
			if err := c.await(ctx, func() bool { return c.resendAsked || c.stopped() }); err != nil {
				return err
			}
			if c.stopped() {
				break
			}
			round++
			req.Round = round
		}
		if c.stopped() {
			return nil
		}
	}
}

// awaitOutcome polls the destination's answer with growing intervals until
// it accepts or rejects, the deadline passes (a rejection without
// problems, TimedOut) or the case is stopped. A failed poll is logged; the
// next one comes anyway.
func (c *caseImpl) awaitOutcome(ctx workflow.Context, step definitions.Step, receipt activities.Receipt) (activities.SubmissionOutcome, error) {
	within := time.Duration(step.Timeout)
	if within <= 0 {
		within = receipt.AnswerWithin
	}
	if within <= 0 {
		within = defaultAnswerWithin
	}
	deadline := workflow.Now(ctx).Add(within)
	req := activities.OutcomeRequest{Target: step.Target, CaseID: c.state.ID, Submission: *receipt.Sent}
	wait := outcomePollStart
	for {
		left := deadline.Sub(workflow.Now(ctx))
		if left <= 0 {
			return activities.SubmissionOutcome{Outcome: outcomeNoAnswer}, nil
		}
		if _, err := c.awaitWithTimeout(ctx, min(wait, left), c.stopped); err != nil {
			return activities.SubmissionOutcome{}, err
		}
		if c.stopped() {
			return activities.SubmissionOutcome{}, nil
		}
		var out activities.SubmissionOutcome
		if err := c.execute(ctx, pollOptions, deliveries.SubmissionOutcome, req).Get(ctx, &out); err != nil {
			c.logger.Warn("Submission outcome not read", "target", step.Target, "error", err)
		} else if out.Outcome == activities.OutcomeAccepted || out.Outcome == activities.OutcomeRejected {
			return out, nil
		}
		wait = min(wait*2, outcomePollMax)
	}
}

// rejection words a destination's rejection for administrators: the
// problems' titles and details, or "keine Antwort" when none came.
func rejection(now time.Time, target, submissionID string, out activities.SubmissionOutcome) *ozgflow.DeliveryRejection {
	r := &ozgflow.DeliveryRejection{Target: target, SubmissionID: submissionID, Since: now}
	if out.Outcome == outcomeNoAnswer {
		r.Reason, r.TimedOut = ozgflow.DeliveryRejectedReasonNoAnswer, true
		return r
	}
	var parts []string
	for _, p := range out.Problems {
		text := p.Title
		if p.Detail != "" {
			text += ": " + p.Detail
		}
		if text == "" {
			text = p.Type
		}
		parts = append(parts, text)
		r.Problems = append(r.Problems, p.Type)
	}
	r.Reason = strings.Join(parts, "; ")
	if r.Reason == "" {
		r.Reason = "abgelehnt ohne Angabe von Gründen"
	}
	return r
}

// registerResendUpdate registers the update by which an administrator
// resends a rejected delivery.
func (c *caseImpl) registerResendUpdate(ctx workflow.Context) error {
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ozgflow.UpdateResendDelivery,
		func(ctx workflow.Context, by string) (ozgflow.Case, error) {
			if by == "" {
				by = "admin"
			}
			c.resendAsked = true
			c.audit(ctx, by, ozgflow.AuditDeliveryResent, "", c.state.Delivery.Target)
			c.state.Delivery.Rejected = nil
			c.touch()
			c.flush(ctx)
			return c.state, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(string) error {
			if c.state.Status.Final() || c.stopped() {
				return refuse(ozgflow.ECONFLICT, ozgflow.ReasonCaseClosed, "The case is %s.", string(c.state.Status))
			}
			if !c.state.DeliveryRejected() || c.resendAsked {
				return refuse(ozgflow.ECONFLICT, ozgflow.ReasonNoDeliveryRejected, "The delivery of this case was not rejected; there is nothing to resend.")
			}
			return nil
		}}); err != nil {
		return fmt.Errorf("register %s: %w", ozgflow.UpdateResendDelivery, err)
	}
	return nil
}
