package staff

// The dashboard (Auswertung): figures per service of one authority.

import (
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/locale"
	"github.com/ozgflow/ozgflow/reports"
)

// serviceView is one service's block of the dashboard.
type serviceView struct {
	reports.ServiceStats
	Median, P90 string
	Chart       template.HTML
}

func (p *Pages) handleDashboardPage(w http.ResponseWriter, r *http.Request, v view) {
	reg := p.cases.Defs.Registry()
	authorities := reg.Authorities()
	authority := r.URL.Query().Get("authority")
	if !v.User.Has(ozgflow.RoleAdmin) {
		// A case worker sees their authority's dashboard if they lead a team.
		own, ok := reg.Authority(v.User.Authority)
		if !ok || !p.cases.LeadsTeam(*v.User) {
			p.ErrorPage(w, r, http.StatusForbidden, "forbidden")
			return
		}
		authorities, authority = []definitions.Authority{own}, own.ARS
	}
	if _, ok := reg.Authority(authority); !ok && len(authorities) > 0 {
		authority = authorities[0].ARS
	}
	q := r.URL.Query()
	period, _, perr := reports.PeriodOf(q.Get("from"), q.Get("to"))
	if perr != nil {
		v.ProblemTitle = say("problem.period")
		v.Problems = []ozgflow.FieldError{{Detail: say("problem.period.detail")}}
		period = reports.Period{}
	}
	stats, err := reports.Dashboard(r.Context(), p.cases, authority, period, p.now())
	if err != nil {
		v.ProblemTitle = say("problem.dashboard")
		v.Problems = []ozgflow.FieldError{{Detail: say("problem.projections")}}
		p.logger.Error("Dashboard failed", "error", err)
	}
	services := make([]serviceView, len(stats))
	for i, st := range stats {
		services[i] = serviceView{ServiceStats: st, Median: reports.FormatDuration(st.Median), P90: reports.FormatDuration(st.P90),
			Chart: template.HTML(st.StatusChart())} // built from escaped text only
	}
	v.Title = say("title.dashboard")
	v.Data = map[string]any{"Authorities": authorities, "Authority": authority, "Services": services,
		"From": q.Get("from"), "To": q.Get("to"), "Period": period.String(), "Presets": periodPresets(p.now()),
		"CasesURL": template.URL("/api/v1/reports/cases.xlsx?authority=" + url.QueryEscape(authority) + periodQuery(q.Get("from"), q.Get("to"))),
		"StatsURL": template.URL("/api/v1/reports/statistics.xlsx?authority=" + url.QueryEscape(authority) + periodQuery(q.Get("from"), q.Get("to")))}
	p.show(w, http.StatusOK, "dashboard", v)
}

// periodPreset is a time range offered with one click.
type periodPreset struct{ Name, From, To string }

// periodPresets are the ranges a dashboard offers: the last 7 and 30 days,
// the current month and year, and everything.
func periodPresets(now time.Time) []periodPreset {
	today := now.In(locale.Berlin)
	day := func(t time.Time) string { return t.Format("2006-01-02") }
	return []periodPreset{
		{"Letzte 7 Tage", day(today.AddDate(0, 0, -6)), day(today)},
		{"Letzte 30 Tage", day(today.AddDate(0, 0, -29)), day(today)},
		{"Dieser Monat", day(time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, locale.Berlin)), day(today)},
		{"Dieses Jahr", day(time.Date(today.Year(), 1, 1, 0, 0, 0, 0, locale.Berlin)), day(today)},
		{"Gesamter Zeitraum", "", ""},
	}
}

// periodQuery carries the chosen range into the Excel links.
func periodQuery(from, to string) string {
	q := url.Values{}
	if from != "" {
		q.Set("from", from)
	}
	if to != "" {
		q.Set("to", to)
	}
	if len(q) == 0 {
		return ""
	}
	return "&" + q.Encode()
}
