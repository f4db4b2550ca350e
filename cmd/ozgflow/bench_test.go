package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

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
		Ratios:  bench.Ratios{Ratio: 0.7},
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

// reportSection prints r and returns the block under heading, up to the
// next empty line; it fails the test when the heading is missing.
func reportSection(t *testing.T, r *bench.Report, heading string) string {
	t.Helper()
	var out bytes.Buffer
	printReport(&out, r)
	_, section, ok := strings.Cut(out.String(), heading)
	if !ok {
		t.Fatalf("no %q in the report:\n%s", heading, out.String())
	}
	section, _, _ = strings.Cut(section, "\n\n")
	return section
}

// wantIn fails the test for each of wants that section lacks.
func wantIn(t *testing.T, section string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(section, want) {
			t.Errorf("lacks %q:\n%s", want, section)
		}
	}
}

// TestBenchPrintsCPUPerCase: the Redis server's CPU is printed per phase
// in cores and per completed case, and left out where it was not read;
// each part's CPU is printed per completed case too, for the phases that
// completed cases.
func TestBenchPrintsCPUPerCase(t *testing.T) {
	tests := []struct {
		name, section string
		results       []bench.Result
		want          []string
		left          string // a phase the section leaves out
	}{
		{
			name: "redis", section: "CPU of the Redis server",
			results: []bench.Result{
				{Phase: "baseline", Completed: 6000, Elapsed: time.Minute, PerSecond: 100, RedisCPUCores: 0.01},
				{Phase: "auto", Completed: 3000, Elapsed: time.Minute, PerSecond: 50, RedisCPUCores: 0.05},
				{Phase: "review", Completed: 2000, Elapsed: time.Minute, PerSecond: 33.3},
			},
			want: []string{"baseline        0.01 cores, 0.10 ms per case", "auto            0.05 cores, 1.00 ms per case"},
			left: "review",
		},
		{
			name: "parts", section: "CPU milliseconds per completed case by part of dev:",
			results: []bench.Result{
				{Phase: "baseline", Completed: 3000, Elapsed: time.Minute, PerSecond: 50, CPUByRole: map[string]float64{"engine": 1.1, "worker": 0.05}},
				{Phase: "auto", Completed: 2400, Elapsed: time.Minute, PerSecond: 40, CPUByRole: map[string]float64{"engine": 1.2, "gateway": 0.04}},
				{Phase: "waiting", CPUByRole: map[string]float64{"engine": 0.5}},
			},
			want: []string{"baseline  engine 22.0 worker 1.0", "auto      engine 30.0 gateway 1.0"},
			left: "waiting",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			section := reportSection(t, &bench.Report{Results: tt.results}, tt.section)
			wantIn(t, section, tt.want...)
			if strings.Contains(section, tt.left) {
				t.Errorf("%s is printed:\n%s", tt.left, section)
			}
		})
	}
}

// TestBenchPrintsTheCPUTheHostTook: the CPU the host took is printed per
// phase where any phase had some, and not at all otherwise.
func TestBenchPrintsTheCPUTheHostTook(t *testing.T) {
	r := &bench.Report{Results: []bench.Result{
		{Phase: "baseline", Completed: 3000, Elapsed: time.Minute, PerSecond: 50},
		{Phase: "auto", Completed: 2400, Elapsed: time.Minute, PerSecond: 40, StolenCores: 0.12},
	}}
	stolen := reportSection(t, r, "CPU the host took from this machine's")
	wantIn(t, stolen, "baseline        0.00 cores", "auto            0.12 cores")

	r.Results[1].StolenCores = 0
	var out bytes.Buffer
	printReport(&out, r)
	if strings.Contains(out.String(), "CPU the host took") {
		t.Errorf("stolen CPU printed for a run without any:\n%s", out.String())
	}
}

// TestBenchPrintsNoEmptyCPUBlocks: a run without the split by part (the
// waiting phase alone) prints neither of its headings.
func TestBenchPrintsNoEmptyCPUBlocks(t *testing.T) {
	var out bytes.Buffer
	printReport(&out, &bench.Report{Results: []bench.Result{{Phase: "waiting", Completed: 10000, Elapsed: time.Minute}}})
	for _, heading := range []string{"CPU cores by part of dev", "CPU milliseconds per completed case"} {
		if strings.Contains(out.String(), heading) {
			t.Errorf("empty block %q printed:\n%s", heading, out.String())
		}
	}
}

// TestBenchRefusesATraceWithoutADirectory: --trace needs --profile-dir for
// its files, and says so before it starts anything.
func TestBenchRefusesATraceWithoutADirectory(t *testing.T) {
	var out bytes.Buffer
	err := runBench(context.Background(), []string{"--trace", "5s", "--phases", "auto"}, "", &out, &out,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "--profile-dir") {
		t.Fatalf("runBench = %v, want a refusal naming --profile-dir", err)
	}
}

// TestBenchPrintsEachRound: with more than one round the report lists each
// round's ratios with their mean and range, and leaves out a ratio whose
// phases did not run; with one round it prints no such block.
func TestBenchPrintsEachRound(t *testing.T) {
	r := &bench.Report{Results: []bench.Result{{Phase: "baseline", PerSecond: 50}}, Ratios: bench.Ratios{Ratio: 0.9, CPURatio: 0.84},
		Rounds: []bench.Ratios{{Ratio: 0.93, WeightRatio: 0.98, CPURatio: 0.84}, {Ratio: 0.8, WeightRatio: 0.96, CPURatio: 0.81},
			{Ratio: 0.97, WeightRatio: 1, CPURatio: 0.87}}}
	var out bytes.Buffer
	printReport(&out, r)
	text := out.String()
	for _, want := range []string{
		"Each of the 3 rounds",
		"ozgflow (auto) / baseline throughput: 0.93, 0.80, 0.97; mean 0.90, 0.80 to 0.97",
		"baseline carrying the case's weight / baseline throughput: 0.98, 0.96, 1.00; mean 0.98, 0.96 to 1.00",
		"baseline / ozgflow (auto) CPU per case (process and Redis): 0.84 (about the throughput ratio where the CPU sets the pace",
		"baseline / ozgflow (auto) CPU per case (process and Redis): 0.84, 0.81, 0.87; mean 0.84, 0.81 to 0.87",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "gewerbe-baseline throughput:") || strings.Contains(text, "/ baseline carrying the case's weight:") {
		t.Errorf("report lists a ratio whose phases did not run:\n%s", text)
	}
	r.Rounds = r.Rounds[:1]
	out.Reset()
	printReport(&out, r)
	if strings.Contains(out.String(), "Each of the") {
		t.Errorf("one round printed a rounds block:\n%s", out.String())
	}
}

// TestBenchRefusesRoundsItCannotMeasure: the phases run at least once, and
// the waiting phase, which counts every waiting case, runs in no rounds.
func TestBenchRefusesRoundsItCannotMeasure(t *testing.T) {
	for _, args := range [][]string{{"--rounds", "0", "--phases", "auto"}, {"--rounds", "2", "--phases", "waiting"}} {
		var out bytes.Buffer
		err := runBench(context.Background(), args, "", &out, &out, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err == nil || !strings.Contains(err.Error(), "--rounds") {
			t.Errorf("%v: err = %v, want a refusal naming --rounds", args, err)
		}
	}
}
