package gateway

import (
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/store"
)

// Notices go to the citizens' portal as events from an outbox in Redis; a
// dispatcher in the worker delivers them and gives up on an event after its
// last attempt. Administrators see the events still waiting and those given
// up, and resend them once the portal is back: through the API and on the
// page /verwaltung/zustellungen.

// registerPortalEventRoutes adds the administrators' API over the outbox.
func (s *Server) registerPortalEventRoutes(r *mux.Router) {
	r.HandleFunc("/portal-events", s.outboxAdmin(s.handlePortalEvents)).Methods(http.MethodGet)
	r.HandleFunc("/portal-events/{id}/resend", s.outboxAdmin(s.handleResendPortalEvent)).Methods(http.MethodPost)
}

// registerDeliveryPages adds the administrators' page of undeliverable notices.
func (s *Server) registerDeliveryPages() {
	s.router.HandleFunc("/verwaltung/zustellungen", s.deliveriesPage(s.handleDeliveriesPage)).Methods(http.MethodGet)
	s.router.HandleFunc("/verwaltung/zustellungen/{id}/erneut", s.deliveriesPage(s.handleResendPage)).Methods(http.MethodPost)
}

// outboxAdmin wraps an API handler only administrators may call.
func (s *Server) outboxAdmin(h func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.authenticate(w, r)
		if !ok {
			return
		}
		if id.Role != RoleAdmin {
			s.writeError(w, r, ozgflow.Errorf(ozgflow.EFORBIDDEN, "Only administrators see and resend portal deliveries."))
			return
		}
		h(w, r)
	}
}

// portalEventView is one event of the outbox as the API shows it; the
// notice's text stays out.
type portalEventView struct {
	ID            string         `json:"id"`
	CaseID        string         `json:"caseId"`
	PortalAccount string         `json:"portalAccount"`
	Status        ozgflow.Status `json:"status"`
	Title         string         `json:"title"`
	State         string         `json:"state"`
	Attempts      int            `json:"attempts"`
	LastError     string         `json:"lastError,omitempty"`
	CreatedAt     *time.Time     `json:"createdAt,omitempty"`
	NextAttemptAt *time.Time     `json:"nextAttemptAt,omitempty"`
	FailedAt      *time.Time     `json:"failedAt,omitempty"`
	DeliveredAt   *time.Time     `json:"deliveredAt,omitempty"`
}

func newPortalEventView(e store.PortalEvent) portalEventView {
	v := portalEventView{ID: e.ID, CaseID: e.Notice.CaseID, PortalAccount: e.Notice.PortalAccount, Status: e.Notice.Status,
		Title: e.Notice.Title, State: e.State, Attempts: e.Attempts, LastError: e.LastError,
		CreatedAt: timePtr(e.CreatedAt), FailedAt: timePtr(e.FailedAt), DeliveredAt: timePtr(e.DeliveredAt)}
	if e.State == store.PortalPending {
		v.NextAttemptAt = timePtr(e.NextAt)
	}
	return v
}

// portalEventsView is one page of the outbox.
type portalEventsView struct {
	State  string            `json:"state"`
	Events []portalEventView `json:"events"`
	Total  int64             `json:"total"`
	Offset int64             `json:"offset"`
	Limit  int64             `json:"limit"`
}

// handlePortalEvents lists the undeliverable events (?state=failed, the
// default) or those waiting for their next attempt (?state=pending).
func (s *Server) handlePortalEvents(w http.ResponseWriter, r *http.Request) {
	offset, limit, err := paging(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	state := r.URL.Query().Get("state")
	if state == "" {
		state = store.PortalFailed
	}
	if state != store.PortalFailed && state != store.PortalPending {
		s.writeError(w, r, badParam("state", "must be failed or pending"))
		return
	}
	page, err := s.store.PortalEvents(r.Context(), state, offset, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v := portalEventsView{State: state, Events: make([]portalEventView, len(page.Events)), Total: page.Total, Offset: offset, Limit: limit}
	for i, e := range page.Events {
		v.Events[i] = newPortalEventView(e)
	}
	writeJSON(w, http.StatusOK, v)
}

// handleResendPortalEvent queues an event again with a fresh count of
// attempts; the portal drops what it already has by the event's ID.
func (s *Server) handleResendPortalEvent(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if err := s.store.ResendPortalEvent(r.Context(), id, s.now()); err != nil {
		s.writeError(w, r, err)
		return
	}
	e, err := s.store.PortalEvent(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, newPortalEventView(e))
}

// deliveriesPage wraps the administrators' deliveries page: session, role
// and CSRF like the other administration pages, without the catalog.
func (s *Server) deliveriesPage(h func(w http.ResponseWriter, r *http.Request, v view)) http.HandlerFunc {
	return s.sessionPage(RoleAdmin, "Sie sind angemeldet, haben aber keinen Zugang zur Verwaltung.",
		"Diese Seiten sind der Fachadministration vorbehalten.", h)
}

// deliveriesData is what the deliveries page shows.
type deliveriesData struct {
	Failed  []portalEventView
	Total   int64
	Pending int64
}

// handleDeliveriesPage lists the notices the portal did not take, newest
// first, each with a button to send it again.
func (s *Server) handleDeliveriesPage(w http.ResponseWriter, r *http.Request, v view) {
	v.Title = "Zustellungen an das Portal"
	if id := r.URL.Query().Get("erneut"); id != "" {
		v.Flash = "Die Mitteilung " + id + " wird erneut zugestellt."
	}
	status := http.StatusOK
	page, err := s.store.PortalEvents(r.Context(), store.PortalFailed, 0, 200)
	var pending int64
	if err == nil {
		pending, _, err = s.store.PortalEventCounts(r.Context())
	}
	if err != nil {
		s.logger.Error("Deliveries not read", "error", err)
		v.ProblemTitle = "Die Zustellungen sind gerade nicht lesbar."
		v.Problems = []ozgflow.FieldError{{Detail: "Die Projektionen konnten nicht gelesen werden."}}
		status = http.StatusServiceUnavailable
	}
	d := deliveriesData{Failed: make([]portalEventView, len(page.Events)), Total: page.Total, Pending: pending}
	for i, e := range page.Events {
		d.Failed[i] = newPortalEventView(e)
	}
	v.Data = d
	s.render(w, r, status, "deliveries", v)
}

// handleResendPage resends one event from the page, then shows the list again.
func (s *Server) handleResendPage(w http.ResponseWriter, r *http.Request, v view) {
	id := mux.Vars(r)["id"]
	if err := s.store.ResendPortalEvent(r.Context(), id, s.now()); err != nil {
		v.ProblemTitle = "Die Mitteilung wurde nicht erneut zugestellt."
		v.Problems = []ozgflow.FieldError{{Detail: ozgflow.ErrorMessage(err)}}
		if ozgflow.ErrorCode(err) == ozgflow.EINTERNAL {
			s.logger.Error("Resend failed", "event", id, "error", err)
		}
		v.Title, v.Data = "Zustellungen an das Portal", deliveriesData{}
		s.render(w, r, StatusOf(ozgflow.ErrorCode(err)), "deliveries", v)
		return
	}
	http.Redirect(w, r, "/verwaltung/zustellungen?erneut="+url.QueryEscape(id), http.StatusSeeOther)
}
