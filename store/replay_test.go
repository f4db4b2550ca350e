package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow/internal/redistest"
)

func TestFirstSeenOncePerIDAndKindUntilItExpires(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t, "test:")
	var firsts atomic.Int32
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			first, err := s.FirstSeen(ctx, "payment", "wh_1", time.Minute)
			if err != nil {
				t.Error(err)
			}
			if first {
				firsts.Add(1)
			}
		})
	}
	wg.Wait()
	if got := firsts.Load(); got != 1 {
		t.Errorf("ten deliveries at once: %d first, want 1", got)
	}
	if first, err := s.FirstSeen(ctx, "signature", "wh_1", time.Minute); err != nil || !first {
		t.Errorf("the same ID of another kind: first %v, %v; want first", first, err)
	}
	if err := s.Forget(ctx, "payment", "wh_1"); err != nil {
		t.Fatal(err)
	}
	if first, err := s.FirstSeen(ctx, "payment", "wh_1", 50*time.Millisecond); err != nil || !first {
		t.Errorf("after Forget: first %v, %v; want first", first, err)
	}
	// Once the time is up, the ID is new again.
	for deadline := time.Now().Add(5 * time.Second); ; {
		first, err := s.FirstSeen(ctx, "payment", "wh_1", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if first {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the ID was still remembered 5s after its 50ms were up")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
