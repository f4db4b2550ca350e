package submissionapi_test

import (
	"context"
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
			if err := s.PutAttachment(ctx, "s1", "x", "a.b.c.d.e"); err != nil {
				t.Fatal(err)
			}
			if v, found, _ := s.Attachment(ctx, "s1", "x"); !found || v != "a.b.c.d.e" {
				t.Errorf("attachment %q %v", v, found)
			}
			if _, found, _ := s.Attachment(ctx, "s1", "y"); found {
				t.Error("an attachment never put was found")
			}
			if sizes, _ := s.AttachmentSizes(ctx, "s1"); sizes["x"] != 9 || len(sizes) != 1 {
				t.Errorf("sizes %v", sizes)
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
