package staff

// Follow-ups (Wiedervorlage) on the pages: the form on the case view that
// sets or clears a task's follow-up, and its mark in the task list. Both
// are partials of their own (templates/followup.html), added to the pages
// that call them.

import (
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/locale"
)

func init() {
	// The case view's follow-up forms, beside its other task forms.
	for action, flash := range map[string]string{"wiedervorlage": "wiedervorlage", "wiedervorlage-entfernen": "wiedervorlage-entfernt"} {
		taskForms[action], taskActions[action], taskFlash[action] = ozgflow.UpdateFollowUp, "task.follow-up", flash
	}
	funcs := template.FuncMap{
		"germanDay": func(t time.Time) string { return t.In(locale.Berlin).Format("02.01.2006") },
		"tomorrow":  func() string { return time.Now().In(locale.Berlin).AddDate(0, 0, 1).Format("2006-01-02") },
	}
	for _, name := range []string{"workspace", "workspace_case"} {
		template.Must(pages[name].Funcs(funcs).ParseFS(templateFS, "templates/followup.html"))
	}
}

// followUpForm reads the follow-up form: the day and the internal note;
// "wiedervorlage-entfernen" clears it.
func followUpForm(action string, r *http.Request) casework.FollowUpAt {
	if action == "wiedervorlage-entfernen" {
		return casework.FollowUpAt{}
	}
	return casework.FollowUpAt{Date: strings.TrimSpace(r.PostFormValue("date")), Note: strings.TrimSpace(r.PostFormValue("note"))}
}
