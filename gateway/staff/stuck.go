package staff

import (
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/gateway/web"
)

// Cases stuck on an external system (casework.StuckCases): the page
// /verwaltung/stoerungen lists them, one row per case and target, with
// since when their target fails, how often the call was tried and its last
// error in words, or, for a delivery its FIT-Connect destination rejected,
// the destination's reason, since when and the round. It lets an
// administrator send the row's case again now (a rejected delivery as a
// new submission) or cancel it with a reason the applicant reads. Both ask
// for a confirmation, and the forms name the row's target.

// stuckData is what the page of stuck cases shows.
type stuckData struct {
	Cases     []casework.StuckCase
	MaxReason int
	// Reasons keep what was typed into a cancellation that was refused,
	// by its row (stuckRow).
	Reasons map[string]string
}

// Reason is what was typed into the refused cancellation of a row.
func (d stuckData) Reason(sc casework.StuckCase) string {
	return d.Reasons[stuckRow(sc.CaseID, sc.Target)]
}

// stuckRow names a row of the page: a case waits on each target once.
func stuckRow(caseID, target string) string { return caseID + "|" + target }

// handleStuckPage lists the stuck cases, longest failing first.
func (p *Pages) handleStuckPage(w http.ResponseWriter, r *http.Request, v view) {
	q := r.URL.Query()
	switch {
	case q.Get("erneut") != "":
		v.Flash = say("flash.stuck.resent", q.Get("erneut"))
	case q.Get("abgebrochen") != "":
		v.Flash = say("flash.stuck.cancel", q.Get("abgebrochen"))
	}
	p.showStuck(w, r, http.StatusOK, v, nil)
}

// showStuck renders the list under the view's problem, if any.
func (p *Pages) showStuck(w http.ResponseWriter, r *http.Request, status int, v view, reasons map[string]string) {
	v.Title = say("title.stuck")
	cases, err := p.cases.StuckCases(r.Context())
	if err != nil {
		if ozgflow.ErrorCode(err) == ozgflow.EINTERNAL {
			p.logger.Error("Stuck cases not read", "error", err)
		}
		v.ProblemTitle = say("problem.stuck")
		v.Problems = []ozgflow.FieldError{{Detail: say("problem.projections")}}
		status = http.StatusServiceUnavailable
	}
	v.Data = stuckData{Cases: cases, MaxReason: casework.MaxCancelReason, Reasons: reasons}
	p.show(w, status, "stuck", v)
}

// confirmed reports whether the form's confirmation box was ticked.
func confirmed(r *http.Request) bool { return r.PostFormValue("bestaetigt") == "ja" }

// handleStuckResendPage sends a stuck case again now on the row's target.
func (p *Pages) handleStuckResendPage(w http.ResponseWriter, r *http.Request, v view) {
	caseID := mux.Vars(r)["caseId"]
	if !confirmed(r) {
		p.stuckProblem(w, r, v, ozgflow.Errorf(ozgflow.EINVALID, "Bitte bestätigen Sie, dass der Vorgang jetzt erneut gesendet wird."), nil)
		return
	}
	sc, err := p.cases.ResendStuck(r.Context(), caseID, r.PostFormValue("target"), ozgflow.IdentityFrom(r.Context()))
	if err != nil {
		p.stuckProblem(w, r, v, err, nil)
		return
	}
	http.Redirect(w, r, "/verwaltung/stoerungen?erneut="+url.QueryEscape(caseLabel(sc)), http.StatusSeeOther)
}

// handleStuckCancelPage cancels a case stuck on the row's target with
// the reason given.
func (p *Pages) handleStuckCancelPage(w http.ResponseWriter, r *http.Request, v view) {
	caseID, target := mux.Vars(r)["caseId"], r.PostFormValue("target")
	reason := r.PostFormValue("grund")
	reasons := map[string]string{stuckRow(caseID, target): reason}
	if !confirmed(r) {
		p.stuckProblem(w, r, v, ozgflow.Errorf(ozgflow.EINVALID, "Bitte bestätigen Sie, dass der Vorgang endgültig abgebrochen wird."), reasons)
		return
	}
	sc, err := p.cases.StuckCase(r.Context(), caseID, target)
	if err == nil {
		_, err = p.cases.CancelStuck(r.Context(), caseID, target, reason, ozgflow.IdentityFrom(r.Context()))
	}
	if err != nil {
		if ozgflow.ErrorCode(err) == ozgflow.EINVALID {
			err = ozgflow.Errorf(ozgflow.EINVALID, "%s", say("problem.stuck.empty"))
		}
		p.stuckProblem(w, r, v, err, reasons)
		return
	}
	http.Redirect(w, r, "/verwaltung/stoerungen?abgebrochen="+url.QueryEscape(caseLabel(sc)), http.StatusSeeOther)
}

// stuckProblem shows the list again with what went wrong.
func (p *Pages) stuckProblem(w http.ResponseWriter, r *http.Request, v view, err error, reasons map[string]string) {
	v.ProblemTitle = say("problem.stuck.act")
	detail := ozgflow.ErrorMessage(err)
	switch ozgflow.ErrorCode(err) {
	case ozgflow.ECONFLICT:
		detail = say("problem.stuck.gone")
	case ozgflow.EINTERNAL:
		p.logger.Error("Stuck case not handled", "case", mux.Vars(r)["caseId"], "error", err)
	}
	v.Problems = []ozgflow.FieldError{{Detail: detail}}
	p.showStuck(w, r, web.StatusOf(ozgflow.ErrorCode(err)), v, reasons)
}

// caseLabel is how people name a case: its number, else its ID.
func caseLabel(sc casework.StuckCase) string {
	if sc.CaseNumber != "" {
		return sc.CaseNumber
	}
	return sc.CaseID
}
