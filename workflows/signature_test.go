package workflows

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/definitions"
)

// signedGewerbe is Dresden's Gewerbeanmeldung with the applicant's signature
// before the payment.
func signedGewerbe(t *testing.T) *harness {
	t.Helper()
	def := definition(t, "gewerbeanmeldung", dresden)
	sign := definitions.Step{ID: "sign", Kind: definitions.KindSignature, Mode: "applicant", Timeout: definitions.Duration(7 * 24 * time.Hour)}
	def.Steps = append([]definitions.Step{def.Steps[0], sign}, def.Steps[1:]...)
	def.Notices[string(ozgflow.StatusAwaitingSignature)] = definitions.NoticeTemplate{Title: "Bitte unterschreiben", Text: "Bitte unterschreiben Sie Ihren Antrag."}
	def.Notices[NoticeSignatureDeclined] = definitions.NoticeTemplate{Title: "Nicht unterschrieben", Text: "Ohne Unterschrift kann der Antrag nicht bearbeitet werden."}
	if err := def.Validate(); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, def, gewerbeData)
	h.env.OnActivity(seals.StartSignature, mock.Anything, mock.Anything).Return(
		activities.SignatureSession{ID: "sig-1", Status: ozgflow.SignaturePending, RedirectURL: "http://sign/sig-1"}, nil)
	return h
}

func TestApplicantSignsBeforePaying(t *testing.T) {
	h := signedGewerbe(t)
	h.expectPayment()
	h.expectSealAndDelivery()
	signed := false
	h.env.OnActivity(seals.SignatureStatus, mock.Anything, "sig-1").Return(
		func(_ context.Context, _ string) (activities.SignatureSession, error) {
			if !signed {
				return activities.SignatureSession{ID: "sig-1", Status: ozgflow.SignaturePending}, nil
			}
			return activities.SignatureSession{ID: "sig-1", Status: ozgflow.SignatureSigned, JWS: "h.p.s", KeyID: "k-applicant"}, nil
		})
	h.sequence(time.Hour, func() {
		if c := h.state(); c.Status != ozgflow.StatusAwaitingSignature || c.Signing.RedirectURL != "http://sign/sig-1" {
			t.Errorf("waiting for the signature: status %s signing %+v", c.Status, c.Signing)
		}
		signed = true
		h.env.SignalWorkflow(ozgflow.SignalSignature, ozgflow.SignatureEvent{SessionID: "sig-1", Status: ozgflow.SignatureSigned})
	}, func() { h.signalPayment("pay-1", ozgflow.PaymentPayed) })
	h.at(2*time.Hour, func() {
		h.update(ozgflow.UpdateComplete, "", ozgflow.CompleteTask{TaskID: "c1.review.1", User: "sb", Outcome: "approve"})
	})
	got := h.run()
	assertStatuses(t, got, ozgflow.StatusReceived, ozgflow.StatusAwaitingSignature, ozgflow.StatusAwaitingPayment,
		ozgflow.StatusForwarded, ozgflow.StatusInReview, ozgflow.StatusApproved)
	if got.Signing.Status != ozgflow.SignatureSigned || got.Signing.JWS != "h.p.s" || got.Signing.SignedAt.IsZero() {
		t.Errorf("signing = %+v", got.Signing)
	}
}

func TestDeclinedSignatureCancelsTheCase(t *testing.T) {
	h := signedGewerbe(t)
	h.env.OnActivity(seals.SignatureStatus, mock.Anything, "sig-1").Return(
		activities.SignatureSession{ID: "sig-1", Status: ozgflow.SignatureDeclined}, nil)
	got := h.run() // found by polling: no webhook arrives
	if got.Status != ozgflow.StatusCancelled || got.Signing.Status != ozgflow.SignatureDeclined || got.Payment != nil {
		t.Fatalf("status %s signing %+v payment %+v", got.Status, got.Signing, got.Payment)
	}
	if last := got.Timeline[len(got.Timeline)-1]; last.Title != "Nicht unterschrieben" {
		t.Errorf("last notice %+v", last)
	}
}

func TestUnsignedCaseIsCancelledAfterTheTimeout(t *testing.T) {
	h := signedGewerbe(t)
	h.env.OnActivity(seals.SignatureStatus, mock.Anything, "sig-1").Return(
		activities.SignatureSession{ID: "sig-1", Status: ozgflow.SignaturePending}, nil)
	got := h.run()
	if got.Status != ozgflow.StatusCancelled || got.Signing.Status != ozgflow.SignaturePending {
		t.Fatalf("status %s signing %+v", got.Status, got.Signing)
	}
	if d := got.UpdatedAt.Sub(got.SubmittedAt); d < 7*24*time.Hour || d > 8*24*time.Hour {
		t.Errorf("cancelled after %s, want the 7-day timeout", d)
	}
}

func TestVariantSendsNoticesByEmail(t *testing.T) {
	def := definition(t, "hundesteuer-anmeldung", dresden)
	def.EmailNotices = true
	h := newHarness(t, def, `{}`)
	h.in.Application.Applicant.Email = "anna@example.org"
	// The emails are activities of their own and may finish in any order.
	var mu sync.Mutex
	sent := map[string]activities.EmailRequest{}
	h.env.OnActivity(notices.Email, mock.Anything, mock.Anything).Return(
		func(_ context.Context, req activities.EmailRequest) error {
			mu.Lock()
			defer mu.Unlock()
			sent[req.NoticeID] = req
			return nil
		})
	h.env.OnActivity(deliveries.Deliver, mock.Anything, mock.Anything).Return(activities.Receipt{Reference: "FV-1"}, nil)
	h.env.OnActivity(seals.Seal, mock.Anything, mock.Anything).Return(ozgflow.Seal{JWS: "a.b.c"}, nil).Maybe()
	got := h.run()
	if len(sent) == 0 || len(sent) != len(got.Timeline) {
		t.Fatalf("sent %d emails for %d notices", len(sent), len(got.Timeline))
	}
	for _, notice := range got.Timeline {
		if req, ok := sent[notice.ID]; !ok || req.To != "anna@example.org" || req.Subject != notice.Title {
			t.Errorf("notice %+v: email %+v", notice, req)
		}
	}
}
