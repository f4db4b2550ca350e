package reports

import (
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/locale"
)

// taskColumns are the headers of the sheet Aufgaben; like the case list it
// carries nothing of the applicant, only the name of the case worker who
// holds a task.
var taskColumns = []string{"Aufgabe", "Vorgangsnummer", "Titel", "Leistung", "Arbeitskorb", "Status",
	"Bearbeitet von", "Priorität", "Angelegt", "Fällig", "Überfällig"}

// TaskNames name what a task carries as keys, as people read them: its
// case's short number, its service, its queue and who holds it. A nil
// function leaves the key as it is.
type TaskNames struct {
	// CaseNumber is the short number of a case, e.g. GEW-2026-000123.
	CaseNumber func(caseID string) string
	// Service names a LeiKa key, e.g. Gewerbeanmeldung.
	Service func(leika string) string
	// Queue names an authority's queue, e.g. Gewerbeangelegenheiten.
	Queue func(authority, queue string) string
	// Person names a case worker by their subject.
	Person func(subject string) string
}

func nameWith(name func(string) string, key string) string {
	if name == nil || key == "" {
		return key
	}
	return name(key)
}

// WriteTasks writes the given tasks as an .xlsx workbook with one sheet,
// Aufgaben, with the keys they carry named by names.
func WriteTasks(w io.Writer, tasks []ozgflow.Task, names TaskNames, now time.Time) error {
	book := excelize.NewFile()
	defer book.Close()
	const sheet = "Aufgaben"
	if err := book.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := book.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	header := make([]any, len(taskColumns))
	for i, h := range taskColumns {
		header[i] = h
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	dates, err := DateStyle(book)
	if err != nil {
		return err
	}
	for i, t := range tasks {
		due := DateCell(t.DueAt, dates)
		overdue := "nein"
		if t.Overdue(now) {
			overdue = "ja"
		}
		queue := t.Queue
		if names.Queue != nil && queue != "" {
			queue = names.Queue(t.Authority, queue)
		}
		row := []any{t.ID, nameWith(names.CaseNumber, t.CaseID), t.Title, nameWith(names.Service, t.Service), queue,
			locale.DE.TaskStatus(t.Status), nameWith(names.Person, t.Assignee), t.Priority, DateCell(t.CreatedAt, dates), due, overdue}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, row); err != nil {
			return fmt.Errorf("task row %d: %w", i+2, err)
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return book.Write(w)
}
