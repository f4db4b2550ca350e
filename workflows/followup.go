package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/locale"
)

// Follow-ups (Wiedervorlage): a case worker sets a day on a task, with an
// optional internal note; at the start of that day in Europe/Berlin a
// timer brings the task back: it is marked due, and the projection puts it
// at the top of the Arbeitskorb. Setting another day, clearing it, or the
// task's end cancels the timer.

// versionFollowUp guards the timer a follow-up starts: a history recorded
// before follow-ups existed holds no follow-up update, so the guard never
// takes its old branch there; it is the marker that keeps a later change
// of the timer replayable.
const versionFollowUp = "follow-up-timer"

// followUpTimer is the first version of the follow-up timer.
const followUpTimer workflow.Version = 1

// registerFollowUpUpdate registers the follow-up update on the tasks.
func (c *caseImpl) registerFollowUpUpdate(ctx workflow.Context) error {
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ozgflow.UpdateFollowUp, c.setFollowUp,
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, f ozgflow.SetFollowUp) error {
			return c.validateFollowUp(workflow.Now(ctx), f)
		}}); err != nil {
		return fmt.Errorf("register follow-up: %w", err)
	}
	return nil
}

// validateFollowUp accepts the holder of an active task, or anyone while
// nobody holds it, and a day from tomorrow (Berlin) up to two years ahead;
// an empty date clears.
func (c *caseImpl) validateFollowUp(now time.Time, f ozgflow.SetFollowUp) error {
	t, err := c.activeTask(f.TaskID)
	if err != nil {
		return err
	}
	if t.Assignee != "" && t.Assignee != f.User {
		return refuse(ozgflow.ECONFLICT, ozgflow.ReasonTaskClaimed, "The task is claimed by %s.", t.Assignee)
	}
	if f.Date == "" {
		return nil
	}
	at, ok := followUpStart(f.Date)
	switch {
	case !ok:
		return refuse(ozgflow.EUNPROCESSABLE, ozgflow.ReasonFollowUpDate, "The follow-up date %q is not a date (2006-01-02).", f.Date)
	case !at.After(now):
		return refuse(ozgflow.EUNPROCESSABLE, ozgflow.ReasonFollowUpPast, "The follow-up date %s is not in the future.", germanDate(at))
	case at.Sub(now) > ozgflow.MaxFollowUpAhead:
		return refuse(ozgflow.EUNPROCESSABLE, ozgflow.ReasonFollowUpFar, "The follow-up date %s is more than two years ahead.", germanDate(at))
	}
	return nil
}

// followUpStart is the start of the day date names, in Europe/Berlin.
func followUpStart(date string) (time.Time, bool) {
	day, err := time.ParseInLocation(ozgflow.FollowUpLayout, date, locale.Berlin)
	if err != nil {
		return time.Time{}, false
	}
	return day.UTC(), true
}

func germanDate(t time.Time) string { return t.In(locale.Berlin).Format("02.01.2006") }

// setFollowUp sets or clears the follow-up and, for a set one, starts the
// timer that brings the task back on the day.
func (c *caseImpl) setFollowUp(ctx workflow.Context, f ozgflow.SetFollowUp) (ozgflow.Task, error) {
	t := c.task(f.TaskID)
	if c.followUps == nil {
		c.followUps = map[string]int{}
	}
	c.followUps[t.ID]++ // a timer still waiting for an earlier day ends
	if f.Date == "" {
		t.FollowUp = nil
		c.audit(ctx, f.User, ozgflow.AuditFollowUpCleared, t.ID, "")
		return c.publishTask(ctx, t), nil
	}
	at, _ := followUpStart(f.Date)
	t.FollowUp = &ozgflow.FollowUp{Date: f.Date, At: at, Note: f.Note, By: f.User, SetAt: workflow.Now(ctx).UTC()}
	detail := germanDate(at)
	if f.Note != "" {
		detail += ": " + f.Note
	}
	c.audit(ctx, f.User, ozgflow.AuditFollowUpSet, t.ID, detail)
	if workflow.GetVersion(ctx, versionFollowUp, workflow.DefaultVersion, followUpTimer) >= followUpTimer {
		c.awaitFollowUp(ctx, t.ID, c.followUps[t.ID], at)
	}
	return c.publishTask(ctx, t), nil
}

// awaitFollowUp waits in a coroutine of its own until at, then marks the
// task's follow-up due and publishes it. It ends without a mark, and
// cancels its timer, when the follow-up changes or the task ends first.
func (c *caseImpl) awaitFollowUp(ctx workflow.Context, taskID string, seq int, at time.Time) {
	superseded := func() bool {
		t := c.task(taskID)
		return t == nil || !t.Active() || c.followUps[taskID] != seq
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		if wait := at.Sub(workflow.Now(ctx)); wait > 0 {
			// A timer of its own, cancelled when the follow-up is
			// superseded, so that no timer of an old day stays behind.
			timerCtx, cancel := workflow.WithCancel(ctx)
			timer := workflow.NewTimer(timerCtx, wait)
			err := workflow.Await(ctx, func() bool { return timer.IsReady() || superseded() })
			if !timer.IsReady() {
				cancel()
			}
			if err != nil {
				return
			}
		}
		if superseded() {
			return
		}
		t := c.task(taskID)
		t.FollowUp.DueSince = workflow.Now(ctx).UTC()
		c.audit(ctx, "system", ozgflow.AuditFollowUpDue, t.ID, t.FollowUp.Note)
		c.touch()
		c.flushBeside(ctx)
	})
}
