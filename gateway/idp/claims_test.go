package idp

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ozgflow/ozgflow"
)

func TestClaimMapTurnsKeycloakClaimsIntoIdentities(t *testing.T) {
	roles := func(r ...string) map[string]any {
		list := make([]any, len(r))
		for i, s := range r {
			list[i] = s
		}
		return map[string]any{"roles": list}
	}
	tests := []struct {
		name   string
		claims map[string]any
		want   ozgflow.Identity
		err    error
	}{
		{"a case worker with teams as group paths",
			map[string]any{"sub": "u1", "name": "Lea Leipzig", "realm_access": roles("ozgflow-sachbearbeitung", "offline_access"),
				"ars": "147130000000", "groups": []any{"/gewerbe", "/team/parken"}},
			ozgflow.Identity{Subject: "u1", Name: "Lea Leipzig", Role: ozgflow.RoleCaseWorker, Authority: "147130000000",
				Queues: []string{"gewerbe", "parken"}}, nil},
		{"an authority given as a list, one team as a string",
			map[string]any{"sub": "u2", "preferred_username": "dd", "realm_access": roles("ozgflow-sachbearbeitung"),
				"ars": []any{"146120000000"}, "groups": "gewerbe"},
			ozgflow.Identity{Subject: "u2", Name: "dd", Role: ozgflow.RoleCaseWorker, Authority: "146120000000", Queues: []string{"gewerbe"}}, nil},
		{"an administrator",
			map[string]any{"sub": "a1", "name": "Ada", "realm_access": roles("ozgflow-administration")},
			ozgflow.Identity{Subject: "a1", Name: "Ada", Role: ozgflow.RoleAdmin}, nil},
		{"a case worker who also administers",
			map[string]any{"sub": "u3", "name": "Both", "realm_access": roles("ozgflow-administration", "ozgflow-sachbearbeitung"),
				"ars": "147130000000", "groups": []any{"/parken"}},
			ozgflow.Identity{Subject: "u3", Name: "Both", Role: ozgflow.RoleCaseWorker, Authority: "147130000000",
				Queues: []string{"parken"}, Roles: []ozgflow.Role{ozgflow.RoleAdmin}}, nil},
		{"the data protection officer",
			map[string]any{"sub": "d1", "name": "Dana", "realm_access": roles("ozgflow-datenschutz")},
			ozgflow.Identity{Subject: "d1", Name: "Dana", Role: ozgflow.RoleDataProtection}, nil},
		{"an administrator who is also the data protection officer",
			map[string]any{"sub": "a2", "name": "Ada", "realm_access": roles("ozgflow-administration", "ozgflow-datenschutz")},
			ozgflow.Identity{Subject: "a2", Name: "Ada", Role: ozgflow.RoleAdmin, Roles: []ozgflow.Role{ozgflow.RoleDataProtection}}, nil},
		{"no role in ozgflow", map[string]any{"sub": "x", "realm_access": roles("offline_access")}, ozgflow.Identity{}, ErrNoRole},
		{"a case worker without authority", map[string]any{"sub": "x", "realm_access": roles("ozgflow-sachbearbeitung")},
			ozgflow.Identity{}, ErrNoRole},
		// An identity without queues works every queue of its authority
		// (ozgflow.Identity.MemberOf): no team named must not grant that.
		{"a case worker without a team", map[string]any{"sub": "x", "realm_access": roles("ozgflow-sachbearbeitung"),
			"ars": "147130000000"}, ozgflow.Identity{}, ErrNoRole},
		{"a case worker whose groups name no team", map[string]any{"sub": "x", "realm_access": roles("ozgflow-sachbearbeitung"),
			"ars": "147130000000", "groups": []any{"/"}}, ozgflow.Identity{}, ErrNoRole},
		{"an authority that is no ARS", map[string]any{"sub": "x", "realm_access": roles("ozgflow-sachbearbeitung"), "ars": "Leipzig"},
			ozgflow.Identity{}, ErrNoRole},
		{"roles claim of the wrong shape", map[string]any{"sub": "x", "realm_access": "ozgflow-administration"},
			ozgflow.Identity{}, ErrNoRole},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DefaultClaims.Identity(tt.claims)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if got.Subject != tt.want.Subject || got.Name != tt.want.Name || got.Role != tt.want.Role ||
				got.Authority != tt.want.Authority || !slices.Equal(got.Queues, tt.want.Queues) || !slices.Equal(got.Roles, tt.want.Roles) {
				t.Errorf("identity = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestClaimNamesAreConfiguration(t *testing.T) {
	m := ClaimMap{Roles: "groups", Authority: "org.ars", Queues: "teams", Name: "display", CaseWorkerRole: "sb", AdminRole: "adm"}
	id, err := m.Identity(map[string]any{"sub": "u", "display": "Uwe", "groups": []any{"sb"},
		"org": map[string]any{"ars": "145110000000"}, "teams": []any{"lasttest"}})
	if err != nil || id.Role != ozgflow.RoleCaseWorker || id.Authority != "145110000000" || !slices.Equal(id.Queues, []string{"lasttest"}) {
		t.Errorf("identity = %+v, %v", id, err)
	}
}

func TestAPIClientsBindClients(t *testing.T) {
	c := APIClients{Audience: "ozgflow", Clients: map[string]APIClient{
		"portal-amt24":          {Role: ozgflow.RolePortal, AccountPrefix: "amt24-"},
		"fachverfahren-leipzig": {Role: ozgflow.RoleSystem, Authority: "147130000000", Targets: []string{"gewerbe-leipzig"}},
	}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	id, ok := c.Identity(map[string]any{"client_id": "portal-amt24", "scope": "ozgflow.submit ozgflow.mailbox"})
	if !ok || id.Role != ozgflow.RolePortal || id.AccountPrefix != "amt24-" || !id.Granted(ozgflow.ScopeSubmit) ||
		id.Granted(ozgflow.ScopeEvents) || !id.OwnsAccount("amt24-anna") || id.OwnsAccount("portal2-anna") {
		t.Errorf("portal = %+v %v", id, ok)
	}
	id, ok = c.Identity(map[string]any{"azp": "fachverfahren-leipzig"})
	if !ok || id.Role != ozgflow.RoleSystem || id.Authority != "147130000000" || id.Granted(ozgflow.ScopeCasesRead) {
		t.Errorf("back-office system without scopes = %+v %v: a token without scopes grants none", id, ok)
	}
	if _, ok := c.Identity(map[string]any{"client_id": "someone-else"}); ok {
		t.Error("an unbound client was identified")
	}
	bad := APIClients{Audience: "ozgflow", Clients: map[string]APIClient{
		"p": {Role: ozgflow.RolePortal}, "s": {Role: ozgflow.RoleSystem, Authority: "Leipzig"}, "x": {Role: ozgflow.RoleAdmin},
		"t": {Role: ozgflow.RolePortal, AccountPrefix: "t-", Token: "geheim"},
	}}
	err := bad.Validate()
	for _, want := range []string{"client p: a portal needs accountPrefix", "client s: a back-office system needs its authority",
		"client x: role must be", "client t: static tokens are not accepted"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validate = %v, want %q", err, want)
		}
	}
	overlapping := APIClients{Audience: "ozgflow", Clients: map[string]APIClient{
		"amt": {Role: ozgflow.RolePortal, AccountPrefix: "amt"}, "amt24": {Role: ozgflow.RolePortal, AccountPrefix: "amt24-"},
	}}
	if err := overlapping.Validate(); err == nil || !strings.Contains(err.Error(), `account prefix "amt" covers "amt24-"`) {
		t.Errorf("overlapping account prefixes: %v", err)
	}
	if err := (APIClients{}).Validate(); err == nil {
		t.Error("an empty audience was accepted")
	}
}
