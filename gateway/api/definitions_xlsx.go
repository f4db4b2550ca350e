package api

import (
	"bytes"
	"mime"
	"net/http"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/definitions/xlsx"
	"github.com/ozgflow/ozgflow/gateway/web"
)

// xlsxType is the media type of Excel workbooks.
const xlsxType = web.XLSXType

// handleExportDefinitions writes the definitions, or those of one service
// (LeiKa key or slug), as an .xlsx workbook.
func (s *API) handleExportDefinitions(w http.ResponseWriter, r *http.Request, _ ozgflow.Identity) {
	cat := s.catalog.Snapshot()
	docs := casework.Authored(&cat)
	name := "ozgflow-definitionen.xlsx"
	if service := r.URL.Query().Get("service"); service != "" {
		var picked []xlsx.Document
		for _, d := range docs {
			if def, err := cat.Effective(d.ID, d.Version); err == nil && (def.Service == service || def.Slug == service) {
				picked = append(picked, d)
			}
		}
		if len(picked) == 0 {
			s.errors.Write(w, r, ozgflow.Errorf(ozgflow.ENOTFOUND, "Unknown service %q.", service))
			return
		}
		docs, name = withBases(docs, picked), "ozgflow-definitionen-"+service+".xlsx"
	}
	var buf bytes.Buffer
	if err := xlsx.Export(&buf, docs); err != nil {
		s.errors.Write(w, r, err)
		return
	}
	w.Header().Set("Content-Type", xlsxType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	_, _ = w.Write(buf.Bytes())
}

// withBases adds to picked the bases its documents extend, in all's order.
func withBases(all, picked []xlsx.Document) []xlsx.Document {
	want := map[string]bool{}
	byID := map[string]xlsx.Document{}
	for _, d := range all {
		byID[d.ID] = d
	}
	for _, d := range picked {
		for id := d.ID; id != "" && !want[id]; id = byID[id].Extends {
			want[id] = true
		}
	}
	var out []xlsx.Document
	for _, d := range all {
		if want[d.ID] {
			out = append(out, d)
		}
	}
	return out
}

// handleImportDefinitions reads an edited workbook (the body, or the form
// field "file" of a multipart upload) and makes a draft of every definition
// it changes or adds. A workbook with mistakes changes nothing; the answer
// names each bad row.
func (s *API) handleImportDefinitions(w http.ResponseWriter, r *http.Request, id ozgflow.Identity) {
	var answer casework.ImportAnswer
	var report []xlsx.Row
	body, err := web.WorkbookBody(w, r)
	if err == nil {
		answer, report, err = s.cases.ImportWorkbook(r.Context(), body, id.Subject)
	}
	if err != nil {
		s.writeImportProblem(w, r, err, report)
		return
	}
	web.WriteJSON(w, http.StatusOK, answer)
}

// importProblem is a refused import's problem document with the report of
// each row read so far.
type importProblem struct {
	web.Problem
	Report []xlsx.Row `json:"report,omitempty"`
}

// writeImportProblem answers a refused import: the problem plus the report.
func (s *API) writeImportProblem(w http.ResponseWriter, r *http.Request, err error, report []xlsx.Row) {
	if ozgflow.ErrorCode(err) == ozgflow.EINVALID && report != nil {
		// a readable workbook with mistakes
		err = &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: ozgflow.ErrorMessage(err), Fields: ozgflow.ErrorFields(err)}
	}
	p := web.NewProblem(err)
	web.WriteProblemBody(w, p.Status, importProblem{Problem: p, Report: report})
}
