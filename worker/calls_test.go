package worker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/metrics"
)

// scriptedFachverfahren answers deliveries in turn with errs; nil is a
// receipt, errSlow waits for the attempt's deadline.
type scriptedFachverfahren struct {
	mu   sync.Mutex
	errs []error
}

var (
	errSlow = errors.New("slow")
	// errLate: the attempt answers, 300 ms late.
	errLate = errors.New("late")
)

func (f *scriptedFachverfahren) Deliver(ctx context.Context, target, kind string, s activities.Submission) (activities.Receipt, error) {
	f.mu.Lock()
	err := f.errs[0]
	f.errs = f.errs[1:]
	f.mu.Unlock()
	if err == errSlow {
		<-ctx.Done()
		return activities.Receipt{}, ctx.Err()
	}
	if err == errLate {
		select {
		case <-ctx.Done():
			return activities.Receipt{}, ctx.Err()
		case <-time.After(300 * time.Millisecond):
			err = nil
		}
	}
	if err != nil {
		return activities.Receipt{}, err
	}
	return activities.Receipt{Reference: "FV-1"}, nil
}

func (f *scriptedFachverfahren) Withdraw(context.Context, string, string, string) error { return nil }

// recordedCalls keeps what the tracking wrote to the index.
type recordedCalls struct {
	mu        sync.Mutex
	failed    []ozgflow.CallFailure
	succeeded []string
	forgotten []string
}

func (r *recordedCalls) CallFailed(_ context.Context, f ozgflow.CallFailure) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, f)
	return nil
}

func (r *recordedCalls) CallSucceeded(_ context.Context, caseID, target string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.succeeded = append(r.succeeded, caseID+" "+target)
	return nil
}

func (r *recordedCalls) ForgetCallFailure(_ context.Context, caseID, target string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.forgotten = append(r.forgotten, caseID+" "+target)
	return nil
}

// deliverWorkflow delivers once, with up to attempts attempts (0: until it
// succeeds), and returns how long it took in the workflow's time.
func deliverWorkflow(ctx workflow.Context, req activities.DeliverRequest, attempts int32) (time.Duration, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Millisecond, MaximumAttempts: attempts}})
	var d *activities.Deliveries
	start := workflow.Now(ctx)
	err := workflow.ExecuteActivity(ctx, d.Deliver, req).Get(ctx, nil)
	return workflow.Now(ctx).Sub(start), err
}

// delivery is one run of deliverWorkflow to gewerbe-leipzig under policy,
// whose attempts end with errs in turn.
type delivery struct {
	policy    TargetPolicy
	stepRetry bool
	// unlimited tries until the delivery succeeds, as deliveries do;
	// otherwise at most four attempts.
	unlimited bool
	errs      []error
	// slowCall is how long the first attempt may take before the case is
	// told; zero means an hour, longer than any of these tests.
	slowCall time.Duration
}

// deliveryResult is what a delivery left: the index, the metrics, how long
// it took and how it ended.
type deliveryResult struct {
	rec     *recordedCalls
	metrics *metrics.Metrics
	signals *signalledCases
	took    time.Duration
	err     error
}

// signalledCases keeps the signals the tracking sent, as workflow ID and
// signal name.
type signalledCases struct {
	mu   sync.Mutex
	sent []string
}

func (s *signalledCases) SignalWorkflow(_ context.Context, workflowID, _, name string, _ any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, workflowID+" "+name)
	return nil
}

func (d delivery) run(t *testing.T) deliveryResult {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	out := deliveryResult{rec: &recordedCalls{}, metrics: metrics.New(), signals: &signalledCases{}}
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{&callTracking{
		policies: TargetPolicies{Targets: map[string]TargetPolicy{"gewerbe-leipzig": d.policy}},
		failures: out.rec, metrics: out.metrics, cases: out.signals, slowCall: cmp.Or(d.slowCall, time.Hour)}}})
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: ozgflow.CaseWorkflowID("c1")})
	env.RegisterWorkflow(deliverWorkflow)
	env.RegisterActivity(&activities.Deliveries{Fachverfahren: &scriptedFachverfahren{errs: d.errs}})
	env.ExecuteWorkflow(deliverWorkflow, activities.DeliverRequest{Target: "gewerbe-leipzig", Kind: "case",
		Submission: activities.Submission{CaseID: "c1"}, StepRetry: d.stepRetry}, attemptsOf(d.unlimited))
	if out.err = env.GetWorkflowError(); out.err == nil {
		if err := env.GetWorkflowResult(&out.took); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func attemptsOf(unlimited bool) int32 {
	if unlimited {
		return 0
	}
	return 4
}

func runDelivery(t *testing.T, errs []error) (*recordedCalls, *metrics.Metrics, error) {
	t.Helper()
	r := delivery{policy: TargetPolicy{Timeout: 50 * time.Millisecond}, errs: errs}.run(t)
	return r.rec, r.metrics, r.err
}

func TestCallTrackingBoundsRecordsAndClearsFailingCalls(t *testing.T) {
	rec, m, err := runDelivery(t, []error{errors.New("503 Service Unavailable"), errSlow, nil})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.failed) != 2 || rec.failed[0].Target != "gewerbe-leipzig" || rec.failed[0].CaseID != "c1" ||
		rec.failed[0].Operation != "Deliver" || rec.failed[0].Attempt != 1 || rec.failed[1].Attempt != 2 {
		t.Errorf("failed attempts recorded: %+v", rec.failed)
	}
	if len(rec.succeeded) != 1 || rec.succeeded[0] != "c1 gewerbe-leipzig" {
		t.Errorf("success recorded: %v", rec.succeeded)
	}
	for outcome, want := range map[string]float64{metrics.CallError: 1, metrics.CallTimeout: 1, metrics.CallOK: 1} {
		if got := counterValue(t, m, "gewerbe-leipzig", "Deliver", outcome); got != want {
			t.Errorf("calls with outcome %s: %v, want %v", outcome, got, want)
		}
	}
}

// TestTheCaseIsToldWhenItsCallFails: the first failed attempt of a call
// signals its case, which then writes its memo, and so do the second,
// fourth, eighth and so on; a call that succeeds at once sends nothing.
func TestTheCaseIsToldWhenItsCallFails(t *testing.T) {
	tests := []struct {
		name string
		errs []error
		want int
	}{
		{"answers at once", []error{nil}, 0},
		{"fails twice, then answers", []error{errors.New("503 Service Unavailable"), errSlow, nil}, 2},
		{"fails five times, then answers", []error{errSlow, errSlow, errSlow, errSlow, errSlow, nil}, 3},
		{"first attempt cancelled", []error{context.Canceled, nil}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := delivery{policy: TargetPolicy{Timeout: 50 * time.Millisecond}, unlimited: true, errs: tt.errs}.run(t)
			if r.err != nil {
				t.Fatal(r.err)
			}
			if len(r.signals.sent) != tt.want {
				t.Fatalf("signals %v, want %d", r.signals.sent, tt.want)
			}
			for _, sent := range r.signals.sent {
				if want := ozgflow.CaseWorkflowID("c1") + " " + ozgflow.SignalCallFailing; sent != want {
					t.Errorf("signal %q, want %q", sent, want)
				}
			}
		})
	}
}

// TestTheCaseIsToldWhenItsCallIsSlow: a first attempt that has not
// answered in time tells the case once, whether it answers late or fails.
func TestTheCaseIsToldWhenItsCallIsSlow(t *testing.T) {
	tests := []struct {
		name     string
		errs     []error
		slowCall time.Duration
		want     int
	}{
		{"answers late", []error{errLate}, 20 * time.Millisecond, 1},
		{"answers within the time", []error{errLate}, 3 * time.Second, 0},
		{"is slow, fails, then answers", []error{errSlow, nil}, 20 * time.Millisecond, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := delivery{policy: TargetPolicy{Timeout: time.Second}, unlimited: true, errs: tt.errs,
				slowCall: tt.slowCall}.run(t)
			if r.err != nil {
				t.Fatal(r.err)
			}
			r.signals.mu.Lock()
			defer r.signals.mu.Unlock()
			if len(r.signals.sent) != tt.want {
				t.Fatalf("signals %v, want %d", r.signals.sent, tt.want)
			}
		})
	}
}

func TestFailedAttemptsThatTellTheCase(t *testing.T) {
	var told []int32
	for attempt := int32(0); attempt <= 40; attempt++ {
		if tellsTheCase(attempt) {
			told = append(told, attempt)
		}
	}
	if fmt.Sprint(told) != "[1 2 4 8 16 32]" {
		t.Errorf("attempts told: %v", told)
	}
}

func TestARejectedCallLeavesTheIndex(t *testing.T) {
	rejected := temporal.NewNonRetryableApplicationError("fachverfahren gewerbe-leipzig: 422", "DeliveryRejected", nil)
	rec, m, err := runDelivery(t, []error{errors.New("503"), rejected})
	if err == nil {
		t.Fatal("a rejected delivery succeeded")
	}
	if len(rec.failed) != 1 || len(rec.forgotten) != 1 || len(rec.succeeded) != 0 {
		t.Errorf("index: failed %+v forgotten %v succeeded %v", rec.failed, rec.forgotten, rec.succeeded)
	}
	if got := counterValue(t, m, "gewerbe-leipzig", "Deliver", metrics.CallRejected); got != 1 {
		t.Errorf("rejected calls: %v", got)
	}
}

// The test environment does not hand activities their retry policy, as
// the server does; the decision is tested on the activity's info.
func TestTheLastAttemptOfARetryPolicyIsAFailureForGood(t *testing.T) {
	for _, tc := range []struct {
		name    string
		attempt int32
		policy  *temporal.RetryPolicy
		want    bool
	}{
		{"poll, second of two", 2, &temporal.RetryPolicy{MaximumAttempts: 2}, true},
		{"poll, first of two", 1, &temporal.RetryPolicy{MaximumAttempts: 2}, false},
		{"delivery, unlimited", 40, &temporal.RetryPolicy{}, false},
		{"policy unknown", 5, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := lastAttempt(activity.Info{Attempt: tc.attempt, RetryPolicy: tc.policy}); got != tc.want {
				t.Errorf("lastAttempt = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestACancelledAttemptIsNoFailureOfTheTarget(t *testing.T) {
	rec, _, err := runDelivery(t, []error{context.Canceled, nil})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.failed) != 0 || len(rec.succeeded) != 1 {
		t.Errorf("index: failed %+v succeeded %v, want no failure recorded", rec.failed, rec.succeeded)
	}
}

// TestAStatedRetryWaitsAsItSays: the wait after attempt n is
// initial·backoff^(n-1), at most the maximum; what the configuration leaves
// out comes from the call's own retry policy.
func TestAStatedRetryWaitsAsItSays(t *testing.T) {
	stated := Retry{Initial: 2 * time.Second, Backoff: 2, Maximum: 5 * time.Minute}
	own := &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 3, MaximumInterval: time.Minute}
	for _, tc := range []struct {
		name  string
		retry Retry
		own   *temporal.RetryPolicy
		want  []time.Duration // after attempts 1, 2, …
	}{
		{"all stated", stated, own, []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second,
			32 * time.Second, 64 * time.Second, 128 * time.Second, 256 * time.Second, 5 * time.Minute, 5 * time.Minute}},
		{"only the first wait", Retry{Initial: 10 * time.Second}, own, []time.Duration{10 * time.Second, 30 * time.Second,
			time.Minute, time.Minute}},
		{"only the maximum", Retry{Maximum: 5 * time.Second}, own, []time.Duration{time.Second, 3 * time.Second, 5 * time.Second}},
		{"no policy of its own", Retry{Backoff: 1.5}, nil, []time.Duration{time.Second, 1500 * time.Millisecond, 2250 * time.Millisecond}},
		{"constant", Retry{Initial: time.Minute, Backoff: 1}, own, []time.Duration{time.Minute, time.Minute, time.Minute}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i, want := range tc.want {
				attempt := int32(i + 1)
				if got := tc.retry.Delay(attempt, tc.own); got != want {
					t.Errorf("after attempt %d: %s, want %s", attempt, got, want)
				}
			}
		})
	}
	if got := stated.Delay(200, nil); got != 5*time.Minute {
		t.Errorf("after attempt 200: %s, want the maximum", got)
	}
}

// TestARetriedFailureKeepsWhatTheWorkflowSees: the failure that asks for
// the stated wait has the original's type and message, and the original as
// its cause.
func TestARetriedFailureKeepsWhatTheWorkflowSees(t *testing.T) {
	typed := temporal.NewApplicationError("fachverfahren gewerbe-leipzig: 503", "DeliveryFailed", false, nil)
	plain := errors.New("fachverfahren gewerbe-leipzig: 503")
	wrapped := fmt.Errorf("deliver: %w", plain)
	for _, tc := range []struct {
		name          string
		err           error
		wantType      string
		wantMessage   string
		wantNextRetry time.Duration
	}{
		{"application error", typed, "DeliveryFailed", "fachverfahren gewerbe-leipzig: 503", time.Minute},
		{"plain error", plain, "", "fachverfahren gewerbe-leipzig: 503", time.Minute},
		{"wrapped error", wrapped, "wrapError", "deliver: fachverfahren gewerbe-leipzig: 503", time.Minute},
		{"timeout", context.DeadlineExceeded, "deadlineExceededError", "context deadline exceeded", time.Minute},
		{"a delay of its own", temporal.NewApplicationErrorWithOptions("429", "Busy",
			temporal.ApplicationErrorOptions{NextRetryDelay: time.Hour}), "Busy", "429", time.Hour},
		{"a wrapped delay of its own", fmt.Errorf("deliver: %w", temporal.NewApplicationErrorWithOptions("429", "Busy",
			temporal.ApplicationErrorOptions{NextRetryDelay: time.Hour})), "Busy", "429", time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := retryAfter(tc.err, time.Minute)
			var app *temporal.ApplicationError
			if !errors.As(got, &app) {
				t.Fatalf("%v: no ApplicationError", got)
			}
			if app.Type() != tc.wantType || app.Message() != tc.wantMessage || app.NonRetryable() ||
				app.NextRetryDelay() != tc.wantNextRetry {
				t.Errorf("type %q message %q non-retryable %v next retry %s; want %q %q false %s",
					app.Type(), app.Message(), app.NonRetryable(), app.NextRetryDelay(), tc.wantType, tc.wantMessage, tc.wantNextRetry)
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("%v does not hold the original %v", got, tc.err)
			}
		})
	}
}

// TestAStatedRetryOfTheTargetSetsTheWaits: attempts to a target with a
// stated retry are tried again after its waits, not the activity's own;
// a refusal stays final and a step's own retry stays the workflow's.
func TestAStatedRetryOfTheTargetSetsTheWaits(t *testing.T) {
	down := errors.New("fachverfahren gewerbe-leipzig: 503 Service Unavailable")
	stated := TargetPolicy{Timeout: time.Second, Retry: Retry{Initial: time.Minute, Backoff: 2, Maximum: 3 * time.Minute}}

	t.Run("waits as stated", func(t *testing.T) {
		r := delivery{policy: stated, unlimited: true, errs: []error{down, down, down, nil}}.run(t)
		if r.err != nil {
			t.Fatal(r.err)
		}
		if want := 6 * time.Minute; r.took < want || r.took > want+time.Second { // 1 + 2 + 3 (the maximum)
			t.Errorf("delivered after %s, want %s", r.took, want)
		}
		if len(r.rec.failed) != 3 || len(r.rec.succeeded) != 1 {
			t.Errorf("index: failed %+v succeeded %v", r.rec.failed, r.rec.succeeded)
		}
	})
	t.Run("without a stated retry", func(t *testing.T) {
		r := delivery{policy: TargetPolicy{Timeout: time.Second}, unlimited: true, errs: []error{down, down, nil}}.run(t)
		if r.err != nil || r.took >= time.Second {
			t.Errorf("delivered after %s (%v), want the activity's millisecond waits", r.took, r.err)
		}
	})
	t.Run("the step states its own", func(t *testing.T) {
		r := delivery{policy: stated, stepRetry: true, unlimited: true, errs: []error{down, down, nil}}.run(t)
		if r.err != nil || r.took >= time.Second {
			t.Errorf("delivered after %s (%v), want the step's millisecond waits", r.took, r.err)
		}
	})
	t.Run("a refusal stays final", func(t *testing.T) {
		rejected := temporal.NewNonRetryableApplicationError("fachverfahren gewerbe-leipzig: 422", "DeliveryRejected", nil)
		r := delivery{policy: stated, errs: []error{rejected}}.run(t)
		var app *temporal.ApplicationError
		if !errors.As(r.err, &app) || app.Type() != "DeliveryRejected" || !app.NonRetryable() || app.NextRetryDelay() != 0 {
			t.Fatalf("workflow error %v, want the refusal as it was", r.err)
		}
		if len(r.rec.forgotten) != 1 {
			t.Errorf("index: forgotten %v", r.rec.forgotten)
		}
	})
}

// TestAPollKeepsItsOwnWaits: a call whose own policy tries it a few times
// (a status poll, waited for in line and replaced by the next poll) keeps
// its waits; a target's long ones would hold the case up. Deliveries and
// the provider's calls, tried until they answer, take the target's.
func TestAPollKeepsItsOwnWaits(t *testing.T) {
	for _, tc := range []struct {
		policy *temporal.RetryPolicy
		want   bool
	}{
		{&temporal.RetryPolicy{MaximumAttempts: 2}, true},
		{&temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2}, false},
		{nil, false},
	} {
		if got := triedAFewTimes(activity.Info{RetryPolicy: tc.policy}); got != tc.want {
			t.Errorf("policy %+v: tried a few times = %v, want %v", tc.policy, got, tc.want)
		}
	}
}

func counterValue(t *testing.T, m *metrics.Metrics, labels ...string) float64 {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "ozgflow_external_calls_total" {
			continue
		}
		for _, metric := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range metric.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if got["target"] == labels[0] && got["operation"] == labels[1] && got["outcome"] == labels[2] {
				return metric.GetCounter().GetValue()
			}
		}
	}
	return 0
}
