// Package redistest connects tests to the Redis that `make test` provides,
// at REDIS_URL or 127.0.0.1:6379. Tests that need Redis fail loudly without
// it; they never skip.
package redistest

import (
	"context"
	"os"
	"testing"

	"github.com/google/uuid"

	"github.com/ozgflow/ozgflow/store"
)

// DefaultURL is where tests look for Redis when REDIS_URL is not set.
const DefaultURL = "redis://127.0.0.1:6379/0"

// URL is the Redis the tests use: REDIS_URL, or DefaultURL.
func URL() string {
	if url := os.Getenv("REDIS_URL"); url != "" {
		return url
	}
	return DefaultURL
}

// Store opens a store on that Redis under a key prefix of its own, which
// starts with prefix, so that parallel tests never meet; it fails tb when
// Redis is missing. The prefix's keys are dropped when the test ends.
func Store(tb testing.TB, prefix string) *store.Store {
	tb.Helper()
	base, err := store.Open(context.Background(), URL())
	if err != nil {
		tb.Fatalf("tests need Redis at %s (run `make test`, which starts one): %v", URL(), err)
	}
	s := base.WithPrefix(prefix + uuid.NewString() + ":")
	tb.Cleanup(func() {
		_ = s.DropAll(context.Background())
		base.Close()
	})
	return s
}
