package gateway

import (
	_ "embed"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
)

// OpenAPI is the API description served at /api/v1/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte

func (s *Server) registerMetaRoutes(r *mux.Router) {
	r.HandleFunc("/openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(OpenAPI)
	}).Methods(http.MethodGet)
	r.HandleFunc("/keys", s.handleKeys).Methods(http.MethodGet)
}

// handleKeys publishes the public keys that verify sealed receipts (JWKS).
func (s *Server) handleKeys(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Keys == nil {
		s.writeError(w, r, ozgflow.Errorf(ozgflow.EUNAVAILABLE, "No signer is configured."))
		return
	}
	keys, err := s.cfg.Keys(r.Context())
	if err != nil {
		s.writeError(w, r, ozgflow.Errorf(ozgflow.EUNAVAILABLE, "The signer's keys are not available."))
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSONBody(w, keys)
}
