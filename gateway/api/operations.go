package api

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/locale"
)

// Cases stuck on an external system, for administrators: the list (failing
// calls and rejected FIT-Connect deliveries), and per case and target a
// resend now or a cancellation with a reason the applicant is told; the
// page /verwaltung/stoerungen does the same.

// stuckView is one stuck case as the API shows it.
type stuckView struct {
	casework.StuckCase
	// LastErrorText says in German what the last error means, or that the
	// destination rejected the delivery.
	LastErrorText string `json:"lastErrorText"`
}

func newStuckView(sc casework.StuckCase) stuckView {
	text := locale.CallError(sc.LastError)
	if sc.Rejection != nil {
		text = locale.DeliveryRejection(sc.Rejection.TimedOut)
	}
	return stuckView{StuckCase: sc, LastErrorText: text}
}

// stuckTarget is the row a resend or cancellation acts on: the body's
// "target", else the query's; none means the case's first row. Two that
// differ are refused.
func stuckTarget(r *http.Request, body string) (string, error) {
	query := r.URL.Query().Get("target")
	if body != "" && query != "" && body != query {
		return "", &ozgflow.Error{Code: ozgflow.EINVALID, Message: "The target is named twice, differently.",
			Fields: []ozgflow.FieldError{{Pointer: "/target", Detail: "differs from the query's target"}}}
	}
	if body != "" {
		return body, nil
	}
	return query, nil
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

// handleResendStuck sends a stuck case again now on the target of
// {"target": "..."} or ?target= (202: it runs): a failing call is tried
// again, a rejected delivery submitted anew. Without a target it acts on
// the case's first row, and the body may be left out.
func (s *API) handleResendStuck(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Target string `json:"target"`
	}
	if r.ContentLength != 0 && !s.readBody(w, r, &body) {
		return
	}
	target, err := stuckTarget(r, body.Target)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	sc, err := s.cases.ResendStuck(r.Context(), mux.Vars(r)["caseId"], target, ozgflow.IdentityFrom(r.Context()))
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusAccepted, newStuckView(sc))
}

// handleCancelStuck cancels a stuck case with {"reason": "..."}, which
// the applicant reads, on the target of "target" (or ?target=), else on
// whatever it waits.
func (s *API) handleCancelStuck(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Reason string `json:"reason"`
		Target string `json:"target"`
	}
	if !s.readBody(w, r, &body) {
		return
	}
	target, err := stuckTarget(r, body.Target)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	state, err := s.cases.CancelStuck(r.Context(), mux.Vars(r)["caseId"], target, body.Reason, ozgflow.IdentityFrom(r.Context()))
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, newCaseView(state, false))
}
