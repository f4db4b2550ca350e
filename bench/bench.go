// Package bench measures ozgflow under load: applications submitted through
// the HTTP API of `dev` at a set concurrency, against a baseline of bare
// Temporal workflows with as many activities doing nothing on the same
// embedded server, and the memory `dev` holds with many cases waiting for a
// case worker. `ozgflow bench` runs it.
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
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/devserver"
	"github.com/ozgflow/ozgflow/process"
	"github.com/ozgflow/ozgflow/store"
)

// Options say what to measure and how hard to push.
type Options struct {
	Concurrency int           // clients working in parallel (closed loop)
	Duration    time.Duration // per throughput phase
	// Warmup is how long bare baseline workflows run before the first
	// phase, not counted, when a closed-loop phase is among the phases (0:
	// none), so that the first phase does not run on a fresh engine: a
	// small database, and none of the timer tasks that each phase leaves to
	// fire in the next (an activity's start-to-close timeout, 30 s later).
	Warmup time.Duration
	Phases []string // baseline, baseline-weight, auto, review, gewerbe-baseline, gewerbe, latency, waiting
	// Rounds is how many times the phases run, one round after the other
	// on the same dev (0 and 1: once). With more than one, the report has
	// the ratios of each round beside those over all of them, so that one
	// run shows how far a single comparison strays.
	Rounds      int
	Rate        int    // submits per second of the latency phase
	Waiting     int    // cases left waiting for a case worker in the waiting phase
	DataDir     string // dev's data directory; the SQLite file lives there
	InMemory    bool   // keep Temporal in memory instead of the SQLite file
	PostgresURL string // keep Temporal in PostgreSQL instead (postgres://user@host:port/database)
	// RecordsURL, if set, is where dev keeps ozgflow's records database
	// instead of the SQLite file in DataDir (a postgres:// URL, as
	// OZGFLOW_RECORDS_URL). The run's records stay there: give each run
	// an empty database.
	RecordsURL string
	RedisURL   string
	// RedisPrefix is the key prefix of dev's projections; empty picks a
	// fresh one for the run, whose keys are dropped at the end, so that a
	// run neither counts nor disturbs the cases of another.
	RedisPrefix string
	// WorkerCacheSize, if set, replaces dev's bound of the workflows its
	// worker keeps in memory (OZGFLOW_WORKER_CACHE_SIZE), to measure what a
	// smaller or larger cache costs.
	WorkerCacheSize int
	// ProfileDir, if set, is where each phase writes its profiles: the CPU
	// profile of a throughput or latency phase (PHASE.cpu.pprof, with the
	// role labels), the heap profile of the waiting phase taken after its
	// garbage collection (waiting.heap.pprof) and its goroutines
	// (waiting.goroutines.txt).
	ProfileDir string
	// Trace, if set with ProfileDir, is the length of an execution trace
	// taken in the middle of each closed-loop phase, the warm-up included
	// (PHASE.trace, for `go tool trace`): it shows how long goroutines
	// waited to run and what they waited for, which a CPU profile does
	// not. Tracing slows the process, so a traced phase's throughput is
	// not one to quote.
	Trace time.Duration
	// Timeline, if set, is how many cases of each closed-loop phase the
	// benchmark follows through their histories afterwards, to tell where
	// a case's time goes (Result.Timeline).
	Timeline int
	Logger   *slog.Logger
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
	// RedisCPUCores is the CPU seconds per wall second of the Redis server
	// at REDIS_URL (INFO cpu): a process of its own, on this machine beside
	// dev on the same cores, whose work for the projections, the portal
	// outbox and the rate limits a case costs as well. It counts all of the
	// server's clients, so a Redis shared with others counts their work too.
	// 0 when it could not be read.
	RedisCPUCores float64 `json:"redisCpuCores,omitempty"`
	// StolenCores is the CPU seconds per wall second that the host of this
	// virtual machine gave to others while the machine's CPUs wanted to
	// run (steal in /proc/stat): a busy host slows every part of a phase
	// alike, so a phase with more of it is not comparable to one without.
	StolenCores float64 `json:"stolenCores,omitempty"`
	// Written is what the process wrote to storage during the phase: the
	// engine's SQLite file and its log above all, then the records
	// database and the sandboxes' journals (0 where the system does not
	// count it, and on tmpfs).
	Written   int64 `json:"writtenBytes"`
	PeakRSS   int64 `json:"peakRss"`
	HeapInUse int64 `json:"heapInUse"`
	// RSS is the resident set at the end of the phase; in the waiting
	// phase after a garbage collection, like HeapInUse.
	RSS int64 `json:"rss"`
	// Memory is what the waiting phase measured against its budget.
	Memory *MemoryCheck `json:"memory,omitempty"`
	// Timeline is where the cases followed spent their time (Options.Timeline).
	Timeline *Timeline `json:"timeline,omitempty"`
	Note     string    `json:"note,omitempty"`
}

// Report is a whole run.
type Report struct {
	Options Options       `json:"options"`
	Shape   BaselineShape `json:"shape"`
	// GewerbeShape is the shape of a Gewerbeanmeldung case, measured when a
	// gewerbe phase runs.
	GewerbeShape *BaselineShape `json:"gewerbeShape,omitempty"`
	Results      []Result       `json:"results"`
	// Warmup is what the warm-up measured (Options.Warmup); it counts in
	// no ratio.
	Warmup *Result `json:"warmup,omitempty"`
	// Ratios count every run of each phase, all rounds included.
	Ratios
	// Rounds are each round's ratios when Options.Rounds is above 1.
	Rounds []Ratios `json:"rounds,omitempty"`
}

// Ratios are throughput ratios of phases, a phase run more than once
// counted with the mean of its runs: the engine may slow during a run (see
// dev's timer queue), so the phases of a comparison run in the order A B B
// A, which cancels a steady drift. A ratio whose phases did not run is 0.
type Ratios struct {
	// Ratio is the auto phase's throughput divided by the baseline's.
	Ratio float64 `json:"ratio"`
	// GewerbeRatio is the gewerbe phase's throughput divided by that of its
	// baseline.
	GewerbeRatio float64 `json:"gewerbeRatio,omitempty"`
	// WeightRatio is the baseline-weight phase's throughput divided by
	// the baseline's: what the case's payloads and search attributes cost
	// the engine alone, without ozgflow's own work.
	WeightRatio float64 `json:"weightRatio,omitempty"`
	// OwnWorkRatio is the auto phase's throughput divided by the
	// baseline-weight phase's: what ozgflow's own work beside the engine
	// costs.
	OwnWorkRatio float64 `json:"ownWorkRatio,omitempty"`
	// CPURatio is the baseline's CPU per completed workflow divided by the
	// auto phase's per completed case, each counting the whole process
	// and the Redis server beside it. Where the engine's one store
	// connection sets the pace, ozgflow's own work fits in the cores the
	// engine leaves idle; where the CPU sets the pace, the throughput ratio
	// would come down to about this one if a case's CPU stayed the same.
	CPURatio float64 `json:"cpuRatio,omitempty"`
}

// ratiosOf compares the phases of results: auto and baseline-weight
// against baseline, auto against baseline-weight, gewerbe against
// gewerbe-baseline.
func ratiosOf(results []Result) Ratios {
	var r Ratios
	if baseline := meanRate(results, "baseline"); baseline > 0 {
		r.Ratio = meanRate(results, "auto") / baseline
		r.WeightRatio = meanRate(results, "baseline-weight") / baseline
	}
	if auto := meanCPUPerCase(results, "auto"); auto > 0 {
		r.CPURatio = meanCPUPerCase(results, "baseline") / auto
	}
	if weighted := meanRate(results, "baseline-weight"); weighted > 0 {
		r.OwnWorkRatio = meanRate(results, "auto") / weighted
	}
	if baseline := meanRate(results, "gewerbe-baseline"); baseline > 0 {
		r.GewerbeRatio = meanRate(results, "gewerbe") / baseline
	}
	return r
}

// meanRate is the mean throughput of the runs of one phase.
func meanRate(results []Result, phase string) float64 {
	sum, n := 0.0, 0
	for _, r := range results {
		if r.Phase == phase {
			sum += r.PerSecond
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// CPUPerCase turns the cores a part used in the phase (CPUCores,
// CPUByRole, RedisCPUCores) into its CPU seconds per completed case; 0
// when the phase completed none.
func (r Result) CPUPerCase(cores float64) float64 {
	if r.Completed == 0 {
		return 0
	}
	return cores * r.Elapsed.Seconds() / float64(r.Completed)
}

// meanCPUPerCase is the mean over the runs of one phase of the CPU
// seconds that the process and the Redis server spent per completed case;
// a run that completed none or whose CPU was not read does not count.
func meanCPUPerCase(results []Result, phase string) float64 {
	sum, n := 0.0, 0
	for _, r := range results {
		if r.Phase != phase || r.Completed == 0 || r.CPUCores == 0 {
			continue
		}
		sum += r.CPUPerCase(r.CPUCores + r.RedisCPUCores)
		n++
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

const chemnitz = "145110000000"

// dropProjections deletes the run's keys in Redis once dev has stopped:
// dropped while its worker still ran, the keys its last writes made stayed.
func dropProjections(ctx context.Context, url, prefix string) {
	s, err := store.Open(ctx, url)
	if err != nil {
		return
	}
	defer s.Close()
	_ = s.WithPrefix(prefix).DropAll(ctx)
}

// runner holds the running dev instance and an HTTP client for it.
type runner struct {
	opts Options
	dev  *process.Dev
	http *http.Client
	runs map[string]int // runs of each phase so far, the one running included
}

// Run starts `dev`, runs the phases in order and returns what they measured.
func Run(ctx context.Context, opts Options) (*Report, error) {
	cfg := process.DefaultConfig()
	cfg.Addr, cfg.DataDir, cfg.Secret = "127.0.0.1:0", opts.DataDir, "bench-secret-0123456789abcdef"
	if opts.RedisURL != "" {
		cfg.RedisURL = opts.RedisURL
	}
	fresh := opts.RedisPrefix == ""
	if fresh {
		opts.RedisPrefix = fmt.Sprintf("ozgflow-bench-%d:", time.Now().UnixNano())
	}
	cfg.RedisPrefix = opts.RedisPrefix
	if opts.WorkerCacheSize > 0 {
		cfg.WorkerCacheSize = opts.WorkerCacheSize
	}
	cfg.RecordsURL = opts.RecordsURL
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
	defer func() {
		d.Close()
		if fresh {
			dropProjections(context.WithoutCancel(ctx), cfg.RedisURL, cfg.RedisPrefix)
		}
	}()
	transport := &http.Transport{MaxIdleConnsPerHost: 4 * opts.Concurrency, MaxConnsPerHost: 0}
	r := &runner{opts: opts, dev: d, http: &http.Client{Transport: transport, Timeout: time.Minute}}

	w := worker.New(d.Client, baselineQueue, worker.Options{})
	w.RegisterWorkflow(BaselineWorkflow)
	w.RegisterWorkflow(WeightedBaselineWorkflow)
	w.RegisterActivity(Noop)
	w.RegisterActivity(NoopWeighted)
	pprof.Do(ctx, pprof.Labels("role", process.ProfileWorker), func(context.Context) { err = w.Start() })
	if err != nil {
		return nil, fmt.Errorf("baseline worker: %w", err)
	}
	defer w.Stop()

	report := &Report{Options: opts}
	if report.Shape, err = r.measureShape(ctx); err != nil {
		return nil, err
	}
	if slices.Contains(opts.Phases, "gewerbe") || slices.Contains(opts.Phases, "gewerbe-baseline") {
		shape, err := r.measureGewerbe(ctx)
		if err != nil {
			return report, err
		}
		report.GewerbeShape = &shape
	}
	r.runs = map[string]int{}
	if opts.Warmup > 0 && slices.ContainsFunc(opts.Phases, closedLoopPhase) {
		res := r.closedLoopFor(ctx, WarmupPhase, opts.Warmup, 0, func(ctx context.Context) (caseRun, error) {
			return baselineRun(runBaseline(ctx, r.dev.Client, report.Shape, nil))
		})
		res.Note = strings.TrimSpace("not counted " + res.Note)
		report.Warmup = &res
		r.drain(ctx)
	}
	// A round cut short (the run was stopped) adds no ratios of its own,
	// and no round follows it.
	for range max(opts.Rounds, 1) {
		first := len(report.Results)
		if err := r.runPhases(ctx, report); err != nil {
			return report, err
		}
		if ctx.Err() != nil {
			break
		}
		if opts.Rounds > 1 {
			report.Rounds = append(report.Rounds, ratiosOf(report.Results[first:]))
		}
	}
	report.Ratios = ratiosOf(report.Results)
	return report, nil
}

// runPhases runs the phases once, in their order, adding their results to
// the report.
func (r *runner) runPhases(ctx context.Context, report *Report) error {
	for _, phase := range r.opts.Phases {
		r.runs[phase]++
		var res Result
		switch phase {
		case "baseline":
			res = r.closedLoop(ctx, phase, func(ctx context.Context) (caseRun, error) {
				return baselineRun(runBaseline(ctx, r.dev.Client, report.Shape, nil))
			})
		case "baseline-weight":
			res = r.closedLoop(ctx, phase, func(ctx context.Context) (caseRun, error) {
				return baselineRun(runBaseline(ctx, r.dev.Client, report.Shape, report.Shape.Weight))
			})
		case "auto":
			res = r.closedLoop(ctx, phase, r.autoCase)
		case "gewerbe-baseline":
			res = r.closedLoop(ctx, phase, func(ctx context.Context) (caseRun, error) {
				return baselineRun(runBaseline(ctx, r.dev.Client, *report.GewerbeShape, nil))
			})
		case "gewerbe":
			res = r.closedLoop(ctx, phase, r.gewerbeCase)
		case "review":
			res = r.closedLoop(ctx, phase, r.reviewCase)
		case "latency":
			res = r.openLoop(ctx)
		case "waiting":
			var err error
			if res, err = r.waiting(ctx); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unknown phase %q", phase)
		}
		report.Results = append(report.Results, res)
		r.drain(ctx)
	}
	return nil
}

// measureShape runs one automatic case and counts what its history holds,
// which the baseline then mirrors.
func (r *runner) measureShape(ctx context.Context) (BaselineShape, error) {
	id, _, err := r.submit(ctx, "lasttest-auto", nil)
	if err != nil {
		return BaselineShape{}, fmt.Errorf("shape case: %w", err)
	}
	if err := r.awaitFinal(ctx, id); err != nil {
		return BaselineShape{}, err
	}
	shape, err := historyShape(ctx, r.dev.Client, ozgflow.CaseWorkflowID(id), "")
	if err != nil {
		return shape, err
	}
	weight, err := historyWeight(ctx, r.dev.Client, ozgflow.CaseWorkflowID(id), "")
	if err != nil {
		return shape, err
	}
	shape.Weight = &weight
	if shape, err = r.mirror(ctx, shape); err != nil {
		return shape, err
	}
	return r.calibrate(ctx, shape)
}

// submitted is the portal's answer to a submit.
type submitted struct {
	ID          string `json:"id"`
	AccessToken string `json:"accessToken"`
	Payment     *struct {
		RedirectURL string `json:"redirectUrl"`
	} `json:"payment"`
}

// submit posts one application of the given load-test service and returns
// its case ID.
func (r *runner) submit(ctx context.Context, service string, latency *time.Duration) (string, string, error) {
	s, err := r.submitApplication(ctx, map[string]any{
		"service": service, "authority": chemnitz,
		"applicant": map[string]any{"name": "Lasttest", "portalAccount": "amt24-lasttest"},
		"data":      map[string]any{"betreff": "Lasttest"},
	}, latency)
	return s.ID, s.AccessToken, err
}

// submitApplication posts an application as the portal does.
func (r *runner) submitApplication(ctx context.Context, app map[string]any, latency *time.Duration) (submitted, error) {
	var out submitted
	start := time.Now()
	status, b, err := r.call(ctx, http.MethodPost, "/api/v1/applications", "dev-portal", app)
	if latency != nil {
		*latency = time.Since(start)
	}
	if err != nil {
		return out, err
	}
	if status != http.StatusCreated || json.Unmarshal(b, &out) != nil {
		return out, fmt.Errorf("submit: %d %s", status, b)
	}
	return out, nil
}

// call sends a JSON request to dev with a bearer token and returns the
// status and the body of the answer.
func (r *runner) call(ctx context.Context, method, path, token string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.dev.URL+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := r.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// awaitFinal waits for a case's workflow to end, as the baseline's client
// waits for its workflow.
func (r *runner) awaitFinal(ctx context.Context, id string) error {
	return awaitClose(ctx, r.dev.Client, ozgflow.CaseWorkflowID(id))
}

// autoCase submits an application that needs no human step and waits for
// its final status.
func (r *runner) autoCase(ctx context.Context) (caseRun, error) {
	var run caseRun
	id, _, err := r.submit(ctx, "lasttest-auto", &run.submit)
	if err != nil {
		return run, err
	}
	run.workflowID = ozgflow.CaseWorkflowID(id)
	return run, r.awaitFinal(ctx, id)
}

// reviewCase submits an application, waits for its task like a case worker
// watching the queue, decides it and waits for the final status.
func (r *runner) reviewCase(ctx context.Context) (caseRun, error) {
	var run caseRun
	id, _, err := r.submit(ctx, "lasttest-pruefung", &run.submit)
	if err != nil {
		return run, err
	}
	run.workflowID = ozgflow.CaseWorkflowID(id)
	if err := r.awaitReview(ctx, id); err != nil {
		return run, err
	}
	if err := r.taskAction(ctx, id, "decide", "complete", "dev-sb-chemnitz", map[string]any{"outcome": "approve"}); err != nil {
		return run, err
	}
	return run, r.awaitFinal(ctx, id)
}

// taskAction acts on the first task of a step as a case worker.
func (r *runner) taskAction(ctx context.Context, caseID, step, action, token string, body any) error {
	status, b, err := r.call(ctx, http.MethodPost, "/api/v1/tasks/"+ozgflow.TaskID(caseID, step, 1)+"/"+action, token, body)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("%s: %d %s", action, status, b)
	}
	return nil
}

// awaitReview waits until a case is in review, like a case worker who
// watches the queue: the projection the queue is read from says so.
func (r *runner) awaitReview(ctx context.Context, id string) error {
	for {
		c, err := r.dev.Store.Case(ctx, id)
		if err == nil && c.Status == ozgflow.StatusInReview {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// closedLoop runs Concurrency clients, each starting its next case when the
// last one ended, for Duration; afterwards it follows the first
// Options.Timeline cases through their histories.
func (r *runner) closedLoop(ctx context.Context, phase string, one func(context.Context) (caseRun, error)) Result {
	return r.closedLoopFor(ctx, phase, r.opts.Duration, r.opts.Timeline, one)
}

// WarmupPhase names the warm-up (Options.Warmup) in the report.
const WarmupPhase = "warm-up"

// closedLoopPhase says whether a phase runs its clients in a closed loop,
// one case after the other, and so measures throughput.
func closedLoopPhase(phase string) bool {
	switch phase {
	case "baseline", "baseline-weight", "auto", "gewerbe-baseline", "gewerbe", "review":
		return true
	}
	return false
}

// closedLoopFor runs one closed-loop phase for duration, traces its middle
// when asked to, and follows up to timeline of its cases through their
// histories.
func (r *runner) closedLoopFor(ctx context.Context, phase string, duration time.Duration, timeline int,
	one func(context.Context) (caseRun, error)) Result {
	var (
		mu                 sync.Mutex
		submits, endToEnds Latencies
		sampled            []sampledCase
		completed, errs    atomic.Int64
		wg                 sync.WaitGroup
	)
	resetPeakRSS()
	var roles cpuByRole
	roles.start()
	used, start := r.usageNow(), time.Now()
	deadline := start.Add(duration)
	traced := r.traceMiddle(ctx, phase, duration)
	for range r.opts.Concurrency {
		wg.Add(1)
		go asClient(ctx, func(ctx context.Context) {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				began := time.Now()
				run, err := one(ctx)
				if err != nil {
					errs.Add(1)
					continue
				}
				completed.Add(1)
				mu.Lock()
				submits, endToEnds = append(submits, run.submit), append(endToEnds, time.Since(began))
				if len(sampled) < timeline {
					sampled = append(sampled, sampledCase{workflowID: run.workflowID, began: began})
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	res := r.result(phase, completed.Load(), errs.Load(), elapsed, used, submits, endToEnds)
	res.CPUByRole = roles.stop(elapsed, r.profilePath(phase, "cpu"))
	if err := <-traced; err != nil {
		res.Note = strings.TrimSpace(res.Note + " no trace: " + err.Error())
	}
	if len(sampled) > 0 {
		var err error
		if res.Timeline, err = timelineOf(ctx, r.dev.Client, sampled); err != nil {
			res.Note = strings.TrimSpace(res.Note + " no timeline: " + err.Error())
		}
	}
	return res
}

// baselineRun is the caseRun of a baseline workflow.
func baselineRun(run client.WorkflowRun, err error) (caseRun, error) {
	if err != nil {
		return caseRun{}, err
	}
	return caseRun{workflowID: run.GetID()}, nil
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
	used, start := r.usageNow(), time.Now()
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
	res := r.result("latency", completed.Load(), errs.Load(), elapsed, used, submits, nil)
	res.CPUByRole = roles.stop(elapsed, r.profilePath("latency", "cpu"))
	res.Note = fmt.Sprintf("open loop at %d submits/s", r.opts.Rate)
	return res
}

// waiting leaves Waiting cases in case workers' queues and measures the
// memory the process holds with them.
func (r *runner) waiting(ctx context.Context) (Result, error) {
	before := settled()
	resetPeakRSS()
	used, start := r.usageNow(), time.Now()
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
	res := r.result("waiting", want, errs.Load(), elapsed, used, nil, nil)
	after := settled()
	res.HeapInUse, res.RSS = after.HeapInUse, after.RSS
	if r.opts.ProfileDir != "" {
		if err := writeHeapProfile(r.profilePath("waiting", "heap"), r.profilePath("waiting", "goroutines")); err != nil {
			return res, err
		}
	}
	m := &MemoryCheck{Waiting: want, Budget: MemoryBudget(want), PeakRSS: res.PeakRSS, After: after}
	if want > 0 {
		m.PerCaseRSS, m.PerCaseHeap = (after.RSS-before.RSS)/want, (after.HeapInUse-before.HeapInUse)/want
	}
	res.Memory = m
	res.Note = fmt.Sprintf("%d cases waiting for a case worker; heap and RSS after GC", want)
	return res, nil
}

func (r *runner) result(phase string, completed, errs int64, elapsed time.Duration, since usage, submits, e2e Latencies) Result {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, peak := rssBytes()
	return Result{
		Phase: phase, Completed: completed, Errors: errs, Elapsed: elapsed,
		PerSecond: float64(completed) / elapsed.Seconds(),
		SubmitP50: submits.Percentile(50), SubmitP95: submits.Percentile(95), SubmitP99: submits.Percentile(99),
		EndToEndP50: e2e.Percentile(50), EndToEndP99: e2e.Percentile(99),
		CPUCores:      perSecond(since.cpu, cpuTime(), elapsed),
		RedisCPUCores: redisCores(since.redis, r.redisCPU(), elapsed),
		StolenCores:   perSecond(since.stolen, stolenTime(), elapsed),
		Written:       writtenBytes() - since.written,
		PeakRSS:       peak, HeapInUse: int64(ms.HeapInuse), RSS: rss,
	}
}

// redisCores is the Redis server's CPU between two readings per second of
// elapsed, 0 when either reading is missing.
func redisCores(before, after, elapsed time.Duration) float64 {
	if before == 0 {
		return 0
	}
	return perSecond(before, after, elapsed)
}

// perSecond is the time between two readings of a clock of used time per
// second of elapsed, 0 when the readings make no sense.
func perSecond(before, after, elapsed time.Duration) float64 {
	if after < before || elapsed <= 0 {
		return 0
	}
	return (after - before).Seconds() / elapsed.Seconds()
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

// profilePath is where a phase's profile of a kind goes, empty when no
// profiles are asked for; a phase's second run writes PHASE-2.KIND.pprof
// (PHASE-2.trace, PHASE-2.goroutines.txt).
func (r *runner) profilePath(phase, kind string) string {
	if r.opts.ProfileDir == "" {
		return ""
	}
	if n := r.runs[phase]; n > 1 {
		phase = fmt.Sprintf("%s-%d", phase, n)
	}
	switch kind {
	case "goroutines":
		return filepath.Join(r.opts.ProfileDir, phase+".goroutines.txt")
	case "trace":
		return filepath.Join(r.opts.ProfileDir, phase+".trace")
	}
	return filepath.Join(r.opts.ProfileDir, phase+"."+kind+".pprof")
}
