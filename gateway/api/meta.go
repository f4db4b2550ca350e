package api

import (
	"encoding/json"

	"net/http"

	"github.com/ozgflow/ozgflow"
)

// handleOpenAPI serves the API description.
func handleOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(OpenAPI)
}

// handleKeys publishes the public keys that verify sealed receipts (JWKS).
func (s *API) handleKeys(w http.ResponseWriter, r *http.Request) {
	if s.receipts.Keys == nil {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EUNAVAILABLE, "No signer is configured."))
		return
	}
	keys, err := s.receipts.Keys(r.Context())
	if err != nil {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EUNAVAILABLE, "The signer's keys are not available."))
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(keys)
}
