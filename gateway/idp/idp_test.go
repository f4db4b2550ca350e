package idp_test

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/gateway/idp"
	"github.com/ozgflow/ozgflow/internal/oidctest"
)

const (
	callback = "http://127.0.0.1:1/anmelden/rueckkehr"
	leipzig  = "147130000000"
)

func realm() oidctest.Config {
	roles := func(r ...string) map[string]any { return map[string]any{"roles": r} }
	return oidctest.Config{
		Users: []oidctest.User{
			{Username: "sb", Password: "pw", Name: "Sachbearbeitung", Claims: map[string]any{
				"realm_access": roles("ozgflow-sachbearbeitung"), "ars": leipzig, "groups": []string{"/gewerbe"}}},
			{Username: "sb-ohne-team", Password: "pw", Claims: map[string]any{
				"realm_access": roles("ozgflow-sachbearbeitung"), "ars": leipzig}},
			{Username: "niemand", Password: "pw"},
		},
		Clients: []oidctest.Client{
			{ID: "ozgflow", Secret: "s", RedirectURIs: []string{callback}, Audience: []string{"ozgflow-api"}},
			{ID: "amt24", Secret: "s", Credentials: true, Scopes: []string{ozgflow.ScopeSubmit}, Audience: []string{"ozgflow-api"}},
			{ID: "unbound", Secret: "s", Credentials: true, Audience: []string{"ozgflow-api"}},
			{ID: "elsewhere", Secret: "s", Credentials: true, Audience: []string{"another-api"}},
		},
	}
}

func connect(t *testing.T, p *oidctest.Provider) *idp.Provider {
	t.Helper()
	rp, err := idp.Connect(t.Context(), idp.Config{Issuer: p.Issuer(), ClientID: "ozgflow", ClientSecret: "s",
		RedirectURL: callback, Scopes: []string{"profile"}, Claims: idp.DefaultClaims,
		API: idp.APIClients{Audience: "ozgflow-api", Clients: map[string]idp.APIClient{
			"amt24":     {Role: ozgflow.RolePortal, AccountPrefix: "amt24-"},
			"elsewhere": {Role: ozgflow.RolePortal, AccountPrefix: "x-"},
		}}})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	return rp
}

func TestAuthenticate(t *testing.T) {
	p := oidctest.StartT(t, realm())
	other := oidctest.StartT(t, realm())
	rp := connect(t, p)
	clientToken := func(p *oidctest.Provider, id string, scopes ...string) string {
		t.Helper()
		tok, err := p.ClientCredentials(t.Context(), id, "s", scopes...)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	user, err := p.UserTokens(t.Context(), "ozgflow", "s", callback, "sb", "pw")
	if err != nil {
		t.Fatal(err)
	}

	portal, ok := rp.Authenticate(t.Context(), clientToken(p, "amt24", ozgflow.ScopeSubmit))
	if !ok || portal.Role != ozgflow.RolePortal || portal.AccountPrefix != "amt24-" || portal.Subject != "client:amt24" ||
		!slices.Equal(portal.Scopes, []string{ozgflow.ScopeSubmit}) {
		t.Errorf("portal client = %+v, %v", portal, ok)
	}
	if id, ok := rp.Authenticate(t.Context(), clientToken(p, "amt24")); !ok || id.Scopes == nil || id.Granted(ozgflow.ScopeSubmit) {
		t.Errorf("a token without scopes grants %v (%v)", id.Scopes, ok)
	}
	person, ok := rp.Authenticate(t.Context(), user.AccessToken)
	if !ok || person.Role != ozgflow.RoleCaseWorker || person.Subject != "sb" || person.Name != "Sachbearbeitung" ||
		!slices.Equal(person.Queues, []string{"gewerbe"}) || person.Scopes != nil {
		t.Errorf("person = %+v, %v", person, ok)
	}

	refused := []struct{ name, token string }{
		{"an ID token", user.IDToken},
		{"another audience", clientToken(p, "elsewhere")},
		{"another issuer", clientToken(other, "amt24", ozgflow.ScopeSubmit)},
		{"an unbound client without a person's roles", clientToken(p, "unbound")},
		{"no JWT", "dev-portal"},
	}
	for _, tt := range refused {
		if id, ok := rp.Authenticate(t.Context(), tt.token); ok {
			t.Errorf("%s accepted as %+v", tt.name, id)
		}
	}
}

// TestExchange redeems sign-ins: the nonce must be the attempt's, and the
// person must hold a role with what it needs.
func TestExchange(t *testing.T) {
	p := oidctest.StartT(t, realm())
	rp := connect(t, p)
	code := func(username, nonce, verifier string) string {
		t.Helper()
		c := &http.Client{CheckRedirect: func(r *http.Request, _ []*http.Request) error {
			if r.URL.Path == "/anmelden/rueckkehr" {
				return http.ErrUseLastResponse
			}
			return nil
		}}
		res, err := p.SignInFrom(t.Context(), c, rp.AuthCodeURL("state", nonce, verifier), username, "pw")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, err := url.Parse(res.Header.Get("Location"))
		if err != nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "state" {
			t.Fatalf("redirect %q", res.Header.Get("Location"))
		}
		return loc.Query().Get("code")
	}
	const verifier = "verifier-0123456789-0123456789-0123456789-0123456789"
	in, err := rp.Exchange(t.Context(), code("sb", "n-1", verifier), verifier, "n-1")
	if err != nil || in.Identity.Subject != "sb" || in.IDToken == "" {
		t.Fatalf("Exchange = %+v, %v", in, err)
	}
	if _, err := rp.Exchange(t.Context(), code("sb", "n-2", verifier), verifier, "n-other"); err == nil {
		t.Error("a sign-in with another nonce was accepted")
	}
	if _, err := rp.Exchange(t.Context(), code("sb", "n-3", verifier), "another-verifier-0123456789-0123456789-01234", "n-3"); err == nil {
		t.Error("a code was redeemed with another PKCE verifier")
	}
	for _, who := range []string{"niemand", "sb-ohne-team"} {
		if _, err := rp.Exchange(t.Context(), code(who, "n", verifier), verifier, "n"); !errors.Is(err, idp.ErrNoRole) {
			t.Errorf("%s: %v, want ErrNoRole", who, err)
		}
	}
}
