package portal_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities/portal"
	"github.com/ozgflow/ozgflow/internal/recordstest"
	"github.com/ozgflow/ozgflow/internal/redistest"
	"github.com/ozgflow/ozgflow/store"
)

// fileNotices saves a case of a portal account with n notices, which queues
// them in the outbox.
func fileNotices(t *testing.T, st *store.Store, caseID string, n int) []string {
	t.Helper()
	c := ozgflow.Case{ID: caseID, Revision: 1, Authority: "147130000000", Service: "99050035001000",
		Status: ozgflow.StatusReceived, PortalAccount: "amt24-anna", SubmittedAt: time.Now()}
	var ids []string
	for i := 1; i <= n; i++ {
		nt := notice(caseID, i)
		c.Timeline = append(c.Timeline, nt)
		ids = append(ids, nt.ID)
	}
	if err := st.SaveCase(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return ids
}

// flakyPortal answers 503 to the first failures requests, then passes them
// to the sandbox; it notes the event ID of every request.
type flakyPortal struct {
	mu       sync.Mutex
	failures int
	seen     map[string]int
	next     http.Handler
}

func (f *flakyPortal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var e portal.Event
	_ = json.Unmarshal(body, &e)
	f.mu.Lock()
	f.seen[e.ID]++
	fail := f.failures > 0
	if fail {
		f.failures--
	}
	f.mu.Unlock()
	if fail {
		http.Error(w, `{"error":"down"}`, http.StatusServiceUnavailable)
		return
	}
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	f.next.ServeHTTP(w, r)
}

func (f *flakyPortal) attempts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.seen {
		out[k] = v
	}
	return out
}

// startFlaky serves a sandbox portal behind a portal that fails first.
func startFlaky(t *testing.T, failures int) (*portal.Sandbox, *flakyPortal, string) {
	t.Helper()
	sb, err := portal.NewSandbox(portal.SandboxConfig{Secret: []byte("s3cret"), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	sb.Register(r)
	f := &flakyPortal{failures: failures, seen: map[string]int{}, next: r}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return sb, f, srv.URL + portal.SandboxPath + "/events"
}

// run starts a dispatcher and returns a function that stops it and fails
// the test unless it stops promptly.
func run(t *testing.T, d *portal.Dispatcher) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run after cancel: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("the dispatcher did not stop within 5 s of the cancel")
		}
	}
	t.Cleanup(stop)
	return stop
}

func fastDispatcher(st *store.Store, url string) *portal.Dispatcher {
	return &portal.Dispatcher{
		Outbox: st, Sender: &portal.Client{URL: url, Secret: []byte("s3cret")},
		Backoff: portal.Backoff{Initial: 10 * time.Millisecond, Max: 40 * time.Millisecond, Jitter: 0.2},
		Poll:    20 * time.Millisecond, Logger: quiet,
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDispatcherDeliversEachNoticeOnceThroughFailures(t *testing.T) {
	st := redistest.Store(t, "test:")
	ids := fileNotices(t, st, "c1", 5)
	sb, flaky, url := startFlaky(t, 12)
	stop := run(t, fastDispatcher(st, url))

	waitUntil(t, "all notices at the portal", func() bool { return len(sb.Received()) == len(ids) })
	stop()
	for i, rec := range sb.Received() {
		if rec.Deliveries != 1 {
			t.Errorf("%s arrived %d times", rec.ID, rec.Deliveries)
		}
		if rec.Event.Data.CaseID != "c1" || rec.Subject != "c1" {
			t.Errorf("event %d = %+v", i, rec.Event)
		}
	}
	// Every attempt carried the notice's own ID, and the failures were
	// spread over the notices' attempts.
	total := 0
	for id, n := range flaky.attempts() {
		if !contains(ids, id) {
			t.Errorf("an attempt carried id %q, which is no notice", id)
		}
		total += n
	}
	if total != len(ids)+12 {
		t.Errorf("%d attempts, want %d", total, len(ids)+12)
	}
	pending, failed, err := st.PortalEventCounts(context.Background())
	if err != nil || pending != 0 || failed != 0 {
		t.Errorf("outbox after delivery: %d pending, %d failed, %v", pending, failed, err)
	}
	e, err := st.PortalEvent(context.Background(), ids[0])
	if err != nil || e.State != store.PortalDelivered || e.DeliveredAt.IsZero() {
		t.Errorf("event = %+v, %v", e, err)
	}
}

func TestExhaustedEventsWaitForAResend(t *testing.T) {
	ctx := context.Background()
	st := redistest.Store(t, "test:")
	ids := fileNotices(t, st, "c2", 2)
	sb, flaky, url := startFlaky(t, 0)
	sb.SetDown(true)
	d := fastDispatcher(st, url)
	d.MaxAttempts = 3
	run(t, d)

	waitUntil(t, "both events undeliverable", func() bool {
		page, err := st.PortalEvents(ctx, store.PortalFailed, 0, 10)
		return err == nil && page.Total == 2
	})
	page, _ := st.PortalEvents(ctx, store.PortalFailed, 0, 10)
	for _, e := range page.Events {
		if e.Attempts != 3 || !strings.Contains(e.LastError, "503") {
			t.Errorf("failed event = %+v", e)
		}
	}
	time.Sleep(100 * time.Millisecond) // more than the backoff: nothing more is tried
	for _, id := range ids {
		if n := flaky.attempts()[id]; n != 3 {
			t.Errorf("%s tried %d times, want 3", id, n)
		}
	}

	sb.SetDown(false)
	for _, id := range ids {
		if err := st.ResendPortalEvent(ctx, id, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "resent events at the portal", func() bool { return len(sb.Received()) == 2 })
	if page, _ := st.PortalEvents(ctx, store.PortalFailed, 0, 10); page.Total != 0 {
		t.Errorf("still undeliverable: %+v", page.Events)
	}
}

func TestSeveralDispatchersShareTheOutbox(t *testing.T) {
	st := redistest.Store(t, "test:")
	var ids []string
	for _, c := range []string{"a", "b", "c", "d"} {
		ids = append(ids, fileNotices(t, st, c, 5)...)
	}
	sb, _, url := startFlaky(t, 0)
	for range 3 {
		d := fastDispatcher(st, url)
		d.Batch, d.Parallel = 2, 2
		run(t, d)
	}
	waitUntil(t, "all notices at the portal", func() bool { return len(sb.Received()) == len(ids) })
	time.Sleep(50 * time.Millisecond)
	for _, rec := range sb.Received() {
		if rec.Deliveries != 1 {
			t.Errorf("%s sent %d times by the dispatchers together", rec.ID, rec.Deliveries)
		}
	}
}

func TestStoppingGivesTheAttemptBack(t *testing.T) {
	ctx := context.Background()
	st := redistest.Store(t, "test:")
	ids := fileNotices(t, st, "c3", 1)
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // the server notices the client leave only after the body
		arrived <- struct{}{}
		select { // a portal that hangs
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer srv.Close()
	d := fastDispatcher(st, srv.URL)
	d.StopGrace = 100 * time.Millisecond // the portal hangs longer
	stop := run(t, d)
	select {
	case <-arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("no attempt")
	}
	before := time.Now()
	stop()
	e, err := st.PortalEvent(ctx, ids[0])
	if err != nil || e.State != store.PortalPending || e.NextAt.After(time.Now()) || e.NextAt.Before(before.Add(-time.Second)) ||
		e.Claim != "" {
		t.Errorf("after stop: %+v, %v; want it due again at once", e, err)
	}
}

// TestStoppingLetsTheAttemptFinish: an attempt under way when the
// dispatcher stops is not cut short while the portal answers within the
// grace, so a notice the portal took is not sent again after the restart.
func TestStoppingLetsTheAttemptFinish(t *testing.T) {
	ctx := context.Background()
	st := redistest.Store(t, "test:")
	ids := fileNotices(t, st, "c5", 1)
	arrived := make(chan struct{}, 1)
	var mu sync.Mutex
	took := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		arrived <- struct{}{}
		time.Sleep(300 * time.Millisecond) // a slow portal, which takes the event
		mu.Lock()
		took++
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	stop := run(t, fastDispatcher(st, srv.URL))
	select {
	case <-arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("no attempt")
	}
	stop()
	e, err := st.PortalEvent(ctx, ids[0])
	if err != nil || e.State != store.PortalDelivered {
		t.Errorf("after stop: %+v, %v; want it delivered", e, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if took != 1 {
		t.Errorf("the portal took the event %d times, want once", took)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestLostRedisSendsNoNoticeTwice: the ledger in the records database
// remembers what the portal took, so that the notices a rebuild files
// again after Redis was lost are not sent again; new ones are. Without
// the ledger, the refiled notices would go out a second time.
func TestLostRedisSendsNoNoticeTwice(t *testing.T) {
	ctx := context.Background()
	st := redistest.Store(t, "test:")
	ledger := recordstest.Open(t, "sqlite")
	ids := fileNotices(t, st, "c1", 3)
	sb, flaky, url := startFlaky(t, 0)
	d := fastDispatcher(st, url)
	d.Ledger = ledger
	stop := run(t, d)
	waitUntil(t, "the notices at the portal", func() bool { return len(sb.Received()) == len(ids) })
	stop()

	// Redis is lost; the rebuild files the case again, with one more notice.
	if err := st.DropAll(ctx); err != nil {
		t.Fatal(err)
	}
	c := ozgflow.Case{ID: "c1", Revision: 2, Authority: "147130000000", Service: "99050035001000",
		Status: ozgflow.StatusReceived, PortalAccount: "amt24-anna", SubmittedAt: time.Now()}
	for i := 1; i <= 4; i++ {
		c.Timeline = append(c.Timeline, notice("c1", i))
	}
	if _, err := st.RestoreCase(ctx, c, time.Now()); err != nil {
		t.Fatal(err)
	}
	d = fastDispatcher(st, url)
	d.Ledger = ledger
	stop = run(t, d)
	waitUntil(t, "the new notice at the portal", func() bool { return len(sb.Received()) == len(ids)+1 })
	waitUntil(t, "the outbox empty", func() bool {
		pending, failed, err := st.PortalEventCounts(ctx)
		return err == nil && pending == 0 && failed == 0
	})
	stop()
	for id, n := range flaky.attempts() {
		if n != 1 {
			t.Errorf("%s was sent %d times", id, n)
		}
	}
	if e, err := st.PortalEvent(ctx, "c1-2"); err != nil || e.State != store.PortalDelivered {
		t.Errorf("refiled delivered notice: %+v, %v", e, err)
	}
}
