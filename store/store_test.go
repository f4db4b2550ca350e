package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/internal/redistest"
)

func TestSaveCaseNeverGoesBack(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t, "test:")
	due := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	c := ozgflow.Case{ID: "c1", Revision: 2, Authority: "147130000000", Status: ozgflow.StatusInReview, PortalAccount: "acc",
		Tasks:    []ozgflow.Task{{ID: "c1.review.1", CaseID: "c1", Authority: "147130000000", Queue: "gewerbe", Status: ozgflow.TaskOpen, DueAt: due}},
		Timeline: []ozgflow.Notice{{ID: "c1-1", CaseID: "c1", Title: "Eingegangen", At: due.Add(-time.Hour)}}}
	if err := s.SaveCase(ctx, c); err != nil {
		t.Fatal(err)
	}
	stale := c
	stale.Revision, stale.Status = 1, ozgflow.StatusReceived
	if err := s.SaveCase(ctx, stale); err != nil {
		t.Fatal(err)
	}
	got, err := s.Case(ctx, "c1")
	if err != nil || got.Status != ozgflow.StatusInReview {
		t.Fatalf("got %s %v, want in_review", got.Status, err)
	}
	page, err := s.Tasks(ctx, "147130000000", "gewerbe", 0, 10)
	if err != nil || page.Total != 1 || page.Tasks[0].ID != "c1.review.1" {
		t.Fatalf("queue = %+v %v", page, err)
	}
	done := c
	done.Revision = 3
	done.Tasks = []ozgflow.Task{c.Tasks[0]}
	done.Tasks[0].Status = ozgflow.TaskDone
	done.Timeline = append(done.Timeline, ozgflow.Notice{ID: "c1-2", CaseID: "c1", Title: "Bestätigt", At: due})
	if err := s.SaveCase(ctx, done); err != nil {
		t.Fatal(err)
	}
	if page, _ := s.Tasks(ctx, "147130000000", "gewerbe", 0, 10); page.Total != 0 {
		t.Errorf("done task still queued: %+v", page)
	}
	notices, total, err := s.Notices(ctx, "acc", 0, 10)
	if err != nil || total != 2 || notices[0].ID != "c1-2" {
		t.Errorf("postbox = %+v total %d %v, want newest first", notices, total, err)
	}
	counts, err := s.CaseCounts(ctx)
	if err != nil || counts[""]["in_review"] != 1 || len(counts[""]) != 1 {
		t.Errorf("case counts = %v %v, want one in review", counts, err)
	}
	if _, err := s.Case(ctx, "missing"); ozgflow.ErrorCode(err) != ozgflow.ENOTFOUND {
		t.Errorf("missing case: %v", err)
	}
}
