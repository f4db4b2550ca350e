package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ozgflow/ozgflow/bench"
)

// runBench parses the bench flags, runs the phases and prints a table.
func runBench(ctx context.Context, args []string, redisURL string, stdout, stderr io.Writer, logger *slog.Logger) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts := bench.Options{Logger: logger, RedisURL: redisURL}
	phases := fs.String("phases", "baseline,auto,auto,baseline,review",
		"phases to run, in order: baseline, baseline-weight, auto, review, gewerbe-baseline, gewerbe, latency, waiting; a phase named twice counts with the mean of its runs (A B B A cancels the engine's drift)")
	fs.IntVar(&opts.Rounds, "rounds", 1, "run the phases this many times, one round after the other on the same dev, and print each round's ratios and their spread beside those over all rounds")
	fs.IntVar(&opts.Concurrency, "concurrency", 32, "clients working in parallel")
	fs.DurationVar(&opts.Duration, "duration", 2*time.Minute, "length of each throughput phase")
	fs.DurationVar(&opts.Warmup, "warmup", time.Minute, "run bare baseline workflows this long before the first phase, not counted, when a throughput phase is among them (0: none)")
	fs.IntVar(&opts.Rate, "rate", 100, "submits per second in the latency phase")
	fs.IntVar(&opts.Waiting, "waiting", 10000, "cases left waiting for a case worker in the waiting phase")
	fs.StringVar(&opts.DataDir, "data-dir", "", "data directory (default: a new temporary one)")
	fs.BoolVar(&opts.InMemory, "in-memory", false, "keep Temporal in memory instead of a SQLite file")
	fs.StringVar(&opts.PostgresURL, "postgres", "", "keep Temporal in PostgreSQL instead: postgres://user@host:5432/database (created if missing)")
	fs.StringVar(&opts.RecordsURL, "records", "", "keep ozgflow's records database there instead of the SQLite file in the data directory: postgres://user@host:5432/database, an empty one (the run's records stay there)")
	fs.StringVar(&opts.RedisPrefix, "redis-prefix", "", "key prefix of the projections in Redis (default: a fresh one, dropped at the end)")
	fs.IntVar(&opts.WorkerCacheSize, "worker-cache", 0, "workflows the worker keeps in memory (default: dev's, OZGFLOW_WORKER_CACHE_SIZE's default)")
	fs.IntVar(&opts.Timeline, "timeline", 0, "follow this many cases of each closed-loop phase through their histories and print where their time went")
	fs.StringVar(&opts.ProfileDir, "profile-dir", "", "write each phase's profiles to this directory: CPU per throughput phase, heap and goroutines after the waiting phase")
	fs.DurationVar(&opts.Trace, "trace", 0, "with --profile-dir, take an execution trace this long in the middle of each closed-loop phase (PHASE.trace, for go tool trace); tracing slows the phase, so quote no throughput of such a run")
	jsonOut := fs.String("json", "", "also write the report as JSON to this file")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts.Phases = strings.Split(*phases, ",")
	if opts.Rounds < 1 {
		return fmt.Errorf("--rounds %d: the phases run at least once", opts.Rounds)
	}
	if opts.Rounds > 1 && slices.Contains(opts.Phases, "waiting") {
		return errors.New("--rounds repeats a comparison's phases; the waiting phase would count the cases of the rounds before, so run it on its own")
	}
	if opts.Trace > 0 && opts.ProfileDir == "" {
		return errors.New("--trace writes its traces to the directory of --profile-dir; name one")
	}
	if opts.DataDir == "" {
		dir, err := os.MkdirTemp("", "ozgflow-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		opts.DataDir = dir
	}
	if opts.ProfileDir != "" {
		if err := os.MkdirAll(opts.ProfileDir, 0o755); err != nil {
			return err
		}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rounds := ""
	if opts.Rounds > 1 {
		rounds = fmt.Sprintf(" in %d rounds", opts.Rounds)
	}
	fmt.Fprintf(stdout, "ozgflow bench: phases %s%s, %d clients, %v each, data in %s\n", *phases, rounds, opts.Concurrency, opts.Duration, opts.DataDir)
	if opts.Warmup > 0 {
		fmt.Fprintf(stdout, "A warm-up of %v runs first, counted in no ratio.\n", opts.Warmup)
	}
	report, err := bench.Run(ctx, opts)
	if report != nil {
		printReport(stdout, report)
		if *jsonOut != "" {
			b, _ := json.MarshalIndent(report, "", "  ")
			if werr := os.WriteFile(*jsonOut, b, 0o644); werr != nil && err == nil {
				err = werr
			}
		}
		if over := overBudget(report); over != nil && err == nil {
			err = over
		}
	}
	return err
}

// overBudget fails the run when the waiting phase held more memory than
// its budget, so that a regression does not pass as a figure in a table.
func overBudget(r *bench.Report) error {
	for _, res := range r.Results {
		if m := res.Memory; m != nil && m.Over() {
			return fmt.Errorf("memory over budget: %s", m)
		}
	}
	return nil
}

// printRedisCPU prints what the Redis server beside dev used in each phase,
// in cores and in milliseconds per completed case, when it was read.
func printRedisCPU(w io.Writer, rows []bench.Result) {
	header := false
	for _, res := range rows {
		if res.RedisCPUCores == 0 || res.Completed == 0 {
			continue
		}
		if !header {
			fmt.Fprintln(w, "\nCPU of the Redis server at REDIS_URL (a process of its own, all its clients; on this machine beside dev):")
			header = true
		}
		fmt.Fprintf(w, "  %-15s %.2f cores, %.2f ms per case\n", res.Phase, res.RedisCPUCores, msPerCase(res.RedisCPUCores, res))
	}
}

// printStolenCPU prints, for the phases in which the host of this virtual
// machine took CPU from it, how much: such a phase ran slower in every
// part and is not comparable to one without.
func printStolenCPU(w io.Writer, rows []bench.Result) {
	if !slices.ContainsFunc(rows, func(res bench.Result) bool { return res.StolenCores >= 0.005 }) {
		return
	}
	fmt.Fprintf(w, "\nCPU the host took from this machine's %d cores while they wanted to run (steal; it slows every part of a phase alike):\n", runtime.NumCPU())
	for _, res := range rows {
		fmt.Fprintf(w, "  %-15s %.2f cores\n", res.Phase, res.StolenCores)
	}
}

// msPerCase turns the cores a part used in a phase into its milliseconds
// of CPU per completed case.
func msPerCase(cores float64, res bench.Result) float64 {
	return res.CPUPerCase(cores) * 1000
}

// printCPUByPart prints the CPU of dev's parts in each phase, in cores and
// in milliseconds per completed case: the engine's milliseconds per case
// show how fast it runs beside the work of the other parts.
func printCPUByPart(w io.Writer, rows []bench.Result) {
	split := slices.DeleteFunc(slices.Clone(rows), func(res bench.Result) bool { return len(res.CPUByRole) == 0 })
	if len(split) == 0 {
		return
	}
	fmt.Fprintln(w, "\nCPU cores by part of dev (pprof labels; the parts that run as processes of their own elsewhere):")
	for _, res := range split {
		printParts(w, res, func(cores float64) string { return fmt.Sprintf("%.2f", cores) })
	}
	split = slices.DeleteFunc(split, func(res bench.Result) bool { return res.Completed == 0 })
	if len(split) == 0 {
		return
	}
	fmt.Fprintln(w, "CPU milliseconds per completed case by part of dev:")
	for _, res := range split {
		printParts(w, res, func(cores float64) string { return fmt.Sprintf("%.1f", msPerCase(cores, res)) })
	}
}

// printParts prints one phase's line of parts, each with its figure.
func printParts(w io.Writer, res bench.Result, figure func(cores float64) string) {
	parts := make([]string, 0, len(res.CPUByRole))
	for part := range res.CPUByRole {
		parts = append(parts, part)
	}
	sort.Strings(parts)
	fmt.Fprintf(w, "  %-9s", res.Phase)
	for _, part := range parts {
		fmt.Fprintf(w, " %s %s", part, figure(res.CPUByRole[part]))
	}
	fmt.Fprintln(w)
}

func printReport(w io.Writer, r *bench.Report) {
	printShape(w, "An automatic case (auto)", r.Shape)
	if r.GewerbeShape != nil {
		printShape(w, "A Gewerbeanmeldung (gewerbe)", *r.GewerbeShape)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "phase\tcompleted\terrors\tper second\tsubmit p50\tp95\tp99\tend to end p50\tp99\tCPU cores\twritten per case\tpeak RSS\theap\tnote")
	rows := r.Results
	if r.Warmup != nil {
		rows = append([]bench.Result{*r.Warmup}, rows...)
	}
	for _, res := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%v\t%v\t%v\t%v\t%v\t%.2f\t%s\t%d MiB\t%d MiB\t%s\n", res.Phase, res.Completed, res.Errors,
			res.PerSecond, ms(res.SubmitP50), ms(res.SubmitP95), ms(res.SubmitP99), ms(res.EndToEndP50), ms(res.EndToEndP99),
			res.CPUCores, perCase(res.Written, res.Completed), res.PeakRSS>>20, res.HeapInUse>>20, res.Note)
	}
	tw.Flush()
	for _, res := range r.Results {
		if m := res.Memory; m != nil {
			fmt.Fprintf(w, "\nMemory (%s): %s\n", res.Phase, m)
			if m.Over() {
				fmt.Fprintf(w, "!!! MEMORY OVER BUDGET: the whole process peaked at %d MiB, %d MiB above the budget of %d MiB !!!\n",
					m.PeakRSS>>20, (m.PeakRSS-m.Budget)>>20, m.Budget>>20)
			}
		}
	}
	for _, res := range r.Results {
		if res.Timeline != nil {
			fmt.Fprintf(w, "\nWhere the time of a case went (%s), mean time before each event of its history, over %s", res.Phase, res.Timeline)
		}
	}
	printCPUByPart(w, rows)
	printRedisCPU(w, rows)
	printStolenCPU(w, rows)
	for i, ratio := range ratioLines {
		if v := ratio.of(r.Ratios); v > 0 {
			if i == 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "%s: %.2f%s\n", ratio.name, v, ratio.note)
		}
	}
	printRounds(w, r.Rounds)
}

// ratioLines are the ratios the report prints, in order, with what each
// says.
var ratioLines = []struct {
	name, note string
	of         func(bench.Ratios) float64
}{
	{"ozgflow (auto) / baseline throughput", " (a phase run twice counts with its mean)", func(r bench.Ratios) float64 { return r.Ratio }},
	{"baseline carrying the case's weight / baseline throughput", " (what the weight costs the engine)", func(r bench.Ratios) float64 { return r.WeightRatio }},
	{"ozgflow (auto) / baseline carrying the case's weight", " (what ozgflow's own work costs beside the engine)", func(r bench.Ratios) float64 { return r.OwnWorkRatio }},
	{"ozgflow (gewerbe) / gewerbe-baseline throughput", "", func(r bench.Ratios) float64 { return r.GewerbeRatio }},
	{"baseline / ozgflow (auto) CPU per case (process and Redis)", " (about the throughput ratio where the CPU sets the pace, if a case's CPU stays the same there)",
		func(r bench.Ratios) float64 { return r.CPURatio }},
}

// printRounds prints each round's ratios, their mean and their range: how
// far one comparison strays from the next on the same machine.
func printRounds(w io.Writer, rounds []bench.Ratios) {
	if len(rounds) < 2 {
		return
	}
	fmt.Fprintf(w, "\nEach of the %d rounds (the ratios above count all of them):\n", len(rounds))
	for _, ratio := range ratioLines {
		values := make([]string, len(rounds))
		sum, low, high := 0.0, math.Inf(1), math.Inf(-1)
		for i, round := range rounds {
			v := ratio.of(round)
			values[i] = fmt.Sprintf("%.2f", v)
			sum, low, high = sum+v, min(low, v), max(high, v)
		}
		if high <= 0 {
			continue
		}
		fmt.Fprintf(w, "  %s: %s; mean %.2f, %.2f to %.2f\n", ratio.name, strings.Join(values, ", "), sum/float64(len(rounds)), low, high)
	}
}

// printShape prints what one case did, which its baseline mirrors.
func printShape(w io.Writer, title string, s bench.BaselineShape) {
	fmt.Fprintf(w, "\n%s: %d activities (start-to-close %v), %d local activities, %d other markers, %d timers, interactions %v, "+
		"workflow task timeout %v (the baseline mirrors them); history: case %d events (%d bytes), baseline %d events (%d bytes)\n",
		title, s.Activities, s.ActivityTimeouts, s.LocalActivities, s.Markers, s.Timers, s.Interactions, s.TaskTimeout,
		s.Events(), s.CaseBytes, s.BaselineEvents, s.BaselineBytes)
	if wt, c := s.Weight, s.Carried; wt != nil && c != nil {
		fmt.Fprintf(w, "  its weight, bytes in the history (baseline-weight carries it): input %d (carried %d), activity input %d (%d) "+
			"and result %d (%d), result %d (%d); search attributes at the start %v, last upserted %v\n",
			wt.InputBytes, c.InputBytes, wt.ActivityInputBytes, c.ActivityInputBytes, wt.ActivityResultBytes, c.ActivityResultBytes,
			wt.ResultBytes, c.ResultBytes, wt.StartAttributes, wt.FinalAttributes)
	}
	types := make([]string, 0, len(s.CaseEvents))
	for t := range s.CaseEvents {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		fmt.Fprintf(w, "  %-45s %d\n", t, s.CaseEvents[t])
	}
}

func ms(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }

// perCase prints the bytes written per completed case, in KiB.
func perCase(written, completed int64) string {
	if completed <= 0 || written <= 0 {
		return "-"
	}
	return fmt.Sprintf("%d KiB", (written/completed)>>10)
}
