package bench

import (
	"go.temporal.io/api/workflowservice/v1"

	"context"
	"github.com/ozgflow/ozgflow"
	"time"

	"go.temporal.io/sdk/workflow"
)

// baselineQueue is the task queue of the bare baseline workflows.
const baselineQueue = "bench-baseline"

// BaselineShape is how many regular and local activities one case executed;
// the baseline workflow executes as many doing nothing.
type BaselineShape struct {
	Activities      int `json:"activities"`
	LocalActivities int `json:"localActivities"`
	// CaseEvents counts the history events of the measured case by type.
	CaseEvents map[string]int `json:"caseEvents"`
	// BaselineEvents is the history length of one baseline workflow.
	BaselineEvents int `json:"baselineEvents"`
}

// BaselineWorkflow is a bare workflow with the same number of activities as
// an ozgflow case, each doing nothing.
func BaselineWorkflow(ctx workflow.Context, shape BaselineShape) error {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 5 * time.Second})
	for i := 0; i < shape.Activities || i < shape.LocalActivities; i++ {
		if i < shape.Activities {
			if err := workflow.ExecuteActivity(actx, Noop).Get(ctx, nil); err != nil {
				return err
			}
		}
		if i < shape.LocalActivities {
			if err := workflow.ExecuteLocalActivity(lctx, Noop).Get(ctx, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// Noop is the activity of the baseline: it does nothing.
func Noop(context.Context) error { return nil }

// countRunning counts cases and baseline workflows still moving; cases
// waiting for a case worker stay and do not count.
func countRunning() *workflowservice.CountWorkflowExecutionsRequest {
	return &workflowservice.CountWorkflowExecutionsRequest{Namespace: ozgflow.Namespace,
		Query: "ExecutionStatus = 'Running' AND (WorkflowType = 'BaselineWorkflow' OR OzgStatus != 'in_review')"}
}
