// Package bench measures ozgflow under load: applications submitted through
// the HTTP API of `dev` at a set concurrency, against a baseline of bare
// Temporal workflows with as many activities doing nothing on the same
// embedded server. `ozgflow bench` runs it.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/devserver"
	"github.com/ozgflow/ozgflow/process"
)

// Options say what to measure and how hard to push.
type Options struct {
	Concurrency int           // clients working in parallel (closed loop)
	Duration    time.Duration // per throughput phase
	Phases      []string      // baseline, auto, review, latency, waiting
	Rate        int           // submits per second of the latency phase
	Waiting     int           // cases left waiting for a case worker in the waiting phase
	DataDir     string        // dev's data directory; the SQLite file lives there
	InMemory    bool          // keep Temporal in memory instead of the SQLite file
	PostgresURL string        // keep Temporal in PostgreSQL instead (postgres://user@host:port/database)
	RedisURL    string
	Logger      *slog.Logger
}

// Result is what one phase measured.
type Result struct {
	Phase       string        `json:"phase"`
	Completed   int64         `json:"completed"`
	Errors      int64         `json:"errors"`
	Elapsed     time.Duration `json:"elapsed"`
	PerSecond   float64       `json:"perSecond"`
	SubmitP50   time.Duration `json:"submitP50"`
	SubmitP95   time.Duration `json:"submitP95"`
	SubmitP99   time.Duration `json:"submitP99"`
	EndToEndP50 time.Duration `json:"endToEndP50"`
	EndToEndP99 time.Duration `json:"endToEndP99"`
	CPUCores    float64       `json:"cpuCores"` // CPU seconds per wall second, whole process
	// CPUByRole splits CPUCores by the goroutines' role in dev: engine
	// (Temporal server), worker, gateway, sandbox, client (the benchmark),
	// other (Go runtime, shared clients).
	CPUByRole map[string]float64 `json:"cpuByRole,omitempty"`
	PeakRSS   int64              `json:"peakRss"`
	HeapInUse int64              `json:"heapInUse"`
	Note      string             `json:"note,omitempty"`
}

// Report is a whole run.
type Report struct {
	Options Options       `json:"options"`
	Shape   BaselineShape `json:"shape"`
	Results []Result      `json:"results"`
	// Ratio is the auto phase's throughput divided by the baseline's.
	Ratio float64 `json:"ratio"`
}

const chemnitz = "145110000000"

// runner holds the running dev instance and an HTTP client for it.
type runner struct {
	opts Options
	dev  *process.Dev
	http *http.Client
}

// Run starts `dev`, runs the phases in order and returns what they measured.
func Run(ctx context.Context, opts Options) (*Report, error) {
	cfg := process.DefaultConfig()
	cfg.Addr, cfg.DataDir, cfg.Secret = "127.0.0.1:0", opts.DataDir, "bench-secret-0123456789abcdef"
	if opts.RedisURL != "" {
		cfg.RedisURL = opts.RedisURL
	}
	devOpts := process.DevOptions{InMemory: opts.InMemory}
	if opts.PostgresURL != "" {
		pg, err := devserver.ParsePostgresURL(opts.PostgresURL)
		if err != nil {
			return nil, err
		}
		devOpts.Postgres = &pg
	}
	d, err := process.StartDev(ctx, cfg, devOpts, opts.Logger)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	transport := &http.Transport{MaxIdleConnsPerHost: 4 * opts.Concurrency, MaxConnsPerHost: 0}
	r := &runner{opts: opts, dev: d, http: &http.Client{Transport: transport, Timeout: time.Minute}}

	w := worker.New(d.Client, baselineQueue, worker.Options{})
	w.RegisterWorkflow(BaselineWorkflow)
	w.RegisterActivity(Noop)
	pprof.Do(ctx, pprof.Labels("role", process.ProfileWorker), func(context.Context) { err = w.Start() })
	if err != nil {
		return nil, fmt.Errorf("baseline worker: %w", err)
	}
	defer w.Stop()

	report := &Report{Options: opts}
	if report.Shape, err = r.measureShape(ctx); err != nil {
		return nil, err
	}
	var baseline, auto float64
	for _, phase := range opts.Phases {
		var res Result
		switch phase {
		case "baseline":
			res = r.closedLoop(ctx, phase, func(ctx context.Context) (time.Duration, error) {
				return 0, r.baselineCase(ctx, report.Shape)
			})
			baseline = res.PerSecond
		case "auto":
			res = r.closedLoop(ctx, phase, r.autoCase)
			auto = res.PerSecond
		case "review":
			res = r.closedLoop(ctx, phase, r.reviewCase)
		case "latency":
			res = r.openLoop(ctx)
		case "waiting":
			res, err = r.waiting(ctx)
			if err != nil {
				return report, err
			}
		default:
			return report, fmt.Errorf("unknown phase %q", phase)
		}
		report.Results = append(report.Results, res)
		r.drain(ctx)
	}
	if baseline > 0 {
		report.Ratio = auto / baseline
	}
	return report, nil
}

// measureShape runs one automatic case and counts the activities and local
// activities in its history, which the baseline then mirrors.
func (r *runner) measureShape(ctx context.Context) (BaselineShape, error) {
	shape := BaselineShape{CaseEvents: map[string]int{}}
	id, _, err := r.submit(ctx, "lasttest-auto", nil)
	if err != nil {
		return shape, fmt.Errorf("warm-up case: %w", err)
	}
	if err := r.dev.Client.GetWorkflow(ctx, ozgflow.CaseWorkflowID(id), "").Get(ctx, nil); err != nil {
		return shape, err
	}
	it := r.dev.Client.GetWorkflowHistory(ctx, ozgflow.CaseWorkflowID(id), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return shape, err
		}
		shape.CaseEvents[ev.GetEventType().String()]++
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			shape.Activities++
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			shape.LocalActivities++
		}
	}
	run, err := r.dev.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: baselineQueue}, BaselineWorkflow, shape)
	if err != nil {
		return shape, err
	}
	if err := run.Get(ctx, nil); err != nil {
		return shape, err
	}
	it = r.dev.Client.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		if _, err := it.Next(); err != nil {
			return shape, err
		}
		shape.BaselineEvents++
	}
	return shape, nil
}

// submit posts one application of the given service and returns its case ID.
func (r *runner) submit(ctx context.Context, service string, latency *time.Duration) (string, string, error) {
	body, _ := json.Marshal(map[string]any{
		"service": service, "authority": chemnitz,
		"applicant": map[string]any{"name": "Lasttest", "portalAccount": "amt24-lasttest"},
		"data":      map[string]any{"betreff": "Lasttest"},
	})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.dev.URL+"/api/v1/applications", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer dev-portal")
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	res, err := r.http.Do(req)
	if latency != nil {
		*latency = time.Since(start)
	}
	if err != nil {
		return "", "", err
	}
	defer res.Body.Close()
	var out struct {
		ID          string `json:"id"`
		AccessToken string `json:"accessToken"`
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated || json.Unmarshal(b, &out) != nil {
		return "", "", fmt.Errorf("submit: %d %s", res.StatusCode, b)
	}
	return out.ID, out.AccessToken, nil
}

func (r *runner) awaitFinal(ctx context.Context, id string) error {
	return r.dev.Client.GetWorkflow(ctx, ozgflow.CaseWorkflowID(id), "").Get(ctx, nil)
}

// autoCase submits an application that needs no human step and waits for
// its final status.
func (r *runner) autoCase(ctx context.Context) (time.Duration, error) {
	var latency time.Duration
	id, _, err := r.submit(ctx, "lasttest-auto", &latency)
	if err != nil {
		return latency, err
	}
	return latency, r.awaitFinal(ctx, id)
}

// reviewCase submits an application, waits for its task like a case worker
// watching the queue, decides it and waits for the final status.
func (r *runner) reviewCase(ctx context.Context) (time.Duration, error) {
	var latency time.Duration
	id, _, err := r.submit(ctx, "lasttest-pruefung", &latency)
	if err != nil {
		return latency, err
	}
	for {
		c, err := r.dev.Store.Case(ctx, id)
		if err == nil && c.Status == ozgflow.StatusInReview {
			break
		}
		select {
		case <-ctx.Done():
			return latency, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.dev.URL+"/api/v1/tasks/"+ozgflow.TaskID(id, "decide", 1)+"/complete",
		bytes.NewReader([]byte(`{"outcome":"approve"}`)))
	req.Header.Set("Authorization", "Bearer dev-sb-chemnitz")
	req.Header.Set("Content-Type", "application/json")
	res, err := r.http.Do(req)
	if err != nil {
		return latency, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return latency, fmt.Errorf("complete: %s", res.Status)
	}
	return latency, r.awaitFinal(ctx, id)
}

func (r *runner) baselineCase(ctx context.Context, shape BaselineShape) error {
	run, err := r.dev.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: baselineQueue}, BaselineWorkflow, shape)
	if err != nil {
		return err
	}
	return run.Get(ctx, nil)
}

// closedLoop runs Concurrency clients, each starting its next case when the
// last one ended, for Duration.
func (r *runner) closedLoop(ctx context.Context, phase string, one func(context.Context) (time.Duration, error)) Result {
	var (
		mu                 sync.Mutex
		submits, endToEnds Latencies
		completed, errs    atomic.Int64
		wg                 sync.WaitGroup
	)
	resetPeakRSS()
	var roles cpuByRole
	roles.start()
	cpuStart, start := cpuTime(), time.Now()
	deadline := start.Add(r.opts.Duration)
	for range r.opts.Concurrency {
		wg.Add(1)
		go asClient(ctx, func(ctx context.Context) {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				began := time.Now()
				submit, err := one(ctx)
				if err != nil {
					errs.Add(1)
					continue
				}
				completed.Add(1)
				mu.Lock()
				submits, endToEnds = append(submits, submit), append(endToEnds, time.Since(began))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	res := r.result(phase, completed.Load(), errs.Load(), elapsed, cpuStart, submits, endToEnds)
	res.CPUByRole = roles.stop(elapsed)
	return res
}

// openLoop submits at a fixed rate, whatever the answers take, and measures
// the submit latency.
func (r *runner) openLoop(ctx context.Context) Result {
	var (
		mu              sync.Mutex
		submits         Latencies
		completed, errs atomic.Int64
		wg              sync.WaitGroup
	)
	resetPeakRSS()
	var roles cpuByRole
	roles.start()
	cpuStart, start := cpuTime(), time.Now()
	tick := time.NewTicker(time.Second / time.Duration(r.opts.Rate))
	defer tick.Stop()
	for time.Since(start) < r.opts.Duration && ctx.Err() == nil {
		<-tick.C
		wg.Add(1)
		go asClient(ctx, func(ctx context.Context) {
			defer wg.Done()
			var latency time.Duration
			if _, _, err := r.submit(ctx, "lasttest-auto", &latency); err != nil {
				errs.Add(1)
				return
			}
			completed.Add(1)
			mu.Lock()
			submits = append(submits, latency)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	res := r.result("latency", completed.Load(), errs.Load(), elapsed, cpuStart, submits, nil)
	res.CPUByRole = roles.stop(elapsed)
	res.Note = fmt.Sprintf("open loop at %d submits/s", r.opts.Rate)
	return res
}

// waiting leaves Waiting cases in case workers' queues and measures the
// memory the process holds with them.
func (r *runner) waiting(ctx context.Context) (Result, error) {
	resetPeakRSS()
	cpuStart, start := cpuTime(), time.Now()
	var next, errs atomic.Int64
	var wg sync.WaitGroup
	for range r.opts.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(r.opts.Waiting) && ctx.Err() == nil {
				if _, _, err := r.submit(ctx, "lasttest-pruefung", nil); err != nil {
					errs.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	want := int64(r.opts.Waiting) - errs.Load()
	for {
		counts, err := r.dev.Store.CaseCounts(ctx)
		if err != nil {
			return Result{}, err
		}
		if counts["99990000000004"][string(ozgflow.StatusInReview)] >= want {
			break
		}
		select {
		case <-ctx.Done():
			return Result{}, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	elapsed := time.Since(start)
	runtime.GC()
	res := r.result("waiting", want, errs.Load(), elapsed, cpuStart, nil, nil)
	res.Note = fmt.Sprintf("%d cases waiting for a case worker, measured after GC", want)
	return res, nil
}

func (r *runner) result(phase string, completed, errs int64, elapsed, cpuStart time.Duration, submits, e2e Latencies) Result {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	_, peak := rssBytes()
	return Result{
		Phase: phase, Completed: completed, Errors: errs, Elapsed: elapsed,
		PerSecond: float64(completed) / elapsed.Seconds(),
		SubmitP50: submits.Percentile(50), SubmitP95: submits.Percentile(95), SubmitP99: submits.Percentile(99),
		EndToEndP50: e2e.Percentile(50), EndToEndP99: e2e.Percentile(99),
		CPUCores: (cpuTime() - cpuStart).Seconds() / elapsed.Seconds(),
		PeakRSS:  peak, HeapInUse: int64(ms.HeapInuse),
	}
}

// drain waits until no case is running any more, so phases do not overlap.
func (r *runner) drain(ctx context.Context) {
	for {
		res, err := r.dev.Client.CountWorkflow(ctx, countRunning())
		if err != nil || res.Count == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
		if errors.Is(ctx.Err(), context.Canceled) {
			return
		}
	}
}
