package test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/process"
	"github.com/ozgflow/ozgflow/test/e2e"
)

// BenchmarkRebuild loses the projections of an installation holding many
// cases and rebuilds them from the engine's listing, as the worker does
// when Redis was flushed; it reports the time per rebuild and the cases
// rebuilt per second, then the time a restart takes on the same data
// directory with Redis intact. Target: 100,000 cases in under 60 s.
//
// The cases are copies of a real Gewerbeanmeldung waiting for a case worker
// (same projection, new IDs), started on a task queue no worker polls, so
// that creating them costs the engine's start alone; each carries its
// snapshot in the memo, encrypted, as a real case does. Run with
//
//	OZGFLOW_BENCH_REBUILD_CASES=100000 OZGFLOW_BENCH_DIR=/tmp/rebuild-bench \
//	  go test ./test -run XXX -bench Rebuild -benchtime 1x -timeout 60m
//
// OZGFLOW_BENCH_DIR keeps the data directory, so that a second run finds
// the cases created (default: 2,000 cases in a temporary directory).
func BenchmarkRebuild(b *testing.B) {
	ctx := context.Background()
	n := 2000
	if v := os.Getenv("OZGFLOW_BENCH_REBUILD_CASES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	dir := os.Getenv("OZGFLOW_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	cfg := devConfig(dir, "127.0.0.1:0")
	cfg.RedisPrefix = "bench-rebuild:"
	cfg.ProjectionsCheck = time.Hour
	d, err := process.StartDev(ctx, cfg, process.DevOptions{RequireRedis: true}, testLogger())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(d.Close)
	if err := d.WaitProjections(ctx); err != nil {
		b.Fatal(err)
	}
	if have := countCases(b, d); have < int64(n) {
		createWaitingCases(b, d, n-int(have))
	}
	for countCases(b, d) < int64(n) {
		time.Sleep(100 * time.Millisecond) // the listing catches up with the starts
	}
	b.ResetTimer()
	var rebuilt int
	for range b.N {
		b.StopTimer()
		if err := d.Store.DropAll(ctx); err != nil {
			b.Fatal(err)
		}
		stopProfile := profileIf(b, os.Getenv("OZGFLOW_BENCH_PROFILE"))
		b.StartTimer()
		res, err := d.Rebuild(ctx)
		stopProfile()
		if err != nil {
			b.Fatal(err)
		}
		if res.Cases < n || res.FromQuery > 1 || res.Removed > 0 || res.Skipped > 0 {
			b.Fatalf("rebuilt %d cases (%d through their query, %d removed, %d skipped), want %d from memos",
				res.Cases, res.FromQuery, res.Removed, res.Skipped, n)
		}
		rebuilt += res.Cases
	}
	b.StopTimer()
	b.ReportMetric(float64(rebuilt)/b.Elapsed().Seconds(), "cases/s")
	b.ReportMetric(float64(n), "cases")

	// With the projections complete, a restart on the same data directory
	// and Redis uses them as they are.
	if err := d.Store.MarkInstallation(ctx, d.Installation); err != nil {
		b.Fatal(err)
	}
	d.Close()
	began := time.Now()
	again, err := process.StartDev(ctx, cfg, process.DevOptions{RequireRedis: true}, testLogger())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(again.Close)
	// A million keys left behind would slow every scan of the shared Redis.
	b.Cleanup(func() { again.Store.DropAll(context.Background()) })
	if !again.ProjectionsIntact {
		b.Fatal("the restart found the projections incomplete")
	}
	b.ReportMetric(time.Since(began).Seconds(), "restart-s")
}

// countCases counts the case workflows the engine lists.
func countCases(b *testing.B, d *process.Dev) int64 {
	b.Helper()
	res, err := d.Client.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{
		Namespace: "ozgflow", Query: "WorkflowType = '" + ozgflow.CaseWorkflowName + "'"})
	if err != nil {
		b.Fatal(err)
	}
	return res.Count
}

// createWaitingCases runs one Gewerbeanmeldung to its review task and
// starts n copies of its projection as idle case workflows.
func createWaitingCases(b *testing.B, d *process.Dev, n int) {
	b.Helper()
	st := stackOf(d)
	t := &testing.T{}
	s := st.Submit(t, e2e.Gewerbeanmeldung(e2e.Dresden, "amt24-bench"))
	e2e.Pay(t, s.PaymentURL, "pay")
	st.WaitStatus(t, s, "in_review")
	st.OpenTask(t, s.ID, "dev-sb-dresden", "gewerbe")
	model, err := d.Store.Case(context.Background(), s.ID)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(model)
	b.Logf("a case's projection: %d bytes of JSON", len(body))
	var next atomic.Int64
	var wg sync.WaitGroup
	began := time.Now()
	for range 16 {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				c := copyOf(model, uuid.NewString())
				_, err := d.Client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
					ID: ozgflow.CaseWorkflowID(c.ID), TaskQueue: "bench-idle", Memo: map[string]any{ozgflow.MemoCase: c},
				}, ozgflow.CaseWorkflowName)
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.Logf("created %d idle cases in %s", n, time.Since(began).Round(time.Second))
}

// copyOf is the projection of model under a new case ID.
func copyOf(model ozgflow.Case, id string) ozgflow.Case {
	c := model
	c.ID = id
	c.Timeline = append([]ozgflow.Notice(nil), model.Timeline...)
	for i := range c.Timeline {
		c.Timeline[i].ID = fmt.Sprintf("%s-%d", id, i+1)
		c.Timeline[i].CaseID = id
	}
	c.Tasks = append([]ozgflow.Task(nil), model.Tasks...)
	for i := range c.Tasks {
		c.Tasks[i].ID = ozgflow.TaskID(id, c.Tasks[i].StepID, i+1)
		c.Tasks[i].CaseID = id
	}
	return c
}

// profileIf writes a CPU profile to path until the returned stop, when
// path is set.
func profileIf(b *testing.B, path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}
