package gateway

import (
	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/gateway/web"
)

// DevTokens are the demo identities of `ozgflow dev`: per city a team lead,
// who also works the team lead's queue escalations land in, and a colleague,
// so that four-eyes decisions and competing claims can be tried; Chemnitz's
// case worker works every queue of the load-test variants. The demo portal
// owns the accounts starting with "amt24-", a second portal those starting
// with "portal2-"; the demo back-office system is bound to no authority (dev
// only), while Leipzig's and Dresden's Gewerbe systems see only the cases
// delivered to them. The data protection officer exports the audit trail.
// The second portal and the bound systems let the access
// matrix (test/access) try a stranger next to the rightful caller.
func DevTokens() web.StaticTokens {
	const leipzig, dresden, chemnitz = "147130000000", "146120000000", "145110000000"
	lead := []string{"gewerbe", "gewerbe-leitung", "parken"}
	team := []string{"gewerbe", "parken"}
	return web.StaticTokens{
		"dev-portal":        {Subject: "portal-amt24", Name: "Amt24 (Demo)", Role: ozgflow.RolePortal, AccountPrefix: "amt24-"},
		"dev-sb-chemnitz":   {Subject: "sb-chemnitz", Name: "Sachbearbeitung Chemnitz", Role: ozgflow.RoleCaseWorker, Authority: chemnitz},
		"dev-sb-leipzig":    {Subject: "sb-leipzig", Name: "Sachbearbeitung Leipzig (Teamleitung)", Role: ozgflow.RoleCaseWorker, Authority: leipzig, Queues: lead},
		"dev-sb-leipzig-2":  {Subject: "sb-leipzig-2", Name: "Sachbearbeitung Leipzig 2", Role: ozgflow.RoleCaseWorker, Authority: leipzig, Queues: team},
		"dev-sb-dresden":    {Subject: "sb-dresden", Name: "Sachbearbeitung Dresden (Teamleitung)", Role: ozgflow.RoleCaseWorker, Authority: dresden, Queues: lead},
		"dev-sb-dresden-2":  {Subject: "sb-dresden-2", Name: "Sachbearbeitung Dresden 2", Role: ozgflow.RoleCaseWorker, Authority: dresden, Queues: team},
		"dev-admin":         {Subject: "admin", Name: "Fachadministration (Demo)", Role: ozgflow.RoleAdmin},
		"dev-datenschutz":   {Subject: "datenschutz", Name: "Datenschutzbeauftragte (Demo)", Role: ozgflow.RoleDataProtection},
		"dev-fachverfahren": {Subject: "fachverfahren", Name: "Fachverfahren (Demo)", Role: ozgflow.RoleSystem},
		"dev-portal-2":      {Subject: "portal-zwei", Name: "Zweites Portal (Demo)", Role: ozgflow.RolePortal, AccountPrefix: "portal2-"},
		"dev-fachverfahren-leipzig": {Subject: "fachverfahren-leipzig", Name: "Fachverfahren Gewerbe Leipzig (Demo)",
			Role: ozgflow.RoleSystem, Authority: leipzig, Targets: []string{"gewerbe-leipzig"}},
		"dev-fachverfahren-dresden": {Subject: "fachverfahren-dresden", Name: "Fachverfahren Gewerbe Dresden (Demo)",
			Role: ozgflow.RoleSystem, Authority: dresden, Targets: []string{"gewerbe-dresden"}},
	}
}
