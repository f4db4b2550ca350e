package staff

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/locale"
	"github.com/ozgflow/ozgflow/records"
)

// The audit trail on the staff pages: a case's trail on its page in the
// Arbeitskorb, and for the data protection role a form that chooses
// entries by case, person and period and links to their export
// (GET /api/v1/trail, which takes the staff session for reading).

// trailData is what the trail page shows: the choice and, once made
// without problems, the links to its export.
type trailData struct {
	Case, Actor, Account, From, To string
	CSV, XLSX                      string
}

// handleTrailPage shows the form of an export and its links.
func (p *Pages) handleTrailPage(w http.ResponseWriter, r *http.Request, v view) {
	v.Title = say("title.trail")
	q := r.URL.Query()
	d := trailData{Case: q.Get("case"), Actor: q.Get("actor"), Account: q.Get("account"), From: q.Get("from"), To: q.Get("to")}
	status := http.StatusOK
	if _, _, err := web.TrailQueryOf(r); err != nil {
		v.ProblemTitle, v.Problems = say("problem.trail"), ozgflow.ErrorFields(err)
		status = http.StatusBadRequest
	} else if len(q) > 0 {
		choice := url.Values{}
		for _, k := range []string{"case", "actor", "account", "from", "to"} {
			if s := strings.TrimSpace(q.Get(k)); s != "" {
				choice.Set(k, s)
			}
		}
		choice.Set("format", "csv")
		d.CSV = "/api/v1/trail?" + choice.Encode()
		choice.Set("format", "xlsx")
		d.XLSX = "/api/v1/trail?" + choice.Encode()
	}
	v.Data = d
	p.show(w, status, "trail", v)
}

// trailRow is an entry of a case's trail as its page shows it.
type trailRow struct {
	At, Who, Role, Action, Via, Detail, From string
}

// caseTrail reads the newest 500 entries of a case's audit trail for its
// page, newest first, in German: who by name, what was done, by which way
// (the workspace, the API, the applicant's pages, ozgflow itself); the
// page's own entry ("case.read") covers the reading.
func (p *Pages) caseTrail(ctx context.Context, caseID string, names map[string]string) ([]trailRow, error) {
	if p.cases.Records == nil {
		return nil, nil
	}
	entries, err := p.cases.Records.Trail(ctx, records.TrailQuery{CaseID: caseID, Limit: 500, Newest: true})
	if err != nil {
		return nil, err
	}
	rows := make([]trailRow, 0, len(entries))
	for _, e := range entries {
		via, detail := trailDetail(e)
		who := p.who(e.Actor, names)
		if e.Actor == ozgflow.ActorSystem {
			who = say("who.system")
		}
		rows = append(rows, trailRow{At: e.At.In(locale.Berlin).Format("02.01.2006 15:04:05"), Who: who,
			Role: roleName(e.Role), Action: locale.DE.TrailAction(e.Action), Via: via, Detail: detail, From: e.Address})
	}
	return rows, nil
}

// trailDetail reads an entry's detail ("GET /route; task …; document …"):
// the way it came by, from its route, and what it names, in German.
func trailDetail(e records.Entry) (via, detail string) {
	parts := strings.Split(e.Detail, "; ")
	route := ""
	if method, path, ok := strings.Cut(parts[0], " "); ok && strings.HasPrefix(path, "/") && method == strings.ToUpper(method) {
		route, parts = path, parts[1:]
	}
	switch {
	case strings.HasPrefix(route, "/arbeitskorb"):
		via = say("trail.via.workspace")
	case strings.HasPrefix(route, "/verwaltung"):
		via = say("trail.via.admin")
	case strings.HasPrefix(route, "/api/"):
		via = say("trail.via.api")
	case strings.HasPrefix(route, "/antraege"):
		via = say("trail.via.applicant")
	case strings.HasPrefix(route, "/anmelden"), strings.HasPrefix(route, "/abmelden"):
		via = say("trail.via.signin")
	case route == "" && e.Role == string(ozgflow.RoleSystem):
		via = say("trail.via.system")
	}
	var out []string
	for _, part := range parts {
		switch {
		case strings.HasPrefix(part, "task "):
			out = append(out, say("trail.task", strings.TrimPrefix(part, "task ")))
		case strings.HasPrefix(part, "document "):
			sha, how, _ := strings.Cut(strings.TrimPrefix(part, "document "), " ")
			if len(sha) > 12 {
				sha = sha[:12] + "…"
			}
			text := say("trail.document", sha)
			switch how {
			case "(open)":
				text += ", " + say("trail.opened")
			case "(download)":
				text += ", " + say("trail.downloaded")
			}
			out = append(out, text)
		case e.Action == "case.deliver":
			// "<target> (case)" or "<target> (archive)"
			target, kind, _ := strings.Cut(part, " (")
			where := map[string]string{"case)": say("trail.to.backoffice"), "archive)": say("trail.to.archive")}[kind]
			if where == "" {
				where = part
			} else {
				where += " " + target
			}
			out = append(out, where)
		default:
			out = append(out, part)
		}
	}
	return via, strings.Join(out, "; ")
}

// roleName is a role as staff call it.
func roleName(role string) string {
	switch ozgflow.Role(role) {
	case ozgflow.RoleCaseWorker:
		return "Sachbearbeitung"
	case ozgflow.RoleAdmin:
		return "Fachadministration"
	case ozgflow.RoleApplicant:
		return "Antragsteller/in"
	case ozgflow.RolePortal:
		return "Portal"
	case ozgflow.RoleSystem:
		return "Fachverfahren"
	case ozgflow.RoleProvider:
		return "Dienstleister"
	case ozgflow.RoleDataProtection:
		return "Datenschutz"
	case ozgflow.RoleFITConnect:
		return "Onlinedienst (FIT-Connect)"
	case ozgflow.RoleAnonymous:
		return "unbekannt"
	}
	return role
}
