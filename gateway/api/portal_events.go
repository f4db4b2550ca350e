package api

import (
	"net/http"
	"time"

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
func (s *API) handlePortalEvents(w http.ResponseWriter, r *http.Request) {
	offset, limit, err := web.Paging(r)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	state := r.URL.Query().Get("state")
	if state == "" {
		state = store.PortalFailed
	}
	if state != store.PortalFailed && state != store.PortalPending {
		s.errors.Write(w, r, ozgflow.BadParam("state", "must be failed or pending"))
		return
	}
	page, err := s.store.PortalEvents(r.Context(), state, offset, limit)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	v := portalEventsView{State: state, Events: make([]portalEventView, len(page.Events)), Total: page.Total, Offset: offset, Limit: limit}
	for i, e := range page.Events {
		v.Events[i] = newPortalEventView(e)
	}
	web.WriteJSON(w, http.StatusOK, v)
}

// handleResendPortalEvent queues an event again with a fresh count of
// attempts; the portal drops what it already has by the event's ID.
func (s *API) handleResendPortalEvent(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if err := s.store.ResendPortalEvent(r.Context(), id, s.now()); err != nil {
		s.errors.Write(w, r, err)
		return
	}
	e, err := s.store.PortalEvent(r.Context(), id)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusAccepted, newPortalEventView(e))
}
