package submissionapi_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow/fitconnect/submissionapi"
	"github.com/ozgflow/ozgflow/internal/redistest"
)

// TestStores holds both stores to one contract: what is put is found, a
// case belongs to the client of its first event, a lock is held once.
func TestStores(t *testing.T) {
	st := redistest.Store(t, "fitconnect-test:")
	stores := map[string]submissionapi.Store{
		"memory": submissionapi.NewMemoryStore(),
		"redis":  submissionapi.RedisStore{RDB: st.Client(), Prefix: st.Prefix(), TTL: time.Minute},
	}
	for name, s := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if _, found, err := s.Submission(ctx, "s1"); found || err != nil {
				t.Fatalf("empty store: found=%v err=%v", found, err)
			}
			sub := submissionapi.Submission{ID: "s1", CaseID: "c1", Client: "a", Announced: []string{"x"}, State: submissionapi.StateAnnounced}
			if err := s.PutSubmission(ctx, sub); err != nil {
				t.Fatal(err)
			}
			got, found, err := s.Submission(ctx, "s1")
			if err != nil || !found || got.CaseID != "c1" || got.Announced[0] != "x" {
				t.Fatalf("got %+v %v %v", got, found, err)
			}
			if ok, err := s.PutAttachment(ctx, "s1", "x", "a.b.c.d.e", 100); !ok || err != nil {
				t.Fatalf("put attachment: %v %v", ok, err)
			}
			if v, found, _ := s.Attachment(ctx, "s1", "x"); !found || v != "a.b.c.d.e" {
				t.Errorf("attachment %q %v", v, found)
			}
			if _, found, _ := s.Attachment(ctx, "s1", "y"); found {
				t.Error("an attachment never put was found")
			}
			if ok, _ := s.PutAttachment(ctx, "s1", "y", "1234567890", 18); ok {
				t.Error("an attachment beyond the total was kept")
			}
			if ok, _ := s.PutAttachment(ctx, "s1", "x", "1234567890", 18); !ok {
				t.Error("an attachment replacing another was counted twice")
			}
			if err := s.DeleteAttachments(ctx, "s1"); err != nil {
				t.Fatal(err)
			}
			if _, found, _ := s.Attachment(ctx, "s1", "x"); found {
				t.Error("a deleted attachment was found")
			}
			_ = s.AppendEvent(ctx, "c1", "a", "e1")
			_ = s.AppendEvent(ctx, "c1", "b", "e2")
			owner, events, found, err := s.Events(ctx, "c1")
			if err != nil || !found || owner != "a" || len(events) != 2 || events[1] != "e2" {
				t.Errorf("events %q %v %v %v", owner, events, found, err)
			}
			unlock, ok, err := s.Lock(ctx, "k", time.Minute)
			if err != nil || !ok {
				t.Fatalf("lock: %v %v", ok, err)
			}
			if _, again, _ := s.Lock(ctx, "k", time.Minute); again {
				t.Error("a held lock was taken twice")
			}
			unlock()
			if _, ok, _ := s.Lock(ctx, "k", time.Minute); !ok {
				t.Error("a released lock could not be taken")
			}
		})
	}
}

// TestStoresKeepTheTotalUnderParallelPuts: of many puts at the same time,
// only as many are kept as fit into the total.
func TestStoresKeepTheTotalUnderParallelPuts(t *testing.T) {
	st := redistest.Store(t, "fitconnect-test:")
	stores := map[string]submissionapi.Store{
		"memory": submissionapi.NewMemoryStore(),
		"redis":  submissionapi.RedisStore{RDB: st.Client(), Prefix: st.Prefix(), TTL: time.Minute},
	}
	for name, s := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			sub := "parallel-" + name
			t.Cleanup(func() { _ = s.DeleteAttachments(context.Background(), sub) })
			var kept atomic.Int32
			var wg sync.WaitGroup
			for i := range 20 {
				wg.Go(func() {
					if ok, err := s.PutAttachment(ctx, sub, fmt.Sprint("a", i), strings.Repeat("x", 100), 350); err != nil {
						t.Error(err)
					} else if ok {
						kept.Add(1)
					}
				})
			}
			wg.Wait()
			if kept.Load() != 3 {
				t.Errorf("%d of 20 parallel puts kept, want 3 (350 bytes of 100 each)", kept.Load())
			}
		})
	}
}
