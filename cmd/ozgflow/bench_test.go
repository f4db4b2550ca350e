package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ozgflow/ozgflow/bench"
)

// TestBenchFailsOverTheMemoryBudget: a waiting phase whose peak is above its
// budget is printed loudly and fails the run; one within it passes.
func TestBenchFailsOverTheMemoryBudget(t *testing.T) {
	report := func(peak int64) *bench.Report {
		m := &bench.MemoryCheck{Waiting: 10_000, Budget: bench.MemoryBudget(10_000), PeakRSS: peak,
			After: bench.MemoryState{RSS: peak - 50*bench.MiB, HeapInUse: 200 * bench.MiB, HeapLive: 100 * bench.MiB}}
		return &bench.Report{Results: []bench.Result{{Phase: "waiting", Completed: 10_000, PeakRSS: peak, Memory: m}}}
	}
	tests := []struct {
		name     string
		peak     int64
		wantFail bool
	}{
		{"within", 468 * bench.MiB, false},
		{"over", 1758 * bench.MiB, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			r := report(tt.peak)
			printReport(&out, r)
			err := overBudget(r)
			if got := err != nil; got != tt.wantFail {
				t.Fatalf("overBudget = %v, want failure %v", err, tt.wantFail)
			}
			if loud := strings.Contains(out.String(), "MEMORY OVER BUDGET"); loud != tt.wantFail {
				t.Errorf("report says over budget: %v, want %v:\n%s", loud, tt.wantFail, &out)
			}
			if !strings.Contains(out.String(), "budget of 500 MiB") {
				t.Errorf("report does not name the budget:\n%s", &out)
			}
		})
	}
}

// TestBenchPrintsTheWarmupApart: the warm-up is a row of its own, marked as
// not counted, before the measured phases.
func TestBenchPrintsTheWarmupApart(t *testing.T) {
	r := &bench.Report{
		Warmup:  &bench.Result{Phase: bench.WarmupPhase, Completed: 500, PerSecond: 91.5, Note: "not counted"},
		Results: []bench.Result{{Phase: "baseline", Completed: 600, PerSecond: 93.5}, {Phase: "auto", Completed: 400, PerSecond: 65.9}},
		Ratio:   0.7,
	}
	var out bytes.Buffer
	printReport(&out, r)
	text := out.String()
	warm, base := strings.Index(text, "\nwarm-up "), strings.Index(text, "\nbaseline ")
	if warm < 0 || base < 0 || warm > base {
		t.Fatalf("the warm-up is not the row before the measured phases:\n%s", text)
	}
	if line, _, _ := strings.Cut(text[warm+1:], "\n"); !strings.Contains(line, "91.5") || !strings.Contains(line, "not counted") {
		t.Errorf("warm-up row = %q", line)
	}
}
