package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/locale"
)

// runTask puts review work into the step's queue and waits for the decision.
// A request for information sends the case to the applicant; when the answer
// arrives the task comes back, to the same case worker if one held it.
func (c *caseImpl) runTask(ctx workflow.Context, step definitions.Step) error {
	assignee := ""
	for {
		id := c.openTask(ctx, step, assignee)
		c.setStatus(ctx, ozgflow.StatusInReview, definitions.NoticeData{})
		if err := c.awaitTask(ctx, step, id); err != nil {
			return err
		}
		done := c.task(id)
		if done.Outcome != ozgflow.OutcomeRequestInformation {
			return nil
		}
		if err := c.awaitAnswer(ctx, step); err != nil {
			return err
		}
		if c.stopped() || c.state.Decision != nil {
			return nil
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
		DueAt:     step.TaskDue(now),
	}
	if assignee != "" {
		t.Status, t.Assignee = ozgflow.TaskClaimed, assignee
	}
	c.state.Tasks = append(c.state.Tasks, t)
	c.touch()
	return t.ID
}

// awaitTask waits until the task is done, reminding its assignee before the
// due date and escalating it after, as the step says. Steps without reminder
// or escalation wait without timers.
func (c *caseImpl) awaitTask(ctx workflow.Context, step definitions.Step, id string) error {
	done := func() bool { return !c.task(id).Active() }
	for {
		at, act := c.nextTaskDeadline(step, c.task(id))
		if act == nil {
			return c.await(ctx, done)
		}
		if wait := at.Sub(workflow.Now(ctx)); wait > 0 {
			ok, err := c.awaitWithTimeout(ctx, wait, done)
			if err != nil || ok {
				return err
			}
		} else if done() {
			return nil
		}
		act(ctx, step, c.task(id))
	}
}

// taskDeadlineAction is what happens to a task when a deadline passes.
type taskDeadlineAction func(ctx workflow.Context, step definitions.Step, t *ozgflow.Task)

// nextTaskDeadline returns the next reminder or escalation still due for the
// task, or a nil action when none is left.
func (c *caseImpl) nextTaskDeadline(step definitions.Step, t *ozgflow.Task) (time.Time, taskDeadlineAction) {
	if t.DueAt.IsZero() {
		return time.Time{}, nil
	}
	if step.RemindBefore > 0 && t.RemindedAt.IsZero() && t.EscalatedAt.IsZero() {
		return t.DueAt.Add(-time.Duration(step.RemindBefore)), c.remind
	}
	if step.Escalation != nil && t.EscalatedAt.IsZero() {
		return t.DueAt.Add(time.Duration(step.Escalation.After)), c.escalate
	}
	return time.Time{}, nil
}

// remind notes a reminder to the task's assignee, or to its queue while
// nobody holds it.
func (c *caseImpl) remind(ctx workflow.Context, _ definitions.Step, t *ozgflow.Task) {
	t.RemindedAt = workflow.Now(ctx).UTC()
	to := "queue:" + t.Queue
	if t.Assignee != "" {
		to = t.Assignee
	}
	c.audit(ctx, "system", ozgflow.AuditReminded, t.ID, "due "+locale.DE.Deadline(t.DueAt)+", reminder to "+to)
	c.touch()
}

// escalate raises an overdue task's priority and moves it to the
// supervisors' queue, if the step names one.
func (c *caseImpl) escalate(ctx workflow.Context, step definitions.Step, t *ozgflow.Task) {
	e := step.Escalation
	t.EscalatedAt = workflow.Now(ctx).UTC()
	priority := e.Priority
	if priority <= t.Priority {
		priority = t.Priority + 1
	}
	t.Priority = priority
	detail := "priority raised"
	if e.Queue != "" && e.Queue != t.Queue {
		t.Queue = e.Queue
		detail += ", moved to queue " + e.Queue
	}
	c.audit(ctx, "system", ozgflow.AuditEscalated, t.ID, detail)
	c.touch()
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
		return nil, refuse(ozgflow.ENOTFOUND, ozgflow.ReasonTaskNotFound, "Task %s not found.", id)
	case c.state.Status.Final():
		return nil, refuse(ozgflow.ECONFLICT, ozgflow.ReasonCaseClosed, "The case is already %s.", string(c.state.Status))
	case !t.Active():
		return nil, refuse(ozgflow.ECONFLICT, ozgflow.ReasonTaskFinished, "The task is already %s.", t.Status)
	}
	return t, nil
}

// workableTask is an active task that is not waiting for approval.
func (c *caseImpl) workableTask(id string) (*ozgflow.Task, error) {
	t, err := c.activeTask(id)
	if err == nil && t.Status == ozgflow.TaskApproval {
		return nil, refuse(ozgflow.ECONFLICT, ozgflow.ReasonAwaitsApproval, "The decision proposed by %s waits for approval by a second case worker.", t.Proposal.By)
	}
	return t, err
}

// closeTasks ends every task still waiting, e.g. after a withdrawal.
func (c *caseImpl) closeTasks(status string) {
	for i := range c.state.Tasks {
		if c.state.Tasks[i].Active() {
			c.state.Tasks[i].Status = status
		}
	}
}

// audit records who did what to the case.
func (c *caseImpl) audit(ctx workflow.Context, by, action, taskID, detail string) {
	c.state.Audit = append(c.state.Audit, ozgflow.AuditEntry{
		At: workflow.Now(ctx).UTC(), By: by, Action: action, TaskID: taskID, Detail: detail,
	})
}

// awaitAnswer waits for the applicant's answer to the open information
// request. With an answer deadline the applicant is reminded, and when the
// deadline passes the step's onNoAnswer rejects or cancels the case.
func (c *caseImpl) awaitAnswer(ctx workflow.Context, step definitions.Step) error {
	answered := func() bool { return c.openRequest() == nil }
	req := c.openRequest()
	if req == nil || req.DueAt.IsZero() || step.OnNoAnswer == "" && step.AnswerReminder <= 0 {
		return c.await(ctx, answered)
	}
	if step.AnswerReminder > 0 {
		remindAt := req.AskedAt.Add(time.Duration(step.AnswerReminder))
		ok, err := c.awaitWithTimeout(ctx, max(remindAt.Sub(workflow.Now(ctx)), time.Millisecond), answered)
		if err != nil || ok {
			return err
		}
		req = c.openRequest()
		req.RemindedAt = workflow.Now(ctx).UTC()
		c.notify(ctx, definitions.NoticeAnswerReminder, definitions.NoticeData{Question: req.Question, Deadline: locale.DE.Deadline(req.DueAt)})
		c.audit(ctx, "system", ozgflow.AuditAnswerReminded, "", "")
		c.touch()
	}
	if step.OnNoAnswer == "" {
		return c.await(ctx, answered)
	}
	ok, err := c.awaitWithTimeout(ctx, max(req.DueAt.Sub(workflow.Now(ctx)), time.Millisecond), answered)
	if err != nil || ok {
		return err
	}
	req = c.openRequest()
	req.ExpiredAt = workflow.Now(ctx).UTC()
	c.audit(ctx, "system", ozgflow.AuditAnswerExpired, "", step.OnNoAnswer)
	c.touch()
	switch step.OnNoAnswer {
	case definitions.NoAnswerReject:
		c.decide(ctx, ozgflow.OutcomeReject, "rule:"+step.ID, "Die Frist für Ihre Antwort ist am "+locale.DE.Deadline(req.DueAt)+" abgelaufen.")
	case definitions.NoAnswerCancel:
		c.state.Status = ozgflow.StatusCancelled
		c.closeTasks(ozgflow.TaskCancelled)
		c.notify(ctx, definitions.NoticeAnswerExpired, definitions.NoticeData{Question: req.Question, Deadline: locale.DE.Deadline(req.DueAt)})
	}
	return nil
}
