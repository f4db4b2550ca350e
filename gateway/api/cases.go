package api

import (
	"net/http"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/locale"
	"github.com/ozgflow/ozgflow/store"
)

// The case search: the authority's cases, open and closed, by case number,
// name, business name, address and e-mail address and the period of
// receipt, from the search index in Redis (store/search.go).

// caseHitView is one case found.
type caseHitView struct {
	ID          string                 `json:"id"`
	CaseNumber  string                 `json:"caseNumber,omitempty"`
	Service     string                 `json:"service"`
	ServiceName string                 `json:"serviceName"`
	Status      ozgflow.Status         `json:"status"`
	StatusText  string                 `json:"statusText"`
	Final       bool                   `json:"final"`
	Applicant   *ozgflow.CaseApplicant `json:"applicant,omitempty"`
	SubmittedAt time.Time              `json:"submittedAt"`
	Decision    *decisionHitView       `json:"decision,omitempty"`
	// ClosedAt is when a closed case was decided, withdrawn or cancelled.
	ClosedAt *time.Time `json:"closedAt,omitempty"`
}

type decisionHitView struct {
	Outcome     string    `json:"outcome"`
	OutcomeText string    `json:"outcomeText"`
	At          time.Time `json:"at"`
}

// newCaseHitView describes a case found; decision words a decided outcome
// as the case's variant does.
func newCaseHitView(c ozgflow.Case, decision func(ozgflow.Case, string) string) caseHitView {
	v := caseHitView{ID: c.ID, CaseNumber: c.CaseNumber, Service: c.Service, ServiceName: c.ServiceName,
		Status: c.ShownStatus(), StatusText: locale.DE.CaseStatus(c.ShownStatus()), Final: c.Status.Final(),
		Applicant: c.Applicant, SubmittedAt: c.SubmittedAt}
	if d := c.Decision; d != nil {
		v.Decision = &decisionHitView{Outcome: d.Outcome, OutcomeText: decision(c, d.Outcome), At: d.At}
	}
	if c.Status.Final() {
		at := c.UpdatedAt
		if c.Decision != nil {
			at = c.Decision.At
		}
		v.ClosedAt = &at
	}
	return v
}

// searchParams are the API's names of a search's query parameters.
var (
	searchParams   = map[string]string{"q": "q", "from": "from", "to": "to", "status": "status"}
	searchStatuses = map[string]string{"open": store.SearchOpen, "closed": store.SearchClosed}
)

// handleSearchCases finds the cases of the caller's authority.
func (s *API) handleSearchCases(w http.ResponseWriter, r *http.Request) {
	id := ozgflow.IdentityFrom(r.Context())
	q, err := web.CaseSearchOf(r, searchParams, searchStatuses)
	if err == nil {
		q.Offset, q.Limit, err = web.Paging(r)
	}
	if err == nil && q.Offset > store.MaxSearchOffset {
		err = ozgflow.BadParam("offset", "may be at most 10000; narrow the search instead")
	}
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	hits, err := s.cases.SearchCases(r.Context(), id, r.URL.Query().Get("authority"), q)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	cases := make([]caseHitView, len(hits.Cases))
	for i, c := range hits.Cases {
		cases[i] = newCaseHitView(c, s.cases.DecisionText)
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"cases": cases, "total": hits.Total, "offset": q.Offset, "limit": q.Limit})
}
