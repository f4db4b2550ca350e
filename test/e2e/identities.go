package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/internal/oidctest"
)

// The demo identities of `dev` as people and clients of an identity
// provider (internal/oidctest), for the stacks that accept no demo token:
// the `gateway` role, and `dev` when a test points it at a provider. The
// scenarios keep naming identities by their demo tokens; a Realm turns
// those names into the provider's tokens and sessions.

// Names at the identity provider.
const (
	// StaffClientID is ozgflow's own client, the one staff sign in with.
	StaffClientID = "ozgflow"
	// APIAudience is the "aud" the API requires of access tokens.
	APIAudience = "ozgflow-api"
	// Password is every person's password at the provider.
	Password = "Passwort-123"
	// PortalClientID is Amt24's portal, the "dev-portal" of the realm.
	PortalClientID = "portal-amt24"
	PortalSecret   = "portal-amt24-secret"
)

// StaffSecret is the secret of ozgflow's client, made for this run: the
// gateway refuses secrets published with ozgflow.
var StaffSecret = rand.Text()

// People are the demo case workers, the administrator and the data
// protection officer as users of the
// provider, by their demo token: same subject, name, authority and queues
// as gateway.DevTokens, as Keycloak would carry them (realm roles, the
// "ars" attribute, group paths).
var People = map[string]oidctest.User{
	"dev-sb-chemnitz":  caseWorker("sb-chemnitz", "Sachbearbeitung Chemnitz", Chemnitz, "lasttest"),
	"dev-sb-leipzig":   caseWorker("sb-leipzig", "Sachbearbeitung Leipzig (Teamleitung)", Leipzig, lead...),
	"dev-sb-leipzig-2": caseWorker("sb-leipzig-2", "Sachbearbeitung Leipzig 2", Leipzig, team...),
	"dev-sb-dresden":   caseWorker("sb-dresden", "Sachbearbeitung Dresden (Teamleitung)", Dresden, lead...),
	"dev-sb-dresden-2": caseWorker("sb-dresden-2", "Sachbearbeitung Dresden 2", Dresden, team...),
	"dev-admin": {Username: "admin", Password: Password, Name: "Fachadministration (Demo)", Email: "admin@ozgflow.localhost",
		Claims: map[string]any{"realm_access": map[string]any{"roles": []string{"ozgflow-administration"}}}},
	"dev-datenschutz": {Username: "datenschutz", Password: Password, Name: "Datenschutzbeauftragte (Demo)", Email: "datenschutz@ozgflow.localhost",
		Claims: map[string]any{"realm_access": map[string]any{"roles": []string{"ozgflow-datenschutz"}}}},
}

var (
	lead = []string{"gewerbe", "gewerbe-leitung", "parken"}
	team = []string{"gewerbe", "parken"}
)

func caseWorker(subject, name, authority string, queues ...string) oidctest.User {
	groups := make([]string, len(queues))
	for i, q := range queues {
		groups[i] = "/" + q
	}
	return oidctest.User{Username: subject, Password: Password, Name: name, Email: subject + "@ozgflow.localhost",
		Claims: map[string]any{
			"realm_access": map[string]any{"roles": []string{"ozgflow-sachbearbeitung"}},
			"ars":          authority,
			"groups":       groups,
		}}
}

// apiClient is a client of the provider with its binding in ozgflow.
type apiClient struct {
	id, secret string
	scopes     []string
	binding    string // its entry in OZGFLOW_API_CLIENTS_FILE
}

// clients are the realm's API clients, by the demo names the scenarios
// use; each with the binding gateway.DevTokens gives the demo identity.
var clients = map[string]apiClient{
	"dev-portal": {PortalClientID, PortalSecret, []string{ozgflow.ScopeSubmit, ozgflow.ScopeMailbox},
		"role: portal\n    accountPrefix: amt24-\n    name: Amt24"},
	"dev-portal-2": {"portal-zwei", "portal-zwei-secret", []string{ozgflow.ScopeSubmit, ozgflow.ScopeMailbox},
		"role: portal\n    accountPrefix: portal2-\n    name: Zweites Portal"},
	"dev-fachverfahren-leipzig": {"fachverfahren-leipzig", "fachverfahren-leipzig-secret",
		[]string{ozgflow.ScopeEvents, ozgflow.ScopeCasesRead},
		"role: system\n    authority: \"" + Leipzig + "\"\n    targets: [gewerbe-leipzig]\n    name: Fachverfahren Gewerbe Leipzig"},
	"dev-fachverfahren-dresden": {"fachverfahren-dresden", "fachverfahren-dresden-secret",
		[]string{ozgflow.ScopeEvents, ozgflow.ScopeCasesRead},
		"role: system\n    authority: \"" + Dresden + "\"\n    targets: [gewerbe-dresden]\n    name: Fachverfahren Gewerbe Dresden"},
}

// DevOnly are what exists only in `dev`, with what it is: a demo identity
// that cannot exist in production, or a scenario that needs the demo
// sign-in. A scenario that needs one declares it (Stack.InDev).
var DevOnly = map[string]string{
	"dev-fachverfahren": "the demo identity dev-fachverfahren, a back-office system bound to no authority",
	"FITConnectIntake":  "the FIT-Connect sender dev-fitconnect",
}

// RealmConfig is the provider's configuration for a gateway at gatewayURL:
// the people, ozgflow's sign-in client (back to /anmelden/rueckkehr, and
// after sign-out to the sign-in page) and the API clients.
func RealmConfig(gatewayURL string) oidctest.Config {
	cfg := oidctest.Config{Clients: []oidctest.Client{{
		ID: StaffClientID, Secret: StaffSecret, Audience: []string{APIAudience}, // people's tokens open the API too
		RedirectURIs:           []string{gatewayURL + "/anmelden/rueckkehr"},
		PostLogoutRedirectURIs: []string{gatewayURL + "/anmelden?hinweis=abgemeldet"},
	}}}
	for _, name := range slices.Sorted(maps.Keys(People)) {
		cfg.Users = append(cfg.Users, People[name])
	}
	for _, name := range slices.Sorted(maps.Keys(clients)) {
		c := clients[name]
		cfg.Clients = append(cfg.Clients, oidctest.Client{ID: c.id, Secret: c.secret, Credentials: true, Scopes: c.scopes,
			Audience: []string{APIAudience}})
	}
	return cfg
}

// APIClientsYAML binds the realm's API clients (OZGFLOW_API_CLIENTS_FILE);
// extra entries bind more: each a client ID indented by two, its keys by
// four, as "  bp:\n    role: portal\n    accountPrefix: bp-".
func APIClientsYAML(extra ...string) string {
	var b strings.Builder
	b.WriteString("audience: " + APIAudience + "\nclients:\n")
	for _, name := range slices.Sorted(maps.Keys(clients)) {
		c := clients[name]
		b.WriteString("  " + c.id + ":\n    " + c.binding + "\n")
	}
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	return b.String()
}

// WriteAPIClients writes APIClientsYAML(extra...) into dir and returns its path.
func WriteAPIClients(t testing.TB, dir string, extra ...string) string {
	t.Helper()
	path := filepath.Join(dir, "api-clients.yaml")
	if err := os.WriteFile(path, []byte(APIClientsYAML(extra...)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Realm hands out the provider's credentials of the demo identities for a
// gateway: access tokens by client credentials (clients) or by signing in
// through the login page (people), and staff sessions.
type Realm struct {
	Provider   *oidctest.Provider
	GatewayURL string

	mu     sync.Mutex
	tokens map[string]oidctest.Tokens
}

// NewRealm returns the credentials of p's people and clients for the
// gateway at gatewayURL.
func NewRealm(p *oidctest.Provider, gatewayURL string) *Realm {
	return &Realm{Provider: p, GatewayURL: gatewayURL, tokens: map[string]oidctest.Tokens{}}
}

// Env is the gateway's identity configuration for the realm.
func (r *Realm) Env(apiClientsFile string) []string {
	return []string{
		"OZGFLOW_PUBLIC_URL=" + r.GatewayURL,
		"OZGFLOW_OIDC_ISSUER=" + r.Provider.Issuer(),
		"OZGFLOW_OIDC_CLIENT_ID=" + StaffClientID,
		"OZGFLOW_OIDC_CLIENT_SECRET=" + StaffSecret,
		"OZGFLOW_API_CLIENTS_FILE=" + apiClientsFile,
	}
}

// Token implements Stack.Tokens: the bearer token of a demo identity, kept
// until shortly before it expires. Anything that names no identity (an
// applicant's access token, a made-up token) is passed on as it is; a
// dev-only identity fails the test.
func (r *Realm) Token(t testing.TB, name string) string {
	t.Helper()
	person, isPerson := People[name]
	client, isClient := clients[name]
	if !isPerson && !isClient {
		if why, ok := DevOnly[name]; ok {
			t.Fatalf("%s, %s, exists only in dev; the scenario must declare it (Stack.InDev)", name, why)
		}
		if strings.HasPrefix(name, "dev-") {
			t.Fatalf("%s is no identity of the realm", name)
		}
		return name
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if tok, ok := r.tokens[name]; ok && time.Until(tok.Expiry) > 30*time.Second {
		return tok.AccessToken
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var tok oidctest.Tokens
	var err error
	if isPerson {
		tok, err = r.Provider.UserTokens(ctx, StaffClientID, StaffSecret, r.GatewayURL+"/anmelden/rueckkehr",
			person.Username, person.Password, "profile", "email")
	} else {
		tok.AccessToken, err = r.Provider.ClientCredentials(ctx, client.id, client.secret, client.scopes...)
		tok.Expiry = expiryOf(tok.AccessToken)
	}
	if err != nil {
		t.Fatalf("token of %s: %v", name, err)
	}
	r.tokens[name] = tok
	return tok.AccessToken
}

// SignIn implements Stack.StaffSignIn: it signs a person in at the
// gateway's staff pages through the provider's login page, as a browser
// does, and returns the session cookie's value.
func (r *Realm) SignIn(t testing.TB, name string) string {
	t.Helper()
	person, ok := People[name]
	if !ok {
		t.Fatalf("%s is no person of the realm", name)
	}
	landed := SignInAtProvider(t, r.Provider, r.GatewayURL, person.Username, person.Password)
	if landed.Status != http.StatusOK || landed.Session == "" {
		t.Fatalf("signing in as %s ended at %s with %d", name, landed.URL, landed.Status)
	}
	return landed.Session
}

// Landing is where a sign-in at the staff pages ended.
type Landing struct {
	Session string   // the session cookie's value; "" when none was set
	URL     *url.URL // the last page
	Status  int
	Body    string
}

// SignInAtProvider signs in at the gateway's staff pages through the
// provider, as a browser does: /anmelden/oidc, the provider's login form,
// /anmelden/rueckkehr and the start page, following every redirect with a
// cookie jar.
func SignInAtProvider(t testing.TB, p *oidctest.Provider, gatewayURL, username, password string) Landing {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := p.SignInFrom(ctx, &http.Client{Jar: jar}, gatewayURL+"/anmelden/oidc", username, password)
	if err != nil {
		t.Fatalf("sign in as %s: %v", username, err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	landed := Landing{URL: res.Request.URL, Status: res.StatusCode, Body: string(body)}
	base, _ := url.Parse(gatewayURL)
	for _, ck := range jar.Cookies(base) {
		if ck.Name == "ozgflow_session" {
			landed.Session = ck.Value
		}
	}
	return landed
}

// expiryOf reads the "exp" of a JWT the provider issued; the zero time if
// it has none.
func expiryOf(jwt string) time.Time {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if err != nil || json.Unmarshal(payload, &claims) != nil || claims.Exp == 0 {
		return time.Time{}
	}
	return time.Unix(claims.Exp, 0)
}
