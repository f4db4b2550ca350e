package workflows

import (
	"testing"
	"time"

	"github.com/ozgflow/ozgflow/definitions"
)

// TestDeliveryRetryFollowsTheVariant: a variant states how a delivery to
// its target is tried again; what it leaves out keeps the default.
func TestDeliveryRetryFollowsTheVariant(t *testing.T) {
	d := func(v time.Duration) definitions.Duration { return definitions.Duration(v) }
	tests := []struct {
		name             string
		retry            *definitions.Retry
		initial, maximum time.Duration
		backoff          float64
	}{
		{"default", nil, 2 * time.Second, 5 * time.Minute, 2},
		{"all stated", &definitions.Retry{Initial: d(10 * time.Second), Maximum: d(time.Hour), Backoff: 3}, 10 * time.Second, time.Hour, 3},
		{"only the first wait", &definitions.Retry{Initial: d(time.Minute)}, time.Minute, 5 * time.Minute, 2},
		{"first wait beyond the default maximum", &definitions.Retry{Initial: d(10 * time.Minute)}, 10 * time.Minute, 10 * time.Minute, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := deliveryOptionsOf(definitions.Step{Kind: definitions.KindDeliver, Target: "x", Retry: tt.retry}).RetryPolicy
			if got.InitialInterval != tt.initial || got.MaximumInterval != tt.maximum || got.BackoffCoefficient != tt.backoff || got.MaximumAttempts != 0 {
				t.Errorf("got %+v, want initial %s, maximum %s, backoff %v, no attempt limit", got, tt.initial, tt.maximum, tt.backoff)
			}
		})
	}
	if deliveryOptions.RetryPolicy.InitialInterval != 2*time.Second {
		t.Error("a variant's retry changed the default")
	}
}
