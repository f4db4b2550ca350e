package staff

import (
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/store"
)

// Notices go to the citizens' portal as events from an outbox in Redis; a
// dispatcher in the worker delivers them and gives up on an event after its
// last attempt. Administrators see the events still waiting and those given
// up, and resend them once the portal is back: through the API and on the
// page /verwaltung/zustellungen.

// deliveriesData is what the deliveries page shows.
type deliveriesData struct {
	Failed  []store.PortalEvent
	Total   int64
	Pending int64
}

// handleDeliveriesPage lists the notices the portal did not take, newest
// first, each with a button to send it again.
func (p *Pages) handleDeliveriesPage(w http.ResponseWriter, r *http.Request, v view) {
	v.Title = say("title.deliveries")
	if id := r.URL.Query().Get("erneut"); id != "" {
		v.Flash = say("flash.resent", id)
	}
	status := http.StatusOK
	page, err := p.store.PortalEvents(r.Context(), store.PortalFailed, 0, 200)
	var pending int64
	if err == nil {
		pending, _, err = p.store.PortalEventCounts(r.Context())
	}
	if err != nil {
		p.logger.Error("Deliveries not read", "error", err)
		v.ProblemTitle = "Die Zustellungen sind gerade nicht lesbar."
		v.Problems = []ozgflow.FieldError{{Detail: say("problem.projections")}}
		status = http.StatusServiceUnavailable
	}
	d := deliveriesData{Failed: page.Events, Total: page.Total, Pending: pending}
	v.Data = d
	p.show(w, status, "deliveries", v)
}

// handleResendPage resends one event from the page, then shows the list again.
func (p *Pages) handleResendPage(w http.ResponseWriter, r *http.Request, v view) {
	id := mux.Vars(r)["id"]
	if err := p.store.ResendPortalEvent(r.Context(), id, p.now()); err != nil {
		v.ProblemTitle = say("problem.resend")
		v.Problems = []ozgflow.FieldError{{Detail: ozgflow.ErrorMessage(err)}}
		if ozgflow.ErrorCode(err) == ozgflow.EINTERNAL {
			p.logger.Error("Resend failed", "event", id, "error", err)
		}
		v.Title, v.Data = say("title.deliveries"), deliveriesData{}
		p.show(w, web.StatusOf(ozgflow.ErrorCode(err)), "deliveries", v)
		return
	}
	http.Redirect(w, r, "/verwaltung/zustellungen?erneut="+url.QueryEscape(id), http.StatusSeeOther)
}
