package casework

import (
	"time"

	"github.com/ozgflow/ozgflow"
)

// FollowUpAt sets a task's follow-up (Wiedervorlage) on a day, with an
// internal note; an empty date clears it.
type FollowUpAt struct {
	Date string `json:"date"`
	Note string `json:"note"`
}

// checkFollowUp refuses a date that is none before the case's workflow is
// asked; the workflow decides whether the day lies ahead.
func checkFollowUp(req FollowUpAt) error {
	if req.Date == "" {
		return nil
	}
	if _, err := time.Parse(ozgflow.FollowUpLayout, req.Date); err != nil {
		e := ozgflow.Refuse(ozgflow.EUNPROCESSABLE, ozgflow.ReasonFollowUpDate, "The follow-up date is not a date (2006-01-02).", req.Date)
		e.Fields = []ozgflow.FieldError{{Pointer: "/date", Detail: "must be a date, 2006-01-02"}}
		return e
	}
	return nil
}

// followUpUpdate is the follow-up update's argument.
func followUpUpdate(taskID, user string, req FollowUpAt) ozgflow.SetFollowUp {
	return ozgflow.SetFollowUp{TaskID: taskID, User: user, Date: req.Date, Note: req.Note}
}
