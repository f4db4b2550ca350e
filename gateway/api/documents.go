package api

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/gateway/web"
)

// documentView is a document of a case as the API lists it.
type documentView struct {
	Name        string    `json:"name"`
	ContentType string    `json:"contentType"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	Kind        string    `json:"kind"`
	CreatedAt   time.Time `json:"createdAt"`
	Href        string    `json:"href"`
}

// handleListDocuments lists the documents a case holds.
func (s *API) handleListDocuments(w http.ResponseWriter, r *http.Request) {
	caseID := mux.Vars(r)["id"]
	docs, err := s.cases.Documents(r.Context(), ozgflow.IdentityFrom(r.Context()), caseID)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	out := make([]documentView, 0, len(docs))
	for _, d := range docs {
		out = append(out, documentView{Name: d.Name, ContentType: d.ContentType, Size: d.Size, SHA256: d.SHA256,
			Kind: d.Kind, CreatedAt: d.CreatedAt, Href: "/api/v1/applications/" + caseID + "/documents/" + d.SHA256})
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"documents": out})
}

// handleDocument serves one document of a case.
func (s *API) handleDocument(w http.ResponseWriter, r *http.Request) {
	vars := mux.Vars(r)
	web.NoteDetail(r.Context(), "document "+vars["sha256"])
	d, err := s.cases.Document(r.Context(), ozgflow.IdentityFrom(r.Context()), vars["id"], vars["sha256"])
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	web.ServeDocument(w, d)
}
