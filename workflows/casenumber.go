package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/locale"
)

// caseNumbers draws the numbers; the worker registers the real instance.
var caseNumbers *activities.CaseNumbers

// caseNumberOptions: a quick write to the records database, local to the
// worker; while the database is away the draw is tried again for an hour,
// then the case goes on without a number rather than stall.
var caseNumberOptions = workflow.LocalActivityOptions{
	ScheduleToCloseTimeout: time.Hour,
	StartToCloseTimeout:    10 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    time.Minute,
	},
}

// assignNumber gives the case its short number before its first notice,
// which quotes it: the next of the counter of the variant's prefix, the
// authority and the year of the submission in Europe/Berlin, drawn by a
// local activity that returns the same number when it runs again for the
// same workflow.
func (c *caseImpl) assignNumber(ctx workflow.Context) {
	if c.features < featuresCaseNumber { // started before numbers: none, and none needed
		return
	}
	req := activities.CaseNumberRequest{
		WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
		CaseID:     c.state.ID,
		Prefix:     c.def.NumberPrefix(),
		Authority:  c.state.Authority,
		Year:       workflow.Now(ctx).In(locale.Berlin).Year(),
	}
	var number string
	lctx := workflow.WithLocalActivityOptions(ctx, caseNumberOptions)
	if err := workflow.ExecuteLocalActivity(lctx, caseNumbers.AssignCaseNumber, req).Get(ctx, &number); err != nil {
		c.logger.Error("Case number not drawn; the case goes on without", "error", err)
		return
	}
	c.state.CaseNumber = number
	c.touch()
}

// number is what notices quote as the case's number: its short number,
// or its ID when it has none.
func (c *caseImpl) number() string {
	if c.state.CaseNumber != "" {
		return c.state.CaseNumber
	}
	return c.state.ID
}
