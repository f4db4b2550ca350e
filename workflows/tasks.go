package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
)

// runTask puts review work into the step's queue and waits for the decision.
// A request for information sends the case to the applicant; when the answer
// arrives the task comes back, to the same case worker if one held it.
func (c *caseImpl) runTask(ctx workflow.Context, step definitions.Step) error {
	assignee := ""
	for {
		id := c.openTask(ctx, step, assignee)
		c.setStatus(ctx, ozgflow.StatusInReview, definitions.NoticeData{})
		if err := c.await(ctx, func() bool { return !c.task(id).Active() }); err != nil {
			return err
		}
		done := c.task(id)
		if done.Outcome != ozgflow.OutcomeRequestInformation {
			return nil
		}
		if err := c.awaitAnswer(ctx); err != nil {
			return err
		}
		assignee = done.Assignee
	}
}

// openTask appends a new task of the step to the case and publishes it.
func (c *caseImpl) openTask(ctx workflow.Context, step definitions.Step, assignee string) string {
	c.taskSeq[step.ID]++
	now := workflow.Now(ctx).UTC()
	t := ozgflow.Task{
		ID:        ozgflow.TaskID(c.state.ID, step.ID, c.taskSeq[step.ID]),
		CaseID:    c.state.ID,
		StepID:    step.ID,
		Title:     step.Title,
		Authority: c.state.Authority,
		Queue:     step.Queue,
		Service:   c.state.Service,
		Status:    ozgflow.TaskOpen,
		Priority:  step.Priority,
		Outcomes:  append([]string(nil), step.Outcomes...),
		CreatedAt: now,
	}
	if step.Due > 0 {
		t.DueAt = now.Add(time.Duration(step.Due))
	}
	if assignee != "" {
		t.Status, t.Assignee = ozgflow.TaskClaimed, assignee
	}
	c.state.Tasks = append(c.state.Tasks, t)
	c.touch()
	return t.ID
}

// task returns the task with the given ID, or nil.
func (c *caseImpl) task(id string) *ozgflow.Task {
	for i := range c.state.Tasks {
		if c.state.Tasks[i].ID == id {
			return &c.state.Tasks[i]
		}
	}
	return nil
}

// activeTask returns a task that still waits for work, or the refusal to give
// to a caller who wants to act on it.
func (c *caseImpl) activeTask(id string) (*ozgflow.Task, error) {
	t := c.task(id)
	switch {
	case t == nil:
		return nil, refuse(ozgflow.ENOTFOUND, "Task %s not found.", id)
	case c.state.Status.Final():
		return nil, refuse(ozgflow.ECONFLICT, "The case is already %s.", c.state.Status)
	case !t.Active():
		return nil, refuse(ozgflow.ECONFLICT, "The task is already %s.", t.Status)
	}
	return t, nil
}

// closeTasks ends every task still waiting, e.g. after a withdrawal.
func (c *caseImpl) closeTasks(status string) {
	for i := range c.state.Tasks {
		if c.state.Tasks[i].Active() {
			c.state.Tasks[i].Status = status
		}
	}
}
