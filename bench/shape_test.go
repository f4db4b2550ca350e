package bench

import (
	"bytes"
	"compress/flate"
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	sdkworker "go.temporal.io/sdk/worker"
)

// TestBaselineMirrorsTheShape: the baseline workflow runs as many
// activities and local activities as the case it mirrors, each activity
// with the case's start-to-close timeout, and takes the case's updates and
// signals, in their order, before it ends.
func TestBaselineMirrorsTheShape(t *testing.T) {
	tests := []struct {
		name  string
		shape BaselineShape
	}{
		{"automatic case", BaselineShape{Activities: 1, ActivityTimeouts: []time.Duration{30 * time.Second},
			LocalActivities: 3, Markers: 1}},
		{"timeouts not known", BaselineShape{Activities: 2, LocalActivities: 1}},
		{"Gewerbeanmeldung", BaselineShape{Activities: 9, LocalActivities: 11, Markers: 1, Timers: 3,
			ActivityTimeouts: []time.Duration{30 * time.Second, 15 * time.Second, 30 * time.Second, 15 * time.Second,
				30 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second},
			Interactions: []string{InteractionUpdate, InteractionSignal, InteractionUpdate, InteractionUpdate, InteractionUpdate}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			// The shape's hundred steps run in one go: on a machine busy with
			// other work they may take longer than the 1 s a task may block.
			env.SetWorkerOptions(sdkworker.Options{DeadlockDetectionTimeout: 30 * time.Second})
			env.RegisterActivity(Noop)
			activities, locals, updates := 0, 0, 0
			env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
				want := defaultActivityTimeout
				if activities < len(tt.shape.ActivityTimeouts) {
					want = tt.shape.ActivityTimeouts[activities]
				}
				if info.StartToCloseTimeout != want {
					t.Errorf("activity %d: start-to-close timeout %v, want %v", activities, info.StartToCloseTimeout, want)
				}
				activities++
			})
			env.SetOnLocalActivityStartedListener(func(*activity.Info, context.Context, []any) { locals++ })
			for i, kind := range tt.shape.Interactions {
				env.RegisterDelayedCallback(func() {
					if kind == InteractionSignal {
						env.SignalWorkflow(baselineStep, nil)
						return
					}
					env.UpdateWorkflow(baselineStep, "", &testsuite.TestUpdateCallback{
						OnAccept: func() {},
						OnReject: func(err error) { t.Errorf("update %d rejected: %v", i, err) },
						OnComplete: func(_ any, err error) {
							if err != nil {
								t.Errorf("update %d: %v", i, err)
							}
							updates++
						},
					})
				}, time.Duration(i+1)*time.Minute)
			}
			env.ExecuteWorkflow(BaselineWorkflow, tt.shape)
			if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
				t.Fatalf("completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
			}
			if activities != tt.shape.Activities || locals != tt.shape.LocalActivities {
				t.Errorf("ran %d activities and %d local activities, want %d and %d",
					activities, locals, tt.shape.Activities, tt.shape.LocalActivities)
			}
			want := 0
			for _, kind := range tt.shape.Interactions {
				if kind == InteractionUpdate {
					want++
				}
			}
			if updates != want {
				t.Errorf("%d updates completed, want %d", updates, want)
			}
		})
	}
}

// TestWeightedBaselineCarriesTheWeight: a baseline run with the case's
// weight starts with the case's search attributes, passes and returns
// payloads of its padding's sizes and ends with the case's last search
// attributes; a plain run carries none of it, whatever its shape held.
// Both start with the case's workflow task timeout.
func TestWeightedBaselineCarriesTheWeight(t *testing.T) {
	w := &Weight{StartAttributes: map[string]string{"OzgStatus": "received", "OzgService": "99990000000003"},
		FinalAttributes: map[string]string{"OzgStatus": "approved", "OzgStage": "done"}}
	shape := BaselineShape{Activities: 1, LocalActivities: 2, TaskTimeout: 7 * time.Second, Weight: w, Filler: []byte("stale"),
		Padding: Padding{Input: 1000, ActivityInput: 450, ActivityResult: 120, Result: 150}}
	tests := []struct {
		name   string
		weight *Weight
		// want: the start's status, the input's, the activity's and the
		// result's filler, the last upserted status
		wantStart, wantLast string
		wantSizes           []int
	}{
		{"plain", nil, "", "", []int{0}},
		{"weighted", w, "received", "approved", []int{1000, 450, 120, 150}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			env.RegisterActivity(Noop)
			env.RegisterActivity(NoopWeighted)
			env.RegisterWorkflow(BaselineWorkflow)
			env.RegisterWorkflow(WeightedBaselineWorkflow)
			opts, in := weightedStart(shape, tt.weight)
			if opts.WorkflowTaskTimeout != shape.TaskTimeout {
				t.Errorf("started with task timeout %s, want the case's %s", opts.WorkflowTaskTimeout, shape.TaskTimeout)
			}
			start, _ := opts.TypedSearchAttributes.GetKeyword(temporal.NewSearchAttributeKeyKeyword("OzgStatus"))
			sizes := []int{len(in.Filler)}
			env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
				var in []byte
				var resultBytes int
				if info.ActivityType.Name == "NoopWeighted" && args.Get(&in, &resultBytes) == nil {
					sizes = append(sizes, len(in))
				}
			})
			env.SetOnActivityCompletedListener(func(info *activity.Info, result converter.EncodedValue, _ error) {
				var out []byte
				if info.ActivityType.Name == "NoopWeighted" && result.Get(&out) == nil {
					sizes = append(sizes, len(out))
				}
			})
			var last string
			env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
				last, _ = args.Get(0).(temporal.SearchAttributes).GetKeyword(temporal.NewSearchAttributeKeyKeyword("OzgStatus"))
			}).Return(nil).Maybe()
			if tt.weight == nil {
				env.ExecuteWorkflow(BaselineWorkflow, in)
			} else {
				env.ExecuteWorkflow(WeightedBaselineWorkflow, in)
			}
			if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
				t.Fatalf("completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
			}
			if tt.weight != nil {
				var result []byte
				if err := env.GetWorkflowResult(&result); err != nil {
					t.Fatal(err)
				}
				sizes = append(sizes, len(result))
			}
			if start != tt.wantStart || last != tt.wantLast || !slices.Equal(sizes, tt.wantSizes) || (tt.weight == nil) != (in.Weight == nil) {
				t.Errorf("started as %q, ended as %q, carried %v (weight %v); want %q, %q, %v",
					start, last, sizes, in.Weight != nil, tt.wantStart, tt.wantLast, tt.wantSizes)
			}
		})
	}
}

// TestFillerDoesNotCompress: the filler is as large deflated as raw, so
// that a weighted payload keeps its size through the codec.
func TestFillerDoesNotCompress(t *testing.T) {
	var b bytes.Buffer
	zw, _ := flate.NewWriter(&b, flate.BestCompression)
	raw := filler(1000)
	if _, err := zw.Write(raw); err != nil || zw.Close() != nil {
		t.Fatal(err)
	}
	if b.Len() < len(raw) || !bytes.Equal(raw, filler(1000)) {
		t.Errorf("1000 bytes of filler deflate to %d; the same n gives the same filler: %v", b.Len(), bytes.Equal(raw, filler(1000)))
	}
}

// TestMemoryBudget: 500 MiB up to 10,000 waiting cases, 1 GiB at 100,000,
// and a run is over budget only when its peak exceeds that.
func TestMemoryBudget(t *testing.T) {
	tests := []struct {
		waiting int64
		want    int64
	}{
		{0, 500 * MiB},
		{10_000, 500 * MiB},
		{55_000, 762 * MiB},
		{100_000, 1024 * MiB},
		{190_000, 1548 * MiB},
	}
	for _, tt := range tests {
		if got := MemoryBudget(tt.waiting); got != tt.want {
			t.Errorf("MemoryBudget(%d) = %d MiB, want %d MiB", tt.waiting, got/MiB, tt.want/MiB)
		}
	}
	within := MemoryCheck{Waiting: 10_000, Budget: MemoryBudget(10_000), PeakRSS: 499 * MiB}
	over := within
	over.PeakRSS = 501 * MiB
	if within.Over() || !over.Over() {
		t.Errorf("Over: %v at 499 MiB, %v at 501 MiB; want false, true", within.Over(), over.Over())
	}
}

// TestRatioTakesTheMeanOfAPhasesRuns: a comparison run as A B B A counts
// each phase with the mean of its runs.
func TestRatioTakesTheMeanOfAPhasesRuns(t *testing.T) {
	results := []Result{{Phase: "baseline", PerSecond: 40}, {Phase: "auto", PerSecond: 33},
		{Phase: "auto", PerSecond: 27}, {Phase: "baseline", PerSecond: 30}, {Phase: "review", PerSecond: 9}}
	if got := meanRate(results, "baseline"); got != 35 {
		t.Errorf("baseline mean = %v, want 35", got)
	}
	if got := meanRate(results, "auto"); got != 30 {
		t.Errorf("auto mean = %v, want 30", got)
	}
	if got := meanRate(results, "gewerbe"); got != 0 {
		t.Errorf("gewerbe mean = %v, want 0 (not run)", got)
	}
}

// TestRatiosCompareEachPhaseWithItsBaseline: auto and baseline-weight
// against baseline, auto against baseline-weight, gewerbe against its own
// baseline, the baseline's CPU per case (process and Redis) against
// auto's; a ratio whose phases did not run stays 0.
func TestRatiosCompareEachPhaseWithItsBaseline(t *testing.T) {
	minute := time.Minute
	got := ratiosOf([]Result{
		// The baseline: 30 ms per workflow, the process alone and with
		// Redis; a run whose CPU was not read does not count.
		{Phase: "baseline", PerSecond: 50, Elapsed: minute, Completed: 2000, CPUCores: 1},
		{Phase: "baseline", PerSecond: 30, Elapsed: 2 * minute, Completed: 5200, CPUCores: 1.2, RedisCPUCores: 0.1},
		{Phase: "baseline", PerSecond: 40, Elapsed: minute, Completed: 2400},
		// Not in the CPU ratio.
		{Phase: "baseline-weight", PerSecond: 32, Elapsed: minute, Completed: 1900, CPUCores: 1.5},
		// 40 and 50 ms per case; a run that completed none does not count.
		{Phase: "auto", PerSecond: 20, Elapsed: minute, Completed: 2100, CPUCores: 1.3, RedisCPUCores: 0.1},
		{Phase: "auto", PerSecond: 28, Elapsed: minute / 2, Completed: 900, CPUCores: 1.4, RedisCPUCores: 0.1},
		{Phase: "auto", Elapsed: minute, CPUCores: 1.2}})
	// 30 ms against the mean of 40 and 50.
	if math.Abs(got.CPURatio-30.0/45) > 1e-9 {
		t.Errorf("CPU ratio = %v, want %v", got.CPURatio, 30.0/45)
	}
	got.CPURatio = 0
	// The run that completed none counts in the throughput with 0.
	want := Ratios{Ratio: 0.4, WeightRatio: 0.8, OwnWorkRatio: 0.5}
	if got != want {
		t.Errorf("ratios = %+v, want %+v", got, want)
	}
	got = ratiosOf([]Result{{Phase: "gewerbe-baseline", PerSecond: 20}, {Phase: "gewerbe", PerSecond: 13}})
	if want := (Ratios{GewerbeRatio: 0.65}); got != want {
		t.Errorf("ratios = %+v, want %+v", got, want)
	}
}
