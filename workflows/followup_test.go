package workflows

import (
	"slices"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
)

// followUpActions lists the follow-up entries of a case's audit.
func followUpActions(c ozgflow.Case) []string {
	var out []string
	for _, a := range c.Audit {
		switch a.Action {
		case ozgflow.AuditFollowUpSet, ozgflow.AuditFollowUpCleared, ozgflow.AuditFollowUpDue:
			out = append(out, a.Action+" "+a.Detail)
		}
	}
	return out
}

func TestFollowUpComesBackAtTheStartOfTheDayInBerlin(t *testing.T) {
	h := paidGewerbe(t, dresden, nil) // the task is created on Monday 23.11.2026, 09:01 UTC
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	at := func(when time.Time, fn func()) { h.at(when.Sub(start), fn) }
	follow := func(user, date, note string) ozgflow.SetFollowUp {
		return ozgflow.SetFollowUp{TaskID: "c1.review.1", User: user, Date: date, Note: note}
	}
	h.sequence(time.Hour, func() {
		h.update(ozgflow.UpdateClaim, "", ozgflow.TaskAction{TaskID: "c1.review.1", User: "anna"})
		h.update(ozgflow.UpdateFollowUp, ozgflow.EUNPROCESSABLE, follow("anna", "2026-11-23", "")) // today is not ahead
		h.update(ozgflow.UpdateFollowUp, ozgflow.EUNPROCESSABLE, follow("anna", "23.11.2026", ""))
		h.update(ozgflow.UpdateFollowUp, ozgflow.EUNPROCESSABLE, follow("anna", "2029-01-01", ""))
		h.update(ozgflow.UpdateFollowUp, ozgflow.ECONFLICT, follow("ben", "2026-11-26", "")) // anna holds it
		h.update(ozgflow.UpdateFollowUp, ozgflow.ENOTFOUND, ozgflow.SetFollowUp{TaskID: "c1.nope.1", User: "anna", Date: "2026-11-26"})
		h.update(ozgflow.UpdateFollowUp, "", follow("anna", "2026-11-26", "Gewerbezentralregister abfragen"))
	}, func() {
		task := h.state().Tasks[0]
		if task.FollowUp == nil || task.FollowUp.Date != "2026-11-26" || task.FollowUp.By != "anna" || task.FollowUp.Due() {
			t.Fatalf("follow-up after setting: %+v", task.FollowUp)
		}
		if want := time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC); !task.FollowUp.At.Equal(want) {
			t.Errorf("follow-up at %s, want %s (00:00 in Berlin)", task.FollowUp.At, want)
		}
		// An earlier day replaces it; the first day's timer must not fire.
		h.update(ozgflow.UpdateFollowUp, "", follow("anna", "2026-11-25", "Gewerbezentralregister abfragen"))
	})
	at(time.Date(2026, 11, 24, 22, 59, 0, 0, time.UTC), func() { // 23:59 in Berlin on the 24th
		if f := h.state().Tasks[0].FollowUp; f.Due() {
			t.Errorf("due a minute early: %+v", f)
		}
	})
	at(time.Date(2026, 11, 24, 23, 30, 0, 0, time.UTC), func() {
		task := h.state().Tasks[0]
		if !task.FollowUpDue() || !task.FollowUp.DueSince.Equal(time.Date(2026, 11, 24, 23, 0, 0, 0, time.UTC)) {
			t.Errorf("follow-up on the 25th: %+v", task.FollowUp)
		}
		if stored := h.store.get("c1").Tasks[0]; !stored.FollowUpDue() {
			t.Errorf("the projection does not know the follow-up came back: %+v", stored.FollowUp)
		}
	})
	at(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), func() {
		// The task still waits with its mark; a new day, then clearing it.
		h.update(ozgflow.UpdateFollowUp, "", follow("anna", "2026-11-28", ""))
	})
	at(time.Date(2026, 11, 26, 12, 1, 0, 0, time.UTC), func() {
		if f := h.state().Tasks[0].FollowUp; f == nil || f.Due() || f.Date != "2026-11-28" {
			t.Errorf("a new day must take the mark away until then: %+v", f)
		}
		h.update(ozgflow.UpdateFollowUp, "", follow("anna", "", ""))
	})
	at(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC), func() {
		if f := h.state().Tasks[0].FollowUp; f != nil {
			t.Errorf("cleared follow-up came back: %+v", f)
		}
		h.update(ozgflow.UpdateFollowUp, "", follow("anna", "2026-12-10", "nie fällig"))
		h.update(ozgflow.UpdateComplete, "", ozgflow.CompleteTask{TaskID: "c1.review.1", User: "anna", Outcome: "approve"})
		h.update(ozgflow.UpdateFollowUp, ozgflow.ECONFLICT, follow("anna", "2026-12-11", ""))
	})
	got := h.run()
	if got.Status != ozgflow.StatusApproved {
		t.Fatalf("status %s", got.Status)
	}
	want := []string{
		"follow_up_set 26.11.2026: Gewerbezentralregister abfragen",
		"follow_up_set 25.11.2026: Gewerbezentralregister abfragen",
		"follow_up_due Gewerbezentralregister abfragen",
		"follow_up_set 28.11.2026",
		"follow_up_cleared ",
		"follow_up_set 10.12.2026: nie fällig",
	}
	if got := followUpActions(got); !slices.Equal(got, want) {
		t.Errorf("follow-up trail\n got %q\nwant %q", got, want)
	}
}

func TestFollowUpOnAnOpenTaskByAnyoneOfTheQueue(t *testing.T) {
	h := paidGewerbe(t, leipzig, nil)
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	h.at(time.Hour, func() {
		h.update(ozgflow.UpdateFollowUp, "", ozgflow.SetFollowUp{TaskID: "c1.review.1", User: "ben", Date: "2026-11-24"})
	})
	h.at(time.Date(2026, 11, 23, 23, 0, 1, 0, time.UTC).Sub(start), func() {
		task := h.state().Tasks[0]
		if !task.FollowUpDue() || task.Status != ozgflow.TaskOpen {
			t.Errorf("open task's follow-up: %+v", task)
		}
		h.update(ozgflow.UpdateWithdraw, "", ozgflow.Withdrawal{})
	})
	if got := h.run(); got.Status != ozgflow.StatusWithdrawn || got.Tasks[0].FollowUpDue() {
		t.Fatalf("status %s task %+v", got.Status, got.Tasks[0])
	}
}
