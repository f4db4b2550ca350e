package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
)

// retention is called through a nil pointer like the other families.
var retention *activities.Retention

var (
	// recordOptions: the final record must be written; the records
	// database may be down for a while, so keep trying until it answers.
	// A local activity in the case's last workflow task costs one marker
	// in the history, where an activity costs three events and a workflow
	// task more: about a fifth of an automatic case's engine work.
	recordOptions = workflow.LocalActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    10 * time.Minute,
		},
	}
	// erasureOptions: one case's erasure, retried for a while; a case that
	// still fails waits for the next day's run.
	erasureOptions = workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			MaximumAttempts:    5,
		},
	}
)

// versionClosedCaseRecord guards the final record written at close.
const versionClosedCaseRecord = "closed-case-record"

// keepRecord writes the final record of the case to the records database
// and lets its projection expire when the variant's retention ends; it
// reports whether the record was kept.
func (c *caseImpl) keepRecord(ctx workflow.Context) bool {
	closedAt := workflow.Now(ctx).UTC()
	rec := activities.FinalRecord{
		Case:        c.snapshot(),
		Application: c.in.Application,
		ClosedAt:    closedAt,
		RetainUntil: c.def.Retention.Until(closedAt),
	}
	err := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, recordOptions), retention.KeepClosedCase, rec).Get(ctx, nil)
	if err != nil {
		c.logger.Error("Final record not kept", "error", err)
		return false
	}
	return true
}

// retentionPage is how many due cases one query returns.
const retentionPage = 100

// RetentionInput is where a retention run stands; the schedule starts it
// empty, and a run that continues as new passes its cut-off on.
type RetentionInput struct {
	Cutoff time.Time `json:"cutoff,omitzero"`
	Erased int       `json:"erased,omitempty"`
	Failed []string  `json:"failed,omitempty"`
}

// RetentionResult says what a retention run erased.
type RetentionResult struct {
	Cutoff    time.Time `json:"cutoff"`
	Erased    int       `json:"erased"`
	Documents int       `json:"documents"`
	Failed    []string  `json:"failed,omitempty"`
}

// RetentionWorkflow erases the personal data of every closed case whose
// retention ended before the run began (workflow time), one case at a
// time: projections, record and documents, workflow history, trail. A case
// that cannot be erased now is left for the next run.
func RetentionWorkflow(ctx workflow.Context, in RetentionInput) (RetentionResult, error) {
	logger := workflow.GetLogger(ctx)
	if in.Cutoff.IsZero() {
		in.Cutoff = workflow.Now(ctx).UTC()
	}
	res := RetentionResult{Cutoff: in.Cutoff, Erased: in.Erased, Failed: in.Failed}
	failed := map[string]bool{}
	for _, id := range in.Failed {
		failed[id] = true
	}
	actx := workflow.WithActivityOptions(ctx, erasureOptions)
	for {
		var due []string
		req := activities.DueRequest{Before: in.Cutoff, Limit: retentionPage + len(failed)}
		if err := workflow.ExecuteActivity(actx, retention.DueForErasure, req).Get(ctx, &due); err != nil {
			return res, err
		}
		progress := false
		for _, id := range due {
			if failed[id] {
				continue
			}
			var er activities.ErasureResult
			err := workflow.ExecuteActivity(actx, retention.EraseCase, activities.ErasureRequest{
				CaseID: id, Reason: ozgflow.ReasonRetentionEnded, At: in.Cutoff,
				Actor: ozgflow.ActorSystem, Role: ozgflow.ActorSystem,
			}).Get(ctx, &er)
			progress = true
			if err != nil {
				logger.Error("Case not erased; the next run tries again", "caseId", id, "error", err)
				failed[id] = true
				res.Failed = append(res.Failed, id)
				continue
			}
			res.Erased++
			res.Documents += er.Documents
		}
		if !progress {
			return res, nil
		}
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return res, workflow.NewContinueAsNewError(ctx, RetentionWorkflow,
				RetentionInput{Cutoff: in.Cutoff, Erased: res.Erased, Failed: res.Failed})
		}
	}
}
