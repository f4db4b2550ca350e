package reports

import (
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ozgflow/ozgflow/locale"
)

// Dates in the workbooks are real date cells in German local time: Excel
// keeps no time zone, so a moment is written as the wall clock in Berlin and
// formatted the German way, and a spreadsheet can sort, filter and compute
// with it.

// dateTimeFormat is how date cells read: 20.11.2026 10:30.
const dateTimeFormat = "dd.mm.yyyy hh:mm"

// DateStyle adds the style of date cells to a workbook.
func DateStyle(book *excelize.File) (int, error) {
	f := dateTimeFormat
	return book.NewStyle(&excelize.Style{CustomNumFmt: &f})
}

// DateCell is the cell of a moment in German local time with the date
// style; nil (an empty cell) for the zero time.
func DateCell(t time.Time, style int) any {
	if t.IsZero() {
		return nil
	}
	return excelize.Cell{StyleID: style, Value: BerlinWallClock(t)}
}

// BerlinWallClock is the moment's wall clock in Berlin as a time in UTC,
// which is what excelize turns into a date serial unchanged.
func BerlinWallClock(t time.Time) time.Time {
	b := t.In(locale.Berlin)
	return time.Date(b.Year(), b.Month(), b.Day(), b.Hour(), b.Minute(), b.Second(), 0, time.UTC)
}
