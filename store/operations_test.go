package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/internal/redistest"
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
	// The same case failing on another target starts a new run.
	if err := s.CallFailed(ctx, ozgflow.CallFailure{CaseID: "c1", Target: "gewerbe-leipzig", Operation: "Deliver",
		Error: "503", Attempt: 1, At: t0.Add(4 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.CallFailures(ctx)
	if got[1].CaseID != "c1" || !got[1].Since.Equal(t0.Add(4*time.Minute)) {
		t.Errorf("after a change of target: %+v", got)
	}
	if err := s.CallSucceeded(ctx, "c2", "payment"); err != nil {
		t.Fatal(err)
	}
	got, _ = s.CallFailures(ctx)
	targets, _ = s.FailingTargets(ctx)
	if len(got) != 1 || got[0].CaseID != "c1" || !targets["payment"].IsZero() || targets["dms"].IsZero() {
		t.Errorf("after a success: failures %+v targets %v", got, targets)
	}
	// Alerts are noted once per incident.
	if first, err := s.MarkAlerted(ctx, "dms", t0); err != nil || !first {
		t.Fatalf("first alert: %v %v", first, err)
	}
	if first, _ := s.MarkAlerted(ctx, "dms", t0); first {
		t.Error("a second alert of the same incident")
	}
	if cleared, _ := s.ClearAlerted(ctx, "dms"); !cleared {
		t.Error("recovery not noted")
	}
	if cleared, _ := s.ClearAlerted(ctx, "dms"); cleared {
		t.Error("a second recovery of the same incident")
	}
}
