package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/internal/redistest"
	"github.com/ozgflow/ozgflow/store"
)

func TestFailingCallsKeepSinceWhenAndClearOnSuccess(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t, "test:")
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	for i, at := range []time.Time{t0, t0.Add(time.Minute), t0.Add(3 * time.Minute)} {
		if err := s.CallFailed(ctx, ozgflow.CallFailure{CaseID: "c1", Target: "dms", Operation: "Deliver",
			Error: "503", Attempt: i + 1, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CallFailed(ctx, ozgflow.CallFailure{CaseID: "c2", Target: "payment", Operation: "CreatePayment",
		Error: "timeout", Attempt: 1, At: t0.Add(2 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.CallFailures(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].CaseID != "c1" || !got[0].Since.Equal(t0) || !got[0].At.Equal(t0.Add(3*time.Minute)) || got[0].Attempt != 3 {
		t.Fatalf("failures = %+v", got)
	}
	targets, _ := s.FailingTargets(ctx)
	if !targets["dms"].Equal(t0) || !targets["payment"].Equal(t0.Add(2*time.Minute)) {
		t.Errorf("failing targets = %v", targets)
	}
	// The same case failing on another target is a record of its own.
	if err := s.CallFailed(ctx, ozgflow.CallFailure{CaseID: "c1", Target: "gewerbe-leipzig", Operation: "Deliver",
		Error: "503", Attempt: 1, At: t0.Add(4 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.CallFailures(ctx)
	if len(got) != 3 || got[0].Target != "dms" || !got[0].Since.Equal(t0) ||
		got[2].CaseID != "c1" || got[2].Target != "gewerbe-leipzig" || !got[2].Since.Equal(t0.Add(4*time.Minute)) {
		t.Errorf("after a second target: %+v", got)
	}
	if err := s.CallSucceeded(ctx, "c2", "payment"); err != nil {
		t.Fatal(err)
	}
	got, _ = s.CallFailures(ctx)
	targets, _ = s.FailingTargets(ctx)
	if len(got) != 2 || got[0].CaseID != "c1" || !targets["payment"].IsZero() || targets["dms"].IsZero() {
		t.Errorf("after a success: failures %+v targets %v", got, targets)
	}
	// A case that ended is forgotten on every target.
	if err := s.ForgetCallFailure(ctx, "c1", ""); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.CallFailures(ctx); len(got) != 0 {
		t.Errorf("after forgetting c1: %+v", got)
	}
}

func TestACaseWaitingOnOneTargetStaysWhenAnotherAnswers(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t, "test:")
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	fail := func(target, op string, at time.Time) {
		t.Helper()
		if err := s.CallFailed(ctx, ozgflow.CallFailure{CaseID: "c1", Target: target, Operation: op,
			Error: "smtp mail:25: 550 5.1.1 <anna.beispiel@example.org>: Recipient address rejected", Attempt: 1, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	fail("gewerbe-leipzig", "Deliver", t0)
	fail("mail", "Email", t0.Add(time.Minute))
	fail("gewerbe-leipzig", "Deliver", t0.Add(2*time.Minute))
	// The notice mail goes out; the delivery still fails and keeps its start.
	if err := s.CallSucceeded(ctx, "c1", "mail"); err != nil {
		t.Fatal(err)
	}
	got, _ := s.CallFailures(ctx)
	if len(got) != 1 || got[0].Target != "gewerbe-leipzig" || !got[0].Since.Equal(t0) {
		t.Fatalf("the delivery's record after the mail's success: %+v", got)
	}
	if strings.Contains(got[0].Error, "anna.beispiel@example.org") || !strings.Contains(got[0].Error, "550 5.1.1") {
		t.Errorf("kept error = %q, want it without the address", got[0].Error)
	}
	// A payment refused for good leaves only its own record.
	fail("payment", "CreatePayment", t0.Add(3*time.Minute))
	if err := s.ForgetCallFailure(ctx, "c1", "payment"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.CallFailures(ctx); len(got) != 1 || got[0].Target != "gewerbe-leipzig" {
		t.Errorf("after the payment's refusal: %+v", got)
	}
}

func TestAnAlertIsNotedPerIncident(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t, "test:")
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	if first, err := s.MarkAlerted(ctx, "dms", t0); err != nil || !first {
		t.Fatalf("first alert: %v %v", first, err)
	}
	if first, _ := s.MarkAlerted(ctx, "dms", t0); first {
		t.Error("a second alert of the same incident")
	}
	// The target recovered and failed again between two checks: the new
	// incident is alerted, and the old one's recovery no longer clears it.
	t1 := t0.Add(time.Hour)
	if first, _ := s.MarkAlerted(ctx, "dms", t1); !first {
		t.Error("a new incident of the same target not alerted")
	}
	if cleared, _ := s.ClearAlerted(ctx, "dms", t0); cleared {
		t.Error("the old incident's recovery cleared the new incident's mark")
	}
	if got, _ := s.AlertedTargets(ctx); !got["dms"].Equal(t1) {
		t.Errorf("alerted = %v, want dms since %v", got, t1)
	}
	if cleared, _ := s.ClearAlerted(ctx, "dms", t1); !cleared {
		t.Error("recovery not noted")
	}
	if cleared, _ := s.ClearAlerted(ctx, "dms", t1); cleared {
		t.Error("a second recovery of the same incident")
	}
}

// fitConnectCase is an open case delivered by FIT-Connect, in round 1,
// rejected at since unless since is zero.
func fitConnectCase(id string, revision int64, since time.Time) ozgflow.Case {
	c := ozgflow.Case{ID: id, Revision: revision, Authority: "145110000000", Service: "lasttest-fitconnect",
		Status: ozgflow.StatusReceived, SubmittedAt: since.Add(-time.Minute), UpdatedAt: since,
		Delivery: &ozgflow.Delivery{Target: "fitconnect-chemnitz", Reference: id + "-sub", Protocol: ozgflow.DeliveryFITConnect, Round: 1}}
	if !since.IsZero() {
		c.Delivery.Rejected = &ozgflow.DeliveryRejection{Target: "fitconnect-chemnitz", SubmissionID: id + "-sub", Since: since, Reason: "Inhalt nicht angenommen"}
	} else {
		c.Delivery.Pending = true
	}
	return c
}

func TestRejectedDeliveriesFollowTheProjection(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t, "test:")
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	rejected := func(want ...string) []store.RejectedDelivery {
		t.Helper()
		got, err := s.RejectedDeliveries(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range got {
			ids = append(ids, r.CaseID)
		}
		if strings.Join(ids, " ") != strings.Join(want, " ") {
			t.Errorf("rejected deliveries = %v, want %v", ids, want)
		}
		return got
	}
	save := func(c ozgflow.Case) {
		t.Helper()
		if err := s.SaveCase(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	save(fitConnectCase("c1", 1, t0.Add(time.Hour)))
	save(fitConnectCase("c2", 1, t0))
	save(fitConnectCase("c3", 1, time.Time{})) // sent, its answer still to come
	// A case delivered by ozgflow's own protocol is never in it.
	own := fitConnectCase("c4", 1, t0)
	own.Delivery.Protocol = ""
	save(own)
	if got := rejected("c2", "c1"); len(got) == 2 && !got[0].Since.Equal(t0) { // longest waiting first
		t.Errorf("c2 indexed since %v, want %v", got[0].Since, t0)
	}

	// Resent: the new submission waits for its answer.
	resent := fitConnectCase("c1", 2, time.Time{})
	resent.Delivery.Round = 2
	save(resent)
	rejected("c2")
	// A snapshot that is not newer changes nothing.
	save(fitConnectCase("c1", 1, t0.Add(time.Hour)))
	rejected("c2")
	// Cancelled while rejected: it waits for nothing any more.
	cancelled := fitConnectCase("c2", 2, t0)
	cancelled.Status = ozgflow.StatusCancelled
	save(cancelled)
	rejected()

	// Redis lost: the rebuild's snapshots write the index again, and a
	// case the engine does not know leaves it.
	if err := s.DropAll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RestoreCases(ctx, []ozgflow.Case{fitConnectCase("c5", 3, t0), fitConnectCase("c6", 1, t0.Add(time.Minute))}, time.Now()); err != nil {
		t.Fatal(err)
	}
	rejected("c5", "c6")
	if n, err := s.RemoveUnknownCases(ctx, func(id string) bool { return id != "c6" }, t0.Add(24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("removed %d unknown cases: %v", n, err)
	}
	rejected("c5")
	// Rejected again after a resend: forgetting the earlier rejection
	// leaves the newer one.
	again := fitConnectCase("c5", 5, t0.Add(time.Hour))
	again.Delivery.Round = 2
	save(again)
	if err := s.ForgetRejectedDelivery(ctx, "c5", t0); err != nil {
		t.Fatal(err)
	}
	rejected("c5")
	if err := s.ForgetRejectedDelivery(ctx, "c5", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	rejected()
	save(fitConnectCase("c7", 1, t0))
	if err := s.ForgetRejectedDelivery(ctx, "c7", time.Time{}); err != nil {
		t.Fatal(err)
	}
	rejected()
}
