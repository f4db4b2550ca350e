package bench_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/ozgflow/ozgflow/bench"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/internal/recordstest"
	"github.com/ozgflow/ozgflow/internal/redistest"
)

// TestBenchRunsEveryPhase runs each phase briefly against an in-memory dev:
// the benchmark that BENCHMARKS.md quotes must keep working.
func TestBenchRunsEveryPhase(t *testing.T) {
	before := benchKeys(t)
	profiles := t.TempDir()
	report, err := bench.Run(context.Background(), bench.Options{
		Concurrency: 4, Duration: 2 * time.Second, Warmup: time.Second, Rate: 20, Waiting: 20, InMemory: true,
		Phases:  []string{"baseline", "baseline-weight", "auto", "review", "gewerbe-baseline", "gewerbe", "latency", "waiting"},
		DataDir: t.TempDir(), RedisURL: redistest.URL(), Timeline: 3,
		ProfileDir: profiles, Trace: 300 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	// Each closed-loop phase leaves its CPU profile and the execution
	// trace of its middle; the waiting phase its heap. (Under go test's
	// -cpuprofile or -trace, which hold the profiler, they cannot.)
	for _, name := range []string{"auto.cpu.pprof", "auto.trace", "baseline.trace", "waiting.heap.pprof"} {
		b, err := os.ReadFile(filepath.Join(profiles, name))
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %d bytes, %v", name, len(b), err)
		}
		if strings.HasSuffix(name, ".trace") && !bytes.HasPrefix(b, []byte("go 1.")) {
			t.Errorf("%s is no execution trace: %.20q", name, b)
		}
	}
	// The run's keys in Redis are gone with it, those its worker wrote
	// last included.
	if after := benchKeys(t); after > before {
		t.Errorf("%d keys of bench runs in Redis after the run, %d before", after, before)
	}
	// The warm-up ran bare baseline workflows and counts in no phase.
	if w := report.Warmup; w == nil || w.Phase != bench.WarmupPhase || w.Completed == 0 {
		t.Errorf("warm-up = %+v", w)
	}
	for _, res := range report.Results {
		if res.Phase == bench.WarmupPhase {
			t.Errorf("the warm-up is among the measured phases")
		}
	}
	if report.Shape.Activities != 1 || report.Shape.LocalActivities < 1 || report.Shape.BaselineEvents == 0 {
		t.Errorf("shape = %+v", report.Shape)
	}
	// The baseline starts with the case's workflow task timeout.
	if report.Shape.TaskTimeout != casework.CaseTaskTimeout {
		t.Errorf("the shape's task timeout %s, want the case's %s", report.Shape.TaskTimeout, casework.CaseTaskTimeout)
	}
	// A Gewerbeanmeldung pays, is sealed, delivered, mailed about and
	// archived (activities), and is moved on by the payment and by the
	// case workers (a signal and updates).
	if g := report.GewerbeShape; g == nil || g.Activities < 5 || g.Timers == 0 ||
		!slices.Contains(g.Interactions, bench.InteractionSignal) || !slices.Contains(g.Interactions, bench.InteractionUpdate) ||
		g.BaselineEvents == 0 || g.CaseBytes == 0 {
		t.Errorf("Gewerbeanmeldung shape = %+v", g)
	}
	// The automatic case's weight, which baseline-weight carries: its
	// encrypted input and result, its delivery's request and answer, the
	// search attributes it starts with and those it ends with. A weighted
	// baseline run carries payloads of the same sizes through the codec.
	w, c := report.Shape.Weight, report.Shape.Carried
	if w == nil || c == nil || w.InputBytes < 200 || w.ActivityInputBytes == 0 || w.ActivityResultBytes == 0 || w.ResultBytes == 0 ||
		w.StartAttributes["OzgStatus"] == "" || w.FinalAttributes["OzgStatus"] == "" || report.WeightRatio == 0 || report.OwnWorkRatio == 0 ||
		report.CPURatio == 0 {
		t.Fatalf("weight = %+v, weight ratio %v, own work ratio %v, CPU ratio %v", w, report.WeightRatio, report.OwnWorkRatio, report.CPURatio)
	}
	near := func(got, want int) bool { return got >= want-want/10-16 && got <= want+want/10+16 }
	if !near(c.InputBytes, w.InputBytes) || !near(c.ActivityInputBytes, w.ActivityInputBytes) ||
		!near(c.ActivityResultBytes, w.ActivityResultBytes) || !near(c.ResultBytes, w.ResultBytes) ||
		!maps.Equal(c.StartAttributes, w.StartAttributes) || !maps.Equal(c.FinalAttributes, w.FinalAttributes) {
		t.Errorf("the weighted baseline carried %+v, the case %+v", c, w)
	}
	if len(report.Results) != 8 {
		t.Fatalf("results = %+v", report.Results)
	}
	for _, r := range report.Results {
		if r.Completed == 0 || r.Errors != 0 {
			t.Errorf("%s: %d completed, %d errors", r.Phase, r.Completed, r.Errors)
		}
		if (r.Phase == "auto" || r.Phase == "gewerbe") && (r.SubmitP99 == 0 || r.EndToEndP50 == 0 || r.CPUByRole["engine"] == 0) {
			t.Errorf("auto phase lacks figures: %+v", r)
		}
		// The cases followed through their histories: each closed-loop
		// phase's timeline starts with the workflow's start, ends with its
		// completion and took time in between.
		if r.Phase == "latency" || r.Phase == "waiting" {
			continue
		}
		tl := r.Timeline
		if tl == nil || tl.Cases == 0 || len(tl.Events) < 3 ||
			tl.Events[0].Type != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED.String() ||
			tl.Events[len(tl.Events)-1].Type != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED.String() {
			t.Errorf("%s: timeline %+v", r.Phase, tl)
			continue
		}
		var took time.Duration
		for _, ev := range tl.Events {
			took += ev.Gap
		}
		if took <= 0 || took > r.EndToEndP99+time.Second {
			t.Errorf("%s: the timeline's events took %v, end to end p99 %v", r.Phase, took, r.EndToEndP99)
		}
	}
	if report.Ratio <= 0 || report.GewerbeRatio <= 0 {
		t.Errorf("ratios = %v, %v", report.Ratio, report.GewerbeRatio)
	}
	waiting := report.Results[len(report.Results)-1]
	if m := waiting.Memory; m == nil || m.Waiting != 20 || m.Budget != 500*bench.MiB || m.PeakRSS == 0 ||
		m.After.HeapLive == 0 || m.After.RSS == 0 || m.After.Goroutines == 0 {
		t.Errorf("waiting phase's memory = %+v", m)
	}
}

// TestBenchKeepsTheRecordsWhereItIsTold runs automatic cases with the
// records database on PostgreSQL: their case numbers are drawn there, and
// no SQLite file of records is made in the data directory.
func TestBenchKeepsTheRecordsWhereItIsTold(t *testing.T) {
	recordsURL := recordstest.URL(t, "postgres")
	dataDir := t.TempDir()
	report, err := bench.Run(context.Background(), bench.Options{
		Concurrency: 2, Duration: time.Second, InMemory: true, Phases: []string{"auto"},
		DataDir: dataDir, RedisURL: redistest.URL(), RecordsURL: recordsURL,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("postgres", recordsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var numbers int64
	if err := db.QueryRow("SELECT count(*) FROM case_numbers").Scan(&numbers); err != nil {
		t.Fatal(err)
	}
	// The measured case and the phase's cases drew their numbers there.
	if done := report.Results[0].Completed; numbers < done+1 || done == 0 {
		t.Errorf("%d case numbers in PostgreSQL after %d automatic cases", numbers, done)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "records.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("records.db in the data directory: %v", err)
	}
}

// benchKeys counts the keys of bench runs' fresh prefixes in Redis.
func benchKeys(t *testing.T) int {
	t.Helper()
	opts, err := redis.ParseURL(redistest.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	n := 0
	iter := rdb.Scan(context.Background(), 0, "ozgflow-bench-*", 1000).Iterator()
	for iter.Next(context.Background()) {
		n++
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBenchRunsRounds: the phases run once per round on the same dev; each
// round's ratios count only its own phases, the report's count all.
func TestBenchRunsRounds(t *testing.T) {
	report, err := bench.Run(context.Background(), bench.Options{
		Concurrency: 2, Duration: time.Second, InMemory: true, Phases: []string{"baseline", "auto"}, Rounds: 2,
		DataDir: t.TempDir(), RedisURL: redistest.URL(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	var phases []string
	for _, res := range report.Results {
		phases = append(phases, res.Phase)
		if res.Completed == 0 {
			t.Errorf("%s completed nothing", res.Phase)
		}
	}
	if want := []string{"baseline", "auto", "baseline", "auto"}; !slices.Equal(phases, want) {
		t.Fatalf("phases = %v, want %v", phases, want)
	}
	if len(report.Rounds) != 2 {
		t.Fatalf("rounds = %+v, want two", report.Rounds)
	}
	rate := func(i int) float64 { return report.Results[i].PerSecond }
	for i, round := range report.Rounds {
		if want := rate(2*i+1) / rate(2*i); math.Abs(round.Ratio-want) > 1e-9 {
			t.Errorf("round %d ratio = %v, want %v", i+1, round.Ratio, want)
		}
	}
	if want := (rate(1) + rate(3)) / (rate(0) + rate(2)); math.Abs(report.Ratio-want) > 1e-9 {
		t.Errorf("ratio over the rounds = %v, want %v", report.Ratio, want)
	}
}
