// Package reports writes reports for administrators: the case list as an
// Excel workbook, streamed row by row so that 100,000 cases need no more
// memory than ten.
package reports

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/locale"
)

// CaseSource yields the cases of an authority one by one.
type CaseSource interface {
	EachCase(ctx context.Context, authority string, fn func(ozgflow.Case) error) error
}

// Filter narrows a case list; empty fields match everything.
type Filter struct {
	Authority string
	// AuthorityName is how the list names the authority; the key when empty.
	AuthorityName string
	Service       string         // LeiKa key
	Status        ozgflow.Status // one status
	From, To      time.Time      // submitted in [From, To)
}

// Matches reports whether a case passes the filter.
func (f Filter) Matches(c ozgflow.Case) bool {
	return (f.Service == "" || c.Service == f.Service) &&
		(f.Status == "" || c.Status == f.Status) &&
		(f.From.IsZero() || !c.SubmittedAt.Before(f.From)) &&
		(f.To.IsZero() || c.SubmittedAt.Before(f.To))
}

// caseColumns are the headers of the sheet Vorgänge. The list carries no
// personal data: case number, service, status, dates, fee and decision.
var caseColumns = []string{"Vorgangsnummer", "Leistung", "LeiKa", "Behörde", "Status", "Eingang",
	"Entscheidung", "Entschieden am", "Bearbeitungsdauer (Stunden)", "Gebühr (EUR)", "Zahlung",
	"Prozessvariante", "Version", "Offene Aufgaben"}

// WriteCases streams the cases that match f as an .xlsx workbook with one
// sheet, Vorgänge, and returns how many rows it wrote.
func WriteCases(ctx context.Context, w io.Writer, src CaseSource, f Filter) (int, error) {
	book := excelize.NewFile()
	defer book.Close()
	const sheet = "Vorgänge"
	if err := book.SetSheetName("Sheet1", sheet); err != nil {
		return 0, err
	}
	sw, err := book.NewStreamWriter(sheet)
	if err != nil {
		return 0, err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return 0, err
	}
	header := make([]any, len(caseColumns))
	for i, h := range caseColumns {
		header[i] = h
	}
	if err := sw.SetRow("A1", header); err != nil {
		return 0, err
	}
	dates, err := DateStyle(book)
	if err != nil {
		return 0, err
	}
	rows := 0
	row := make([]any, len(caseColumns))
	err = src.EachCase(ctx, f.Authority, func(c ozgflow.Case) error {
		if !f.Matches(c) {
			return nil
		}
		fillRow(row, c, f.AuthorityName, dates)
		rows++
		cell, _ := excelize.CoordinatesToCellName(1, rows+1)
		return sw.SetRow(cell, row)
	})
	if err != nil {
		return rows, fmt.Errorf("case list: %w", err)
	}
	if err := sw.Flush(); err != nil {
		return rows, err
	}
	if _, err := book.WriteTo(w); err != nil {
		return rows, fmt.Errorf("write case list: %w", err)
	}
	return rows, nil
}

// fillRow puts one case into row, reusing its slice: statuses in German,
// dates as date cells in German local time, durations in hours to a tenth.
func fillRow(row []any, c ozgflow.Case, authorityName string, dates int) {
	for i := range row {
		row[i] = nil
	}
	if authorityName == "" {
		authorityName = c.Authority
	}
	row[0], row[1], row[2], row[3] = c.ID, c.ServiceName, c.Service, authorityName
	row[4] = locale.DE.CaseStatusShort(c.Status)
	row[5] = DateCell(c.SubmittedAt, dates)
	if d := c.Decision; d != nil {
		row[6] = locale.DE.Decision(d.Outcome)
		row[7] = DateCell(d.At, dates)
		row[8] = hours(d.At.Sub(c.SubmittedAt))
	}
	if p := c.Payment; p != nil {
		row[9] = float64(p.Amount) / 100
		row[10] = locale.DE.PaymentStatus(p.Status)
	}
	row[11], row[12] = c.DefinitionID, c.DefinitionVersion
	row[13] = len(c.OpenTasks())
}
