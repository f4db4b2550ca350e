package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/gateway/web"
)

func (s *API) handleListDefinitions(w http.ResponseWriter, r *http.Request, _ ozgflow.Identity) {
	cat := s.catalog.Snapshot()
	out := make([]casework.Entry, 0, len(cat.Entries))
	for i := range cat.Entries {
		out = append(out, s.cases.Entry(r.Context(), &cat, &cat.Entries[i]))
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"definitions": out, "revision": cat.Revision})
}

func (s *API) handleGetDefinition(w http.ResponseWriter, r *http.Request, _ ozgflow.Identity) {
	cat := s.catalog.Snapshot()
	e, ok := cat.Entry(mux.Vars(r)["id"])
	if !ok {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.ENOTFOUND, "Definition %s not found.", mux.Vars(r)["id"]))
		return
	}
	web.WriteJSON(w, http.StatusOK, s.cases.Entry(r.Context(), &cat, e))
}

// handleGetVersion shows a version as authored and resolved.
func (s *API) handleGetVersion(w http.ResponseWriter, r *http.Request, _ ozgflow.Identity) {
	cat := s.catalog.Snapshot()
	id := mux.Vars(r)["id"]
	number, err := strconv.Atoi(mux.Vars(r)["version"])
	e, ok := cat.Entry(id)
	var v *definitions.Version
	if ok && err == nil {
		v, ok = e.Version(number)
	}
	if !ok || err != nil {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.ENOTFOUND, "Definition %s has no version %s.", id, mux.Vars(r)["version"]))
		return
	}
	// The ETag is the version's revision: an edit sent with it as If-Match
	// is refused when another administrator changed the draft meanwhile.
	w.Header().Set("ETag", `"`+v.Revision()+`"`)
	body := map[string]any{"id": id, "number": v.Number, "status": v.Status, "document": v.Document}
	if v.Source != "" {
		body["source"] = v.Source
	}
	if def, err := cat.Effective(id, number); err == nil {
		body["effective"] = def
	}
	if problems := cat.Check(id, number); len(problems) > 0 {
		body["problems"] = problems
	}
	web.WriteJSON(w, http.StatusOK, body)
}

func (s *API) handleCreateDefinition(w http.ResponseWriter, r *http.Request, id ozgflow.Identity) {
	var doc map[string]any
	if !s.readBody(w, r, &doc) {
		return
	}
	docID, _ := doc["id"].(string)
	s.applyChange(w, r, http.StatusCreated, ozgflow.UpdateDefinitionCreate,
		ozgflow.DefinitionChange{ID: docID, Document: doc, By: id.Subject}, docID, 1)
}

func (s *API) handleDraftDefinition(w http.ResponseWriter, r *http.Request, id ozgflow.Identity) {
	var body struct {
		From int `json:"from"`
	}
	if r.ContentLength != 0 && !s.readBody(w, r, &body) {
		return
	}
	defID := mux.Vars(r)["id"]
	cat, err := s.catalog.Change(r.Context(), ozgflow.UpdateDefinitionDraft,
		ozgflow.DefinitionChange{ID: defID, From: body.From, By: id.Subject})
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	e, _ := cat.Entry(defID)
	newest := e.Versions[len(e.Versions)-1]
	w.Header().Set("Location", fmt.Sprintf("/api/v1/definitions/%s/versions/%d", defID, newest.Number))
	web.WriteJSON(w, http.StatusCreated, s.cases.Entry(r.Context(), &cat, e))
}

func (s *API) handleEditVersion(w http.ResponseWriter, r *http.Request, id ozgflow.Identity) {
	number, err := strconv.Atoi(mux.Vars(r)["version"])
	if err != nil {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.ENOTFOUND, "No such version."))
		return
	}
	var doc map[string]any
	if !s.readBody(w, r, &doc) {
		return
	}
	defID := mux.Vars(r)["id"]
	// If-Match names the revision (ETag) the edit was made on; a draft
	// changed since is not overwritten: 412, and the workflow refuses it
	// too should a change come in between.
	revision := strings.Trim(strings.TrimPrefix(strings.TrimSpace(r.Header.Get("If-Match")), "W/"), `"`)
	if revision == "*" {
		revision = ""
	}
	if revision != "" && s.writeStaleRevision(w, defID, number, revision) {
		return
	}
	ch := ozgflow.DefinitionChange{ID: defID, Version: number, Document: doc, By: id.Subject, Revision: revision}
	cat, err := s.catalog.Change(r.Context(), ozgflow.UpdateDefinitionEdit, ch)
	if ozgflow.ErrorCode(err) == ozgflow.ECONFLICT && revision != "" {
		// The workflow refused: a change may have come in between the
		// check above and the edit. Then the answer is the same 412.
		if s.catalog.Refresh(r.Context()) == nil && s.writeStaleRevision(w, defID, number, revision) {
			return
		}
	}
	s.answerChange(w, r, http.StatusOK, ozgflow.UpdateDefinitionEdit, cat, err, defID, number)
}

// writeStaleRevision answers 412 and reports true when the version, as the
// gateway last saw the catalog, is no longer at the revision the edit was
// made on.
func (s *API) writeStaleRevision(w http.ResponseWriter, defID string, number int, revision string) bool {
	cat := s.catalog.Snapshot()
	err := cat.CheckRevision(defID, number, revision)
	if ozgflow.ErrorCode(err) != ozgflow.ECONFLICT {
		return false
	}
	web.WriteProblem(w, web.Problem{Type: "urn:ozgflow:problem:precondition", Title: http.StatusText(http.StatusPreconditionFailed),
		Status: http.StatusPreconditionFailed, Detail: ozgflow.ErrorMessage(err)})
	return true
}

// changeVersion publishes or retires a version.
func (s *API) changeVersion(update string) func(http.ResponseWriter, *http.Request, ozgflow.Identity) {
	return func(w http.ResponseWriter, r *http.Request, id ozgflow.Identity) {
		number, err := strconv.Atoi(mux.Vars(r)["version"])
		if err != nil {
			s.errors.Write(w, r, ozgflow.Errorf(ozgflow.ENOTFOUND, "No such version."))
			return
		}
		defID := mux.Vars(r)["id"]
		s.applyChange(w, r, http.StatusOK, update, ozgflow.DefinitionChange{ID: defID, Version: number, By: id.Subject}, defID, number)
	}
}

// applyChange sends a change and answers with the entry as it is after it.
func (s *API) applyChange(w http.ResponseWriter, r *http.Request, status int, update string, ch ozgflow.DefinitionChange, defID string, number int) {
	cat, err := s.catalog.Change(r.Context(), update, ch)
	s.answerChange(w, r, status, update, cat, err, defID, number)
}

// answerChange answers with the entry as it is after a change, or with why
// the change was refused.
func (s *API) answerChange(w http.ResponseWriter, r *http.Request, status int, update string, cat definitions.Catalog, err error, defID string, number int) {
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	e, ok := cat.Entry(defID)
	if !ok {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EINTERNAL, "definition %s missing after %s", defID, update))
		return
	}
	if status == http.StatusCreated {
		w.Header().Set("Location", fmt.Sprintf("/api/v1/definitions/%s/versions/%d", defID, number))
	}
	if v, ok := e.Version(number); ok && update == ozgflow.UpdateDefinitionEdit {
		w.Header().Set("ETag", `"`+v.Revision()+`"`)
	}
	web.WriteJSON(w, status, s.cases.Entry(r.Context(), &cat, e))
}

// handleDefinitionChanges lists the record of changes, newest first.
func (s *API) handleDefinitionChanges(w http.ResponseWriter, r *http.Request, _ ozgflow.Identity) {
	cat := s.catalog.Snapshot()
	out := make([]definitions.Change, 0, len(cat.Changes))
	for i := len(cat.Changes) - 1; i >= 0; i-- {
		out = append(out, cat.Changes[i])
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"changes": out})
}
