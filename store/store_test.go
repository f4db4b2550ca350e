package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/internal/redistest"
	"github.com/ozgflow/ozgflow/store"
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

// TestSavesOfOneCaseAtOnceCountItOnce saves many revisions of one case from
// several writers at once, each revision in another status: the newest
// must stand, and the counts must hold the case once. A writer that read
// the stored head and wrote over a change made since would count the case
// twice or not at all.
func TestSavesOfOneCaseAtOnceCountItOnce(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t, "test:")
	statuses := []ozgflow.Status{ozgflow.StatusReceived, ozgflow.StatusInReview, ozgflow.StatusApproved, ozgflow.StatusRejected}
	const writers, revisions = 8, 200
	var wg sync.WaitGroup
	errs := make(chan error, revisions)
	for w := range writers {
		wg.Go(func() {
			for rev := int64(w + 1); rev <= revisions; rev += writers {
				c := ozgflow.Case{ID: "c1", Revision: rev, Authority: "147130000000", Service: "svc",
					Status: statuses[rev%int64(len(statuses))]}
				// A save that lost the race to others ten times in a row
				// says so, and its caller (a local activity) tries again.
				err := s.SaveCase(ctx, c)
				for try := 0; errors.Is(err, redis.TxFailedErr) && try < 100; try++ {
					err = s.SaveCase(ctx, c)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := s.Case(ctx, "c1")
	if err != nil || got.Revision != revisions {
		t.Fatalf("stored revision %d %v, want %d", got.Revision, err, revisions)
	}
	counts, err := s.CaseCounts(ctx)
	want := statuses[revisions%len(statuses)]
	if err != nil || len(counts["svc"]) != 1 || counts["svc"][string(want)] != 1 {
		t.Errorf("case counts = %v %v, want the case once, as %s", counts, err, want)
	}
}

// TestASaveThatWritesNothingLeavesNoWatch saves an older revision, which
// writes nothing, on a client of one connection, then changes a key the
// save had watched from another client: a transaction on that one
// connection must still commit. A watch left behind would fail it.
func TestASaveThatWritesNothingLeavesNoWatch(t *testing.T) {
	ctx := context.Background()
	opts, err := redis.ParseURL(redistest.URL())
	if err != nil {
		t.Fatal(err)
	}
	opts.PoolSize, opts.MinIdleConns = 1, 0
	one := redis.NewClient(opts)
	defer one.Close()
	prefix := "test:" + t.Name() + ":" + time.Now().Format("150405.000000") + ":"
	s := store.New(one).WithPrefix(prefix)
	t.Cleanup(func() { _ = s.DropAll(context.Background()) })
	c := ozgflow.Case{ID: "c1", Revision: 2, Authority: "147130000000", Status: ozgflow.StatusInReview}
	if err := s.SaveCase(ctx, c); err != nil {
		t.Fatal(err)
	}
	c.Revision = 1
	if err := s.SaveCase(ctx, c); err != nil {
		t.Fatal(err)
	}
	other := redistest.Store(t, "test:")
	if err := other.Client().Set(ctx, prefix+"case:c1", "changed", 0).Err(); err != nil {
		t.Fatal(err)
	}
	// A transaction as the store makes them, on the one connection.
	err = one.Watch(ctx, func(tx *redis.Tx) error {
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, prefix+"probe", "1", time.Minute)
			return nil
		})
		return err
	})
	if err != nil {
		t.Errorf("a transaction after the save: %v, want it committed", err)
	}
}
