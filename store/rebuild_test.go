package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/internal/redistest"
	"github.com/ozgflow/ozgflow/store"
)

// rebuildCase is an open case with a task and n notices, last written at.
func rebuildCase(id string, revision int64, n int, at time.Time) ozgflow.Case {
	c := ozgflow.Case{ID: id, Revision: revision, Authority: "147130000000", Service: "gewerbe",
		Status: ozgflow.StatusInReview, PortalAccount: "acc", UpdatedAt: at, SubmittedAt: at,
		Tasks: []ozgflow.Task{{ID: id + ".review.1", CaseID: id, Authority: "147130000000", Queue: "gewerbe",
			Status: ozgflow.TaskOpen, DueAt: at.Add(time.Hour)}}}
	for i := 1; i <= n; i++ {
		c.Timeline = append(c.Timeline, ozgflow.Notice{ID: id + "-" + string(rune('0'+i)), CaseID: id, Title: "Notice", At: at})
	}
	return c
}

// TestRebuildNeverBringsAnErasedCaseBack: an erased case's statistics
// outrank every snapshot a rebuild finds, however old the stub.
func TestRebuildNeverBringsAnErasedCaseBack(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t, "test:")
	long := time.Now().Add(-time.Hour)
	full := rebuildCase("e1", 5, 2, long)
	if err := s.SaveCase(ctx, full); err != nil {
		t.Fatal(err)
	}
	if err := s.EraseCase(ctx, full.StatisticsOnly(long), ""); err != nil {
		t.Fatal(err)
	}
	full.Revision = 9 // even a newer one, as a memo might carry
	if written, err := s.RestoreCase(ctx, full, time.Now()); err != nil || written {
		t.Fatalf("restore over an erased case: written %v, %v", written, err)
	}
	got, err := s.Case(ctx, "e1")
	if err != nil || got.ErasedAt.IsZero() || got.PortalAccount != "" || len(got.Timeline) != 0 {
		t.Errorf("erased case after a rebuild: %+v, %v", got, err)
	}
	if n, _, _ := s.Notices(ctx, "acc", 0, 10); len(n) != 0 {
		t.Errorf("notices of the erased case are back: %v", n)
	}
	// Redis lost: the erased record comes back as its statistics alone, expiring.
	if err := s.DropAll(ctx); err != nil {
		t.Fatal(err)
	}
	stub := full.StatisticsOnly(long)
	if written, err := s.RestoreCase(ctx, stub, time.Now()); err != nil || !written {
		t.Fatalf("restore the statistics: %v %v", written, err)
	}
	if at, err := s.ExpiresAt(ctx, "e1"); err != nil || at.IsZero() {
		t.Errorf("restored statistics do not expire: %v %v", at, err)
	}
}

// TestRebuildReplacesAFutureTheEngineForgot: a projection newer than the
// engine's snapshot and written well before the rebuild goes, with the
// tasks and notices of that future; one written since stays.
func TestRebuildReplacesAFutureTheEngineForgot(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t, "test:")
	long := time.Now().Add(-time.Hour)
	future := rebuildCase("c1", 7, 3, long)
	future.Status = ozgflow.StatusApproved
	future.Tasks[0].Status = ozgflow.TaskDone
	if err := s.SaveCase(ctx, future); err != nil {
		t.Fatal(err)
	}
	engine := rebuildCase("c1", 4, 1, long)
	if written, err := s.RestoreCase(ctx, engine, time.Now().Add(-30*time.Second)); err != nil || !written {
		t.Fatalf("replace: %v %v", written, err)
	}
	got, _ := s.Case(ctx, "c1")
	if got.Revision != 4 || got.Status != ozgflow.StatusInReview {
		t.Errorf("after the rebuild: rev %d %s, want the engine's", got.Revision, got.Status)
	}
	notices, total, _ := s.Notices(ctx, "acc", 0, 10)
	if total != 1 || notices[0].ID != "c1-1" {
		t.Errorf("postbox after the rebuild: %v (%d), want only the engine's notice", notices, total)
	}
	if e, err := s.PortalEvent(ctx, "c1-2"); ozgflow.ErrorCode(err) != ozgflow.ENOTFOUND {
		t.Errorf("a forgotten notice is still on its way to the portal: %+v %v", e, err)
	}
	if page, _ := s.Tasks(ctx, "147130000000", "gewerbe", 0, 10); page.Total != 1 {
		t.Errorf("queue after the rebuild: %+v, want the engine's open task", page)
	}
	// A projection the case wrote since the rebuild began stays.
	recent := rebuildCase("c2", 7, 1, time.Now())
	if err := s.SaveCase(ctx, recent); err != nil {
		t.Fatal(err)
	}
	if written, err := s.RestoreCase(ctx, rebuildCase("c2", 4, 1, long), time.Now().Add(-30*time.Second)); err != nil || written {
		t.Errorf("a recent projection was replaced: %v %v", written, err)
	}
}

// TestNoticesAfterAGapAreRefiled: notices filed by a snapshot that skips
// revisions the projections never saw (Redis restored from an older
// snapshot, a failed write) are marked for the ledger's check.
func TestNoticesAfterAGapAreRefiled(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t, "test:")
	now := time.Now()
	if err := s.SaveCase(ctx, rebuildCase("c1", 1, 1, now)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCase(ctx, rebuildCase("c1", 2, 2, now)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCase(ctx, rebuildCase("c1", 5, 4, now)); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"c1-1": false, "c1-2": false, "c1-3": true, "c1-4": true} {
		e, err := s.PortalEvent(ctx, id)
		if err != nil || e.Refiled != want {
			t.Errorf("%s: refiled %v (%v), want %v", id, e.Refiled, err, want)
		}
	}
	if e, _ := s.PortalEvent(ctx, "c1-1"); e.State != store.PortalPending {
		t.Errorf("c1-1: %s", e.State)
	}
}
