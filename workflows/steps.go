package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/locale"
)

// Kinds of deliveries a Fachverfahren or archive receives.
const (
	deliveryKindCase    = "case"
	deliveryKindArchive = "archive"
)

// runStep dispatches one step to the code of its kind.
func (c *caseImpl) runStep(ctx workflow.Context, step definitions.Step) error {
	switch step.Kind {
	case definitions.KindValidate:
		return c.runValidate(ctx)
	case definitions.KindPayment:
		return c.runPayment(ctx)
	case definitions.KindSignature:
		if step.Mode == "applicant" {
			return c.runApplicantSignature(ctx, step)
		}
		return c.runSeal(ctx)
	case definitions.KindDeliver:
		return c.runDeliver(ctx, step)
	case definitions.KindTask:
		return c.runTask(ctx, step)
	case definitions.KindRequestInfo:
		return c.runRequestInfo(ctx, step)
	case definitions.KindDecide:
		c.runDecide(ctx, step)
		return nil
	case definitions.KindWaitExternal:
		return c.runWaitExternal(ctx, step)
	case definitions.KindNotify:
		c.notify(ctx, step.Notice, definitions.NoticeData{})
		c.touch()
		return nil
	case definitions.KindArchive:
		return c.runArchive(ctx, step)
	}
	return fmt.Errorf("unknown step kind %q", step.Kind)
}

// runValidate checks the data against the snapshot's schema once more; data
// that fails is rejected with the violations named.
func (c *caseImpl) runValidate(ctx workflow.Context) error {
	errs, err := c.def.ValidateData(c.in.Application.Data)
	if err != nil {
		return err
	}
	if len(errs) == 0 {
		return nil
	}
	var parts []string
	for _, e := range errs {
		parts = append(parts, e.Pointer+": "+e.Detail)
	}
	c.decide(ctx, ozgflow.OutcomeReject, "rule:validate", "Die Angaben sind unvollständig oder fehlerhaft ("+strings.Join(parts, "; ")+").")
	return nil
}

// runSeal has the signer seal the canonical application.
func (c *caseImpl) runSeal(ctx workflow.Context) error {
	req := activities.SealRequest{
		CaseID:            c.state.ID,
		DefinitionID:      c.def.ID,
		DefinitionVersion: c.def.Version,
		SubmittedAt:       c.in.SubmittedAt,
		Application:       c.in.Application,
	}
	var seal ozgflow.Seal
	if err := c.execute(ctx, providerOptions, seals.Seal, req).Get(ctx, &seal); err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	c.state.Seal = &seal
	c.touch()
	return nil
}

// submission is what receivers get for this case.
func (c *caseImpl) submission() activities.Submission {
	return activities.Submission{
		CaseID:            c.state.ID,
		CaseNumber:        c.state.CaseNumber,
		Service:           c.state.Service,
		Authority:         c.state.Authority,
		DefinitionID:      c.def.ID,
		DefinitionVersion: c.def.Version,
		DataSchema:        c.def.SchemaURI(),
		Applicant:         c.in.Application.Applicant,
		Data:              c.in.Application.Data,
		Attachments:       c.in.Application.Attachments,
		Payment:           c.state.Payment,
		Seal:              c.state.Seal,
		Decision:          c.state.Decision,
		SubmittedAt:       c.in.SubmittedAt,
	}
}

// runDeliver hands the case to its Fachverfahren, retrying while it is down.
func (c *caseImpl) runDeliver(ctx workflow.Context, step definitions.Step) error {
	req := activities.DeliverRequest{Target: step.Target, Kind: deliveryKindCase, Submission: c.submission(),
		StepRetry: step.Retry != nil}
	if c.features >= featuresCallbacks {
		req.Submission.AwaitsDecision = c.def.DecidedByFachverfahren()
	}
	var receipt activities.Receipt
	if err := c.execute(ctx, deliveryOptionsOf(step), deliveries.Deliver, req).Get(ctx, &receipt); err != nil {
		return fmt.Errorf("deliver to %s: %w", step.Target, err)
	}
	if c.awaitsAnswer(ctx, receipt) {
		return c.deliverByFITConnect(ctx, step, req, receipt)
	}
	c.state.Delivery = &ozgflow.Delivery{Target: step.Target, Reference: receipt.Reference, DeliveredAt: receipt.ReceivedAt}
	c.touch()
	if c.state.Decision == nil {
		c.setStatus(ctx, ozgflow.StatusForwarded, definitions.NoticeData{Reference: receipt.Reference})
	}
	return nil
}

// runArchive files the decided case with the archive (DMS) target.
func (c *caseImpl) runArchive(ctx workflow.Context, step definitions.Step) error {
	req := activities.DeliverRequest{Target: step.Target, Kind: deliveryKindArchive, Submission: c.submission(),
		StepRetry: step.Retry != nil}
	if err := c.execute(ctx, deliveryOptionsOf(step), deliveries.Deliver, req).Get(ctx, nil); err != nil {
		return fmt.Errorf("archive to %s: %w", step.Target, err)
	}
	return nil
}

// runDecide applies the first rule whose condition holds, else the default.
func (c *caseImpl) runDecide(ctx workflow.Context, step definitions.Step) {
	env := c.conditionEnv()
	for _, r := range step.Rules {
		ok, err := definitions.EvalCondition(r.When, env)
		if err != nil {
			c.logger.Warn("Rule failed; treated as not matching", "step", step.ID, "error", err)
			continue
		}
		if ok {
			c.decide(ctx, r.Outcome, "rule:"+step.ID, r.Comment)
			return
		}
	}
	if step.Default != "" {
		c.decide(ctx, step.Default, "rule:"+step.ID, "")
	}
}

// decide records the decision and moves the case to its final status.
func (c *caseImpl) decide(ctx workflow.Context, outcome, by, comment string) {
	c.decideWith(ctx, outcome, by, comment, nil)
}

// decideWith records the decision with its document, if any, which comes
// with the decision's notice.
func (c *caseImpl) decideWith(ctx workflow.Context, outcome, by, comment string, doc *ozgflow.Attachment) {
	c.state.Decision = &ozgflow.Decision{Outcome: outcome, By: by, Comment: comment, At: workflow.Now(ctx).UTC(), Document: doc}
	status := ozgflow.StatusApproved
	if outcome == ozgflow.OutcomeReject {
		status = ozgflow.StatusRejected
	}
	data := definitions.NoticeData{Comment: comment}
	if doc != nil {
		data.Documents = []ozgflow.Attachment{*doc}
	}
	c.setStatus(ctx, status, data)
}

// runRequestInfo asks the applicant the step's question and waits for the answer.
func (c *caseImpl) runRequestInfo(ctx workflow.Context, step definitions.Step) error {
	previous := c.state.Status
	c.askApplicant(ctx, step, step.Question, step.Fields, "system")
	if err := c.awaitAnswer(ctx, step); err != nil {
		return err
	}
	if !c.stopped() && c.state.Decision == nil {
		c.setStatus(ctx, previous, definitions.NoticeData{})
	}
	return nil
}

// askApplicant opens an information request (Nachforderung), due when the
// step's answer deadline says.
func (c *caseImpl) askApplicant(ctx workflow.Context, step definitions.Step, question string, fields []string, by string) {
	now := workflow.Now(ctx).UTC()
	req := ozgflow.InformationRequest{Question: question, Fields: fields, AskedBy: by, AskedAt: now}
	if step.AnswerDeadline > 0 {
		req.DueAt = now.Add(time.Duration(step.AnswerDeadline))
	}
	c.state.Requests = append(c.state.Requests, req)
	c.audit(ctx, by, ozgflow.AuditAsked, "", question)
	data := definitions.NoticeData{Question: question}
	if !req.DueAt.IsZero() {
		data.Deadline = locale.DE.Deadline(req.DueAt)
	}
	c.setStatus(ctx, ozgflow.StatusInformationRequested, data)
}

// openRequest returns the information request still waiting for an answer.
func (c *caseImpl) openRequest() *ozgflow.InformationRequest {
	if n := len(c.state.Requests); n > 0 && c.state.Requests[n-1].Open() {
		return &c.state.Requests[n-1]
	}
	return nil
}

// runWaitExternal waits for a named event from a back-office system; an event
// carrying an outcome decides the case. Without the event the case goes on
// after the timeout.
func (c *caseImpl) runWaitExternal(ctx workflow.Context, step definitions.Step) error {
	ok, err := c.awaitWithTimeout(ctx, time.Duration(step.Timeout), func() bool {
		_, got := c.external[step.Event]
		return got
	})
	if err != nil {
		return err
	}
	if !ok {
		c.logger.Info("External event did not arrive in time", "step", step.ID, "event", step.Event)
		return nil
	}
	ev := c.external[step.Event]
	if ev.Outcome != ozgflow.OutcomeApprove && ev.Outcome != ozgflow.OutcomeReject {
		return nil
	}
	if c.features >= featuresCallbacks && step.Event == ozgflow.CallbackDecided && c.decisionDoc != nil {
		c.decideWith(ctx, ev.Outcome, "external:"+ev.By, ev.Comment, c.decisionDoc)
		return nil
	}
	c.decide(ctx, ev.Outcome, "external:"+ev.By, ev.Comment)
	return nil
}

// listenForSignals drains the payment, signature, external-event and
// call-failing signals for the whole life of the case; a failing or slow
// call writes the memo the case owes (featuresMemoAtWaits) and the change
// its projection has not seen (featuresProjectionAtWaits).
func (c *caseImpl) listenForSignals(ctx workflow.Context) {
	paymentCh := workflow.GetSignalChannel(ctx, ozgflow.SignalPayment)
	signatureCh := workflow.GetSignalChannel(ctx, ozgflow.SignalSignature)
	externalCh := workflow.GetSignalChannel(ctx, ozgflow.SignalExternal)
	callFailingCh := workflow.GetSignalChannel(ctx, ozgflow.SignalCallFailing)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			sel := workflow.NewSelector(ctx)
			sel.AddReceive(paymentCh, func(ch workflow.ReceiveChannel, _ bool) {
				var ev ozgflow.PaymentEvent
				ch.Receive(ctx, &ev)
				c.applyPayment(ctx, activities.PaymentInfo{PaymentID: ev.PaymentID, Status: ev.Status, Kassenzeichen: ev.Kassenzeichen})
			})
			sel.AddReceive(signatureCh, func(ch workflow.ReceiveChannel, _ bool) {
				var ev ozgflow.SignatureEvent
				ch.Receive(ctx, &ev)
				c.signatureNudges++ // the case asks the service for the signed JWS
			})
			sel.AddReceive(externalCh, func(ch workflow.ReceiveChannel, _ bool) {
				var ev ozgflow.ExternalEvent
				ch.Receive(ctx, &ev)
				if ev.Event != "" {
					c.external[ev.Event] = ev
				}
			})
			sel.AddReceive(callFailingCh, func(ch workflow.ReceiveChannel, _ bool) {
				ch.Receive(ctx, nil)
				if c.features >= featuresMemoAtWaits {
					c.flushBeside(ctx) // writes what the call left owing
				}
			})
			sel.Select(ctx)
		}
	})
}

// compensate undoes what a withdrawal leaves behind: the fee is refunded and
// the Fachverfahren is told. It runs on a context the withdrawal did not cancel.
func (c *caseImpl) compensate(ctx workflow.Context) {
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	c.closeTasks(ozgflow.TaskCancelled)
	c.touch()
	if p := c.state.Payment; p != nil && p.Status == ozgflow.PaymentPayed && p.Refund != ozgflow.RefundRefunded {
		p.Refund = ozgflow.RefundPending
		var info activities.PaymentInfo
		if err := c.execute(ctx, providerOptions, payments.Refund, p.ID).Get(ctx, &info); err != nil {
			c.logger.Error("Refund failed", "error", err)
		} else {
			p.Refund = ozgflow.RefundRefunded
		}
		c.touch()
	}
	if d := c.state.Delivery; d != nil && !d.Withdrawn {
		req := activities.WithdrawRequest{Target: d.Target, CaseID: c.state.ID, Reason: c.withdrawReason}
		if err := c.execute(ctx, deliveryOptions, deliveries.Withdraw, req).Get(ctx, nil); err != nil {
			c.logger.Error("Withdrawal not delivered", "error", err)
		} else {
			d.Withdrawn = true
		}
		c.touch()
	}
}
