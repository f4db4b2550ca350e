package reports_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/reports"
)

// The workbook of selected tasks names the queue, the holder, the service
// and the case as people read them, not by their keys.
func TestTaskWorkbookNamesQueueAndHolder(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	tasks := []ozgflow.Task{
		{ID: "c1.review.1", CaseID: "c1", Title: "Gewerbeanmeldung prüfen", Service: "99050035001000", Authority: leipzig,
			Queue: "gewerbe", Status: ozgflow.TaskClaimed, Assignee: "sb-leipzig", CreatedAt: at},
		{ID: "c2.review.1", CaseID: "c2", Title: "Gewerbeanmeldung prüfen", Service: "99050035001000", Authority: leipzig,
			Queue: "unbekannt", Status: ozgflow.TaskOpen, CreatedAt: at},
	}
	names := reports.TaskNames{
		CaseNumber: func(id string) string { return map[string]string{"c1": "GEW-2026-000001"}[id] },
		Service:    func(string) string { return "Gewerbeanmeldung" },
		Queue: func(authority, queue string) string {
			if authority == leipzig && queue == "gewerbe" {
				return "Gewerbeangelegenheiten"
			}
			return queue
		},
		Person: func(subject string) string { return map[string]string{"sb-leipzig": "Erika Muster"}[subject] },
	}
	var buf bytes.Buffer
	if err := reports.WriteTasks(&buf, tasks, names, at); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("Aufgaben")
	if len(rows) != 3 {
		t.Fatalf("rows = %v", rows)
	}
	for i, want := range []string{"c1.review.1", "GEW-2026-000001", "Gewerbeanmeldung prüfen", "Gewerbeanmeldung", "Gewerbeangelegenheiten",
		"In Bearbeitung", "Erika Muster"} {
		if got := rows[1][i]; got != want {
			t.Errorf("column %s of the claimed task: %q, want %q", rows[0][i], got, want)
		}
	}
	// An unassigned task says nobody holds it; a queue the authority does
	// not name keeps its key.
	if rows[2][4] != "unbekannt" || rows[2][6] != "" {
		t.Errorf("the open task's row: %q", rows[2])
	}
}
