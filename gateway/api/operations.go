package api

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/locale"
)

// Cases stuck on an external system, for administrators: the list, and
// per case a resend now or a cancellation with a reason the applicant is
// told; the page /verwaltung/stoerungen does the same.

// stuckView is one stuck case as the API shows it.
type stuckView struct {
	casework.StuckCase
	// LastErrorText says in German what the last error means.
	LastErrorText string `json:"lastErrorText"`
}

func newStuckView(sc casework.StuckCase) stuckView {
	return stuckView{StuckCase: sc, LastErrorText: locale.CallError(sc.LastError)}
}

// handleStuckCases lists the stuck cases, longest failing first.
func (s *API) handleStuckCases(w http.ResponseWriter, r *http.Request) {
	cases, err := s.cases.StuckCases(r.Context())
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	out := struct {
		Cases []stuckView `json:"cases"`
		Total int         `json:"total"`
	}{Cases: make([]stuckView, len(cases)), Total: len(cases)}
	for i, sc := range cases {
		out.Cases[i] = newStuckView(sc)
	}
	web.WriteJSON(w, http.StatusOK, out)
}

// handleResendStuck tries a stuck case's call again now (202: it runs).
func (s *API) handleResendStuck(w http.ResponseWriter, r *http.Request) {
	sc, err := s.cases.ResendStuck(r.Context(), mux.Vars(r)["caseId"])
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusAccepted, newStuckView(sc))
}

// handleCancelStuck cancels a stuck case with {"reason": "..."}, which
// the applicant reads.
func (s *API) handleCancelStuck(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Reason string `json:"reason"`
	}
	if !s.readBody(w, r, &body) {
		return
	}
	state, err := s.cases.CancelStuck(r.Context(), mux.Vars(r)["caseId"], body.Reason, ozgflow.IdentityFrom(r.Context()))
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, newCaseView(state, false))
}
