package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
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
	phases := fs.String("phases", "baseline,auto,review", "phases to run, in order: baseline, auto, review, latency, waiting")
	fs.IntVar(&opts.Concurrency, "concurrency", 32, "clients working in parallel")
	fs.DurationVar(&opts.Duration, "duration", 2*time.Minute, "length of each throughput phase")
	fs.IntVar(&opts.Rate, "rate", 100, "submits per second in the latency phase")
	fs.IntVar(&opts.Waiting, "waiting", 10000, "cases left waiting for a case worker in the waiting phase")
	fs.StringVar(&opts.DataDir, "data-dir", "", "data directory (default: a new temporary one)")
	fs.BoolVar(&opts.InMemory, "in-memory", false, "keep Temporal in memory instead of a SQLite file")
	fs.StringVar(&opts.PostgresURL, "postgres", "", "keep Temporal in PostgreSQL instead: postgres://user@host:5432/database (created if missing)")
	jsonOut := fs.String("json", "", "also write the report as JSON to this file")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts.Phases = strings.Split(*phases, ",")
	if opts.DataDir == "" {
		dir, err := os.MkdirTemp("", "ozgflow-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		opts.DataDir = dir
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
	fmt.Fprintf(stdout, "ozgflow bench: phases %s, %d clients, %v each, data in %s\n", *phases, opts.Concurrency, opts.Duration, opts.DataDir)
	report, err := bench.Run(ctx, opts)
	if report != nil {
		printReport(stdout, report)
		if *jsonOut != "" {
			b, _ := json.MarshalIndent(report, "", "  ")
			if werr := os.WriteFile(*jsonOut, b, 0o644); werr != nil && err == nil {
				err = werr
			}
		}
	}
	return err
}

func printReport(w io.Writer, r *bench.Report) {
	total := 0
	for _, n := range r.Shape.CaseEvents {
		total += n
	}
	fmt.Fprintf(w, "\nPer case: %d activities, %d local activities (the baseline mirrors them); "+
		"history events: case %d, baseline %d\n", r.Shape.Activities, r.Shape.LocalActivities, total, r.Shape.BaselineEvents)
	types := make([]string, 0, len(r.Shape.CaseEvents))
	for t := range r.Shape.CaseEvents {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		fmt.Fprintf(w, "  %-45s %d\n", t, r.Shape.CaseEvents[t])
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "phase\tcompleted\terrors\tper second\tsubmit p50\tp95\tp99\tend to end p50\tp99\tCPU cores\tpeak RSS\theap\tnote")
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%v\t%v\t%v\t%v\t%v\t%.2f\t%d MiB\t%d MiB\t%s\n", res.Phase, res.Completed, res.Errors,
			res.PerSecond, ms(res.SubmitP50), ms(res.SubmitP95), ms(res.SubmitP99), ms(res.EndToEndP50), ms(res.EndToEndP99),
			res.CPUCores, res.PeakRSS>>20, res.HeapInUse>>20, res.Note)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nCPU cores by part of dev (pprof labels; the parts that run as processes of their own elsewhere):")
	for _, res := range r.Results {
		if len(res.CPUByRole) == 0 {
			continue
		}
		parts := make([]string, 0, len(res.CPUByRole))
		for part := range res.CPUByRole {
			parts = append(parts, part)
		}
		sort.Strings(parts)
		fmt.Fprintf(w, "  %-9s", res.Phase)
		for _, part := range parts {
			fmt.Fprintf(w, " %s %.2f", part, res.CPUByRole[part])
		}
		fmt.Fprintln(w)
	}
	if r.Ratio > 0 {
		fmt.Fprintf(w, "\nozgflow (auto) / baseline throughput: %.2f\n", r.Ratio)
	}
}

func ms(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }
