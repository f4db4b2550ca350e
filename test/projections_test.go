package test

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/process"
	"github.com/ozgflow/ozgflow/test/e2e"
)

// TestRedisIsACacheYouCanLose loses the projections of a running `dev`
// and checks what an operator relies on: /readyz says "rebuilding" while
// the API answers from Temporal, the worker rebuilds by itself, a stale
// snapshot is replaced and a case nobody knows removed, the portal gets
// no notice twice, an intact Redis is not rebuilt at the next start, a
// foreign one is, and a data directory whose engine database is not its
// own is refused.
func TestRedisIsACacheYouCanLose(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := devConfig(dir, addr)
	cfg.RedisPrefix = "e2e:" + uuid.NewString() + ":"
	cfg.ProjectionsCheck = 200 * time.Millisecond
	// Projections older than this are the rebuild's to replace or remove:
	// the cases here rest longer than that before Redis is lost.
	cfg.RebuildListingLag = time.Second
	start := func() *process.Dev {
		t.Helper()
		d, err := process.StartDev(ctx, cfg, process.DevOptions{RequireRedis: true}, testLogger())
		if err != nil {
			t.Fatal(err)
		}
		waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := d.WaitProjections(waitCtx); err != nil {
			d.Close()
			t.Fatal(err)
		}
		return d
	}
	d := start()
	st := stackOf(d)
	inReview := st.Submit(t, e2e.Gewerbeanmeldung(e2e.Dresden, "amt24-anna"))
	e2e.Pay(t, inReview.PaymentURL, "pay")
	st.WaitStatus(t, inReview, "in_review")
	st.OpenTask(t, inReview.ID, "dev-sb-dresden", "gewerbe")
	unpaid := st.Submit(t, e2e.Gewerbeanmeldung(e2e.Dresden, "amt24-anna"))
	waitDelivered(t, d, inReview.ID, unpaid.ID)
	if !d.ProjectionsIntact && d.Installation == "" {
		t.Fatal("dev has no installation ID")
	}

	time.Sleep(2 * cfg.RebuildListingLag)

	// Redis loses everything; another owner holds the rebuild for now.
	rdb := d.Store.Client()
	if ok, err := d.Store.ClaimRebuild(ctx, "held-by-the-test", time.Minute); err != nil || !ok {
		t.Fatalf("claim the rebuild: %v %v", ok, err)
	}
	keys, err := rdb.Keys(ctx, cfg.RedisPrefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k != cfg.RedisPrefix+"rebuilding" {
			rdb.Del(ctx, k)
		}
	}
	res := e2e.Call(t, d.URL, http.MethodGet, "/readyz", "", nil)
	if res.Status != http.StatusServiceUnavailable || !strings.Contains(string(res.Body), "rebuilding") {
		t.Errorf("/readyz without projections: %d %s", res.Status, res.Body)
	}
	if c := st.Case(t, inReview.ID, inReview.Token); c["status"] != "in_review" {
		t.Errorf("case read from Temporal while rebuilding: %v", c["status"])
	}
	// A stale snapshot from a future the engine does not know, and a
	// case the engine never had.
	stale := ozgflow.Case{ID: inReview.ID, Revision: 1000, Authority: e2e.Dresden, Service: "gewerbeanmeldung",
		Status: ozgflow.StatusApproved, UpdatedAt: time.Now().Add(-time.Hour)}
	ghost := ozgflow.Case{ID: uuid.NewString(), Revision: 3, Authority: e2e.Dresden, Service: "gewerbeanmeldung",
		Status: ozgflow.StatusInReview, UpdatedAt: time.Now().Add(-time.Hour),
		Tasks: []ozgflow.Task{{ID: "ghost-task", CaseID: "ghost", Authority: e2e.Dresden, Queue: "gewerbe", Status: ozgflow.TaskOpen}}}
	for _, c := range []ozgflow.Case{stale, ghost} {
		if err := d.Store.SaveCase(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Store.ReleaseRebuild(ctx, "held-by-the-test"); err != nil {
		t.Fatal(err)
	}
	e2e.WaitFor(t, "the projections rebuilt", 30*time.Second, func() bool {
		return e2e.Call(t, d.URL, http.MethodGet, "/readyz", "", nil).Status == http.StatusOK
	})
	if c, err := d.Store.Case(ctx, inReview.ID); err != nil || c.Status != ozgflow.StatusInReview || c.Revision >= 1000 {
		t.Errorf("stale snapshot after the rebuild: %s rev %d, %v", c.Status, c.Revision, err)
	}
	if c, err := d.Store.Case(ctx, unpaid.ID); err != nil || c.Status != ozgflow.StatusAwaitingPayment {
		t.Errorf("a resting case after the rebuild: %s, %v", c.Status, err)
	}
	if _, err := d.Store.Case(ctx, ghost.ID); ozgflow.ErrorCode(err) != ozgflow.ENOTFOUND {
		t.Errorf("the case nobody knows is still there: %v", err)
	}
	task := st.OpenTask(t, inReview.ID, "dev-sb-dresden", "gewerbe")
	for _, x := range taskIDs(t, st, "dev-sb-dresden", "gewerbe") {
		if x == "ghost-task" {
			t.Error("the ghost's task is still listed")
		}
	}
	complete := e2e.Call(t, d.URL, http.MethodPost, "/api/v1/tasks/"+task["id"].(string)+"/complete", "dev-sb-dresden",
		map[string]any{"outcome": "approve"})
	if complete.Status != http.StatusOK {
		t.Fatalf("complete after the rebuild: %d %s", complete.Status, complete.Body)
	}
	st.WaitStatus(t, inReview, "approved")
	waitDelivered(t, d, inReview.ID, unpaid.ID)
	e2e.WaitFor(t, "the approved case closed", 30*time.Second, func() bool {
		desc, err := d.Client.DescribeWorkflowExecution(ctx, ozgflow.CaseWorkflowID(inReview.ID), "")
		return err == nil && desc.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	})
	for _, r := range d.Portal.Received() {
		if r.Deliveries != 1 {
			t.Errorf("notice %s reached the portal %d times", r.ID, r.Deliveries)
		}
	}
	d.Close()

	// Redis intact: the next start rebuilds nothing.
	began := time.Now()
	d = start()
	if !d.ProjectionsIntact {
		t.Error("intact projections counted as missing")
	}
	t.Logf("start on an intact Redis took %s", time.Since(began).Round(time.Millisecond))
	// The approved case wrote no memo at its end, which still holds its
	// review: the rebuild takes it from its final record, and asks no case.
	rebuilt, err := d.Rebuild(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rebuilt.FromQuery != 0 || rebuilt.Closed != 1 || rebuilt.Cases != 2 {
		t.Errorf("rebuild: %d closed from records, %d cases listed, %d asked through their query; want 1, 2, 0",
			rebuilt.Closed, rebuilt.Cases, rebuilt.FromQuery)
	}
	if c, err := d.Store.Case(ctx, inReview.ID); err != nil || c.Status != ozgflow.StatusApproved {
		t.Errorf("the closed case after the rebuild: %s, %v", c.Status, err)
	}
	// Projections of another installation are replaced.
	if err := d.Store.MarkInstallation(ctx, uuid.NewString()); err != nil {
		t.Fatal(err)
	}
	e2e.WaitFor(t, "foreign projections replaced", 30*time.Second, func() bool {
		got, err := d.Store.Installation(ctx)
		return err == nil && got == d.Installation
	})
	if c, err := d.Store.Case(ctx, unpaid.ID); err != nil || c.Status != ozgflow.StatusAwaitingPayment {
		t.Errorf("case after replacing foreign projections: %s, %v", c.Status, err)
	}
	d.Close()

	// The data directory names another installation than its namespace.
	if err := os.WriteFile(filepath.Join(dir, "installation"), []byte(uuid.NewString()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if d, err := process.StartDev(ctx, cfg, process.DevOptions{RequireRedis: true}, testLogger()); err == nil {
		d.Close()
		t.Fatal("dev started on a data directory whose namespace belongs to another installation")
	} else if !strings.Contains(err.Error(), "not the engine database") {
		t.Errorf("refusal: %v", err)
	}
}

// waitDelivered waits until the portal holds every notice of the cases
// and the ledger of portal deliveries knows it.
func waitDelivered(t *testing.T, d *process.Dev, ids ...string) {
	t.Helper()
	e2e.WaitFor(t, "notices at the portal", 30*time.Second, func() bool {
		got := map[string]bool{}
		for _, r := range d.Portal.Received() {
			got[r.ID] = true
		}
		var notices []string
		for _, id := range ids {
			c, err := d.Store.Case(context.Background(), id)
			if err != nil {
				return false
			}
			for _, n := range c.Timeline {
				if !got[n.ID] {
					return false
				}
				notices = append(notices, n.ID)
			}
		}
		noted, err := d.Records.Delivered(context.Background(), notices)
		return err == nil && len(noted) == len(notices)
	})
}

// taskIDs lists the IDs of a queue's tasks as a case worker sees them.
func taskIDs(t *testing.T, st *e2e.Stack, token, queue string) []string {
	t.Helper()
	res := e2e.Call(t, st.URL, http.MethodGet, "/api/v1/tasks?queue="+queue, token, nil)
	var ids []string
	for _, x := range res.JSON(t)["tasks"].([]any) {
		ids = append(ids, x.(map[string]any)["id"].(string))
	}
	return ids
}
