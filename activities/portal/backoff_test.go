package portal

import (
	"testing"
	"time"
)

func TestBackoffDoublesToTheCapWithJitter(t *testing.T) {
	b := DefaultBackoff
	tests := []struct {
		name    string
		attempt int
		r       float64
		want    time.Duration
	}{
		{"first failure", 1, 0, time.Second},
		{"second", 2, 0, 2 * time.Second},
		{"fifth", 5, 0, 16 * time.Second},
		{"tenth", 10, 0, 512 * time.Second},
		{"eleventh reaches the cap", 11, 0, 10 * time.Minute},
		{"far beyond does not overflow", 10_000, 0, 10 * time.Minute},
		{"most jitter takes a fifth off", 3, 0.999_999, 3200 * time.Millisecond},
		{"half jitter", 2, 0.5, 1800 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := b.Delay(tt.attempt, tt.r)
			if d := got - tt.want; d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("Delay(%d, %v) = %v, want %v", tt.attempt, tt.r, got, tt.want)
			}
		})
	}
	for attempt := 1; attempt < 60; attempt++ {
		if a, b := b.Delay(attempt, 0), b.Delay(attempt+1, 0); b < a {
			t.Fatalf("delay shrinks from attempt %d (%v) to %d (%v)", attempt, a, attempt+1, b)
		}
	}
}
