package workflows

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
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

// TestAStepsRetryIsMarkedInItsRequests: the requests of a deliver or
// archive step that states its retry say so, so that the worker leaves
// their retry to the step; a step without one leaves it to the target's.
func TestAStepsRetryIsMarkedInItsRequests(t *testing.T) {
	data := hundData
	def := definition(t, "hundesteuer-anmeldung", dresden)
	var steps []definitions.Step
	for _, s := range def.Steps {
		if s.Kind == definitions.KindDeliver {
			s.Retry = &definitions.Retry{Initial: definitions.Duration(10 * time.Second)}
		}
		steps = append(steps, s)
	}
	def.Steps = append(steps, definitions.Step{ID: "archive", Kind: definitions.KindArchive, Target: "dms"})
	if err := def.Validate(); err != nil {
		t.Fatalf("definition invalid: %v %v", err, ozgflow.ErrorFields(err))
	}
	h := newHarness(t, def, data)
	stepRetry := map[string]bool{}
	h.env.OnActivity(deliveries.Deliver, mock.Anything, mock.Anything).Return(
		func(_ context.Context, req activities.DeliverRequest) (activities.Receipt, error) {
			stepRetry[req.Kind+" "+req.Target] = req.StepRetry
			return activities.Receipt{Reference: "FV-1"}, nil
		})
	if got := h.run(); got.Status != ozgflow.StatusApproved {
		t.Fatalf("status %s", got.Status)
	}
	want := map[string]bool{deliveryKindCase + " steueramt-dresden": true, deliveryKindArchive + " dms": false}
	if !maps.Equal(stepRetry, want) {
		t.Errorf("step retry in the requests %v, want %v", stepRetry, want)
	}
}
