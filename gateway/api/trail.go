package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/xuri/excelize/v2"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/locale"
	"github.com/ozgflow/ozgflow/records"
	"github.com/ozgflow/ozgflow/reports"
)

// The audit trail: case workers and administrators read the trail of a case
// they may see; the data protection role exports the whole trail, chosen by
// case, person and period, as CSV, xlsx or JSON.

// maxTrailExport bounds one export; a wider one is refused with the advice
// to narrow it.
const maxTrailExport = 100_000

// trailPage is how many entries are read from the database at a time.
const trailPage = 1000

// handleCaseTrail answers the trail of one case.
func (s *API) handleCaseTrail(w http.ResponseWriter, r *http.Request) {
	id := ozgflow.IdentityFrom(r.Context())
	caseID := mux.Vars(r)["id"]
	if _, err := s.cases.CaseFor(r.Context(), id, caseID); err != nil {
		s.errors.Write(w, r, err)
		return
	}
	entries, err := s.trail(r, records.TrailQuery{CaseID: caseID})
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"caseId": caseID, "entries": entries})
}

// handleTrailExport answers the trail chosen by case, person (actor),
// portal account and period, in the format asked for.
func (s *API) handleTrailExport(w http.ResponseWriter, r *http.Request) {
	q, format, err := web.TrailQueryOf(r)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	entries, err := s.trail(r, q)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	web.NoteCase(r.Context(), q.CaseID)
	web.NoteAccount(r.Context(), q.Account)
	web.NoteDetail(r.Context(), fmt.Sprintf("%s, %d entries", format, len(entries)))
	name := "protokoll-" + s.now().In(locale.Berlin).Format("2006-01-02")
	switch format {
	case "csv":
		body, err := TrailCSV(entries)
		if err != nil {
			s.errors.Write(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		_, _ = w.Write(body)
	case "xlsx":
		body, err := TrailWorkbook(entries)
		if err != nil {
			s.errors.Write(w, r, err)
			return
		}
		w.Header().Set("Content-Type", web.XLSXType)
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.xlsx"`)
		_, _ = w.Write(body)
	default:
		web.WriteJSON(w, http.StatusOK, map[string]any{"entries": entries})
	}
}

// trail reads every entry q selects, up to maxTrailExport.
func (s *API) trail(r *http.Request, q records.TrailQuery) ([]records.Entry, error) {
	if s.cases.Records == nil {
		return nil, ozgflow.Errorf(ozgflow.EUNAVAILABLE, "The audit trail is not available here.")
	}
	entries := []records.Entry{}
	q.Limit = trailPage
	for {
		page, err := s.cases.Records.Trail(r.Context(), q)
		if err != nil {
			s.logger.Error("Audit trail not read", "error", err)
			return nil, ozgflow.Errorf(ozgflow.EUNAVAILABLE, "The audit trail cannot be read just now.")
		}
		entries = append(entries, page...)
		if len(entries) > maxTrailExport {
			return nil, ozgflow.Errorf(ozgflow.EUNPROCESSABLE,
				"More than %d entries match; choose a case, a person or a shorter period.", maxTrailExport)
		}
		if len(page) < trailPage {
			return entries, nil
		}
		q.After = page[len(page)-1].ID
	}
}

// TrailColumns are the export's column headings.
var TrailColumns = []string{"Nr.", "Zeit", "Wer", "Rolle", "Behörde", "Vorgang", "Portalkonto", "Aktion", "Einzelheiten", "Adresse"}

// trailRow is an entry as a row of the export, its time in Europe/Berlin.
func trailRow(e records.Entry) []string {
	return []string{strconv.FormatInt(e.ID, 10), e.At.In(locale.Berlin).Format(time.RFC3339), e.Actor, e.Role, e.Authority,
		e.CaseID, e.Account, e.Action, e.Detail, e.Address}
}

// TrailCSV writes entries as CSV with German headings. Cells that a
// spreadsheet would take for a formula are quoted with an apostrophe.
func TrailCSV(entries []records.Entry) ([]byte, error) {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	if err := cw.Write(TrailColumns); err != nil {
		return nil, err
	}
	for _, e := range entries {
		row := trailRow(e)
		for i, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				row[i] = "'" + cell
			}
		}
		if err := cw.Write(row); err != nil {
			return nil, err
		}
	}
	cw.Flush()
	return buf.Bytes(), cw.Error()
}

// TrailWorkbook writes entries as an xlsx workbook with one sheet,
// "Protokoll", German headings in its first row.
func TrailWorkbook(entries []records.Entry) ([]byte, error) {
	book := excelize.NewFile()
	defer book.Close()
	const sheet = "Protokoll"
	if err := book.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	sw, err := book.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	header := make([]any, len(TrailColumns))
	for i, c := range TrailColumns {
		header[i] = c
	}
	if err := sw.SetRow("A1", header); err != nil {
		return nil, err
	}
	dates, err := reports.DateStyle(book)
	if err != nil {
		return nil, err
	}
	for n, e := range entries {
		row := trailRow(e)
		cells := make([]any, len(row))
		for i, c := range row {
			cells[i] = c
		}
		cells[0] = e.ID
		cells[1] = reports.DateCell(e.At, dates) // a date cell in German local time
		cell, _ := excelize.CoordinatesToCellName(1, n+2)
		if err := sw.SetRow(cell, cells); err != nil {
			return nil, err
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := book.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
