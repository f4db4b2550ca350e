package api

import (
	"net/http"

	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/gateway/web"
)

// handleFITConnectDestinations lists every FIT-Connect destination with the
// service, authority and schema URI online services deliver to there.
func (s *API) handleFITConnectDestinations(w http.ResponseWriter, _ *http.Request) {
	web.WriteJSON(w, http.StatusOK, struct {
		Destinations []casework.FITConnectDestination `json:"destinations"`
	}{s.cases.FITConnectDestinations()})
}
