package bench

import (
	"context"
	"os"
	"runtime/trace"
	"time"
)

// traceMiddle traces the middle Options.Trace of a phase lasting duration
// into its PHASE.trace, when Trace and ProfileDir are set. The channel
// yields the trace's error once the file is written, and nil at once when
// no trace is asked for.
func (r *runner) traceMiddle(ctx context.Context, phase string, duration time.Duration) <-chan error {
	done := make(chan error, 1)
	if r.opts.Trace <= 0 || r.opts.ProfileDir == "" {
		done <- nil
		return done
	}
	length := min(r.opts.Trace, duration)
	path := r.profilePath(phase, "trace")
	go func() {
		done <- traceFor(ctx, path, (duration-length)/2, length)
	}()
	return done
}

// traceFor waits, then writes an execution trace of length to path; a
// trace that ctx cut short is written as far as it got and reported.
func traceFor(ctx context.Context, path string, wait, length time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(wait):
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := trace.Start(f); err != nil {
		f.Close()
		return err
	}
	var cut error
	select {
	case <-ctx.Done():
		cut = ctx.Err()
	case <-time.After(length):
	}
	trace.Stop()
	if err := f.Close(); err != nil {
		return err
	}
	return cut
}
