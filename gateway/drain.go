package gateway

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/ozgflow/ozgflow"
)

// An orderly stop: the gateway first stops taking new requests and lets
// those in flight finish (Drain), so that a submit accepted before the
// stop still answers 201; only then do the worker and, with Close, the
// listener stop.

// drainState counts the requests in flight and refuses new ones once
// draining began.
type drainState struct {
	draining atomic.Bool
	inFlight atomic.Int64
	// keeps says which requests are still served while draining.
	keeps atomic.Pointer[func(*http.Request) bool]
}

// admit refuses new requests while draining, with 503 and Retry-After,
// and counts those in flight that draining waits for: not those still
// served while draining, nor event streams, which end with the server.
func (s *Server) admit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kept := false
		if keep := s.drain.keeps.Load(); keep != nil {
			kept = (*keep)(r)
		}
		if kept {
			next.ServeHTTP(w, r)
			return
		}
		if s.drain.draining.Load() {
			s.refuseWhileStopping(w, r)
			return
		}
		if r.Header.Get("Accept") != "text/event-stream" {
			s.drain.inFlight.Add(1)
			defer s.drain.inFlight.Add(-1)
		}
		next.ServeHTTP(w, r)
	})
}

// KeepWhileDraining names the requests still served while draining: in
// dev the sandboxes, which the worker's last activities call.
func (s *Server) KeepWhileDraining(keep func(*http.Request) bool) { s.drain.keeps.Store(&keep) }

// refuseWhileStopping answers a request that came after the stop began.
func (s *Server) refuseWhileStopping(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "5")
	w.Header().Set("Connection", "close")
	s.answerRefusal(w, r, ozgflow.Errorf(ozgflow.EUNAVAILABLE, "ozgflow is stopping; please try again in a moment."),
		http.StatusServiceUnavailable, "error.unavailable")
}

// Drain stops taking new requests, but those KeepWhileDraining names, and
// waits until the requests in flight finished or ctx ends; /readyz
// answers 503 from then on, as every other refused request.
func (s *Server) Drain(ctx context.Context) error {
	s.drain.draining.Store(true)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for s.drain.inFlight.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}
