package store_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/uuid"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/internal/redistest"
	"github.com/ozgflow/ozgflow/store"
)

// caseWithNotices is a case of a portal account with n notices.
func caseWithNotices(id string, revision int64, n int) ozgflow.Case {
	c := ozgflow.Case{ID: id, Revision: revision, Authority: "147130000000", Service: "99050035001000",
		Status: ozgflow.StatusReceived, PortalAccount: "amt24-anna", SubmittedAt: time.Now()}
	for i := 1; i <= n; i++ {
		c.Timeline = append(c.Timeline, ozgflow.Notice{ID: id + "-" + string(rune('0'+i)), CaseID: id,
			Status: ozgflow.StatusReceived, Title: "Mitteilung", Text: "Text", At: time.Now()})
	}
	return c
}

func pendingIDs(t *testing.T, s *store.Store) []string {
	t.Helper()
	page, err := s.PortalEvents(context.Background(), store.PortalPending, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range page.Events {
		ids = append(ids, e.ID)
	}
	slices.Sort(ids)
	return ids
}

func TestEveryFiledNoticeIsQueuedOnce(t *testing.T) {
	ctx := context.Background()
	prefix := "test:" + uuid.NewString() + ":"
	s := redistest.Store(t, "test:").WithPrefix(prefix)
	if err := s.SaveCase(ctx, caseWithNotices("c1", 1, 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCase(ctx, caseWithNotices("c1", 2, 3)); err != nil {
		t.Fatal(err)
	}
	// Repeated and late snapshots queue nothing more.
	for _, c := range []ozgflow.Case{caseWithNotices("c1", 2, 3), caseWithNotices("c1", 1, 1)} {
		if err := s.SaveCase(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	anonymous := caseWithNotices("c2", 1, 2)
	anonymous.PortalAccount = ""
	if err := s.SaveCase(ctx, anonymous); err != nil {
		t.Fatal(err)
	}
	if got, want := pendingIDs(t, s), []string{"c1-1", "c1-2", "c1-3"}; !slices.Equal(got, want) {
		t.Fatalf("pending = %v, want %v", got, want)
	}
	e, err := s.PortalEvent(ctx, "c1-2")
	if err != nil || e.Notice.PortalAccount != "amt24-anna" || e.Notice.CaseID != "c1" || e.State != store.PortalPending || e.Attempts != 0 {
		t.Fatalf("event = %+v, %v", e, err)
	}

	// A delivered event is not queued again when the projection is rebuilt.
	events, _, err := s.ClaimPortalEvents(ctx, time.Now(), time.Minute, 10, "claim-1")
	if err != nil || len(events) != 3 {
		t.Fatalf("claimed %d, %v", len(events), err)
	}
	for _, e := range events {
		if err := s.PortalEventDelivered(ctx, e.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	// Delivered events are kept for a week, not for ever.
	if ttl := s.Client().TTL(ctx, prefix+"portal:event:c1-1").Val(); ttl < 6*24*time.Hour || ttl > 7*24*time.Hour {
		t.Errorf("a delivered event is kept for %v, want a week", ttl)
	}
	if err := s.Client().Del(ctx, prefix+"case:c1").Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCase(ctx, caseWithNotices("c1", 2, 4)); err != nil {
		t.Fatal(err)
	}
	if got, want := pendingIDs(t, s), []string{"c1-4"}; !slices.Equal(got, want) {
		t.Fatalf("after rebuild pending = %v, want %v", got, want)
	}
}

func TestClaimsDoNotOverlapAndLeasesRunOut(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t, "test:")
	if err := s.SaveCase(ctx, caseWithNotices("c1", 1, 8)); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			events, _, err := s.ClaimPortalEvents(ctx, now, time.Minute, 3, "claim-"+string(rune('a'+i)))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, e := range events {
				seen[e.ID]++
				if e.Attempts != 1 {
					t.Errorf("%s: attempts = %d, want 1", e.ID, e.Attempts)
				}
			}
		}()
	}
	wg.Wait()
	if len(seen) != 8 {
		t.Errorf("claimed %d distinct events, want 8: %v", len(seen), seen)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s claimed %d times", id, n)
		}
	}
	events, next, err := s.ClaimPortalEvents(ctx, now.Add(30*time.Second), time.Minute, 10, "claim-e")
	if err != nil || len(events) != 0 {
		t.Fatalf("claimed %d within the lease: %v", len(events), err)
	}
	if d := next.Sub(now); d < 59*time.Second || d > 61*time.Second {
		t.Errorf("next due in %v, want the lease's end", d)
	}
	// A dispatcher that died leaves its events to the others after the lease.
	events, _, err = s.ClaimPortalEvents(ctx, now.Add(2*time.Minute), time.Minute, 10, "claim-f")
	if err != nil || len(events) != 8 || events[0].Attempts != 2 {
		t.Fatalf("after the lease claimed %d (attempts %d), %v", len(events), events[0].Attempts, err)
	}
}

func TestRetryFailAndResend(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t, "test:")
	if err := s.SaveCase(ctx, caseWithNotices("c1", 1, 2)); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	events, _, err := s.ClaimPortalEvents(ctx, now, time.Minute, 10, "mine")
	if err != nil || len(events) != 2 {
		t.Fatalf("claimed %d, %v", len(events), err)
	}
	// A stale claim does not move the event.
	if err := s.RetryPortalEventAt(ctx, "c1-1", "stale", now.Add(time.Second), "late"); err != nil {
		t.Fatal(err)
	}
	if e, _ := s.PortalEvent(ctx, "c1-1"); e.LastError != "" || !e.NextAt.Equal(now.Add(time.Minute).Truncate(time.Millisecond)) {
		t.Errorf("a stale claim rescheduled: %+v", e)
	}
	if err := s.RetryPortalEventAt(ctx, "c1-1", "mine", now.Add(time.Second), "portal answered 503"); err != nil {
		t.Fatal(err)
	}
	if err := s.PortalEventUndeliverable(ctx, "c1-2", "mine", now, "portal answered 503"); err != nil {
		t.Fatal(err)
	}
	e, err := s.PortalEvent(ctx, "c1-1")
	if err != nil || e.LastError != "portal answered 503" || e.NextAt.UnixMilli() != now.Add(time.Second).UnixMilli() || e.Claim != "" {
		t.Errorf("retried event = %+v, %v", e, err)
	}
	failed, err := s.PortalEvents(ctx, store.PortalFailed, 0, 10)
	if err != nil || failed.Total != 1 || failed.Events[0].ID != "c1-2" || failed.Events[0].State != store.PortalFailed ||
		failed.Events[0].Attempts != 1 || failed.Events[0].FailedAt.IsZero() {
		t.Fatalf("failed = %+v, %v", failed, err)
	}
	if got := pendingIDs(t, s); !slices.Equal(got, []string{"c1-1"}) {
		t.Errorf("pending = %v", got)
	}
	if pending, nfailed, err := s.PortalEventCounts(ctx); err != nil || pending != 1 || nfailed != 1 {
		t.Errorf("counts = %d, %d, %v", pending, nfailed, err)
	}

	if err := s.ResendPortalEvent(ctx, "c1-2", now); err != nil {
		t.Fatal(err)
	}
	if err := s.ResendPortalEvent(ctx, "nope", now); ozgflow.ErrorCode(err) != ozgflow.ENOTFOUND {
		t.Errorf("resend of an unknown event: %v", err)
	}
	failed, _ = s.PortalEvents(ctx, store.PortalFailed, 0, 10)
	if failed.Total != 0 {
		t.Errorf("still failed after resend: %+v", failed)
	}
	events, _, err = s.ClaimPortalEvents(ctx, now, time.Minute, 10, "again")
	if err != nil || len(events) != 1 || events[0].ID != "c1-2" || events[0].Attempts != 1 {
		t.Fatalf("after resend claimed %+v, %v", events, err)
	}
	if _, err := s.PortalEvents(ctx, "delivered", 0, 10); ozgflow.ErrorCode(err) != ozgflow.EINVALID {
		t.Errorf("unknown state: %v", err)
	}
}

// TestABatchIsMarkedDeliveredAtOnce: the events of a dispatch are marked
// delivered in one call, a failed one's too; an event that is gone is not
// made up again, and the others are marked all the same.
func TestABatchIsMarkedDeliveredAtOnce(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t, "test:").WithPrefix("test:" + uuid.NewString() + ":")
	t.Cleanup(func() { _ = s.DropAll(context.Background()) })
	if err := s.SaveCase(ctx, caseWithNotices("c1", 1, 4)); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	events, _, err := s.ClaimPortalEvents(ctx, now, time.Minute, 10, "one")
	if err != nil || len(events) != 4 {
		t.Fatalf("claimed %d, %v", len(events), err)
	}
	if err := s.PortalEventUndeliverable(ctx, "c1-3", "one", now, "down"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Client().Del(ctx, s.Prefix()+"portal:event:c1-2").Result(); err != nil || n != 1 {
		t.Fatalf("the event to vanish was not there: %d, %v", n, err)
	}
	if err := s.PortalEventsDelivered(ctx, []string{"c1-1", "c1-2", "c1-3"}, now); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"c1-1", "c1-3"} {
		e, err := s.PortalEvent(ctx, id)
		if err != nil || e.State != store.PortalDelivered {
			t.Errorf("event %s = %+v, %v; want delivered", id, e, err)
		}
	}
	if e, err := s.PortalEvent(ctx, "c1-2"); ozgflow.ErrorCode(err) != ozgflow.ENOTFOUND {
		t.Errorf("a vanished event was made up again: %+v, %v", e, err)
	}
	if got := pendingIDs(t, s); !slices.Equal(got, []string{"c1-4"}) {
		t.Errorf("pending = %v, want the one not marked", got)
	}
	failed, err := s.PortalEvents(ctx, store.PortalFailed, 0, 10)
	if err != nil || len(failed.Events) != 0 {
		t.Errorf("undeliverable = %+v, %v; want none", failed.Events, err)
	}
	if err := s.PortalEventsDelivered(ctx, nil, now); err != nil {
		t.Errorf("no events: %v", err)
	}
}

// TestOutboxOnEmbeddedRedis runs the outbox on the in-memory Redis that
// `dev` falls back to: its scripts must work there too, also inside the
// transaction of SaveCase.
func TestOutboxOnEmbeddedRedis(t *testing.T) {
	ctx := context.Background()
	mr := miniredis.RunT(t)
	base, err := store.Open(ctx, "redis://"+mr.Addr()+"/0")
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	s := base.WithPrefix("test:" + uuid.NewString() + ":")
	if err := s.SaveCase(ctx, caseWithNotices("c1", 1, 2)); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	events, _, err := s.ClaimPortalEvents(ctx, now, time.Minute, 10, "one")
	if err != nil || len(events) != 2 {
		t.Fatalf("claimed %d, %v", len(events), err)
	}
	if err := s.PortalEventDelivered(ctx, "c1-1", now); err != nil {
		t.Fatal(err)
	}
	if err := s.PortalEventsDelivered(ctx, []string{"c1-1", "c1-gone"}, now); err != nil {
		t.Fatalf("a batch on the embedded Redis: %v", err)
	}
	if err := s.PortalEventUndeliverable(ctx, "c1-2", "one", now, "down"); err != nil {
		t.Fatal(err)
	}
	if err := s.ResendPortalEvent(ctx, "c1-2", now); err != nil {
		t.Fatal(err)
	}
	if got := pendingIDs(t, s); !slices.Equal(got, []string{"c1-2"}) {
		t.Errorf("pending = %v", got)
	}
}
