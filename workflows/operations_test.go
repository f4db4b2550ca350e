package workflows

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
)

func TestCancelEndsACaseStuckOnItsFachverfahrenAndTellsTheApplicant(t *testing.T) {
	h := newHarness(t, definition(t, "gewerbeanmeldung", leipzig), gewerbeData)
	h.expectPayment()
	h.env.OnActivity(seals.Seal, mock.Anything, mock.Anything).Return(ozgflow.Seal{JWS: "a.b.c", KeyID: "k1"}, nil)
	down := errors.New("fachverfahren gewerbe-leipzig: 503 Service Unavailable")
	h.env.OnActivity(deliveries.Deliver, mock.Anything, mock.Anything).Return(activities.Receipt{}, down)
	h.env.OnActivity(payments.Refund, mock.Anything, "pay-1").Return(
		activities.PaymentInfo{PaymentID: "pay-1", Status: ozgflow.PaymentPayed, Refund: ozgflow.RefundRefunded}, nil).Once()
	h.at(time.Minute, func() { h.signalPayment("pay-1", ozgflow.PaymentPayed) })
	// The delivery fails again and again, with backoff, when the
	// administrator cancels the case.
	h.at(5*time.Minute, func() {
		h.update(ozgflow.UpdateCancel, ozgflow.EINVALID, ozgflow.Cancellation{Reason: "  ", By: "admin"})
		h.update(ozgflow.UpdateCancel, "", ozgflow.Cancellation{Reason: "Das Fachverfahren ist dauerhaft außer Betrieb.", By: "admin"})
		h.update(ozgflow.UpdateCancel, ozgflow.ECONFLICT, ozgflow.Cancellation{Reason: "noch einmal", By: "admin"})
	})
	got := h.run()
	if got.Status != ozgflow.StatusCancelled || got.Payment.Refund != ozgflow.RefundRefunded || got.Delivery != nil {
		t.Fatalf("status %s payment %+v delivery %+v", got.Status, got.Payment, got.Delivery)
	}
	last := got.Timeline[len(got.Timeline)-1]
	if last.Status != ozgflow.StatusCancelled || !strings.Contains(last.Text, "Grund: Das Fachverfahren ist dauerhaft außer Betrieb.") ||
		!strings.Contains(last.Text, "26,00 EUR wird Ihnen erstattet") {
		t.Errorf("cancellation notice = %+v", last)
	}
	var audited bool
	for _, a := range got.Audit {
		audited = audited || a.Action == ozgflow.AuditCancelled && a.By == "admin" && a.Detail == "Das Fachverfahren ist dauerhaft außer Betrieb."
	}
	if !audited {
		t.Errorf("audit = %+v", got.Audit)
	}
}
