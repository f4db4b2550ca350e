package staff

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
)

// Erasure on request (GDPR Art. 17): an administrator erases the personal
// data of one closed case, or of every case of a portal account, with the
// reason the request gave. The page /verwaltung/loeschung does through the
// form what POST /api/v1/applications/{id}/erasure and
// /api/v1/accounts/{account}/erasure do through the API.

// erasureData is what the erasure page shows: the form as sent, and what
// the last erasure removed.
type erasureData struct {
	CaseID, Account, Reason string
	MaxReason               int
}

// handleErasurePage shows the form, and what an erasure just removed.
func (p *Pages) handleErasurePage(w http.ResponseWriter, r *http.Request, v view) {
	v.Title = "Personenbezogene Daten löschen"
	q := r.URL.Query()
	if cases := q.Get("geloescht"); cases != "" {
		v.Flash = "Gelöscht: die personenbezogenen Daten von " + cases + " Vorgang/Vorgängen mit " + q.Get("dokumente") +
			" Dokument(en). Die Statistik bleibt erhalten; die Löschung steht im Protokoll."
	}
	v.Data = erasureData{MaxReason: casework.MaxErasureReason}
	p.show(w, http.StatusOK, "erasure", v)
}

// handleErase erases what the form names, then shows the page again with
// what was removed; a refusal shows the form with the reason in German.
func (p *Pages) handleErase(w http.ResponseWriter, r *http.Request, v view) {
	d := erasureData{CaseID: strings.TrimSpace(r.PostFormValue("vorgang")), Account: strings.TrimSpace(r.PostFormValue("konto")),
		Reason: r.PostFormValue("begruendung"), MaxReason: casework.MaxErasureReason}
	id := *v.User
	var res casework.ErasureResult
	var err error
	switch {
	case (d.CaseID == "") == (d.Account == ""):
		err = &ozgflow.Error{Code: ozgflow.EINVALID, Message: "Name a case or a portal account.",
			Fields: []ozgflow.FieldError{{Pointer: "/vorgang", Detail: "Bitte geben Sie entweder eine Vorgangsnummer oder ein Portal-Konto an."}}}
	case d.CaseID != "":
		res, err = p.cases.EraseCase(r.Context(), id, d.CaseID, d.Reason)
	default:
		res, err = p.cases.EraseAccount(r.Context(), id, d.Account, d.Reason)
	}
	if err != nil {
		v.Title = "Personenbezogene Daten löschen"
		v.ProblemTitle = "Es wurde nichts gelöscht."
		v.Problems = p.erasureProblems(r, id, err)
		v.Data = d
		if ozgflow.ErrorCode(err) == ozgflow.EINTERNAL {
			p.logger.Error("Erasure failed", "error", err)
		}
		status := http.StatusUnprocessableEntity
		switch ozgflow.ErrorCode(err) {
		case ozgflow.ECONFLICT:
			status = http.StatusConflict
		case ozgflow.ENOTFOUND:
			status = http.StatusNotFound
		case ozgflow.EINTERNAL, ozgflow.EUNAVAILABLE:
			status = http.StatusServiceUnavailable
		}
		p.show(w, status, "erasure", v)
		return
	}
	http.Redirect(w, r, "/verwaltung/loeschung?geloescht="+strconv.Itoa(len(res.Cases))+"&dokumente="+
		url.QueryEscape(strconv.Itoa(res.Documents)), http.StatusSeeOther)
}

// erasureProblems words a refused erasure in German.
func (p *Pages) erasureProblems(r *http.Request, id ozgflow.Identity, err error) []ozgflow.FieldError {
	for _, f := range ozgflow.ErrorFields(err) {
		switch f.Pointer {
		case "/reason":
			return []ozgflow.FieldError{{Pointer: "/begruendung", Detail: "Bitte geben Sie an, warum gelöscht wird (höchstens " +
				strconv.Itoa(casework.MaxErasureReason) + " Zeichen)."}}
		case "/vorgang":
			return []ozgflow.FieldError{f}
		}
	}
	if ozgflow.ErrorCode(err) == ozgflow.ENOTFOUND {
		return []ozgflow.FieldError{{Detail: "Diesen Vorgang gibt es nicht, oder zu diesem Portal-Konto sind keine Vorgänge gespeichert."}}
	}
	return p.germanProblems(r.Context(), id, err)
}
