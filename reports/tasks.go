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
// carries no personal data.
var taskColumns = []string{"Aufgabe", "Vorgangsnummer", "Titel", "Leistung", "Arbeitskorb", "Status",
	"Bearbeitet von", "Priorität", "Angelegt", "Fällig", "Überfällig"}

// WriteTasks writes the given tasks as an .xlsx workbook with one sheet,
// Aufgaben; serviceName names a LeiKa key.
func WriteTasks(w io.Writer, tasks []ozgflow.Task, serviceName func(string) string, now time.Time) error {
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
		row := []any{t.ID, t.CaseID, t.Title, serviceName(t.Service), t.Queue, locale.DE.TaskStatus(t.Status),
			t.Assignee, t.Priority, DateCell(t.CreatedAt, dates), due, overdue}
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
