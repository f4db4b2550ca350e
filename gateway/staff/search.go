package staff

// The case search (Suche) and the closed cases (Erledigt): the
// authority's cases by case number, name, business name, address and
// e-mail address and the period of receipt, open and closed, newest
// first; a case worker finds those they may open.

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/locale"
	"github.com/ozgflow/ozgflow/store"
)

// searchPageSize is how many cases one page of the search shows.
const searchPageSize = 25

// The search's query parameters and status words on the pages.
var (
	searchParams   = map[string]string{"q": "q", "from": "von", "to": "bis", "status": "status"}
	searchStatuses = map[string]string{"offen": store.SearchOpen, "erledigt": store.SearchClosed}
)

// searchData is what the search page shows.
type searchData struct {
	Text, From, To, Status string
	Searched               bool // the form was sent, or a view asked for
	Hits                   []caseHitRow
	Total                  int64
	Page, Pages            int
	Query                  template.URL // the search as a query string, for paging links
}

// caseHitRow is one case found, worded for the list.
type caseHitRow struct {
	ID, Number, Name, Business, Address, Service string
	Received                                     string
	Status                                       string
	Closed                                       bool
	Decision                                     string // the outcome's German word, or the status of a case closed without one
	ClosedOn                                     string
}

// newCaseHitRow words a case found; decision words a decided outcome as
// the case's variant does.
func newCaseHitRow(c ozgflow.Case, decision func(ozgflow.Case, string) string) caseHitRow {
	row := caseHitRow{ID: c.ID, Number: c.CaseNumber, Service: c.ServiceName, Received: locale.DE.Short(c.SubmittedAt),
		Status: locale.DE.CaseStatus(c.ShownStatus()), Closed: c.Status.Final()}
	if a := c.Applicant; a != nil {
		row.Name, row.Business, row.Address = a.Name, a.BusinessName, a.Address
	}
	if row.Closed {
		row.Decision, row.ClosedOn = row.Status, locale.DE.Short(c.UpdatedAt)
		if d := c.Decision; d != nil {
			row.Decision, row.ClosedOn = decision(c, d.Outcome), locale.DE.Short(d.At)
		}
	}
	return row
}

func (p *Pages) handleSearchPage(w http.ResponseWriter, r *http.Request, v view) {
	id := *v.User
	query := r.URL.Query()
	d := searchData{Text: query.Get("q"), From: query.Get("von"), To: query.Get("bis"), Status: query.Get("status"), Page: 1}
	d.Searched = len(query) > 0
	v.Title = say("title.search")
	if d.Status == "erledigt" && d.Text == "" && d.From == "" && d.To == "" {
		v.Title = say("title.closed")
	}
	status := http.StatusOK
	q, err := web.CaseSearchOf(r, searchParams, searchStatuses)
	if page, _ := strconv.Atoi(query.Get("seite")); page > 1 {
		d.Page = min(page, store.MaxSearchOffset/searchPageSize)
	}
	q.Offset, q.Limit = int64(d.Page-1)*searchPageSize, searchPageSize
	if err == nil && d.Searched {
		var hits store.CaseHits
		if hits, err = p.cases.SearchCases(r.Context(), id, "", q); err == nil {
			for _, c := range hits.Cases {
				d.Hits = append(d.Hits, newCaseHitRow(c, p.cases.DecisionText))
			}
			d.Total = hits.Total
			d.Pages = int((hits.Total + searchPageSize - 1) / searchPageSize)
		}
	}
	if err != nil {
		status = web.StatusOf(ozgflow.ErrorCode(err))
		v.ProblemTitle = say("problem.search")
		v.Problems = searchProblems(err)
	}
	link := url.Values{}
	for k, val := range map[string]string{"q": d.Text, "von": d.From, "bis": d.To, "status": d.Status} {
		if val != "" {
			link.Set(k, val)
		}
	}
	d.Query = template.URL(link.Encode()) // encoded here: safe in a URL
	v.Data = d
	p.show(w, status, "search", v)
}

// searchProblems words what is wrong with a search in German.
func searchProblems(err error) []ozgflow.FieldError {
	if r := ozgflow.RefusalOf(err); r != nil {
		return []ozgflow.FieldError{{Detail: locale.DE.Refusal(*r)}}
	}
	var e *ozgflow.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return []ozgflow.FieldError{{Detail: say("problem.projections")}}
	}
	if bounds := locale.DE.InputProblems(e.Fields); bounds != nil {
		return bounds
	}
	labels := map[string]string{"?von": say("search.from"), "?bis": say("search.to"), "?status": say("search.status")}
	out := make([]ozgflow.FieldError, 0, len(e.Fields))
	for _, f := range e.Fields {
		detail := say("search.bad_date")
		if f.Pointer == "?status" {
			detail = say("search.bad_status")
		} else if f.Pointer == "?bis" && f.Detail == "is before von" {
			detail = say("search.bad_period")
		}
		out = append(out, ozgflow.FieldError{Detail: labels[f.Pointer] + ": " + detail})
	}
	return out
}
