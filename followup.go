package ozgflow

import "time"

// UpdateFollowUp sets or clears a task's follow-up date (Wiedervorlage).
const UpdateFollowUp = "follow-up"

// Audit actions of follow-ups: set, cleared, and come back on the day.
const (
	AuditFollowUpSet     = "follow_up_set"
	AuditFollowUpCleared = "follow_up_cleared"
	AuditFollowUpDue     = "follow_up_due"
)

// FollowUpLayout is how a follow-up's day is written: a calendar date,
// counted in Europe/Berlin.
const FollowUpLayout = "2006-01-02"

// MaxFollowUpAhead bounds how far ahead a follow-up may be set.
const MaxFollowUpAhead = 2 * 366 * 24 * time.Hour

// FollowUp is a case worker's follow-up date on a task (Wiedervorlage):
// on that day, at the start of the day in Europe/Berlin, a workflow timer
// brings the task back to the top of the Arbeitskorb, marked. The note is
// internal: it never reaches the applicant.
type FollowUp struct {
	// Date is the day as the case worker chose it (2006-01-02).
	Date string `json:"date"`
	// At is the start of that day in Europe/Berlin, when the timer fires.
	At    time.Time `json:"at"`
	Note  string    `json:"note,omitempty"`
	By    string    `json:"by"`
	SetAt time.Time `json:"setAt"`
	// DueSince is when the timer fired; zero before.
	DueSince time.Time `json:"dueSince,omitzero"`
}

// Due reports whether the follow-up's day has come: the timer fired.
func (f *FollowUp) Due() bool { return f != nil && !f.DueSince.IsZero() }

// SetFollowUp is a case worker's request to set (Date) or, with an empty
// Date, clear the follow-up of a task.
type SetFollowUp struct {
	TaskID string `json:"taskId"`
	User   string `json:"user"`
	Date   string `json:"date,omitempty"`
	Note   string `json:"note,omitempty"`
}

// FollowUpDue reports whether the task's follow-up came back and still
// waits for the case worker: such tasks lead the Arbeitskorb's list.
func (t Task) FollowUpDue() bool { return t.Active() && t.FollowUp.Due() }
