package deploy

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The walk-through's identities: Keycloak in docker-compose.yml with the
// realm of deploy/keycloak/ozgflow-realm.json, and the gateway's bindings
// of API clients in deploy/api-clients.yaml.

const (
	realmFile      = "deploy/keycloak/ozgflow-realm.json"
	apiClientsFile = "deploy/api-clients.yaml"
)

// realm is the part of Keycloak's realm representation the tests look at.
type realm struct {
	Realm string `json:"realm"`
	Roles struct {
		Realm []struct {
			Name string `json:"name"`
		} `json:"realm"`
	} `json:"roles"`
	Groups []struct {
		Name string `json:"name"`
	} `json:"groups"`
	Users        []realmUser   `json:"users"`
	ClientScopes []clientScope `json:"clientScopes"`
	Clients      []realmClient `json:"clients"`
}

type realmUser struct {
	Username    string              `json:"username"`
	Enabled     bool                `json:"enabled"`
	Attributes  map[string][]string `json:"attributes"`
	RealmRoles  []string            `json:"realmRoles"`
	Groups      []string            `json:"groups"`
	Credentials []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"credentials"`
}

type clientScope struct {
	Name            string           `json:"name"`
	Attributes      map[string]any   `json:"attributes"`
	ProtocolMappers []protocolMapper `json:"protocolMappers"`
}

type protocolMapper struct {
	Name           string            `json:"name"`
	ProtocolMapper string            `json:"protocolMapper"`
	Config         map[string]string `json:"config"`
}

type realmClient struct {
	ClientID                  string            `json:"clientId"`
	Enabled                   bool              `json:"enabled"`
	PublicClient              bool              `json:"publicClient"`
	Secret                    string            `json:"secret"`
	StandardFlowEnabled       bool              `json:"standardFlowEnabled"`
	ImplicitFlowEnabled       bool              `json:"implicitFlowEnabled"`
	DirectAccessGrantsEnabled bool              `json:"directAccessGrantsEnabled"`
	ServiceAccountsEnabled    bool              `json:"serviceAccountsEnabled"`
	RedirectURIs              []string          `json:"redirectUris"`
	Attributes                map[string]string `json:"attributes"`
	DefaultClientScopes       []string          `json:"defaultClientScopes"`
	OptionalClientScopes      []string          `json:"optionalClientScopes"`
	ProtocolMappers           []protocolMapper  `json:"protocolMappers"`
}

func loadRealm(t *testing.T) (realm, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, realmFile))
	if err != nil {
		t.Fatalf("read the realm: %v", err)
	}
	var r realm
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s is not valid JSON: %v", realmFile, err)
	}
	return r, b
}

func (r realm) client(t *testing.T, id string) realmClient {
	t.Helper()
	for _, c := range r.Clients {
		if c.ClientID == id {
			return c
		}
	}
	t.Fatalf("the realm has no client %s", id)
	return realmClient{}
}

func (r realm) user(t *testing.T, name string) realmUser {
	t.Helper()
	for _, u := range r.Users {
		if u.Username == name {
			return u
		}
	}
	t.Fatalf("the realm has no user %s", name)
	return realmUser{}
}

// mapperOf returns the mapper of kind whose config sets claim (claim.name,
// or for audience mappers the audience).
func mapperOf(mappers []protocolMapper, kind, claim string) (protocolMapper, bool) {
	for _, m := range mappers {
		if m.ProtocolMapper == kind && (m.Config["claim.name"] == claim || m.Config["included.custom.audience"] == claim) {
			return m, true
		}
	}
	return protocolMapper{}, false
}

// apiClients is deploy/api-clients.yaml.
type apiClients struct {
	Audience string `yaml:"audience"`
	Clients  map[string]struct {
		Role          string   `yaml:"role"`
		AccountPrefix string   `yaml:"accountPrefix"`
		Authority     string   `yaml:"authority"`
		Targets       []string `yaml:"targets"`
	} `yaml:"clients"`
}

// substitution splits a Compose value ${VAR:-default} or ${VAR:?message}
// into the variable and what follows; a plain value comes back as it is.
func substitution(v string) (variable, op, rest string) {
	m := regexp.MustCompile(`^\$\{([A-Z0-9_]+)(:[-?])?([^}]*)\}$`).FindStringSubmatch(v)
	if m == nil {
		return "", "", v
	}
	return m[1], m[2], m[3]
}

// rawService is a service of docker-compose.yml as generic YAML, for the
// parts composeFile leaves out (networks).
func rawService(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]map[string]any `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Services[name]
}

// mounts lists a service's bind mounts as container path -> host path.
func mounts(s service) map[string]string {
	out := map[string]string{}
	for _, v := range s.Volumes {
		if s, ok := v.(string); ok {
			parts := strings.Split(s, ":")
			if len(parts) >= 2 && strings.HasPrefix(parts[0], "./") {
				out[parts[1]] = parts[0]
			}
		}
	}
	return out
}

func TestComposeKeycloak(t *testing.T) {
	c := loadCompose(t)
	kc := mustService(t, c, "keycloak")
	env := environment(t, kc)

	if !regexp.MustCompile(`^quay\.io/keycloak/keycloak:26\.\d+\.\d+$`).MatchString(kc.Image) {
		t.Errorf("keycloak runs %q, want quay.io/keycloak/keycloak pinned to a 26.x.y release", kc.Image)
	}
	if cmd := stringList(t, kc.Command); !slices.Contains(cmd, "start-dev") || !slices.Contains(cmd, "--import-realm") {
		t.Errorf("keycloak's command is %q, want start-dev --import-realm", cmd)
	}
	realmMounted := false
	for target, src := range mounts(kc) {
		if filepath.Clean(src) == realmFile && strings.HasPrefix(target, "/opt/keycloak/data/import/") && strings.HasSuffix(target, ".json") {
			realmMounted = true
		}
	}
	if !realmMounted {
		t.Errorf("keycloak does not mount ./%s under /opt/keycloak/data/import/ (mounts %v)", realmFile, mounts(kc))
	}
	if kc.Healthcheck == nil || kc.Healthcheck.Disable || env["KC_HEALTH_ENABLED"] != "true" {
		t.Error("keycloak needs KC_HEALTH_ENABLED and a healthcheck: the gateway waits for it")
	}

	// One issuer for browser and gateway: Keycloak's own URL, reachable
	// on the same port outside and inside, by a name the network knows.
	self, err := url.Parse(env["KC_HOSTNAME"])
	if err != nil || self.Hostname() == "" || self.Port() == "" {
		t.Fatalf("KC_HOSTNAME %q is not a URL with host and port", env["KC_HOSTNAME"])
	}
	if env["KC_HTTP_PORT"] != self.Port() {
		t.Errorf("keycloak listens on %q but calls itself %s", env["KC_HTTP_PORT"], self)
	}
	if !slices.Contains(ports(t, kc), portMapping{published: self.Port(), target: self.Port()}) {
		t.Errorf("keycloak must publish port %s as %s: browsers reach it at %s; publishes %v", self.Port(), self.Port(), self, ports(t, kc))
	}
	if !strings.HasSuffix(self.Hostname(), ".localhost") {
		t.Errorf("KC_HOSTNAME host %q: browsers resolve only *.localhost names to this machine by themselves", self.Hostname())
	}
	aliases := ""
	if nets, ok := rawService(t, "keycloak")["networks"].(map[string]any); ok {
		if def, ok := nets["default"].(map[string]any); ok {
			if list, ok := def["aliases"].([]any); ok {
				for _, a := range list {
					aliases += " " + a.(string) + " "
				}
			}
		}
	}
	if !strings.Contains(aliases, " "+self.Hostname()+" ") {
		t.Errorf("keycloak has no network alias %s, so the gateway cannot reach the issuer (aliases:%s)", self.Hostname(), aliases)
	}

	gw := mustService(t, c, "gateway")
	genv := environment(t, gw)
	_, _, issuer := substitution(genv["OZGFLOW_OIDC_ISSUER"])
	if want := strings.TrimSuffix(self.String(), "/") + "/realms/ozgflow"; issuer != want {
		t.Errorf("the gateway's issuer is %q, want Keycloak's own URL %s", issuer, want)
	}
	if got := dependsOn(t, gw)["keycloak"]; got != "service_healthy" {
		t.Errorf("the gateway must wait for keycloak to be healthy; condition is %q", got)
	}
	r, raw := loadRealm(t)
	client := r.client(t, genv["OZGFLOW_OIDC_CLIENT_ID"])
	// The gateway derives its redirect URL from its public URL.
	_, _, public := substitution(genv["OZGFLOW_PUBLIC_URL"])
	if redirect := public + "/anmelden/rueckkehr"; !slices.Contains(client.RedirectURIs, redirect) {
		t.Errorf("the gateway returns to %q, which client %s does not allow (%v)", redirect, client.ClientID, client.RedirectURIs)
	}
	if v, op, _ := substitution(genv["OZGFLOW_OIDC_CLIENT_SECRET"]); op != ":?" || client.Secret != "${"+v+"}" {
		t.Errorf("the gateway's OZGFLOW_OIDC_CLIENT_SECRET (%q) and client %s's secret (%q) must be the same required variable",
			genv["OZGFLOW_OIDC_CLIENT_SECRET"], client.ClientID, client.Secret)
	}
	// Every ${VAR} of the realm is set in keycloak's environment.
	for _, m := range regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`).FindAllStringSubmatch(string(raw), -1) {
		if v, op, _ := substitution(env[m[1]]); v != m[1] || op != ":?" {
			t.Errorf("the realm reads ${%s}, which keycloak's environment does not require (%q)", m[1], env[m[1]])
		}
	}

	file := genv["OZGFLOW_API_CLIENTS_FILE"]
	if src := mounts(gw)[file]; file == "" || filepath.Clean(src) != apiClientsFile {
		t.Errorf("OZGFLOW_API_CLIENTS_FILE is %q, want ./%s mounted there (mounts %v)", file, apiClientsFile, mounts(gw))
	}
}

func TestRealm(t *testing.T) {
	r, _ := loadRealm(t)
	if r.Realm != "ozgflow" {
		t.Errorf("realm %q, want ozgflow", r.Realm)
	}
	var roles, groups []string
	for _, role := range r.Roles.Realm {
		roles = append(roles, role.Name)
	}
	for _, g := range r.Groups {
		groups = append(groups, "/"+g.Name)
	}
	for _, role := range []string{"ozgflow-sachbearbeitung", "ozgflow-administration"} {
		if !slices.Contains(roles, role) {
			t.Errorf("the realm has no role %s (roles %v)", role, roles)
		}
	}

	t.Run("users", func(t *testing.T) {
		for _, tc := range []struct {
			user, role, ars string
			groups          []string
		}{
			{"sb-leipzig", "ozgflow-sachbearbeitung", "147130000000", []string{"/gewerbe", "/parken"}},
			{"sb-dresden", "ozgflow-sachbearbeitung", "146120000000", nil},
			{"fachadmin", "ozgflow-administration", "", nil},
		} {
			u := r.user(t, tc.user)
			if !u.Enabled || len(u.Credentials) != 1 || u.Credentials[0].Type != "password" || u.Credentials[0].Value == "" {
				t.Errorf("%s: enabled %v, credentials %d; want an enabled user with a walk-through password", tc.user, u.Enabled, len(u.Credentials))
			}
			if !slices.Contains(u.RealmRoles, tc.role) {
				t.Errorf("%s has roles %v, want %s", tc.user, u.RealmRoles, tc.role)
			}
			if got := u.Attributes["ars"]; tc.ars != "" && !slices.Equal(got, []string{tc.ars}) {
				t.Errorf("%s has ars %v, want %s", tc.user, got, tc.ars)
			}
			for _, g := range tc.groups {
				if !slices.Contains(u.Groups, g) {
					t.Errorf("%s is in groups %v, want %s", tc.user, u.Groups, g)
				}
			}
			for _, g := range u.Groups {
				if !slices.Contains(groups, g) {
					t.Errorf("%s is in group %s, which the realm does not define (%v)", tc.user, g, groups)
				}
			}
		}
	})

	t.Run("client ozgflow", func(t *testing.T) {
		c := r.client(t, "ozgflow")
		if c.PublicClient || !c.StandardFlowEnabled || c.ImplicitFlowEnabled || c.DirectAccessGrantsEnabled || c.ServiceAccountsEnabled {
			t.Errorf("ozgflow must be a confidential client with the code flow only: %+v", c)
		}
		if c.Attributes["pkce.code.challenge.method"] != "S256" {
			t.Errorf("ozgflow does not require PKCE with S256 (attributes %v)", c.Attributes)
		}
		if !slices.Equal(c.RedirectURIs, []string{"http://localhost:8080/anmelden/rueckkehr"}) {
			t.Errorf("redirect URIs %v", c.RedirectURIs)
		}
		if c.Attributes["post.logout.redirect.uris"] != "http://localhost:8080/*" {
			t.Errorf("post-logout redirect %q", c.Attributes["post.logout.redirect.uris"])
		}
		for _, tc := range []struct{ kind, claim string }{
			{"oidc-usermodel-realm-role-mapper", "realm_access.roles"},
			{"oidc-usermodel-attribute-mapper", "ars"},
			{"oidc-group-membership-mapper", "groups"},
		} {
			m, ok := mapperOf(c.ProtocolMappers, tc.kind, tc.claim)
			if !ok {
				t.Errorf("ozgflow has no %s for %s", tc.kind, tc.claim)
				continue
			}
			if m.Config["id.token.claim"] != "true" || m.Config["access.token.claim"] != "true" {
				t.Errorf("%s is not in both the ID token and the access token: %v", tc.claim, m.Config)
			}
		}
		if m, _ := mapperOf(c.ProtocolMappers, "oidc-usermodel-attribute-mapper", "ars"); m.Config["user.attribute"] != "ars" {
			t.Errorf("the ars claim comes from user attribute %q", m.Config["user.attribute"])
		}
		if m, _ := mapperOf(c.ProtocolMappers, "oidc-group-membership-mapper", "groups"); m.Config["full.path"] != "false" {
			t.Errorf("groups carry their path (full.path %q); want bare names", m.Config["full.path"])
		}
	})

	t.Run("API clients", func(t *testing.T) {
		for _, tc := range []struct {
			client string
			scopes []string
		}{
			{"portal-amt24", []string{"ozgflow.submit", "ozgflow.mailbox"}},
			{"fachverfahren-leipzig", []string{"ozgflow.cases.read", "ozgflow.events"}},
		} {
			c := r.client(t, tc.client)
			if c.PublicClient || !c.ServiceAccountsEnabled || c.StandardFlowEnabled || c.ImplicitFlowEnabled || c.DirectAccessGrantsEnabled {
				t.Errorf("%s must be a confidential client with client credentials only", tc.client)
			}
			for _, s := range tc.scopes {
				if !slices.Contains(c.DefaultClientScopes, s) {
					t.Errorf("%s does not get scope %s (default scopes %v)", tc.client, s, c.DefaultClientScopes)
				}
			}
			if m, ok := mapperOf(c.ProtocolMappers, "oidc-audience-mapper", "ozgflow-api"); !ok || m.Config["access.token.claim"] != "true" {
				t.Errorf("%s's access tokens do not name ozgflow in aud", tc.client)
			}
		}
	})

	t.Run("client scopes", func(t *testing.T) {
		defined := map[string]clientScope{}
		for _, s := range r.ClientScopes {
			defined[s.Name] = s
		}
		for _, c := range r.Clients {
			for _, s := range append(slices.Clone(c.DefaultClientScopes), c.OptionalClientScopes...) {
				if _, ok := defined[s]; !ok {
					t.Errorf("client %s uses scope %s, which the realm does not define", c.ClientID, s)
				}
			}
			if !regexp.MustCompile(`^\$\{[A-Z0-9_]+\}$`).MatchString(c.Secret) {
				t.Errorf("client %s has a literal secret; it must come from the environment as ${VAR}", c.ClientID)
			}
		}
		for _, s := range []string{"ozgflow.submit", "ozgflow.mailbox", "ozgflow.cases.read", "ozgflow.events"} {
			if defined[s].Attributes["include.in.token.scope"] != "true" {
				t.Errorf("scope %s is not written into the token's scope claim", s)
			}
		}
		// A realm that lists client scopes gets none of Keycloak's built-in
		// ones: without its own basic scope, tokens would have no sub.
		if _, ok := mapperOf(defined["basic"].ProtocolMappers, "oidc-sub-mapper", ""); !ok {
			t.Error("the realm's basic scope has no oidc-sub-mapper: tokens would carry no sub")
		}
	})
}

func TestAPIClients(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, apiClientsFile))
	if err != nil {
		t.Fatal(err)
	}
	var ac apiClients
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&ac); err != nil {
		t.Fatalf("%s does not parse: %v", apiClientsFile, err)
	}
	if ac.Audience != "ozgflow-api" {
		t.Errorf("audience %q, want ozgflow-api", ac.Audience)
	}
	r, _ := loadRealm(t)
	authorities := catalogValues(t, `(?m)^- ars: "(\d{12})"`)
	targets := catalogValues(t, `(?m)^\s+target: ([a-z0-9-]+)\s*$`)
	for _, tc := range []struct{ client, role string }{{"portal-amt24", "portal"}, {"fachverfahren-leipzig", "system"}} {
		if got := ac.Clients[tc.client].Role; got != tc.role {
			t.Errorf("%s has role %q, want %s", tc.client, got, tc.role)
		}
	}
	if p := ac.Clients["portal-amt24"].AccountPrefix; p != "amt24-" {
		t.Errorf("portal-amt24's account prefix is %q, want amt24-", p)
	}
	for name, c := range ac.Clients {
		rc := r.client(t, name)
		if !rc.ServiceAccountsEnabled {
			t.Errorf("%s is no client-credentials client in the realm", name)
		}
		if _, ok := mapperOf(rc.ProtocolMappers, "oidc-audience-mapper", ac.Audience); !ok {
			t.Errorf("%s's tokens do not carry the audience %s the gateway expects", name, ac.Audience)
		}
		if c.Authority != "" && !slices.Contains(authorities, c.Authority) {
			t.Errorf("%s serves authority %q, which definitions/catalog/authorities.yaml does not know", name, c.Authority)
		}
		for _, target := range c.Targets {
			if !slices.Contains(targets, target) {
				t.Errorf("%s reaches target %q, which no definition delivers to (targets %v)", name, target, targets)
			}
		}
	}
	if lz := ac.Clients["fachverfahren-leipzig"]; lz.Authority != "147130000000" || len(lz.Targets) == 0 {
		t.Errorf("fachverfahren-leipzig: authority %q, targets %v; want Leipzig and its delivery target", lz.Authority, lz.Targets)
	}
}

// catalogValues collects the first submatch of pattern over the files of
// definitions/catalog.
func catalogValues(t *testing.T, pattern string) []string {
	t.Helper()
	re := regexp.MustCompile(pattern)
	var out []string
	err := filepath.WalkDir(filepath.Join(root, "definitions", "catalog"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		b, err := os.ReadFile(path)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			out = append(out, m[1])
		}
		return err
	})
	if err != nil || len(out) == 0 {
		t.Fatalf("nothing matches %s in definitions/catalog: %v", pattern, err)
	}
	return out
}
