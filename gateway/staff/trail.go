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
	At, Who, Role, Action, Detail, From string
}

// caseTrail reads the newest 500 entries of a case's audit trail for its
// page, newest first; the page's own entry ("case.read") covers the
// reading.
func (p *Pages) caseTrail(ctx context.Context, caseID string) ([]trailRow, error) {
	if p.cases.Records == nil {
		return nil, nil
	}
	entries, err := p.cases.Records.Trail(ctx, records.TrailQuery{CaseID: caseID, Limit: 500, Newest: true})
	if err != nil {
		return nil, err
	}
	rows := make([]trailRow, 0, len(entries))
	for _, e := range entries {
		rows = append(rows, trailRow{At: e.At.In(locale.Berlin).Format("02.01.2006 15:04:05"), Who: e.Actor, Role: roleName(e.Role),
			Action: e.Action, Detail: e.Detail, From: e.Address})
	}
	return rows, nil
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
	case ozgflow.RoleAnonymous:
		return "unbekannt"
	}
	return role
}
