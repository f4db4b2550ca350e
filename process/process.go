// Package process assembles each process of ozgflow from its
// configuration: `dev` (everything in one process with embedded Temporal
// and sandboxes), `worker`, `gateway`, `sandbox` and `temporal-server`, and
// the one-shot `reindex` and `setup-namespace`. Each long-running process
// is a type whose Run starts its parts in order and returns once they
// serve, and whose Close stops them in reverse order.
package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/pprof"
	"strings"
	"time"
)

// closers stop what a process started, in reverse order of start: each
// step that starts something adds what stops it.
type closers []func() error

// add adds the stop of what was just started.
func (c *closers) add(stop func() error) { *c = append(*c, stop) }

// addFunc adds a stop that reports no error.
func (c *closers) addFunc(stop func()) { c.add(func() error { stop(); return nil }) }

// closeAll runs the stops, the last added first, and joins their errors.
func (c *closers) closeAll() error {
	var errs []error
	for i := len(*c) - 1; i >= 0; i-- {
		errs = append(errs, (*c)[i]())
	}
	*c = nil
	return errors.Join(errs...)
}

// listen opens addr, naming the variable that sets it when it cannot. The
// listener's close is added to stops; an error there is of no interest, as
// the server that serves on it has closed it before.
func listen(addr, variable string, stops *closers) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (%s): %w", addr, variable, err)
	}
	stops.addFunc(func() { ln.Close() })
	return ln, nil
}

// localURL is the base URL of ln for a browser on this machine.
func localURL(ln net.Listener) string {
	return fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
}

// serveHTTP serves h on ln in the background; its stop, added to stops,
// gives the requests in flight five seconds.
func serveHTTP(ln net.Listener, h http.Handler, logger *slog.Logger, stops *closers) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("HTTP server stopped", "addr", ln.Addr().String(), "error", err)
		}
	}()
	stops.add(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(ctx)
	})
}

// background runs fn until the returned stop is called, which waits for it
// to return. ctx gives values and profile labels, not cancellation: the
// process stops the work in its own order.
func background(ctx context.Context, logger *slog.Logger, what string, fn func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := fn(ctx); err != nil {
			logger.Error(what+" stopped", "error", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// Profile labels tell, in CPU profiles of `dev`, which of its parts a
// goroutine works for: the parts that run as processes of their own
// elsewhere. The label's key is profileLabel.
const (
	ProfileEngine  = "engine"  // the embedded Temporal server
	ProfileWorker  = "worker"  // the Temporal worker and the portal dispatcher
	ProfileGateway = "gateway" // the HTTP gateway
	ProfileSandbox = "sandbox" // requests to the sandboxes
)

// profileLabel is the key of the profile labels, the name the benchmark
// reads.
const profileLabel = "role"

// labelled runs fn with the profile label part; goroutines fn starts
// inherit it.
func labelled(ctx context.Context, part string, fn func()) {
	pprof.Do(ctx, pprof.Labels(profileLabel, part), func(context.Context) { fn() })
}

// sandboxPrefix is where the sandboxes answer on dev's listener.
const sandboxPrefix = "/sandbox/"

// isSandboxRequest reports whether a request of dev's listener goes to
// the sandboxes.
func isSandboxRequest(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, sandboxPrefix) }

// labelSandboxRequests labels the requests to the sandboxes, which share
// the gateway's listener in dev, as theirs in the profiles, and labels the
// connection's goroutine as the gateway's again afterwards: the next
// request on a kept-alive connection may be the gateway's, and the
// request's context, to which pprof.Do returns, carries no label.
func labelSandboxRequests(next http.Handler) http.Handler {
	gateway := pprof.WithLabels(context.Background(), pprof.Labels(profileLabel, ProfileGateway))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer pprof.SetGoroutineLabels(gateway)
		pprof.Do(r.Context(), pprof.Labels(profileLabel, ProfileSandbox), func(ctx context.Context) {
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	})
}
