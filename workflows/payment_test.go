package workflows

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/activities/payment"
	"github.com/ozgflow/ozgflow/definitions"
)

// TestPaymentIsReconciledWhenTheWebhookNeverComes runs the payment against
// the sandbox provider with its webhooks switched off: the applicant pays,
// no webhook arrives, and the case finds the payment by polling, with the
// Kassenzeichen the provider issued, and hands it on to the Fachverfahren.
func TestPaymentIsReconciledWhenTheWebhookNeverComes(t *testing.T) {
	var hooks atomic.Int32
	hookServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hooks.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hookServer.Close)
	sb, err := payment.NewSandbox(payment.SandboxConfig{PublicURL: "http://ozgflow.test", APIKey: "k",
		WebhookURL: hookServer.URL, WebhookSecret: []byte("s"), NoWebhooks: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)

	def := definition(t, "gewerbeanmeldung", dresden)
	h := newHarnessWith(t, def, gewerbeData, &activities.Payments{Provider: sb})
	var delivered []activities.DeliverRequest
	h.env.OnActivity(seals.Seal, mock.Anything, mock.Anything).Return(ozgflow.Seal{JWS: "a.b.c", KeyID: "k1"}, nil)
	h.env.OnActivity(deliveries.Deliver, mock.Anything, mock.Anything).Return(
		func(_ context.Context, r activities.DeliverRequest) (activities.Receipt, error) {
			delivered = append(delivered, r)
			return activities.Receipt{Reference: "FV-1", ReceivedAt: time.Now()}, nil
		})
	const paidAfter = 5 * time.Minute
	h.at(paidAfter, func() {
		p := h.state().Payment
		if err := sb.SetStatus(p.ID, "pay"); err != nil {
			t.Errorf("pay on the sandbox's page: %v", err)
		}
	})
	h.at(3*time.Hour, func() {
		h.update(ozgflow.UpdateComplete, "", ozgflow.CompleteTask{TaskID: "c1.review.1", User: "sb", Outcome: "approve"})
	})
	got := h.run()

	p := got.Payment
	if got.Status != ozgflow.StatusApproved || p.Status != ozgflow.PaymentPayed {
		t.Fatalf("status %s payment %+v, want approved and paid", got.Status, p)
	}
	// Polls come 30 s after the payment opened, then 1, 2, 4, 8 minutes
	// apart: the payment is found at the first poll after it was made.
	if waited := p.PaidAt.Sub(got.SubmittedAt); waited < paidAfter || waited > paidAfter+4*time.Minute {
		t.Errorf("paid noticed after %v, want at the first poll after %v", waited, paidAfter)
	}
	if n := hooks.Load(); n != 0 {
		t.Errorf("%d webhooks arrived, they were switched off", n)
	}
	info, err := sb.PaymentStatus(context.Background(), p.ID)
	if err != nil || p.Kassenzeichen == "" || p.Kassenzeichen != info.Kassenzeichen || p.Reference != "c1-1" {
		t.Errorf("payment = %+v, want the provider's Kassenzeichen %q and reference c1-1 (%v)", p, info.Kassenzeichen, err)
	}
	if len(p.Items) != 1 || p.Items[0].BookingData["haushaltsstelle"] != "32.122.01.4311" {
		t.Errorf("items = %+v, want Dresden's line with its booking data", p.Items)
	}
	if len(delivered) == 0 || delivered[0].Submission.Payment == nil ||
		delivered[0].Submission.Payment.Kassenzeichen != p.Kassenzeichen || delivered[0].Submission.Payment.Reference != "c1-1" {
		t.Errorf("delivery = %+v, want the payment with Kassenzeichen and reference", delivered)
	}
}

// TestReturnFromThePaymentPageAsksTheProviderAtOnce: the applicant comes
// back from the provider 10 s after the payment opened, long before the
// first poll; the case asks the provider then and there.
func TestReturnFromThePaymentPageAsksTheProviderAtOnce(t *testing.T) {
	h := newHarness(t, definition(t, "gewerbeanmeldung", leipzig), gewerbeData)
	h.expectPayment()
	h.expectSealAndDelivery()
	var paid atomic.Bool
	h.env.OnActivity(payments.PaymentStatus, mock.Anything, "pay-1").Return(
		func(context.Context, string) (activities.PaymentInfo, error) {
			status := ozgflow.PaymentInitial
			if paid.Load() {
				status = ozgflow.PaymentPayed
			}
			return activities.PaymentInfo{PaymentID: "pay-1", Status: status, Kassenzeichen: "202612345678"}, nil
		})
	var answered *ozgflow.Payment
	h.at(10*time.Second, func() {
		paid.Store(true)
		h.env.UpdateWorkflow(ozgflow.UpdatePaymentReturned, "back-1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("payment-returned refused: %v", err) },
			OnAccept: func() {},
			OnComplete: func(v any, err error) {
				if p, ok := v.(ozgflow.Payment); ok && err == nil {
					answered = &p
				} else {
					t.Errorf("payment-returned = %v, %v", v, err)
				}
			},
		})
	})
	h.at(time.Minute, func() { h.update(ozgflow.UpdatePaymentReturned, ozgflow.ECONFLICT, nil) }) // paid: nothing to ask
	h.at(time.Hour, func() {
		h.update(ozgflow.UpdateComplete, "", ozgflow.CompleteTask{TaskID: "c1.review.1", User: "sb-leipzig", Outcome: "approve"})
		h.update(ozgflow.UpdateApprove, "", ozgflow.Approval{TaskID: "c1.review.1", User: "sb-leipzig-2", Approve: true})
	})
	got := h.run()

	if answered == nil || answered.Status != ozgflow.PaymentPayed || answered.Kassenzeichen != "202612345678" {
		t.Fatalf("the return was answered with %+v, want the payment PAYED with its Kassenzeichen", answered)
	}
	if waited := got.Payment.PaidAt.Sub(got.SubmittedAt); waited != 10*time.Second {
		t.Errorf("paid noticed after %v, want at the return after 10s", waited)
	}
	// Leipzig's fee goes out as its line with its booking data.
	h.env.AssertActivityCalled(t, "CreatePayment", mock.Anything, mock.MatchedBy(func(r activities.PaymentRequest) bool {
		return r.Amount == 2600 && len(r.Items) == 1 && r.Items[0].ID == "gebuehr" && r.Items[0].Amount == 2600 &&
			r.Items[0].BookingData["haushaltsstelle"] == "1.122.01.431100" && r.Items[0].BookingData["buchungskennzeichen"] == "GEW-AN"
	}))
}

// TestVariantWithoutLinesPaysOneLine: a fee without lines, as variants had
// before them, goes to the provider as one line of its amount and purpose.
func TestVariantWithoutLinesPaysOneLine(t *testing.T) {
	def := definition(t, "gewerbeanmeldung", dresden)
	def.Fee = &definitions.Fee{Amount: 2500, Currency: "EUR", Purpose: "Gebühr Gewerbeanmeldung"}
	h := newHarness(t, def, gewerbeData)
	h.expectPayment()
	h.expectSealAndDelivery()
	h.at(time.Minute, func() { h.signalPayment("pay-1", ozgflow.PaymentPayed) })
	h.at(time.Hour, func() {
		h.update(ozgflow.UpdateComplete, "", ozgflow.CompleteTask{TaskID: "c1.review.1", User: "sb", Outcome: "approve"})
	})
	got := h.run()
	if got.Status != ozgflow.StatusApproved {
		t.Fatalf("status %s", got.Status)
	}
	h.env.AssertActivityCalled(t, "CreatePayment", mock.Anything, mock.MatchedBy(func(r activities.PaymentRequest) bool {
		return len(r.Items) == 1 && r.Items[0].Amount == 2500 && r.Items[0].Quantity == 1 && r.Items[0].Description == "Gebühr Gewerbeanmeldung"
	}))
}
