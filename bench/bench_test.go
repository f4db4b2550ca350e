package bench_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow/bench"
	"github.com/ozgflow/ozgflow/internal/redistest"
)

// TestBenchRunsEveryPhase runs each phase briefly against an in-memory dev:
// the benchmark that BENCHMARKS.md quotes must keep working.
func TestBenchRunsEveryPhase(t *testing.T) {
	report, err := bench.Run(context.Background(), bench.Options{
		Concurrency: 4, Duration: 2 * time.Second, Rate: 20, Waiting: 20, InMemory: true,
		Phases:  []string{"baseline", "auto", "review", "latency", "waiting"},
		DataDir: t.TempDir(), RedisURL: redistest.URL(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if report.Shape.Activities != 1 || report.Shape.LocalActivities < 1 || report.Shape.BaselineEvents == 0 {
		t.Errorf("shape = %+v", report.Shape)
	}
	if len(report.Results) != 5 {
		t.Fatalf("results = %+v", report.Results)
	}
	for _, r := range report.Results {
		if r.Completed == 0 || r.Errors != 0 {
			t.Errorf("%s: %d completed, %d errors", r.Phase, r.Completed, r.Errors)
		}
		if r.Phase == "auto" && (r.SubmitP99 == 0 || r.EndToEndP50 == 0 || r.CPUByRole["engine"] == 0) {
			t.Errorf("auto phase lacks figures: %+v", r)
		}
	}
	if report.Ratio <= 0 {
		t.Errorf("ratio = %v", report.Ratio)
	}
}
