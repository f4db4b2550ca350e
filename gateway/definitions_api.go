package gateway

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
)

// registerDefinitionRoutes adds the administrators' API over the versioned
// definitions. Without a catalog (tests with a fixed registry) they answer 503.
func (s *Server) registerDefinitionRoutes(r *mux.Router) {
	r.HandleFunc("/definitions", s.admin(s.handleListDefinitions)).Methods(http.MethodGet)
	r.HandleFunc("/definitions", s.admin(s.handleCreateDefinition)).Methods(http.MethodPost)
	r.HandleFunc("/definitions/changes", s.admin(s.handleDefinitionChanges)).Methods(http.MethodGet)
	r.HandleFunc("/definitions/export.xlsx", s.admin(s.handleExportDefinitions)).Methods(http.MethodGet)
	r.HandleFunc("/definitions/import", s.admin(s.handleImportDefinitions)).Methods(http.MethodPost)
	r.HandleFunc("/definitions/{id}", s.admin(s.handleGetDefinition)).Methods(http.MethodGet)
	r.HandleFunc("/definitions/{id}/drafts", s.admin(s.handleDraftDefinition)).Methods(http.MethodPost)
	r.HandleFunc("/definitions/{id}/versions/{version}", s.admin(s.handleGetVersion)).Methods(http.MethodGet)
	r.HandleFunc("/definitions/{id}/versions/{version}", s.admin(s.handleEditVersion)).Methods(http.MethodPut)
	r.HandleFunc("/definitions/{id}/versions/{version}/publish", s.admin(s.changeVersion(ozgflow.UpdateDefinitionPublish))).Methods(http.MethodPost)
	r.HandleFunc("/definitions/{id}/versions/{version}/retire", s.admin(s.changeVersion(ozgflow.UpdateDefinitionRetire))).Methods(http.MethodPost)
}

// admin wraps a handler that only administrators may call and that needs the
// catalog.
func (s *Server) admin(h func(w http.ResponseWriter, r *http.Request, id Identity)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.authenticate(w, r)
		if !ok {
			return
		}
		if id.Role != RoleAdmin {
			s.writeError(w, r, ozgflow.Errorf(ozgflow.EFORBIDDEN, "Only administrators manage definitions."))
			return
		}
		if s.cfg.Catalog == nil {
			s.writeError(w, r, ozgflow.Errorf(ozgflow.EUNAVAILABLE, "The catalog is not available here."))
			return
		}
		h(w, r, id)
	}
}

// versionView is one version as the API shows it.
type versionView struct {
	Number       int                       `json:"number"`
	Status       definitions.VersionStatus `json:"status"`
	CreatedBy    string                    `json:"createdBy"`
	CreatedAt    string                    `json:"createdAt"`
	PublishedAt  string                    `json:"publishedAt,omitempty"`
	RetiredAt    string                    `json:"retiredAt,omitempty"`
	RunningCases int64                     `json:"runningCases"`
}

// entryView is one definition with its versions.
type entryView struct {
	ID        string        `json:"id"`
	Extends   string        `json:"extends,omitempty"`
	Name      string        `json:"name"`
	Service   string        `json:"service"`
	Authority string        `json:"authority,omitempty"`
	Published int           `json:"published,omitempty"`
	Versions  []versionView `json:"versions"`
}

func (s *Server) entryView(ctx context.Context, cat *definitions.Catalog, e *definitions.Entry) entryView {
	v := entryView{ID: e.ID, Extends: e.Extends, Versions: []versionView{}}
	newest := e.Versions[len(e.Versions)-1]
	if def, err := cat.Effective(e.ID, newest.Number); err == nil {
		v.Name, v.Service, v.Authority = def.Name, def.Service, def.Authority
	}
	if p, ok := e.Published(); ok {
		v.Published = p.Number
	}
	for _, ver := range e.Versions {
		vv := versionView{Number: ver.Number, Status: ver.Status, CreatedBy: ver.CreatedBy, CreatedAt: stamp(ver.CreatedAt),
			PublishedAt: stamp(ver.PublishedAt), RetiredAt: stamp(ver.RetiredAt)}
		if ver.Status != definitions.StatusDraft {
			vv.RunningCases = s.runningCases(ctx, e.ID, ver.Number)
		}
		v.Versions = append(v.Versions, vv)
	}
	return v
}

// runningCases counts the cases that run on a version; -1 when Temporal
// cannot say.
func (s *Server) runningCases(ctx context.Context, id string, version int) int64 {
	res, err := s.temporal.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
		Namespace: s.cfg.Namespace,
		Query: fmt.Sprintf("%s = '%s@%d' AND ExecutionStatus = 'Running'",
			ozgflow.SearchAttrDefinition, id, version),
	})
	if err != nil {
		return -1
	}
	return res.Count
}

func (s *Server) handleListDefinitions(w http.ResponseWriter, r *http.Request, _ Identity) {
	cat := s.cfg.Catalog.Snapshot()
	out := make([]entryView, 0, len(cat.Entries))
	for i := range cat.Entries {
		out = append(out, s.entryView(r.Context(), &cat, &cat.Entries[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"definitions": out, "revision": cat.Revision})
}

func (s *Server) handleGetDefinition(w http.ResponseWriter, r *http.Request, _ Identity) {
	cat := s.cfg.Catalog.Snapshot()
	e, ok := cat.Entry(mux.Vars(r)["id"])
	if !ok {
		s.writeError(w, r, ozgflow.Errorf(ozgflow.ENOTFOUND, "Definition %s not found.", mux.Vars(r)["id"]))
		return
	}
	writeJSON(w, http.StatusOK, s.entryView(r.Context(), &cat, e))
}

// handleGetVersion shows a version as authored and resolved.
func (s *Server) handleGetVersion(w http.ResponseWriter, r *http.Request, _ Identity) {
	cat := s.cfg.Catalog.Snapshot()
	id := mux.Vars(r)["id"]
	number, err := strconv.Atoi(mux.Vars(r)["version"])
	e, ok := cat.Entry(id)
	var v *definitions.Version
	if ok && err == nil {
		v, ok = e.Version(number)
	}
	if !ok || err != nil {
		s.writeError(w, r, ozgflow.Errorf(ozgflow.ENOTFOUND, "Definition %s has no version %s.", id, mux.Vars(r)["version"]))
		return
	}
	body := map[string]any{"id": id, "number": v.Number, "status": v.Status, "document": v.Document}
	if def, err := cat.Effective(id, number); err == nil {
		body["effective"] = def
		if verr := def.Validate(); verr != nil {
			body["problems"] = ozgflow.ErrorFields(verr)
		}
	} else {
		body["problems"] = []ozgflow.FieldError{{Pointer: "", Detail: ozgflow.ErrorMessage(err)}}
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) handleCreateDefinition(w http.ResponseWriter, r *http.Request, id Identity) {
	var doc map[string]any
	if !s.readBody(w, r, &doc) {
		return
	}
	docID, _ := doc["id"].(string)
	s.applyChange(w, r, http.StatusCreated, ozgflow.UpdateDefinitionCreate,
		ozgflow.DefinitionChange{ID: docID, Document: doc, By: id.Subject}, docID, 1)
}

func (s *Server) handleDraftDefinition(w http.ResponseWriter, r *http.Request, id Identity) {
	var body struct {
		From int `json:"from"`
	}
	if r.ContentLength != 0 && !s.readBody(w, r, &body) {
		return
	}
	defID := mux.Vars(r)["id"]
	cat, err := s.cfg.Catalog.Change(r.Context(), ozgflow.UpdateDefinitionDraft,
		ozgflow.DefinitionChange{ID: defID, From: body.From, By: id.Subject})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	e, _ := cat.Entry(defID)
	newest := e.Versions[len(e.Versions)-1]
	w.Header().Set("Location", fmt.Sprintf("/api/v1/definitions/%s/versions/%d", defID, newest.Number))
	writeJSON(w, http.StatusCreated, s.entryView(r.Context(), &cat, e))
}

func (s *Server) handleEditVersion(w http.ResponseWriter, r *http.Request, id Identity) {
	number, err := strconv.Atoi(mux.Vars(r)["version"])
	if err != nil {
		s.writeError(w, r, ozgflow.Errorf(ozgflow.ENOTFOUND, "No such version."))
		return
	}
	var doc map[string]any
	if !s.readBody(w, r, &doc) {
		return
	}
	defID := mux.Vars(r)["id"]
	s.applyChange(w, r, http.StatusOK, ozgflow.UpdateDefinitionEdit,
		ozgflow.DefinitionChange{ID: defID, Version: number, Document: doc, By: id.Subject}, defID, number)
}

// changeVersion publishes or retires a version.
func (s *Server) changeVersion(update string) func(http.ResponseWriter, *http.Request, Identity) {
	return func(w http.ResponseWriter, r *http.Request, id Identity) {
		number, err := strconv.Atoi(mux.Vars(r)["version"])
		if err != nil {
			s.writeError(w, r, ozgflow.Errorf(ozgflow.ENOTFOUND, "No such version."))
			return
		}
		defID := mux.Vars(r)["id"]
		s.applyChange(w, r, http.StatusOK, update, ozgflow.DefinitionChange{ID: defID, Version: number, By: id.Subject}, defID, number)
	}
}

// applyChange sends a change and answers with the entry as it is after it.
func (s *Server) applyChange(w http.ResponseWriter, r *http.Request, status int, update string, ch ozgflow.DefinitionChange, defID string, number int) {
	cat, err := s.cfg.Catalog.Change(r.Context(), update, ch)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	e, ok := cat.Entry(defID)
	if !ok {
		s.writeError(w, r, ozgflow.Errorf(ozgflow.EINTERNAL, "definition %s missing after %s", defID, update))
		return
	}
	if status == http.StatusCreated {
		w.Header().Set("Location", fmt.Sprintf("/api/v1/definitions/%s/versions/%d", defID, number))
	}
	writeJSON(w, status, s.entryView(r.Context(), &cat, e))
}

// handleDefinitionChanges lists the record of changes, newest first.
func (s *Server) handleDefinitionChanges(w http.ResponseWriter, r *http.Request, _ Identity) {
	cat := s.cfg.Catalog.Snapshot()
	out := make([]definitions.Change, 0, len(cat.Changes))
	for i := len(cat.Changes) - 1; i >= 0; i-- {
		out = append(out, cat.Changes[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"changes": out})
}
