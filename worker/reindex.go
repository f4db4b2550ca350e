package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/records"
)

// Reindex rebuilds the projections of every case from Temporal: it lists the
// case workflows and writes the state each one reports through its query.
// Stored projections that are newer are kept (the store never goes back).
func Reindex(ctx context.Context, c client.Client, namespace string, st activities.ProjectionStore, logger *slog.Logger) (int, error) {
	query := fmt.Sprintf("WorkflowType = '%s'", ozgflow.CaseWorkflowName)
	var token []byte
	count := 0
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: namespace, Query: query, PageSize: 500, NextPageToken: token,
		})
		if err != nil {
			return count, fmt.Errorf("list cases: %w", err)
		}
		for _, ex := range resp.Executions {
			id := ex.Execution.WorkflowId
			val, err := c.QueryWorkflow(ctx, id, ex.Execution.RunId, ozgflow.QueryState)
			if err != nil {
				logger.Warn("Reindex skipped a case", "workflowId", id, "error", err)
				continue
			}
			var state ozgflow.Case
			if err := val.Get(&state); err != nil {
				logger.Warn("Reindex could not decode a case", "workflowId", id, "error", err)
				continue
			}
			if err := st.SaveCase(ctx, state); err != nil {
				return count, err
			}
			count++
		}
		token = resp.NextPageToken
		if len(token) == 0 {
			return count, nil
		}
	}
}

// ClosedRecords are the final records of closed cases.
type ClosedRecords interface {
	EachClosedCase(ctx context.Context, authority string, fn func(records.ClosedCase) error) error
}

// ClosedProjections are the projections closed cases are restored to.
type ClosedProjections interface {
	activities.ProjectionStore
	// ExpireCase lets the keys of one closed case expire at at.
	ExpireCase(ctx context.Context, c ozgflow.Case, at time.Time) error
}

// RestoreClosed writes the projections of the closed cases whose personal
// data is still kept from their final records, so that a lost Redis gets
// them back after their workflow history is gone, and lets them expire
// when their retention ends. Newer projections are kept, as always.
func RestoreClosed(ctx context.Context, recs ClosedRecords, st ClosedProjections) (int, error) {
	count := 0
	err := recs.EachClosedCase(ctx, "", func(rec records.ClosedCase) error {
		if !rec.ErasedAt.IsZero() {
			return nil
		}
		if err := st.SaveCase(ctx, rec.Case); err != nil {
			return err
		}
		if !rec.RetainUntil.IsZero() {
			if err := st.ExpireCase(ctx, rec.Case, rec.RetainUntil); err != nil {
				return err
			}
		}
		count++
		return nil
	})
	return count, err
}
