package test

import (
	"context"
	"crypto/rand"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/internal/oidctest"
	"github.com/ozgflow/ozgflow/process"
	"github.com/ozgflow/ozgflow/records"
	"github.com/ozgflow/ozgflow/test/e2e"
)

// OpenID Connect end to end: staff sign in at a real provider
// (internal/oidctest) into server-side sessions, and API clients present
// its access tokens, against `dev` pointed at the provider and a `gateway`
// role on the same Temporal and Redis.

// Who else the provider knows, beyond the demo identities (e2e.People).
const (
	noRoleUser = "ohne-rolle" // signs in, holds no role in ozgflow
	// citizenPortal is another portal, bound to its own accounts.
	citizenPortal = "buergerportal"
	// foreignAPI's tokens are meant for another API (their audience).
	foreignAPI = "fremde-api"
	// shortLived's tokens expire after tokenLifetime.
	shortLived    = "amt24-kurzlebig"
	tokenLifetime = 3 * time.Second
	secret        = "client-secret"
	// securePublicURL is the https address of the gateway role in front of
	// the same stack, for the cookies' Secure attribute.
	securePublicURL = "https://ozgflow.example"
)

// oidcStack is `dev` signing staff in at a provider, and what the tests
// need around it.
type oidcStack struct {
	dev      *process.Dev
	st       *e2e.Stack
	realm    *e2e.Realm
	provider *oidctest.Provider
	other    *oidctest.Provider // another issuer with the same clients
	apiFile  string             // OZGFLOW_API_CLIENTS_FILE
}

func startOIDCStack(t *testing.T) *oidcStack {
	t.Helper()
	addr := freeAddr(t)
	publicURL := "http://" + addr
	cfg := e2e.RealmConfig(publicURL)
	staff := &cfg.Clients[0]
	staff.RedirectURIs = append(staff.RedirectURIs, securePublicURL+"/anmelden/rueckkehr")
	staff.PostLogoutRedirectURIs = append(staff.PostLogoutRedirectURIs, securePublicURL+"/anmelden?hinweis=abgemeldet")
	cfg.Users = append(cfg.Users, oidctest.User{Username: noRoleUser, Password: e2e.Password, Name: "Ohne Rolle",
		Claims: map[string]any{"realm_access": map[string]any{"roles": []string{"offline_access"}}}})
	scopes := []string{ozgflow.ScopeSubmit, ozgflow.ScopeMailbox}
	cfg.Clients = append(cfg.Clients,
		oidctest.Client{ID: citizenPortal, Secret: secret, Credentials: true, Scopes: scopes, Audience: []string{e2e.APIAudience}},
		oidctest.Client{ID: foreignAPI, Secret: secret, Credentials: true, Scopes: scopes, Audience: []string{"another-api"}},
		oidctest.Client{ID: shortLived, Secret: secret, Credentials: true, Scopes: scopes, Audience: []string{e2e.APIAudience},
			AccessTokenLifetime: tokenLifetime},
	)
	provider := oidctest.StartT(t, cfg)
	other := oidctest.StartT(t, cfg)

	dir := t.TempDir()
	apiFile := e2e.WriteAPIClients(t, dir,
		"  "+citizenPortal+":\n    role: portal\n    accountPrefix: bp-",
		"  "+foreignAPI+":\n    role: portal\n    accountPrefix: amt24-",
		"  "+shortLived+":\n    role: portal\n    accountPrefix: amt24-")
	dcfg := devConfig(dir, addr)
	dcfg.RedisPrefix = "oidc:" + uuid.NewString() + ":"
	// The gateway role below shares it and refuses published secrets.
	dcfg.Secret = rand.Text()
	dcfg.PublicURL = publicURL
	dcfg.OIDCIssuer, dcfg.OIDCClientID, dcfg.OIDCClientSecret = provider.Issuer(), e2e.StaffClientID, e2e.StaffSecret
	dcfg.APIClientsFile = apiFile
	d, err := process.StartDev(context.Background(), dcfg, process.DevOptions{InMemory: true, RequireRedis: true}, testLogger())
	if err != nil {
		t.Fatalf("start dev with an identity provider: %v", err)
	}
	t.Cleanup(d.Close)
	realm := e2e.NewRealm(provider, d.URL)
	return &oidcStack{dev: d, realm: realm, provider: provider, other: other, apiFile: apiFile,
		st: &e2e.Stack{URL: d.URL, SandboxURL: d.URL, Temporal: d.Client, Namespace: "ozgflow",
			Tokens: realm.Token, StaffSignIn: realm.SignIn, Records: d.Records}}
}

func TestOpenIDConnect(t *testing.T) {
	s := startOIDCStack(t)
	t.Run("StaffSignInAndSignOut", s.staffSignInAndSignOut)
	t.Run("AccountWithoutRole", s.accountWithoutRole)
	t.Run("APIClients", s.apiClients)
	t.Run("SessionsOfAnHTTPSGateway", s.sessionsOfAnHTTPSGateway)
}

// staffSignInAndSignOut: a Leipzig case worker signs in at the provider
// (state, nonce, PKCE), holds an opaque session cookie, sees Leipzig's
// Arbeitskorb, and signs out here and at the provider; both are recorded.
func (s *oidcStack) staffSignInAndSignOut(t *testing.T) {
	st, base := s.st, s.dev.URL
	leipzigCase := st.Submit(t, e2e.Gewerbeanmeldung(e2e.Leipzig, "amt24-anna"))
	e2e.Pay(t, leipzigCase.PaymentURL, "pay")
	task := st.OpenTask(t, leipzigCase.ID, "dev-sb-leipzig", "gewerbe")["id"].(string)

	b := &browserClient{t: t, cookies: map[string]*http.Cookie{}}
	if page := b.get(base + "/anmelden"); !strings.Contains(page.body, `id="anmelden-idp"`) ||
		!strings.Contains(page.body, `href="/anmelden/oidc"`) {
		t.Fatalf("the sign-in page offers no sign-in at the provider: %d\n%s", page.status, page.body)
	}
	authorize := b.get(base + "/anmelden/oidc")
	authURL := authorize.location(t)
	q := authURL.Query()
	if !strings.HasPrefix(authURL.String(), s.provider.Issuer()+"/") || q.Get("client_id") != e2e.StaffClientID ||
		q.Get("redirect_uri") != base+"/anmelden/rueckkehr" || q.Get("response_type") != "code" ||
		!slices.Contains(strings.Fields(q.Get("scope")), "openid") {
		t.Errorf("authorization request %s", authURL)
	}
	if len(q.Get("state")) < 32 || len(q.Get("nonce")) < 32 || len(q.Get("code_challenge")) < 43 || q.Get("code_challenge_method") != "S256" {
		t.Errorf("authorization request without a strong state, nonce and PKCE challenge (S256): %v", q)
	}
	stateCookie := authorize.cookie(t, "ozgflow_anmeldung_state")
	if stateCookie.Value != q.Get("state") || !stateCookie.HttpOnly || stateCookie.SameSite != http.SameSiteLaxMode {
		t.Errorf("state cookie %+v, want the state, HttpOnly, SameSite=Lax", stateCookie)
	}

	// The provider's login page sends the browser back with code and state.
	back := s.codeFor(t, authURL.String(), "sb-leipzig", base)
	if back.Query().Get("state") != q.Get("state") || back.Query().Get("code") == "" {
		t.Fatalf("back from the provider: %s", back)
	}
	// Another browser, without the state cookie, cannot complete it.
	stranger := &browserClient{t: t, cookies: map[string]*http.Cookie{}}
	if res := stranger.get(back.String()); res.status != http.StatusUnauthorized {
		t.Errorf("a return without the state cookie: %d, want 401", res.status)
	}
	returned := b.get(back.String())
	if returned.status != http.StatusSeeOther || returned.header.Get("Location") != "/arbeitskorb" {
		t.Fatalf("return: %d to %q, want 303 to /arbeitskorb\n%s", returned.status, returned.header.Get("Location"), returned.body)
	}
	session := returned.cookie(t, "ozgflow_session")
	checkSessionCookie(t, session, false)
	// The code and the attempt are spent.
	if again := b.get(back.String()); again.status != http.StatusUnauthorized {
		t.Errorf("the same return again: %d, want 401", again.status)
	}
	if got := s.provider.SignIns(); !slices.Contains(got, "sb-leipzig") {
		t.Errorf("the provider saw sign-ins of %v", got)
	}

	workspace := b.get(base + "/arbeitskorb")
	if workspace.status != http.StatusOK || !strings.Contains(workspace.body, "Sachbearbeitung Leipzig (Teamleitung)") ||
		!strings.Contains(workspace.body, `data-task="`+task+`"`) {
		t.Fatalf("Leipzig's Arbeitskorb: %d\n%s", workspace.status, workspace.body)
	}
	dresden := s.realm.SignIn(t, "dev-sb-dresden")
	other := &browserClient{t: t, cookies: map[string]*http.Cookie{"ozgflow_session": {Name: "ozgflow_session", Value: dresden}}}
	if page := other.get(base + "/arbeitskorb"); page.status != http.StatusOK || strings.Contains(page.body, task) {
		t.Errorf("Dresden's Arbeitskorb: %d, shows the Leipzig task: %v", page.status, strings.Contains(page.body, task))
	}

	// Sign-out ends the session here and at the provider.
	csrf := csrfValue.FindStringSubmatch(workspace.body)
	if csrf == nil {
		t.Fatal("no sign-out form on the Arbeitskorb")
	}
	out := b.post(base+"/abmelden", url.Values{"csrf": {csrf[1]}})
	// A page goes on to the provider (a redirect would break the form's
	// Content-Security-Policy).
	onward := providerLink.FindStringSubmatch(out.body)
	if out.status != http.StatusOK || onward == nil {
		t.Fatalf("sign-out: %d without a way on to the provider\n%s", out.status, out.body)
	}
	endSession, err := url.Parse(html.UnescapeString(onward[1]))
	if err != nil || !strings.HasPrefix(endSession.String(), s.provider.Issuer()+"/") ||
		endSession.Query().Get("id_token_hint") == "" ||
		endSession.Query().Get("post_logout_redirect_uri") != base+"/anmelden?hinweis=abgemeldet" {
		t.Fatalf("sign-out goes on to %s, want the provider's end_session with id_token_hint", endSession)
	}
	if ck := out.cookie(t, "ozgflow_session"); ck.MaxAge >= 0 {
		t.Errorf("the session cookie is not cleared: %+v", ck)
	}
	signedOut := b.get(endSession.String())
	if loc := signedOut.location(t); loc.String() != base+"/anmelden?hinweis=abgemeldet" {
		t.Errorf("the provider sends the browser to %s", loc)
	}
	if page := b.get(base + "/anmelden?hinweis=abgemeldet"); !strings.Contains(page.body, "Sie sind abgemeldet.") {
		t.Errorf("the sign-in page does not say so:\n%s", page.body)
	}
	if got := s.provider.SignOuts(); !slices.Contains(got, "sb-leipzig") {
		t.Errorf("the provider ended the sessions of %v, want sb-leipzig's", got)
	}
	// The old cookie opens nothing any more.
	old := &browserClient{t: t, cookies: map[string]*http.Cookie{"ozgflow_session": session}}
	if res := old.get(base + "/arbeitskorb"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/anmelden") {
		t.Errorf("the signed-out cookie: %d to %q, want 303 to the sign-in page", res.status, res.header.Get("Location"))
	}
	if res := e2e.Call(t, base, http.MethodGet, "/api/v1/tasks?queue=gewerbe", "", nil, "Cookie", "ozgflow_session="+session.Value); res.Status != http.StatusUnauthorized {
		t.Errorf("the signed-out cookie at the API: %d, want 401", res.Status)
	}

	trail := s.signIns(t)
	for _, action := range []string{"signin", "signout"} {
		if !slices.ContainsFunc(trail, func(e records.Entry) bool {
			return e.Action == action && e.Actor == "sb-leipzig" && strings.Contains(e.Detail, "via oidc") &&
				e.Role == string(ozgflow.RoleCaseWorker) && e.Authority == e2e.Leipzig && e.Address == "127.0.0.1" && !e.At.IsZero()
		}) {
			t.Errorf("the audit trail lacks %s of sb-leipzig from 127.0.0.1: %+v", action, trail)
		}
	}
}

// accountWithoutRole: someone the provider knows, without a role in
// ozgflow, is refused with a page saying so, and gets no session.
func (s *oidcStack) accountWithoutRole(t *testing.T) {
	landed := e2e.SignInAtProvider(t, s.provider, s.dev.URL, noRoleUser, e2e.Password)
	if landed.Status != http.StatusForbidden || !strings.Contains(landed.Body, "Kein Zugang zu ozgflow") || landed.Session != "" {
		t.Errorf("no role: %d at %s, session %q\n%s", landed.Status, landed.URL, landed.Session, landed.Body)
	}
	if !slices.ContainsFunc(s.signIns(t), func(e records.Entry) bool {
		return e.Action == "signin.refused" && strings.Contains(e.Detail, "via oidc") && strings.Contains(e.Detail, "no role") &&
			e.Address == "127.0.0.1"
	}) {
		t.Error("the audit trail lacks the refused sign-in")
	}
}

// apiClients: portals and back-office systems with client credentials,
// each reaching what its binding and its token's scopes allow; tokens for
// another audience, expired, of another issuer, or ID tokens are refused.
func (s *oidcStack) apiClients(t *testing.T) {
	st := s.st
	token := func(p *oidctest.Provider, client string, scopes ...string) string {
		t.Helper()
		clientSecret := secret
		if client == e2e.PortalClientID {
			clientSecret = e2e.PortalSecret
		}
		tok, err := p.ClientCredentials(t.Context(), client, clientSecret, scopes...)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	account := "amt24-" + uuid.NewString()[:8]
	app := e2e.Hundesteuer(e2e.Dresden)
	app["applicant"].(map[string]any)["portalAccount"] = account
	dogTax := st.Submit(t, app) // as Amt24's portal, by client credentials
	st.WaitStatus(t, dogTax, "approved")
	// A Gewerbeanmeldung in Leipzig, delivered to Leipzig's Gewerbe system.
	leipzigCase := st.Submit(t, e2e.Gewerbeanmeldung(e2e.Leipzig, account))
	e2e.Pay(t, leipzigCase.PaymentURL, "pay")
	e2e.WaitFor(t, "the case delivered to Leipzig's Gewerbe system", 20*time.Second, func() bool {
		return e2e.Call(t, st.URL, http.MethodGet, "/api/v1/applications/"+leipzigCase.ID,
			s.realm.Token(t, "dev-fachverfahren-leipzig"), nil).Status == http.StatusOK
	})
	mailbox := "/api/v1/accounts/" + account + "/notices"
	e2e.WaitFor(t, "the notices in the portal's mailbox", 20*time.Second, func() bool {
		res := e2e.Call(t, st.URL, http.MethodGet, mailbox, s.realm.Token(t, "dev-portal"), nil)
		return res.Status == http.StatusOK && res.JSON(t)["total"].(float64) >= 3
	})

	mailboxOnly := token(s.provider, e2e.PortalClientID, ozgflow.ScopeMailbox)
	wrongAudience := token(s.provider, foreignAPI, ozgflow.ScopeSubmit, ozgflow.ScopeMailbox)
	otherIssuer := token(s.other, e2e.PortalClientID, ozgflow.ScopeSubmit, ozgflow.ScopeMailbox)
	person, err := s.provider.UserTokens(t.Context(), e2e.StaffClientID, e2e.StaffSecret, s.dev.URL+"/anmelden/rueckkehr",
		"sb-leipzig", e2e.Password, "profile")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		{"another portal's mailbox", http.MethodGet, "/api/v1/accounts/bp-1/notices", "dev-portal", nil, http.StatusForbidden},
		{"the mailbox for another portal", http.MethodGet, mailbox, token(s.provider, citizenPortal, ozgflow.ScopeMailbox), nil, http.StatusForbidden},
		{"a token without ozgflow.submit submits", http.MethodPost, "/api/v1/applications", mailboxOnly, e2e.Hundesteuer(e2e.Leipzig), http.StatusForbidden},
		{"a token without ozgflow.submit reads the mailbox", http.MethodGet, mailbox, mailboxOnly, nil, http.StatusOK},
		{"another audience", http.MethodGet, mailbox, wrongAudience, nil, http.StatusUnauthorized},
		{"another issuer", http.MethodGet, mailbox, otherIssuer, nil, http.StatusUnauthorized},
		{"an ID token", http.MethodGet, "/api/v1/tasks?queue=gewerbe", person.IDToken, nil, http.StatusUnauthorized},
		{"the person's access token", http.MethodGet, "/api/v1/tasks?queue=gewerbe", person.AccessToken, nil, http.StatusOK},
		{"Leipzig's back-office system reads its case", http.MethodGet, "/api/v1/applications/" + leipzigCase.ID,
			"dev-fachverfahren-leipzig", nil, http.StatusOK},
		{"Leipzig's back-office system reports an event without name", http.MethodPost,
			"/api/v1/applications/" + leipzigCase.ID + "/events", "dev-fachverfahren-leipzig", map[string]any{}, http.StatusUnprocessableEntity},
		{"Dresden's back-office system reads a Leipzig case", http.MethodGet, "/api/v1/applications/" + leipzigCase.ID,
			"dev-fachverfahren-dresden", nil, http.StatusNotFound},
		{"Dresden's back-office system reports on a Leipzig case", http.MethodPost,
			"/api/v1/applications/" + leipzigCase.ID + "/events", "dev-fachverfahren-dresden", map[string]any{"event": "x"}, http.StatusNotFound},
		{"a portal reads a case", http.MethodGet, "/api/v1/applications/" + dogTax.ID, "dev-portal", nil, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := e2e.Call(t, st.URL, tt.method, tt.path, s.realm.Token(t, tt.token), tt.body)
			if res.Status != tt.want {
				t.Errorf("got %d, want %d: %s", res.Status, tt.want, res.Body)
			}
		})
	}
	if res := e2e.Call(t, st.URL, http.MethodPost, "/api/v1/applications", mailboxOnly, e2e.Hundesteuer(e2e.Leipzig)); !strings.Contains(
		res.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Errorf("the refusal for a missing scope says %q", res.Header.Get("WWW-Authenticate"))
	}

	// A token is good until it expires, then refused.
	expiring := token(s.provider, shortLived, ozgflow.ScopeSubmit, ozgflow.ScopeMailbox)
	issued := time.Now()
	if res := e2e.Call(t, st.URL, http.MethodGet, mailbox, expiring, nil); res.Status != http.StatusOK {
		t.Fatalf("a fresh token: %d %s", res.Status, res.Body)
	}
	e2e.WaitFor(t, "the short-lived token to be refused", 20*time.Second, func() bool {
		return e2e.Call(t, st.URL, http.MethodGet, mailbox, expiring, nil).Status == http.StatusUnauthorized
	})
	// exp has whole seconds: a token may end up to a second early.
	if lived := time.Since(issued); lived < tokenLifetime-time.Second {
		t.Errorf("refused after %v, before it expired", lived)
	}
}

// sessionsOfAnHTTPSGateway: the `gateway` role behind https, configured by
// environment with short session timeouts, on the same Temporal and Redis:
// Secure cookies, and sessions that end when idle and at the latest after
// the absolute timeout.
func (s *oidcStack) sessionsOfAnHTTPSGateway(t *testing.T) {
	const idle, absolute = 2 * time.Second, 6 * time.Second
	addr := freeAddr(t)
	env := map[string]string{
		"OZGFLOW_ADDR": addr, "OZGFLOW_PUBLIC_URL": securePublicURL,
		"TEMPORAL_ADDRESS": s.dev.TemporalAddr, "REDIS_URL": s.dev.Config.RedisURL, "OZGFLOW_REDIS_PREFIX": s.dev.Config.RedisPrefix,
		"OZGFLOW_SECRET": s.dev.Config.Secret, "OZGFLOW_SIGNER_URL": s.dev.URL + "/sandbox/signer",
		"OZGFLOW_PAYMENT_WEBHOOK_SECRET": "https-gateway-webhook-secret",
		"OZGFLOW_OIDC_ISSUER":            s.provider.Issuer(), "OZGFLOW_OIDC_CLIENT_ID": e2e.StaffClientID,
		"OZGFLOW_OIDC_CLIENT_SECRET": e2e.StaffSecret, "OZGFLOW_API_CLIENTS_FILE": s.apiFile,
		"OZGFLOW_SESSION_IDLE": idle.String(), "OZGFLOW_SESSION_MAX": absolute.String(), "OZGFLOW_LOG_LEVEL": "error",
		// The gateway writes the audit trail of what its sessions do.
		"OZGFLOW_RECORDS_URL": filepath.Join(t.TempDir(), "records.db"),
	}
	cfg, err := process.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	gw := &process.Gateway{Config: cfg, Logger: testLogger()}
	if err := gw.Run(t.Context()); err != nil {
		t.Fatalf("gateway: %v", err)
	}
	t.Cleanup(func() { _ = gw.Close() })
	base := "http://" + addr

	signIn := func() *http.Cookie {
		t.Helper()
		b := &browserClient{t: t, cookies: map[string]*http.Cookie{}}
		authorize := b.get(base + "/anmelden/oidc")
		if ck := authorize.cookie(t, "ozgflow_anmeldung_state"); !ck.Secure || !ck.HttpOnly {
			t.Errorf("the state cookie behind https: %+v, want Secure and HttpOnly", ck)
		}
		authURL := authorize.location(t)
		if got := authURL.Query().Get("redirect_uri"); got != securePublicURL+"/anmelden/rueckkehr" {
			t.Errorf("redirect_uri %q", got)
		}
		// The browser comes back to the public address; here that is the
		// gateway's listener.
		back := s.codeFor(t, authURL.String(), "sb-dresden", securePublicURL)
		returned := b.get(base + back.RequestURI())
		if returned.status != http.StatusSeeOther {
			t.Fatalf("return: %d\n%s", returned.status, returned.body)
		}
		session := returned.cookie(t, "ozgflow_session")
		checkSessionCookie(t, session, true)
		return session
	}
	open := func(session *http.Cookie) int {
		b := &browserClient{t: t, cookies: map[string]*http.Cookie{"ozgflow_session": session}}
		return b.get(base + "/arbeitskorb").status
	}

	session := signIn()
	if got := open(session); got != http.StatusOK {
		t.Fatalf("a fresh session: %d", got)
	}
	// Time passing is what is tested here: no request may touch the session.
	time.Sleep(idle + time.Second)
	if got := open(session); got != http.StatusSeeOther {
		t.Errorf("after %v idle: %d, want 303 to the sign-in page", idle+time.Second, got)
	}

	// In use, a session outlives the idle timeout, but not the absolute one.
	session = signIn()
	started := time.Now()
	var lastOK time.Duration
	for time.Since(started) < absolute+3*time.Second {
		if open(session) != http.StatusOK {
			break
		}
		lastOK = time.Since(started)
		time.Sleep(idle / 4)
	}
	ended := time.Since(started)
	if lastOK < idle+time.Second || ended > absolute+2*time.Second || ended < absolute-time.Second {
		t.Errorf("a session in use lasted until %v (refused at %v); want past the idle timeout %v and ended at the absolute %v",
			lastOK, ended, idle, absolute)
	}
}

// codeFor signs the demo person username in at the provider from an
// authorization URL, stopping where the provider sends the browser back to
// the gateway at publicURL; it returns that address, with code and state.
func (s *oidcStack) codeFor(t *testing.T, authURL, username, publicURL string) *url.URL {
	t.Helper()
	gw, _ := url.Parse(publicURL)
	c := &http.Client{CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if r.URL.Host == gw.Host {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	res, err := s.provider.SignInFrom(t.Context(), c, authURL, username, e2e.Password)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, err := res.Location()
	if err != nil || loc.Path != "/anmelden/rueckkehr" {
		t.Fatalf("the provider answered %d to %v", res.StatusCode, loc)
	}
	return loc
}

// checkSessionCookie: only a random ID travels in the cookie, which
// scripts cannot read, which is not sent along cross-site subrequests, and
// which travels only over https when the public address is https.
func checkSessionCookie(t *testing.T, ck *http.Cookie, secure bool) {
	t.Helper()
	if !opaque.MatchString(ck.Value) || strings.Count(ck.Value, ".") > 0 {
		t.Errorf("session cookie %q is not an opaque random ID (no JWT, nothing readable)", ck.Value)
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure != secure || ck.Path != "/" {
		t.Errorf("session cookie attributes HttpOnly=%v SameSite=%v Secure=%v Path=%q, want HttpOnly, Lax, Secure=%v, /",
			ck.HttpOnly, ck.SameSite, ck.Secure, ck.Path, secure)
	}
}

// opaque is 256 random bits, URL-safe base64.
var opaque = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

var (
	csrfValue    = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)
	providerLink = regexp.MustCompile(`id="abmelden-idp" href="([^"]+)"`)
)

// signIns are the sign-ins, refused sign-ins and sign-outs of the audit
// trail.
func (s *oidcStack) signIns(t *testing.T) []records.Entry {
	t.Helper()
	var out []records.Entry
	var after int64
	for {
		page, err := s.dev.Records.Trail(t.Context(), records.TrailQuery{After: after})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			if strings.HasPrefix(e.Action, "signin") || e.Action == "signout" {
				out = append(out, e)
			}
		}
		if len(page) < 1000 {
			return out
		}
		after = page[len(page)-1].ID
	}
}

// browserClient keeps cookies by hand and follows no redirect, so that
// both can be checked.
type browserClient struct {
	t       *testing.T
	cookies map[string]*http.Cookie
}

type answer struct {
	status int
	header http.Header
	body   string
	set    []*http.Cookie
}

func (b *browserClient) do(req *http.Request) answer {
	b.t.Helper()
	for _, ck := range b.cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	res, err := noRedirects.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	for _, ck := range res.Cookies() {
		if ck.MaxAge < 0 {
			delete(b.cookies, ck.Name)
		} else {
			b.cookies[ck.Name] = ck
		}
	}
	return answer{status: res.StatusCode, header: res.Header, body: string(body), set: res.Cookies()}
}

func (b *browserClient) get(u string) answer {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browserClient) post(u string, form url.Values) answer {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// location is where a redirect sends the browser.
func (a answer) location(t *testing.T) *url.URL {
	t.Helper()
	loc, err := url.Parse(a.header.Get("Location"))
	if err != nil || a.status < 300 || a.status > 399 || loc.String() == "" {
		t.Fatalf("want a redirect, got %d to %q\n%s", a.status, a.header.Get("Location"), a.body)
	}
	return loc
}

// cookie is a cookie the answer set.
func (a answer) cookie(t *testing.T, name string) *http.Cookie {
	t.Helper()
	for _, ck := range a.set {
		if ck.Name == name {
			return ck
		}
	}
	t.Fatalf("the answer (%d) sets no cookie %s", a.status, name)
	return nil
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
