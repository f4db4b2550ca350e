package staff

import (
	"html/template"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/locale"
)

// A delivery to a FIT-Connect destination waits for its accept or reject.
// Administrators see on /verwaltung/vorgaenge/{caseId}/zustellung where it
// stands: sent and waiting, accepted, or rejected with the destination's
// reason (or "keine Antwort" after the deadline), since when; once they
// fixed the cause they send it again from there (or by
// POST /api/v1/cases/{id}/delivery/resend).

func init() {
	pages["casedelivery"] = web.ParsePages(templateFS, pageFuncs, "casedelivery")["casedelivery"]
}

// caseDeliveryData is what the delivery page of a case shows.
type caseDeliveryData struct {
	Case      ozgflow.Case
	Authority string
	Delivery  *ozgflow.Delivery
	Rejected  *ozgflow.DeliveryRejection
	Waiting   bool // sent, the destination's answer still to come
}

// registerCaseDeliveryRoutes adds the delivery page to the
// administrators' room.
func (p *Pages) registerCaseDeliveryRoutes(admins *mux.Router) {
	admins.Handle("/vorgaenge/{caseId}/zustellung", p.audit.Declare(web.Reads("case.read"), p.page(p.handleCaseDeliveryPage))).Methods(http.MethodGet)
	admins.Handle("/vorgaenge/{caseId}/zustellung/erneut", p.audit.Declare(web.Changes("case.delivery.resend"), p.page(p.handleResendDeliveryPage))).Methods(http.MethodPost)
}

func (p *Pages) handleCaseDeliveryPage(w http.ResponseWriter, r *http.Request, v view) {
	if r.URL.Query().Get("erneut") != "" {
		v.Flash = "Der Vorgang wird erneut an die Empfangsstelle gesendet."
	}
	p.showCaseDelivery(w, r, v, http.StatusOK)
}

// showCaseDelivery renders the delivery page of the case in the address.
func (p *Pages) showCaseDelivery(w http.ResponseWriter, r *http.Request, v view, status int) {
	c, err := p.cases.CaseFor(r.Context(), ozgflow.IdentityFrom(r.Context()), mux.Vars(r)["caseId"])
	if err != nil {
		p.ErrorPage(w, r, web.StatusOf(ozgflow.ErrorCode(err)), "notfound")
		return
	}
	number := c.CaseNumber
	if number == "" {
		number = c.ID
	}
	v.Title = "Zustellung des Vorgangs " + number
	d := caseDeliveryData{Case: c, Authority: p.cases.AuthorityName(c.Authority), Delivery: c.Delivery}
	if c.Delivery != nil {
		d.Rejected = c.Delivery.Rejected
		d.Waiting = c.Delivery.Pending && !c.Status.Final()
	}
	v.Data = d
	p.show(w, status, "casedelivery", v)
}

// handleResendDeliveryPage sends the case again, then shows its delivery
// page; a refusal (nothing rejected) comes back on the page in German.
func (p *Pages) handleResendDeliveryPage(w http.ResponseWriter, r *http.Request, v view) {
	id := ozgflow.IdentityFrom(r.Context())
	caseID := mux.Vars(r)["caseId"]
	if _, err := p.cases.CaseFor(r.Context(), id, caseID); err != nil {
		p.ErrorPage(w, r, web.StatusOf(ozgflow.ErrorCode(err)), "notfound")
		return
	}
	if _, err := p.cases.ResendDelivery(r.Context(), id.Subject, caseID); err != nil {
		v.ProblemTitle = "Der Vorgang wurde nicht erneut gesendet."
		detail := "Der Vorgang ist gerade nicht erreichbar. Bitte versuchen Sie es gleich noch einmal."
		if rf := ozgflow.RefusalOf(err); rf != nil {
			detail = locale.DE.Refusal(*rf)
		} else if ozgflow.ErrorCode(err) == ozgflow.EINTERNAL {
			p.logger.Error("Resend of a delivery failed", "case", caseID, "error", err)
		}
		v.Problems = []ozgflow.FieldError{{Detail: detail}}
		p.showCaseDelivery(w, r, v, web.StatusOf(ozgflow.ErrorCode(err)))
		return
	}
	http.Redirect(w, r, "/verwaltung/vorgaenge/"+template.URLQueryEscaper(caseID)+"/zustellung?erneut=1", http.StatusSeeOther)
}
