package workflows

import (
	"slices"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
)

// paidGewerbe starts a Gewerbeanmeldung whose fee is paid a minute in; its
// review task is created then, on Monday 23 November 2026 at 09:01 UTC.
func paidGewerbe(t *testing.T, authority string, change func(review *definitions.Step)) *harness {
	t.Helper()
	def := definition(t, "gewerbeanmeldung", authority)
	for i := range def.Steps {
		if def.Steps[i].ID == "review" && change != nil {
			change(&def.Steps[i])
		}
	}
	if err := def.Validate(); err != nil {
		t.Fatalf("test definition invalid: %v", err)
	}
	h := newHarness(t, def, gewerbeData)
	h.expectPayment()
	h.expectSealAndDelivery()
	h.at(time.Minute, func() { h.signalPayment("pay-1", ozgflow.PaymentPayed) })
	return h
}

// state queries the running case.
func (h *harness) state() ozgflow.Case {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(ozgflow.QueryState)
	if err != nil {
		h.t.Fatalf("query: %v", err)
	}
	var c ozgflow.Case
	if err := v.Get(&c); err != nil {
		h.t.Fatal(err)
	}
	return c
}

// sequence runs each fn a minute after the previous one, starting at start,
// so that each sees the updates of the ones before applied.
func (h *harness) sequence(start time.Duration, fns ...func()) {
	for i, fn := range fns {
		h.at(start+time.Duration(i)*time.Minute, fn)
	}
}

func actions(c ozgflow.Case) []string {
	var out []string
	for _, a := range c.Audit {
		out = append(out, a.Action)
	}
	return out
}

func TestTaskDueInSaxonWorkingDaysIsRemindedAndEscalated(t *testing.T) {
	h := paidGewerbe(t, dresden, nil)                           // Dresden: 5 working days, reminder 2 days before, escalation 1 day after
	wantDue := time.Date(2026, 11, 30, 22, 59, 59, 0, time.UTC) // Monday 30.11., 23:59:59 German time
	h.sequence(time.Hour, func() {
		h.update(ozgflow.UpdateClaim, "", ozgflow.TaskAction{TaskID: "c1.review.1", User: "sb-dresden"})
	}, func() {
		task := h.state().Tasks[0]
		if !task.DueAt.Equal(wantDue) {
			t.Errorf("due %s, want %s", task.DueAt, wantDue)
		}
		if !task.RemindedAt.IsZero() || !task.EscalatedAt.IsZero() {
			t.Errorf("reminded or escalated too early: %+v", task)
		}
	})
	h.at(6*24*time.Hour, func() { // Sunday 29.11.: the reminder is out, no escalation yet
		c := h.state()
		task := c.Tasks[0]
		if !task.RemindedAt.Equal(wantDue.Add(-48*time.Hour)) || !task.EscalatedAt.IsZero() {
			t.Errorf("on Sunday: reminded %s escalated %s", task.RemindedAt, task.EscalatedAt)
		}
		if i := slices.IndexFunc(c.Audit, func(a ozgflow.AuditEntry) bool { return a.Action == ozgflow.AuditReminded }); i < 0 ||
			c.Audit[i].Detail != "due 30.11.2026 23:59 Uhr, reminder to sb-dresden" {
			t.Errorf("audit %+v, want a reminder to sb-dresden", c.Audit)
		}
	})
	h.at(9*24*time.Hour, func() { // Wednesday 2.12.: overdue by more than a day
		task := h.state().Tasks[0]
		if !task.EscalatedAt.Equal(wantDue.Add(24*time.Hour)) || task.Priority != 3 || task.Queue != "gewerbe-leitung" {
			t.Errorf("escalation: %+v", task)
		}
		if task.Assignee != "sb-dresden" || task.Status != ozgflow.TaskClaimed {
			t.Errorf("the escalated task lost its assignee: %+v", task)
		}
		h.update(ozgflow.UpdateComplete, "", ozgflow.CompleteTask{TaskID: "c1.review.1", User: "sb-dresden", Outcome: "approve"})
	})
	got := h.run()
	if got.Status != ozgflow.StatusApproved {
		t.Fatalf("status %s", got.Status)
	}
	if want := []string{"claimed", "reminded", "escalated", "decided"}; !slices.Equal(actions(got), want) {
		t.Errorf("audit %v, want %v", actions(got), want)
	}
}

func TestTaskWithoutDueDateHasNoTimers(t *testing.T) {
	h := paidGewerbe(t, dresden, func(s *definitions.Step) {
		s.DueWorkingDays, s.RemindBefore, s.Escalation = 0, 0, nil
	})
	h.at(30*24*time.Hour, func() {
		task := h.state().Tasks[0]
		if !task.DueAt.IsZero() || !task.RemindedAt.IsZero() || !task.EscalatedAt.IsZero() {
			t.Errorf("task %+v", task)
		}
		h.update(ozgflow.UpdateComplete, "", ozgflow.CompleteTask{TaskID: "c1.review.1", User: "sb", Outcome: "reject"})
	})
	if got := h.run(); got.Status != ozgflow.StatusRejected {
		t.Fatalf("status %s", got.Status)
	}
}

func TestFourEyesNeedsASecondCaseWorker(t *testing.T) {
	h := paidGewerbe(t, leipzig, nil)
	h.sequence(time.Hour, func() {
		h.update(ozgflow.UpdateClaim, "", ozgflow.TaskAction{TaskID: "c1.review.1", User: "anna"})
		h.update(ozgflow.UpdateComplete, "", ozgflow.CompleteTask{TaskID: "c1.review.1", User: "anna", Outcome: "reject", Comment: "Unvollständig"})
	}, func() {
		c := h.state()
		if task := c.Tasks[0]; task.Status != ozgflow.TaskApproval || task.Proposal == nil || task.Proposal.By != "anna" || c.Decision != nil {
			t.Fatalf("after the proposal: task %+v decision %+v", task, c.Decision)
		}
		// Waiting for approval: nobody claims, releases or decides it again.
		h.update(ozgflow.UpdateClaim, ozgflow.ECONFLICT, ozgflow.TaskAction{TaskID: "c1.review.1", User: "ben"})
		h.update(ozgflow.UpdateComplete, ozgflow.ECONFLICT, ozgflow.CompleteTask{TaskID: "c1.review.1", User: "ben", Outcome: "approve"})
		h.update(ozgflow.UpdateApprove, ozgflow.EFORBIDDEN, ozgflow.Approval{TaskID: "c1.review.1", User: "anna", Approve: true})
		h.update(ozgflow.UpdateApprove, ozgflow.EUNPROCESSABLE, ozgflow.Approval{TaskID: "c1.review.1", User: "ben"})
		h.update(ozgflow.UpdateApprove, "", ozgflow.Approval{TaskID: "c1.review.1", User: "ben", Comment: "Bitte Begründung ergänzen"})
	}, func() {
		task := h.state().Tasks[0]
		if task.Status != ozgflow.TaskClaimed || task.Assignee != "anna" || task.Note != "Bitte Begründung ergänzen" || task.Proposal != nil {
			t.Fatalf("after the refusal: %+v", task)
		}
		h.update(ozgflow.UpdateApprove, ozgflow.ECONFLICT, ozgflow.Approval{TaskID: "c1.review.1", User: "ben", Approve: true})
		h.update(ozgflow.UpdateComplete, "", ozgflow.CompleteTask{TaskID: "c1.review.1", User: "anna", Outcome: "reject", Comment: "Unvollständig: Tätigkeit fehlt"})
		h.update(ozgflow.UpdateApprove, "", ozgflow.Approval{TaskID: "c1.review.1", User: "ben", Approve: true})
	})
	got := h.run()
	if got.Status != ozgflow.StatusRejected || got.Decision.By != "anna" || got.Decision.ApprovedBy != "ben" ||
		got.Decision.Comment != "Unvollständig: Tätigkeit fehlt" {
		t.Fatalf("status %s decision %+v", got.Status, got.Decision)
	}
	if want := []string{"claimed", "proposed", "approval_denied", "proposed", "approved"}; !slices.Equal(actions(got), want) {
		t.Errorf("audit %v, want %v", actions(got), want)
	}
}

func TestHandoverToColleagueAndQueue(t *testing.T) {
	h := paidGewerbe(t, dresden, nil)
	h.sequence(time.Hour, func() {
		h.update(ozgflow.UpdateClaim, "", ozgflow.TaskAction{TaskID: "c1.review.1", User: "anna"})
		h.update(ozgflow.UpdateHandover, ozgflow.ECONFLICT, ozgflow.Handover{TaskID: "c1.review.1", User: "carl", To: "carl"})
		h.update(ozgflow.UpdateHandover, ozgflow.EUNPROCESSABLE, ozgflow.Handover{TaskID: "c1.review.1", User: "anna"})
		h.update(ozgflow.UpdateHandover, ozgflow.EUNPROCESSABLE, ozgflow.Handover{TaskID: "c1.review.1", User: "anna", Queue: "hundesteuer"})
		h.update(ozgflow.UpdateHandover, "", ozgflow.Handover{TaskID: "c1.review.1", User: "anna", To: "ben", Note: "Kennt den Betrieb"})
	}, func() {
		task := h.state().Tasks[0]
		if task.Assignee != "ben" || task.Status != ozgflow.TaskClaimed || task.Note != "Kennt den Betrieb" {
			t.Fatalf("after the hand-over to ben: %+v", task)
		}
		h.update(ozgflow.UpdateHandover, "", ozgflow.Handover{TaskID: "c1.review.1", User: "ben", Queue: "gewerbe-leitung", Note: "Bitte entscheiden"})
	}, func() {
		task := h.state().Tasks[0]
		if task.Assignee != "" || task.Status != ozgflow.TaskOpen || task.Queue != "gewerbe-leitung" {
			t.Fatalf("after the hand-over to the queue: %+v", task)
		}
		h.update(ozgflow.UpdateClaim, "", ozgflow.TaskAction{TaskID: "c1.review.1", User: "lea"})
		h.update(ozgflow.UpdateComplete, "", ozgflow.CompleteTask{TaskID: "c1.review.1", User: "lea", Outcome: "approve"})
	})
	got := h.run()
	if got.Decision.By != "lea" {
		t.Fatalf("decision %+v", got.Decision)
	}
	var details []string
	for _, a := range got.Audit {
		if a.Action == ozgflow.AuditHandedOver {
			details = append(details, a.By+" "+a.Detail)
		}
	}
	want := []string{"anna to ben: Kennt den Betrieb", "ben to queue gewerbe-leitung: Bitte entscheiden"}
	if !slices.Equal(details, want) {
		t.Errorf("hand-overs %q, want %q", details, want)
	}
}

func TestUnansweredQuestionIsRemindedThenDecided(t *testing.T) {
	ask := func(h *harness) {
		h.sequence(time.Hour, func() {
			h.update(ozgflow.UpdateComplete, "", ozgflow.CompleteTask{TaskID: "c1.review.1", User: "sb",
				Outcome: "request_information", Comment: "Bitte Handelsregisterauszug nachreichen."})
		}, func() {
			req := h.state().Requests[0]
			if want := h.state().Requests[0].AskedAt.Add(14 * 24 * time.Hour); !req.DueAt.Equal(want) {
				t.Errorf("answer due %s, want %s", req.DueAt, want)
			}
		})
	}
	t.Run("rejected", func(t *testing.T) {
		h := paidGewerbe(t, dresden, nil) // answerDeadline 14d, answerReminder 7d, onNoAnswer reject
		ask(h)
		h.at(8*24*time.Hour, func() {
			c := h.state()
			if c.Status != ozgflow.StatusInformationRequested || c.Requests[0].RemindedAt.IsZero() {
				t.Errorf("after a week: status %s request %+v", c.Status, c.Requests[0])
			}
			if last := c.Timeline[len(c.Timeline)-1]; last.Title != "Erinnerung an Ihre Antwort" {
				t.Errorf("last notice %+v, want the reminder", last)
			}
		})
		got := h.run()
		if got.Status != ozgflow.StatusRejected || got.Decision.By != "rule:review" || got.Requests[0].ExpiredAt.IsZero() {
			t.Fatalf("status %s decision %+v request %+v", got.Status, got.Decision, got.Requests[0])
		}
		if len(got.OpenTasks()) != 0 {
			t.Errorf("open tasks left: %+v", got.OpenTasks())
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		h := paidGewerbe(t, dresden, func(s *definitions.Step) { s.OnNoAnswer = definitions.NoAnswerCancel })
		h.in.Definition.Notices[definitions.NoticeAnswerExpired] = definitions.NoticeTemplate{
			Title: "Antrag abgebrochen", Text: "Ohne Antwort bis {{.Deadline}} wurde der Antrag abgebrochen."}
		ask(h)
		got := h.run()
		if got.Status != ozgflow.StatusCancelled || got.Decision != nil {
			t.Fatalf("status %s decision %+v", got.Status, got.Decision)
		}
		if last := got.Timeline[len(got.Timeline)-1]; last.Title != "Antrag abgebrochen" {
			t.Errorf("last notice %+v", last)
		}
	})
	t.Run("answered in time", func(t *testing.T) {
		h := paidGewerbe(t, dresden, nil)
		ask(h)
		h.at(10*24*time.Hour, func() { h.update(ozgflow.UpdateRespond, "", ozgflow.Response{Text: "Liegt bei."}) })
		h.at(11*24*time.Hour, func() {
			h.update(ozgflow.UpdateComplete, "", ozgflow.CompleteTask{TaskID: "c1.review.2", User: "sb", Outcome: "approve"})
		})
		got := h.run()
		if got.Status != ozgflow.StatusApproved || !got.Requests[0].ExpiredAt.IsZero() {
			t.Fatalf("status %s request %+v", got.Status, got.Requests[0])
		}
	})
}
