package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/definitions"
)

// runPayment collects the fee: it opens a payment, then waits for the
// provider's webhook while polling its status with growing intervals, until
// the fee is paid or the payment deadline cancels the case. A failed or
// cancelled payment can be retried by the applicant until the deadline.
func (c *caseImpl) runPayment(ctx workflow.Context) error {
	fee := c.def.Fee
	if fee == nil || fee.Amount <= 0 {
		return nil
	}
	currency := fee.Currency
	if currency == "" {
		currency = "EUR"
	}
	if c.features >= featuresPaymentLines {
		c.xpay = xpayItems // no version of its own: each costs a marker and a visibility write
	} else {
		c.xpay = workflow.GetVersion(ctx, versionXBezahldienste, workflow.DefaultVersion, xpayItems)
	}
	deadline := workflow.Now(ctx).UTC().Add(time.Duration(c.def.PaymentDeadline))
	c.state.Payment = &ozgflow.Payment{Amount: fee.Amount, Currency: currency, Purpose: fee.Purpose,
		Status: ozgflow.PaymentInitial, DeadlineAt: deadline}
	if c.xpay >= xpayItems {
		c.state.Payment.Items = fee.LineItems()
	}
	if err := c.openPayment(ctx); err != nil {
		return err
	}
	c.setStatus(ctx, ozgflow.StatusAwaitingPayment, definitions.NoticeData{})

	poll := paymentPollStart
	for c.state.Payment.Status != ozgflow.PaymentPayed {
		now := workflow.Now(ctx)
		if !now.Before(deadline) {
			c.setStatus(ctx, ozgflow.StatusCancelled, definitions.NoticeData{})
			return nil
		}
		seen := c.paymentChanges
		changed, err := c.awaitWithTimeout(ctx, min(poll, deadline.Sub(now)), func() bool {
			return c.paymentChanges != seen
		})
		if err != nil {
			return err
		}
		if !changed && c.state.Payment.Status == ozgflow.PaymentInitial && workflow.Now(ctx).Before(deadline) {
			c.pollPayment(ctx)
			poll = min(2*poll, paymentPollMax)
		}
	}
	return nil
}

// openPayment asks the provider for a new payment attempt.
func (c *caseImpl) openPayment(ctx workflow.Context) error {
	p := c.state.Payment
	attempt := p.Attempt + 1
	req := activities.PaymentRequest{
		RequestID: fmt.Sprintf("%s-%d", c.state.ID, attempt),
		CaseID:    c.state.ID,
		Amount:    p.Amount,
		Currency:  p.Currency,
		Purpose:   p.Purpose,
		Items:     p.Items,
	}
	var info activities.PaymentInfo
	if err := c.execute(ctx, providerOptions, payments.CreatePayment, req).Get(ctx, &info); err != nil {
		return fmt.Errorf("open payment: %w", err)
	}
	p.Attempt, p.ID, p.RedirectURL, p.Status = attempt, info.PaymentID, info.RedirectURL, info.Status
	if c.xpay >= xpayItems {
		p.Reference, p.Kassenzeichen = req.RequestID, info.Kassenzeichen
	}
	c.paymentChanges++
	c.touch()
	return nil
}

// pollPayment asks the provider for the status; a failed poll is not fatal.
func (c *caseImpl) pollPayment(ctx workflow.Context) {
	var info activities.PaymentInfo
	if err := c.execute(ctx, pollOptions, payments.PaymentStatus, c.state.Payment.ID).Get(ctx, &info); err != nil {
		c.logger.Warn("Payment status poll failed", "error", err)
		return
	}
	c.applyPayment(ctx, info)
}

// applyPayment takes a status from webhook or poll; stale or repeated reports
// of the same status change nothing.
func (c *caseImpl) applyPayment(ctx workflow.Context, info activities.PaymentInfo) {
	p := c.state.Payment
	if p == nil || info.PaymentID != p.ID {
		return
	}
	if info.Kassenzeichen != "" && p.Kassenzeichen == "" && c.xpay >= xpayItems {
		// A provider may issue the Kassenzeichen only with the payment.
		p.Kassenzeichen = info.Kassenzeichen
		c.touch()
	}
	if info.Status == p.Status || p.Status == ozgflow.PaymentPayed {
		return
	}
	switch info.Status {
	case ozgflow.PaymentPayed:
		p.Status, p.PaidAt = info.Status, workflow.Now(ctx).UTC()
	case ozgflow.PaymentFailed, ozgflow.PaymentCanceled:
		p.Status = info.Status
		c.notify(ctx, definitions.NoticePaymentFailed, definitions.NoticeData{})
	default:
		return
	}
	c.paymentChanges++
	c.touch()
}

// versionXBezahldienste guards the payment after XBezahldienste: the
// request carries the fee's lines with their booking data, and the case
// keeps the payment reference and the Kassenzeichen. A case whose payment
// step started before records no marker and pays as it did.
const versionXBezahldienste = "xbezahldienste-payment"

// xpayItems is the first version of the XBezahldienste payment.
const xpayItems workflow.Version = 1

// paymentReturned asks the provider for the status at once, when the
// applicant comes back from the payment page, so that the status page shows
// the payment without waiting for the webhook or the next poll. The case
// is written to the projection before the answer, so that the page the
// applicant lands on reads it.
func (c *caseImpl) paymentReturned(ctx workflow.Context) (ozgflow.Payment, error) {
	c.pollPayment(ctx)
	c.flushBeside(ctx)
	return *c.state.Payment, nil
}

func (c *caseImpl) validatePaymentReturned() error {
	p := c.state.Payment
	if c.state.Status != ozgflow.StatusAwaitingPayment || p == nil || p.ID == "" || p.Status != ozgflow.PaymentInitial {
		return refuse(ozgflow.ECONFLICT, ozgflow.ReasonNoPaymentPending, "The case does not wait for an open payment.")
	}
	return nil
}

// retryPayment opens a new attempt after a failed or cancelled one.
func (c *caseImpl) retryPayment(ctx workflow.Context) (ozgflow.Payment, error) {
	if err := c.openPayment(ctx); err != nil {
		return ozgflow.Payment{}, err
	}
	c.flushBeside(ctx)
	return *c.state.Payment, nil
}

func (c *caseImpl) validateRetryPayment() error {
	p := c.state.Payment
	switch {
	case c.state.Status != ozgflow.StatusAwaitingPayment || p == nil:
		return refuse(ozgflow.ECONFLICT, ozgflow.ReasonNoPaymentPending, "The case does not wait for a payment.")
	case p.Status != ozgflow.PaymentFailed && p.Status != ozgflow.PaymentCanceled:
		return refuse(ozgflow.ECONFLICT, ozgflow.ReasonPaymentNotRetryable, "The payment is %s; only a failed or cancelled payment can be retried.", p.Status)
	}
	return nil
}
