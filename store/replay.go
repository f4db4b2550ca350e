package store

import (
	"context"
	"fmt"
	"time"
)

// Signed webhooks carry an ID (ozgflow.HeaderWebhookID); the gateway
// remembers the IDs it accepted for as long as their signature could be
// replayed, and drops a repeat.

func (s *Store) webhookKey(kind, id string) string { return s.prefix + "webhook:" + kind + ":" + id }

// FirstSeen records the webhook id of kind (e.g. "payment") for ttl and
// reports whether it is new: false means a webhook with this ID came within
// ttl already. It is atomic, so of two deliveries at once only one is first.
func (s *Store) FirstSeen(ctx context.Context, kind, id string, ttl time.Duration) (bool, error) {
	first, err := s.rdb.SetNX(ctx, s.webhookKey(kind, id), 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("remember %s webhook %s: %w", kind, id, err)
	}
	return first, nil
}

// Forget drops a webhook ID that FirstSeen recorded, so that a retry of a
// webhook whose effect failed counts as new again.
func (s *Store) Forget(ctx context.Context, kind, id string) error {
	if err := s.rdb.Del(ctx, s.webhookKey(kind, id)).Err(); err != nil {
		return fmt.Errorf("forget %s webhook %s: %w", kind, id, err)
	}
	return nil
}
