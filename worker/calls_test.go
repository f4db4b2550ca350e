package worker

import (
	"context"
	"errors"
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

var errSlow = errors.New("slow")

func (f *scriptedFachverfahren) Deliver(ctx context.Context, target, kind string, s activities.Submission) (activities.Receipt, error) {
	f.mu.Lock()
	err := f.errs[0]
	f.errs = f.errs[1:]
	f.mu.Unlock()
	if err == errSlow {
		<-ctx.Done()
		return activities.Receipt{}, ctx.Err()
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

// deliverWorkflow delivers once, with up to four attempts.
func deliverWorkflow(ctx workflow.Context, req activities.DeliverRequest) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Millisecond, MaximumAttempts: 4}})
	var d *activities.Deliveries
	return workflow.ExecuteActivity(ctx, d.Deliver, req).Get(ctx, nil)
}

func runDelivery(t *testing.T, errs []error) (*recordedCalls, *metrics.Metrics, error) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	rec, m := &recordedCalls{}, metrics.New()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{&callTracking{
		policies: TargetPolicies{Targets: map[string]TargetPolicy{"gewerbe-leipzig": {Timeout: 50 * time.Millisecond}}},
		failures: rec, metrics: m}}})
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: ozgflow.CaseWorkflowID("c1")})
	env.RegisterWorkflow(deliverWorkflow)
	env.RegisterActivity(&activities.Deliveries{Fachverfahren: &scriptedFachverfahren{errs: errs}})
	env.ExecuteWorkflow(deliverWorkflow, activities.DeliverRequest{Target: "gewerbe-leipzig", Kind: "case",
		Submission: activities.Submission{CaseID: "c1"}})
	return rec, m, env.GetWorkflowError()
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
