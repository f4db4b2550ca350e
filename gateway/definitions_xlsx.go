package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/xlsx"
)

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// authored returns, per definition, the version an administrator works on:
// the published one, else the newest.
func authored(cat *definitions.Catalog) []xlsx.Document {
	docs := make([]xlsx.Document, 0, len(cat.Entries))
	for i := range cat.Entries {
		e := &cat.Entries[i]
		v, ok := e.Published()
		if !ok {
			v = &e.Versions[len(e.Versions)-1]
		}
		docs = append(docs, xlsx.Document{ID: e.ID, Extends: e.Extends, Version: v.Number, Raw: v.Document})
	}
	return docs
}

// handleExportDefinitions writes the definitions, or those of one service
// (LeiKa key or slug), as an .xlsx workbook.
func (s *Server) handleExportDefinitions(w http.ResponseWriter, r *http.Request, _ Identity) {
	cat := s.cfg.Catalog.Snapshot()
	docs := authored(&cat)
	name := "ozgflow-definitionen.xlsx"
	if service := r.URL.Query().Get("service"); service != "" {
		var picked []xlsx.Document
		for _, d := range docs {
			if def, err := cat.Effective(d.ID, d.Version); err == nil && (def.Service == service || def.Slug == service) {
				picked = append(picked, d)
			}
		}
		if len(picked) == 0 {
			s.writeError(w, r, ozgflow.Errorf(ozgflow.ENOTFOUND, "Unknown service %q.", service))
			return
		}
		docs, name = withBases(docs, picked), "ozgflow-definitionen-"+service+".xlsx"
	}
	var buf bytes.Buffer
	if err := xlsx.Export(&buf, docs); err != nil {
		s.writeError(w, r, err)
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

// importAnswer reports an import row by row and names the drafts it made.
type importAnswer struct {
	Report []xlsx.Row      `json:"report"`
	Drafts []importedDraft `json:"drafts"`
}

type importedDraft struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
}

// handleImportDefinitions reads an edited workbook (the body, or the form
// field "file" of a multipart upload) and makes a draft of every definition
// it changes or adds. A workbook with mistakes changes nothing; the answer
// names each bad row.
func (s *Server) handleImportDefinitions(w http.ResponseWriter, r *http.Request, id Identity) {
	answer, report, err := s.importWorkbook(w, r, id.Subject)
	if err != nil {
		s.writeImportProblem(w, r, err, report)
		return
	}
	writeJSON(w, http.StatusOK, answer)
}

// importWorkbook does an import for the API and the admin pages. On a
// refusal it returns the report so far (nil when the upload is unreadable).
func (s *Server) importWorkbook(w http.ResponseWriter, r *http.Request, by string) (importAnswer, []xlsx.Row, error) {
	body, err := workbookBody(w, r)
	if err != nil {
		return importAnswer{}, nil, err
	}
	res, err := xlsx.Import(bytes.NewReader(body))
	if err != nil {
		if res != nil {
			return importAnswer{}, res.Report, err
		}
		return importAnswer{}, nil, err
	}
	cat := s.cfg.Catalog.Snapshot()
	report := res.Compare(authored(&cat))
	if _, err := xlsx.Resolve(res.Documents); err != nil {
		return importAnswer{}, report, err
	}
	changed := map[string]bool{}
	for _, row := range report {
		if row.Status == xlsx.StatusChanged || row.Status == xlsx.StatusNew {
			changed[row.ID] = true
		}
	}
	answer := importAnswer{Report: report, Drafts: []importedDraft{}}
	for _, doc := range res.Documents {
		if !changed[doc.ID] {
			continue
		}
		v, err := s.draftFromWorkbook(r, &cat, doc, by)
		if err != nil {
			return answer, report, fmt.Errorf("definition %s: %w", doc.ID, err)
		}
		answer.Drafts = append(answer.Drafts, importedDraft{ID: doc.ID, Version: v})
		cat = s.cfg.Catalog.Snapshot()
	}
	return answer, report, nil
}

// draftFromWorkbook puts an imported document into a draft: the existing
// draft, a new draft of the definition, or a new definition.
func (s *Server) draftFromWorkbook(r *http.Request, cat *definitions.Catalog, doc xlsx.Document, by string) (int, error) {
	e, exists := cat.Entry(doc.ID)
	if !exists {
		_, err := s.cfg.Catalog.Change(r.Context(), ozgflow.UpdateDefinitionCreate,
			ozgflow.DefinitionChange{ID: doc.ID, Document: doc.Raw, By: by})
		return 1, err
	}
	number := 0
	for _, v := range e.Versions {
		if v.Status == definitions.StatusDraft {
			number = v.Number
		}
	}
	if number == 0 {
		after, err := s.cfg.Catalog.Change(r.Context(), ozgflow.UpdateDefinitionDraft, ozgflow.DefinitionChange{ID: doc.ID, By: by})
		if err != nil {
			return 0, err
		}
		e, _ = after.Entry(doc.ID)
		number = e.Versions[len(e.Versions)-1].Number
	}
	_, err := s.cfg.Catalog.Change(r.Context(), ozgflow.UpdateDefinitionEdit,
		ozgflow.DefinitionChange{ID: doc.ID, Version: number, Document: doc.Raw, By: by})
	return number, err
}

// workbookBody reads the uploaded workbook from the body or a multipart form.
func workbookBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	r.Body = http.MaxBytesReader(w, r.Body, xlsx.MaxWorkbookSize+1<<20)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var rd io.Reader = r.Body
	if strings.HasPrefix(mt, "multipart/") {
		f, _, err := r.FormFile("file")
		if err != nil {
			return nil, ozgflow.Errorf(ozgflow.EINVALID, "The upload needs the workbook in the form field \"file\".")
		}
		defer f.Close()
		rd = f
	} else if mt != xlsxType && mt != "application/octet-stream" {
		return nil, ozgflow.Errorf(ozgflow.EUNSUPPORTED, "Send the workbook as %s or as a multipart upload.", xlsxType)
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		return nil, ozgflow.Errorf(ozgflow.ETOOLARGE, "The workbook is larger than %d MiB.", xlsx.MaxWorkbookSize>>20)
	}
	return b, nil
}

// writeImportProblem answers a refused import: the problem plus the report.
func (s *Server) writeImportProblem(w http.ResponseWriter, r *http.Request, err error, report []xlsx.Row) {
	code := ozgflow.ErrorCode(err)
	if code == ozgflow.EINVALID && report != nil {
		code = ozgflow.EUNPROCESSABLE // a readable workbook with mistakes
	}
	status := StatusOf(code)
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	body := map[string]any{
		"type": "urn:ozgflow:problem:" + strings.ToLower(strings.TrimPrefix(code, "E")), "title": http.StatusText(status),
		"status": status, "detail": ozgflow.ErrorMessage(err), "errors": ozgflow.ErrorFields(err),
	}
	if report != nil {
		body["report"] = report
	}
	_ = json.NewEncoder(w).Encode(body)
}
