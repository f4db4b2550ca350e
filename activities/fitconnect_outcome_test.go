package activities_test

import (
	"context"
	"testing"

	"github.com/ozgflow/ozgflow/activities"
)

// scriptedSubmitter answers every outcome with out.
type scriptedSubmitter struct{ out activities.SubmissionOutcome }

func (s scriptedSubmitter) Serves(target string) bool { return target == "fit" }
func (s scriptedSubmitter) Submit(context.Context, string, int, activities.Submission) (activities.Receipt, error) {
	return activities.Receipt{}, nil
}
func (s scriptedSubmitter) Outcome(context.Context, string, activities.SentSubmission) (activities.SubmissionOutcome, error) {
	return s.out, nil
}

// failureSet records the failing deliveries like the store.
type failureSet map[string]bool

func (f failureSet) DeliveryFailed(_ context.Context, id string) error    { f[id] = true; return nil }
func (f failureSet) DeliverySucceeded(_ context.Context, id string) error { delete(f, id); return nil }

// TestRejectedSubmissionCountsAsFailingUntilAccepted: the administrators'
// list of failing deliveries holds a case whose destination rejected it,
// until a resend is accepted.
func TestRejectedSubmissionCountsAsFailingUntilAccepted(t *testing.T) {
	failing := failureSet{}
	req := activities.OutcomeRequest{Target: "fit", CaseID: "c1", Submission: activities.SentSubmission{SubmissionID: "s1"}}
	d := &activities.Deliveries{FITConnect: scriptedSubmitter{activities.SubmissionOutcome{Outcome: activities.OutcomeRejected}}, Failures: failing}
	if _, err := d.SubmissionOutcome(context.Background(), req); err != nil || !failing["c1"] {
		t.Fatalf("after a rejection: failing %v, %v", failing, err)
	}
	d.FITConnect = scriptedSubmitter{activities.SubmissionOutcome{Outcome: activities.OutcomeAccepted}}
	if _, err := d.SubmissionOutcome(context.Background(), req); err != nil || failing["c1"] {
		t.Fatalf("after the accept: failing %v, %v", failing, err)
	}
	if _, err := d.SubmissionOutcome(context.Background(), activities.OutcomeRequest{Target: "other"}); err == nil {
		t.Fatal("an outcome of a target that is no FIT-Connect destination was read")
	}
}
