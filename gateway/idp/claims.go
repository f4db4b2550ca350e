package idp

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ozgflow/ozgflow"
)

// ClaimMap says where a person's token keeps what ozgflow needs. Claim
// names are paths with dots, e.g. "realm_access.roles" (Keycloak's realm
// roles) or "groups".
type ClaimMap struct {
	Roles     string // a list of role names
	Authority string // the authority's 12-digit key (ARS)
	Queues    string // a list of the queues (teams) a case worker works
	Name      string // the display name
	// CaseWorkerRole and AdminRole are the role names in Roles that make a
	// person a case worker or an administrator of ozgflow.
	CaseWorkerRole string
	AdminRole      string
	// DataProtectionRole is the role name in Roles of the data protection
	// officer, who exports the audit trail; empty maps no one to it.
	DataProtectionRole string
}

// DefaultClaims fit a Keycloak realm with realm roles, a user attribute
// "ars" and group membership.
var DefaultClaims = ClaimMap{Roles: "realm_access.roles", Authority: "ars", Queues: "groups", Name: "name",
	CaseWorkerRole: "ozgflow-sachbearbeitung", AdminRole: "ozgflow-administration", DataProtectionRole: "ozgflow-datenschutz"}

func (m ClaimMap) validate() error {
	if m.Roles == "" || m.CaseWorkerRole == "" || m.AdminRole == "" {
		return errors.New("claim mapping: the roles claim and the names of the case-worker and administrator roles are required")
	}
	if m.Authority == "" || m.Queues == "" {
		return errors.New("claim mapping: the authority and queues claims are required (case workers need both)")
	}
	return nil
}

var arsPattern = regexp.MustCompile(`^\d{12}$`)

// Identity maps a person's claims to an identity. A case worker needs an
// authority and at least one queue; someone with both roles is a case
// worker who also administers. The data protection role is a role of its
// own, or a further one of a case worker or administrator.
func (m ClaimMap) Identity(claims map[string]any) (ozgflow.Identity, error) {
	roles := stringsAt(claims, m.Roles)
	worker, admin := slices.Contains(roles, m.CaseWorkerRole), slices.Contains(roles, m.AdminRole)
	protection := m.DataProtectionRole != "" && slices.Contains(roles, m.DataProtectionRole)
	sub, _ := claims["sub"].(string)
	if sub == "" || (!worker && !admin && !protection) {
		return ozgflow.Identity{}, ErrNoRole
	}
	id := ozgflow.Identity{Subject: sub, Name: firstString(claims, m.Name, "name", "preferred_username", "sub")}
	if worker {
		authority := firstString(claims, m.Authority)
		if !arsPattern.MatchString(authority) {
			return ozgflow.Identity{}, fmt.Errorf("%w: a case worker's claim %q must name an authority (12-digit ARS)", ErrNoRole, m.Authority)
		}
		id.Role, id.Authority = ozgflow.RoleCaseWorker, authority
		for _, q := range stringsAt(claims, m.Queues) {
			// Keycloak names groups by path ("/gewerbe") unless told not to.
			if q = strings.Trim(q, "/"); q != "" {
				id.Queues = append(id.Queues, q[strings.LastIndex(q, "/")+1:])
			}
		}
		if len(id.Queues) == 0 {
			// An identity without queues works every queue of its
			// authority (ozgflow.Identity.MemberOf): a token that names
			// no team must not grant that.
			return ozgflow.Identity{}, fmt.Errorf("%w: a case worker's claim %q must name at least one queue (team)", ErrNoRole, m.Queues)
		}
		if admin {
			id.Roles = []ozgflow.Role{ozgflow.RoleAdmin}
		}
		if protection {
			id.Roles = append(id.Roles, ozgflow.RoleDataProtection)
		}
		return id, nil
	}
	if admin {
		id.Role = ozgflow.RoleAdmin
		if protection {
			id.Roles = []ozgflow.Role{ozgflow.RoleDataProtection}
		}
		return id, nil
	}
	id.Role = ozgflow.RoleDataProtection
	return id, nil
}

// APIClients bind the provider's API clients to what they may reach.
type APIClients struct {
	// Audience must be among an access token's "aud".
	Audience string               `yaml:"audience"`
	Clients  map[string]APIClient `yaml:"clients"`
}

// APIClient is one client's binding.
type APIClient struct {
	// Role is portal, system (a back-office system) or provider (a payment
	// provider or signing service, which reaches only its webhooks).
	Role ozgflow.Role `yaml:"role"`
	// AccountPrefix: a portal's accounts start with it.
	AccountPrefix string `yaml:"accountPrefix"`
	// Authority and Targets: a back-office system reads and signals only the
	// cases of its authority delivered to these targets (none: all of them).
	Authority string   `yaml:"authority"`
	Targets   []string `yaml:"targets"`
	// Name shown for the client; its ID when empty.
	Name string `yaml:"name"`
	// Token is refused: a client authenticates at the identity provider,
	// never with a static token.
	Token string `yaml:"token"`
}

// LoadAPIClients reads the bindings from a YAML file; without an audience
// of its own, the file's clients carry audience.
func LoadAPIClients(path, audience string) (APIClients, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return APIClients{}, fmt.Errorf("API clients: %w", err)
	}
	var c APIClients
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return APIClients{}, fmt.Errorf("API clients %s: %w", path, err)
	}
	if c.Audience == "" {
		c.Audience = audience
	}
	if err := c.Validate(); err != nil {
		return APIClients{}, fmt.Errorf("API clients %s: %w", path, err)
	}
	return c, nil
}

// Validate checks that every binding is complete: a portal names its
// account prefix, a back-office system its authority.
func (c APIClients) Validate() error {
	if c.Audience == "" {
		return errors.New("audience is required")
	}
	var errs []error
	for id, b := range c.Clients {
		if b.Token != "" {
			errs = append(errs, fmt.Errorf("client %s: static tokens are not accepted; the client obtains access tokens from the identity provider (client credentials)", id))
		}
		switch b.Role {
		case ozgflow.RolePortal:
			if b.AccountPrefix == "" {
				errs = append(errs, fmt.Errorf("client %s: a portal needs accountPrefix", id))
			}
		case ozgflow.RoleSystem:
			if !arsPattern.MatchString(b.Authority) {
				errs = append(errs, fmt.Errorf("client %s: a back-office system needs its authority (12-digit ARS)", id))
			}
		case ozgflow.RoleProvider:
		default:
			errs = append(errs, fmt.Errorf("client %s: role must be portal, system or provider", id))
		}
	}
	for id, b := range c.Clients {
		for other, o := range c.Clients {
			if id != other && b.Role == ozgflow.RolePortal && o.Role == ozgflow.RolePortal && b.AccountPrefix != "" &&
				b.AccountPrefix != o.AccountPrefix && strings.HasPrefix(o.AccountPrefix, b.AccountPrefix) {
				// Clients with the same prefix serve one portal; a prefix
				// inside another's reaches accounts not its own.
				errs = append(errs, fmt.Errorf("clients %s and %s: account prefix %q covers %q; a portal would reach the other's accounts",
					id, other, b.AccountPrefix, o.AccountPrefix))
			}
		}
	}
	return errors.Join(errs...)
}

// Identity is the identity of a bound client's token; ok is false for a
// client that is not bound.
func (c APIClients) Identity(claims map[string]any) (ozgflow.Identity, bool) {
	client := firstString(claims, "client_id", "azp")
	b, ok := c.Clients[client]
	if !ok || client == "" {
		return ozgflow.Identity{}, false
	}
	scope, _ := claims["scope"].(string)
	name := b.Name
	if name == "" {
		name = client
	}
	return ozgflow.Identity{Subject: "client:" + client, Name: name, Role: b.Role, Authority: b.Authority,
		AccountPrefix: b.AccountPrefix, Targets: b.Targets, Scopes: append([]string{}, strings.Fields(scope)...)}, true
}

// valueAt follows a dotted path into claims.
func valueAt(claims map[string]any, path string) any {
	if path == "" {
		return nil
	}
	var v any = claims
	for _, part := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[part]
	}
	return v
}

// stringsAt returns the strings at path: a list, or a single string.
func stringsAt(claims map[string]any, path string) []string {
	switch v := valueAt(claims, path).(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// firstString returns the first non-empty string found at the paths.
func firstString(claims map[string]any, paths ...string) string {
	for _, p := range paths {
		if s := stringsAt(claims, p); len(s) > 0 && s[0] != "" {
			return s[0]
		}
	}
	return ""
}
