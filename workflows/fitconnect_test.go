package workflows

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/definitions"
)

// fitConnectHarness is a case that only delivers, to a FIT-Connect
// destination whose answers the test scripts.
type fitConnectHarness struct {
	*harness
	mu       sync.Mutex
	rounds   []int                                              // the round of each Deliver call
	outcomes func(round, poll int) activities.SubmissionOutcome // the destination's answer to a poll
	polls    map[int]int                                        // polls per round
	refuse   func(round int) error                              // if set, the Submission API's refusal of a round
}

func newFITConnectHarness(t *testing.T, answerWithin time.Duration) *fitConnectHarness {
	t.Helper()
	def := definition(t, "gewerbeanmeldung", dresden)
	def.Fee = nil
	def.Steps = []definitions.Step{{ID: "deliver", Kind: definitions.KindDeliver, Target: "fitconnect-dresden"}}
	h := &fitConnectHarness{harness: newHarness(t, def, gewerbeData), polls: map[int]int{}}
	h.env.OnActivity(deliveries.Deliver, mock.Anything, mock.Anything).Return(
		func(_ context.Context, req activities.DeliverRequest) (activities.Receipt, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			round := max(req.Round, 1)
			h.rounds = append(h.rounds, round)
			if h.refuse != nil {
				if err := h.refuse(round); err != nil {
					return activities.Receipt{}, err
				}
			}
			id := "sub-" + string(rune('0'+round))
			return activities.Receipt{Reference: id, ReceivedAt: time.Now(), Protocol: ozgflow.DeliveryFITConnect,
				Sent:         &activities.SentSubmission{DestinationID: "dest-1", SubmissionID: id, CaseID: "fit-case-" + id},
				AnswerWithin: answerWithin}, nil
		})
	h.env.OnActivity(deliveries.SubmissionOutcome, mock.Anything, mock.Anything).Return(
		func(_ context.Context, req activities.OutcomeRequest) (activities.SubmissionOutcome, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			round := int(req.Submission.SubmissionID[len("sub-")] - '0')
			h.polls[round]++
			return h.outcomes(round, h.polls[round]), nil
		})
	return h
}

func (h *fitConnectHarness) state() ozgflow.Case {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(ozgflow.QueryState)
	if err != nil {
		h.t.Fatal(err)
	}
	var c ozgflow.Case
	if err := v.Get(&c); err != nil {
		h.t.Fatal(err)
	}
	return c
}

var accepted = activities.SubmissionOutcome{Outcome: activities.OutcomeAccepted, At: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}

func hasAudit(c ozgflow.Case, action string) bool {
	for _, a := range c.Audit {
		if a.Action == action {
			return true
		}
	}
	return false
}

func TestFITConnectDeliveryGoesOnOnceAccepted(t *testing.T) {
	h := newFITConnectHarness(t, 0)
	h.outcomes = func(_, poll int) activities.SubmissionOutcome {
		if poll < 3 {
			return activities.SubmissionOutcome{Outcome: activities.OutcomePending}
		}
		return accepted
	}
	h.at(10*time.Second, func() {
		c := h.state()
		if c.Delivery == nil || !c.Delivery.Pending || c.Delivery.Reference != "sub-1" || c.Status == ozgflow.StatusForwarded {
			t.Errorf("while waiting: delivery %+v, status %s", c.Delivery, c.Status)
		}
		h.update(ozgflow.UpdateResendDelivery, ozgflow.ECONFLICT, "admin-1") // nothing rejected yet
	})
	got := h.run()

	assertStatuses(t, got, ozgflow.StatusReceived, ozgflow.StatusForwarded)
	d := got.Delivery
	if d == nil || d.Pending || d.Rejected != nil || d.Reference != "sub-1" || d.Round != 1 || d.Protocol != ozgflow.DeliveryFITConnect ||
		!d.DeliveredAt.Equal(accepted.At) {
		t.Fatalf("delivery = %+v", d)
	}
	if h.polls[1] != 3 {
		t.Errorf("polls = %d, want 3", h.polls[1])
	}
	if !hasAudit(got, ozgflow.AuditDeliveryAccepted) {
		t.Errorf("audit = %+v, want the accept", got.Audit)
	}
	// Polls come 5, 10 and 20 s after each other: 35 s.
	if took := got.UpdatedAt.Sub(h.in.SubmittedAt); took < 35*time.Second || took > 40*time.Second {
		t.Errorf("accepted after %s, want the polls at growing intervals (35 s)", took)
	}
}

func TestFITConnectRejectedThenResentAndAccepted(t *testing.T) {
	h := newFITConnectHarness(t, 0)
	h.outcomes = func(round, _ int) activities.SubmissionOutcome {
		if round == 1 {
			return activities.SubmissionOutcome{Outcome: activities.OutcomeRejected, At: time.Now(), Problems: []activities.Problem{
				{Type: "https://schema.fitko.de/fit-connect/events/problems/schema-violation", Title: "Schema-Verletzung", Detail: "betrieb.name fehlt"},
			}}
		}
		return accepted
	}
	h.at(24*time.Hour, func() {
		c := h.state()
		r := c.Delivery.Rejected
		if r == nil || !c.DeliveryRejected() || r.Target != "fitconnect-dresden" || r.SubmissionID != "sub-1" ||
			r.Reason != "Schema-Verletzung: betrieb.name fehlt" || r.TimedOut || len(r.Problems) != 1 || r.Since.IsZero() {
			t.Errorf("rejection = %+v", r)
		}
		if !hasAudit(c, ozgflow.AuditDeliveryRejected) {
			t.Errorf("audit = %+v, want the rejection", c.Audit)
		}
		if c.WaitingFor() != ozgflow.WaitingForDelivery {
			t.Errorf("waiting for %q, want the delivery", c.WaitingFor())
		}
		if saved := h.store.get("c1"); !saved.DeliveryRejected() {
			t.Errorf("projection's delivery = %+v, want the rejection shown", saved.Delivery)
		}
		h.update(ozgflow.UpdateResendDelivery, "", "admin-1")
		h.update(ozgflow.UpdateResendDelivery, ozgflow.ECONFLICT, "admin-1") // once is enough
	})
	got := h.run()

	if len(h.rounds) != 2 || h.rounds[0] != 1 || h.rounds[1] != 2 {
		t.Fatalf("rounds sent = %v, want 1 then 2", h.rounds)
	}
	d := got.Delivery
	if d == nil || d.Rejected != nil || d.Reference != "sub-2" || d.Round != 2 || d.Pending {
		t.Fatalf("delivery = %+v", d)
	}
	assertStatuses(t, got, ozgflow.StatusReceived, ozgflow.StatusForwarded)
	var resent bool
	for _, a := range got.Audit {
		resent = resent || a.Action == ozgflow.AuditDeliveryResent && a.By == "admin-1"
	}
	if !resent {
		t.Errorf("audit = %+v, want the resend by admin-1", got.Audit)
	}
}

func TestFITConnectNoAnswerBeforeTheDeadline(t *testing.T) {
	h := newFITConnectHarness(t, 6*time.Hour)
	h.outcomes = func(round, _ int) activities.SubmissionOutcome {
		if round == 1 {
			return activities.SubmissionOutcome{Outcome: activities.OutcomePending}
		}
		return accepted
	}
	h.at(5*time.Hour, func() {
		if c := h.state(); c.Delivery.Rejected != nil || !c.Delivery.Pending {
			t.Errorf("before the deadline: delivery %+v", c.Delivery)
		}
	})
	h.at(7*time.Hour, func() {
		r := h.state().Delivery.Rejected
		if r == nil || r.Reason != ozgflow.DeliveryRejectedReasonNoAnswer || !r.TimedOut {
			t.Errorf("after the deadline: rejection %+v, want %q", r, ozgflow.DeliveryRejectedReasonNoAnswer)
		}
		h.update(ozgflow.UpdateResendDelivery, "", "admin-1")
	})
	got := h.run()

	if got.Delivery.Reference != "sub-2" || got.Delivery.Rejected != nil {
		t.Fatalf("delivery = %+v", got.Delivery)
	}
	// Polls at 5, 10, 20, 40 s, … up to an hour: far fewer than one a minute.
	if n := h.polls[1]; n < 5 || n > 20 {
		t.Errorf("%d polls in 6 hours, want growing intervals", n)
	}
}

func TestFITConnectDeadlineOfTheVariantComesFirst(t *testing.T) {
	h := newFITConnectHarness(t, 72*time.Hour)
	h.in.Definition.Steps[0].Timeout = definitions.Duration(time.Hour)
	h.outcomes = func(round, _ int) activities.SubmissionOutcome {
		if round == 1 {
			return activities.SubmissionOutcome{Outcome: activities.OutcomePending}
		}
		return accepted
	}
	h.at(90*time.Minute, func() {
		if r := h.state().Delivery.Rejected; r == nil || !strings.Contains(r.Reason, "keine Antwort") {
			t.Errorf("rejection = %+v after the step's timeout of an hour", r)
		}
		h.update(ozgflow.UpdateResendDelivery, "", "admin-1")
	})
	if got := h.run(); got.Delivery.Round != 2 {
		t.Fatalf("delivery = %+v", got.Delivery)
	}
}

func TestFITConnectWithdrawnWhileWaiting(t *testing.T) {
	h := newFITConnectHarness(t, 0)
	h.outcomes = func(int, int) activities.SubmissionOutcome {
		return activities.SubmissionOutcome{Outcome: activities.OutcomePending}
	}
	h.env.OnActivity(deliveries.Withdraw, mock.Anything, mock.Anything).Return(nil)
	h.at(time.Hour, func() { h.update(ozgflow.UpdateWithdraw, "", ozgflow.Withdrawal{Reason: "doch nicht"}) })
	got := h.run()
	if got.Status != ozgflow.StatusWithdrawn {
		t.Fatalf("status = %s", got.Status)
	}
}

// TestFITConnectResendRefusedWaitsForTheNextFix: a resend the Submission
// API refuses for good leaves the case waiting with the reason, not failed;
// the next resend goes through.
func TestFITConnectResendRefusedWaitsForTheNextFix(t *testing.T) {
	h := newFITConnectHarness(t, 0)
	h.outcomes = func(round, _ int) activities.SubmissionOutcome {
		if round == 1 {
			return activities.SubmissionOutcome{Outcome: activities.OutcomeRejected, At: time.Now(),
				Problems: []activities.Problem{{Title: "Schema-Verletzung"}}}
		}
		return accepted
	}
	h.refuse = func(round int) error {
		if round == 2 {
			return temporal.NewNonRetryableApplicationError("destination not active", "SubmissionRefused", nil)
		}
		return nil
	}
	h.at(time.Hour, func() { h.update(ozgflow.UpdateResendDelivery, "", "admin-1") })
	h.at(2*time.Hour, func() {
		r := h.state().Delivery.Rejected
		if r == nil || !strings.Contains(r.Reason, "Erneutes Senden abgelehnt") {
			t.Errorf("after the refused resend: rejection %+v", r)
		}
		h.update(ozgflow.UpdateResendDelivery, "", "admin-1")
	})
	got := h.run()
	if got.Delivery.Reference != "sub-3" || got.Delivery.Round != 3 || got.Delivery.Rejected != nil || len(h.rounds) != 3 {
		t.Fatalf("delivery = %+v after the rounds %v", got.Delivery, h.rounds)
	}
}
