package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/records"
)

// Records lets the activities keep and erase closed cases in the records
// database.
type Records struct{ DB *records.DB }

var _ activities.CaseRecords = Records{}

// KeepClosedCase writes the final record of a case.
func (r Records) KeepClosedCase(ctx context.Context, rec activities.FinalRecord) error {
	return r.DB.SaveClosedCase(ctx, records.ClosedCase{Case: rec.Case, Application: rec.Application,
		ClosedAt: rec.ClosedAt, RetainUntil: rec.RetainUntil})
}

// ClosedCase reads the final record of a case.
func (r Records) ClosedCase(ctx context.Context, caseID string) (activities.FinalRecord, error) {
	rec, err := r.DB.ClosedCase(ctx, caseID)
	if err != nil {
		return activities.FinalRecord{}, err
	}
	return activities.FinalRecord{Case: rec.Case, Application: rec.Application, ClosedAt: rec.ClosedAt,
		RetainUntil: rec.RetainUntil, ErasedAt: rec.ErasedAt}, nil
}

// DueForErasure lists cases whose retention ended before before.
func (r Records) DueForErasure(ctx context.Context, before time.Time, limit int) ([]string, error) {
	return r.DB.DueForErasure(ctx, before, limit)
}

// EraseClosedCase erases the record's personal data and the documents.
func (r Records) EraseClosedCase(ctx context.Context, caseID, because string, at time.Time) (int, error) {
	er, err := r.DB.EraseCase(ctx, caseID, because, at)
	return er.Documents, err
}

// Audit appends to the audit trail.
func (r Records) Audit(ctx context.Context, e activities.TrailEntry) error {
	return r.DB.Append(ctx, records.Entry{At: e.At, Actor: e.Actor, Role: e.Role, CaseID: e.CaseID,
		Account: e.Account, Action: e.Action, Detail: e.Detail})
}

// Histories deletes the workflow histories of cases.
type Histories struct {
	Client    client.Client
	Namespace string
}

// DeleteCaseHistory deletes the workflow execution of a case; one that is
// gone already, by namespace retention for one, is no error.
func (h Histories) DeleteCaseHistory(ctx context.Context, caseID string) error {
	return DeleteCaseHistory(ctx, h.Client, h.Namespace, caseID)
}

// DeleteCaseHistory deletes the workflow execution of a case, its history
// with the application in it; NotFound means it is gone already.
func DeleteCaseHistory(ctx context.Context, c client.Client, namespace, caseID string) error {
	_, err := c.WorkflowService().DeleteWorkflowExecution(ctx, &workflowservice.DeleteWorkflowExecutionRequest{
		Namespace:         namespace,
		WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: ozgflow.CaseWorkflowID(caseID)},
	})
	var notFound *serviceerror.NotFound
	if err != nil && !errors.As(err, &notFound) {
		return err
	}
	return nil
}

// RetentionEvery is how often the retention schedule runs: daily, so a
// case is erased at most a day after its retention ends.
const RetentionEvery = 24 * time.Hour

// EnsureRetentionSchedule creates the daily schedule that starts the
// retention workflow unless it exists; every worker calls it at start.
func EnsureRetentionSchedule(ctx context.Context, c client.Client) error {
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:                 ozgflow.RetentionScheduleID,
		Spec:               client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: RetentionEvery}}},
		Overlap:            0, // skip a run while the last one still works
		CatchupWindow:      RetentionEvery,
		TriggerImmediately: false,
		Action: &client.ScheduleWorkflowAction{
			ID:                       ozgflow.RetentionScheduleID,
			Workflow:                 ozgflow.RetentionWorkflowName,
			TaskQueue:                ozgflow.CaseTaskQueue,
			WorkflowExecutionTimeout: 12 * time.Hour,
			RetryPolicy:              &temporal.RetryPolicy{MaximumAttempts: 1},
		},
	})
	if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create the retention schedule: %w", err)
	}
	return nil
}

var _ activities.CaseNumberStore = Records{}

// AssignCaseNumber draws a case's short number from the records' counter
// of prefix, authority and year.
func (r Records) AssignCaseNumber(ctx context.Context, workflowID, prefix, authority string, year int) (string, error) {
	return r.DB.AssignCaseNumber(ctx, workflowID, records.CaseNumberKey{Prefix: prefix, Authority: authority, Year: year})
}

// DocumentContent reads a document's bytes for a delivery's attachments.
func (r Records) DocumentContent(ctx context.Context, caseID, sha string) ([]byte, error) {
	d, err := r.DB.Document(ctx, caseID, sha)
	if err != nil {
		return nil, err
	}
	return d.Data, nil
}

// SentSubmission reads what was kept of a FIT-Connect submission.
func (r Records) SentSubmission(ctx context.Context, key string) ([]byte, bool, bool, error) {
	return r.DB.SentSubmission(ctx, key)
}

// KeepSentSubmission keeps a FIT-Connect submission against a repeat.
func (r Records) KeepSentSubmission(ctx context.Context, key string, submitted bool, body []byte) error {
	return r.DB.KeepSentSubmission(ctx, key, submitted, body)
}
