package staff

// The dashboard (Auswertung): figures per service of one authority.

import (
	"html/template"
	"net/http"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
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
	stats, err := reports.Dashboard(r.Context(), p.cases, authority, p.now())
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
	v.Data = map[string]any{"Authorities": authorities, "Authority": authority, "Services": services}
	p.show(w, http.StatusOK, "dashboard", v)
}
