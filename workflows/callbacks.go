package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
)

// The Fachverfahren's callbacks reach a case as the update
// ozgflow.UpdateCallback. Its validator refuses what does not fit the case
// (another delivery's reference, a decision the variant does not take from
// the Fachverfahren, a case withdrawn); an accepted callback is recorded on
// the delivery and the audit, and shows in the timeline and status: the
// Fachverfahren received the case, it is in review, or its decision waits
// for the step that takes it (a wait-external step on the event decided).
// A callback ID comes into effect once: a repeat is accepted and changes
// nothing. Callbacks arrive only after the deploy that registers the
// update, so no recorded history holds one; what a decision does with its
// document depends on the case's features version (featuresCallbacks).

// registerCallbackUpdate registers the update that takes callbacks.
func (c *caseImpl) registerCallbackUpdate(ctx workflow.Context) error {
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ozgflow.UpdateCallback,
		func(ctx workflow.Context, cb ozgflow.Callback) (ozgflow.Case, error) {
			if c.callbacks[cb.ID] {
				return c.state, nil // a repeat of a callback taken before
			}
			c.callbacks[cb.ID] = true
			c.applyCallback(ctx, cb)
			c.flushBeside(ctx)
			return c.state, nil
		},
		workflow.UpdateHandlerOptions{Validator: c.validateCallback}); err != nil {
		return fmt.Errorf("register %s: %w", ozgflow.UpdateCallback, err)
	}
	return nil
}

// callbackRefusal is a validator's refusal of a callback: code as the
// error's type, which the gateway maps to the HTTP status, and an English
// message for the Fachverfahren.
func callbackRefusal(code, format string, args ...any) error {
	return temporal.NewApplicationError(fmt.Sprintf(format, args...), code)
}

// validateCallback decides whether the case takes a callback.
func (c *caseImpl) validateCallback(cb ozgflow.Callback) error {
	if cb.ID == "" {
		return callbackRefusal(ozgflow.EINVALID, "The callback needs an id.")
	}
	if c.callbacks[cb.ID] {
		return nil // a repeat, answered like the first
	}
	if !ozgflow.KnownCallbackEvent(cb.Event) {
		return callbackRefusal(ozgflow.EUNPROCESSABLE, "Unknown event %q: want received, in_review or decided.", cb.Event)
	}
	if c.stopped() {
		return callbackRefusal(ozgflow.ECONFLICT, "Case %s is %s and takes no callbacks.", c.state.ID, c.state.Status)
	}
	d := c.state.Delivery
	switch {
	case d == nil && c.state.StageKind == definitions.KindDeliver:
		return callbackRefusal(ozgflow.EUNAVAILABLE,
			"The delivery of case %s is not confirmed yet; send the callback again shortly.", c.state.ID)
	case d == nil:
		return callbackRefusal(ozgflow.ENOTFOUND, "Case %s was not delivered to a Fachverfahren.", c.state.ID)
	case d.Reference != cb.Reference:
		return callbackRefusal(ozgflow.ENOTFOUND, "Case %s has no delivery with the reference %s.", c.state.ID, cb.Reference)
	}
	if cb.Event != ozgflow.CallbackDecided {
		return nil
	}
	if cb.Outcome != ozgflow.OutcomeApprove && cb.Outcome != ozgflow.OutcomeReject {
		return callbackRefusal(ozgflow.EUNPROCESSABLE, "A decision needs the outcome approve or reject.")
	}
	last := c.lastDecisionStep()
	if last < 0 {
		return callbackRefusal(ozgflow.ECONFLICT,
			"Case %s is decided in ozgflow, not by the Fachverfahren: its variant takes no decision by callback.", c.state.ID)
	}
	if c.state.Decision != nil {
		return callbackRefusal(ozgflow.ECONFLICT, "Case %s is already decided (%s).", c.state.ID, c.state.Decision.Outcome)
	}
	if _, taken := c.external[ozgflow.CallbackDecided]; taken {
		return callbackRefusal(ozgflow.ECONFLICT, "The decision on case %s was reported already.", c.state.ID)
	}
	if c.step > last {
		return callbackRefusal(ozgflow.ECONFLICT,
			"Case %s no longer waits for the Fachverfahren's decision: the wait ended, and ozgflow decides it.", c.state.ID)
	}
	return nil
}

// lastDecisionStep is the index of the variant's last step that waits for
// the Fachverfahren's decision, -1 if none does.
func (c *caseImpl) lastDecisionStep() int {
	last := -1
	for i, s := range c.def.Steps {
		if s.Kind == definitions.KindWaitExternal && s.Event == ozgflow.CallbackDecided {
			last = i
		}
	}
	return last
}

// applyCallback records a callback the validator accepted and shows it:
// received in the timeline, in review as the status, a decision for the
// step that waits for it.
func (c *caseImpl) applyCallback(ctx workflow.Context, cb ozgflow.Callback) {
	d := c.state.Delivery
	at := cb.At.UTC()
	if at.IsZero() {
		at = workflow.Now(ctx).UTC()
	}
	d.Reports = append(d.Reports, ozgflow.DeliveryReport{ID: cb.ID, Event: cb.Event, At: at, Comment: cb.Comment})
	detail := cb.Event
	if cb.Outcome != "" {
		detail += " " + cb.Outcome
	}
	if cb.Comment != "" {
		detail += ": " + cb.Comment
	}
	c.audit(ctx, "fachverfahren:"+d.Target, ozgflow.AuditReported, "", detail)
	c.touch()
	switch cb.Event {
	case ozgflow.CallbackReceived:
		if c.state.Decision == nil {
			c.notifyDefault(ctx, definitions.NoticeBackOfficeReceived, definitions.NoticeData{Reference: d.Reference})
		}
	case ozgflow.CallbackInReview:
		if c.state.Decision == nil &&
			(c.state.Status == ozgflow.StatusForwarded || c.state.Status == ozgflow.StatusReceived) {
			c.state.Status = ozgflow.StatusInReview
			c.notifyDefault(ctx, string(ozgflow.StatusInReview), definitions.NoticeData{Reference: d.Reference})
		}
	case ozgflow.CallbackDecided:
		c.external[ozgflow.CallbackDecided] = ozgflow.ExternalEvent{Event: ozgflow.CallbackDecided,
			Outcome: cb.Outcome, Comment: cb.Comment, By: d.Target}
		c.decisionDoc = cb.Document
	}
}

// notifyDefault sends the variant's notice under key or, where it has
// none, the default of definitions.CallbackNotices.
func (c *caseImpl) notifyDefault(ctx workflow.Context, key string, data definitions.NoticeData) {
	if tmpl, ok := c.def.NoticeFor(key); ok {
		c.notifyWith(ctx, key, tmpl, data)
	}
}
