package portal

import "time"

// Backoff says how long to wait after a failed attempt: Initial after the
// first, doubling with every further one up to Max, each shortened at
// random by up to Jitter (a fraction), so that the events of one outage do
// not all come back at the same moment.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	Jitter  float64
}

// DefaultBackoff waits 1 s, 2 s, 4 s, … up to 10 minutes, with up to a
// fifth taken off at random.
var DefaultBackoff = Backoff{Initial: time.Second, Max: 10 * time.Minute, Jitter: 0.2}

// Delay is the wait after the given failed attempt (1 for the first); r is
// a random number in [0, 1).
func (b Backoff) Delay(attempt int, r float64) time.Duration {
	d := b.Initial
	for i := 1; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	return d - time.Duration(float64(d)*b.Jitter*r)
}
