package oidctest

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

const (
	staffClientID   = "ozgflow-staff"
	staffSecret     = "staff-secret"
	staffCallback   = "http://127.0.0.1:8080/auth/callback"
	staffSignedOut  = "http://127.0.0.1:8080/abgemeldet"
	portalClientID  = "portal"
	portalSecret    = "portal-secret"
	submitScope     = "ozgflow.submit"
	apiAudience     = "ozgflow"
	clerkUsername   = "sb1"
	clerkPassword   = "geheim"
	clerkSubject    = "3f9c2a"
	municipalityARS = "147130000000"
)

func testConfig() Config {
	return Config{
		Users: []User{{
			Username: clerkUsername,
			Password: clerkPassword,
			Subject:  clerkSubject,
			Name:     "Sachbearbeiterin Eins",
			Email:    "sb1@example.org",
			Claims: map[string]any{
				"realm_access": map[string]any{"roles": []string{"ozgflow-sachbearbeitung"}},
				"ars":          municipalityARS,
				"groups":       []string{"gewerbe"},
			},
		}},
		Clients: []Client{
			{
				ID:                     staffClientID,
				Secret:                 staffSecret,
				RedirectURIs:           []string{staffCallback},
				PostLogoutRedirectURIs: []string{staffSignedOut},
				Audience:               []string{apiAudience},
			},
			{
				ID:          portalClientID,
				Secret:      portalSecret,
				Credentials: true,
				Scopes:      []string{submitScope},
				Audience:    []string{apiAudience},
				Claims:      map[string]any{"ars": municipalityARS},
			},
		},
	}
}

// tokenClaims are the claims the tests read from ID and access tokens.
type tokenClaims struct {
	Name              string   `json:"name"`
	Email             string   `json:"email"`
	PreferredUsername string   `json:"preferred_username"`
	ARS               string   `json:"ars"`
	Groups            []string `json:"groups"`
	RealmAccess       struct {
		Roles []string `json:"roles"`
	} `json:"realm_access"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
}

func startProvider(t *testing.T, cfg Config) (*Provider, *oidc.Provider) {
	t.Helper()
	p, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	rp, err := oidc.NewProvider(t.Context(), p.Issuer())
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return p, rp
}

func staffOAuth(rp *oidc.Provider, style oauth2.AuthStyle) *oauth2.Config {
	endpoint := rp.Endpoint()
	endpoint.AuthStyle = style
	return &oauth2.Config{
		ClientID:     staffClientID,
		ClientSecret: staffSecret,
		RedirectURL:  staffCallback,
		Endpoint:     endpoint,
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
	}
}

// browser keeps every redirect visible to the test instead of following it.
var browser = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// answer is a response with its body read.
type answer struct {
	*http.Response
	body string
}

func get(t *testing.T, u string) answer {
	t.Helper()
	resp, err := browser.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return read(t, resp)
}

func read(t *testing.T, resp *http.Response) answer {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return answer{resp, string(body)}
}

// redirect is where the answer sends the browser; anything but a redirect
// fails the test.
func (a answer) redirect(t *testing.T) *url.URL {
	t.Helper()
	if a.StatusCode != http.StatusFound {
		t.Fatalf("%s %s: status %d, want a redirect; body: %s", a.Request.Method, a.Request.URL, a.StatusCode, a.body)
	}
	loc, err := a.Location()
	if err != nil {
		t.Fatalf("redirect without location: %v", err)
	}
	return loc
}

// openLoginPage follows /authorize to the login page, checks the form a
// headless browser fills and returns the page's URL.
func openLoginPage(t *testing.T, authURL string) *url.URL {
	t.Helper()
	login := get(t, authURL).redirect(t)
	if login.Path != loginPath {
		t.Fatalf("authorize redirected to %s, want the login page", login)
	}
	page := get(t, login.String())
	if page.StatusCode != http.StatusOK {
		t.Fatalf("login page: status %d: %s", page.StatusCode, page.body)
	}
	for _, want := range []string{`id="username"`, `id="password"`, `id="anmelden"`, "Benutzername", "Passwort", "Anmelden"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	return login
}

func submitLogin(t *testing.T, login *url.URL, username, password string) answer {
	t.Helper()
	action := *login
	action.RawQuery = ""
	resp, err := browser.PostForm(action.String(), url.Values{
		"authRequestID": {login.Query().Get("authRequestID")},
		"username":      {username},
		"password":      {password},
	})
	if err != nil {
		t.Fatalf("POST login: %v", err)
	}
	return read(t, resp)
}

// signIn walks a browser through the authorization code flow and returns
// the redirect to the client, which carries code and state.
func signIn(t *testing.T, authURL, username, password string) *url.URL {
	t.Helper()
	login := openLoginPage(t, authURL)
	callback := submitLogin(t, login, username, password).redirect(t)
	back := get(t, callback.String()).redirect(t)
	if got := back.Scheme + "://" + back.Host + back.Path; got != staffCallback {
		t.Fatalf("redirected to %s, want %s", got, staffCallback)
	}
	return back
}

// staffTokens signs the clerk in and exchanges the code.
func staffTokens(t *testing.T, rp *oidc.Provider, style oauth2.AuthStyle) *oauth2.Token {
	t.Helper()
	conf := staffOAuth(rp, style)
	verifier := oauth2.GenerateVerifier()
	back := signIn(t, conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier)), clerkUsername, clerkPassword)
	tok, err := conf.Exchange(t.Context(), back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	p, rp := startProvider(t, testConfig())
	var doc struct {
		Issuer             string   `json:"issuer"`
		JWKS               string   `json:"jwks_uri"`
		EndSession         string   `json:"end_session_endpoint"`
		Userinfo           string   `json:"userinfo_endpoint"`
		PKCEMethods        []string `json:"code_challenge_methods_supported"`
		TokenAuthMethods   []string `json:"token_endpoint_auth_methods_supported"`
		GrantTypes         []string `json:"grant_types_supported"`
		IDTokenSigningAlgs []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := rp.Claims(&doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Issuer(), "http://127.0.0.1:") || doc.Issuer != p.Issuer() {
		t.Errorf("issuer = %q, discovery says %q", p.Issuer(), doc.Issuer)
	}
	for _, endpoint := range []string{doc.JWKS, doc.EndSession, doc.Userinfo} {
		if !strings.HasPrefix(endpoint, p.Issuer()+"/") {
			t.Errorf("endpoint %q is not under the issuer", endpoint)
		}
	}
	contains := []struct {
		name string
		list []string
		want string
	}{
		{"PKCE method", doc.PKCEMethods, "S256"},
		{"token auth method", doc.TokenAuthMethods, "client_secret_basic"},
		{"token auth method", doc.TokenAuthMethods, "client_secret_post"},
		{"grant type", doc.GrantTypes, "authorization_code"},
		{"grant type", doc.GrantTypes, "client_credentials"},
		{"ID token signing algorithm", doc.IDTokenSigningAlgs, "RS256"},
	}
	for _, c := range contains {
		if !slices.Contains(c.list, c.want) {
			t.Errorf("%s %s not offered: %v", c.name, c.want, c.list)
		}
	}
	jwks := get(t, doc.JWKS)
	if jwks.StatusCode != http.StatusOK || !strings.Contains(jwks.body, `"RS256"`) {
		t.Errorf("JWKS: status %d, body %s", jwks.StatusCode, jwks.body)
	}
}

func TestAuthorizationCodeFlow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		style oauth2.AuthStyle
	}{
		{"client_secret_basic", oauth2.AuthStyleInHeader},
		{"client_secret_post", oauth2.AuthStyleInParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, rp := startProvider(t, testConfig())
			conf := staffOAuth(rp, tt.style)
			verifier := oauth2.GenerateVerifier()
			authURL := conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-1"))

			back := signIn(t, authURL, clerkUsername, clerkPassword)
			if got, want := back.Query().Get("state"), "state-1"; got != want {
				t.Errorf("state = %q, want %q", got, want)
			}
			tok, err := conf.Exchange(t.Context(), back.Query().Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}

			rawID, _ := tok.Extra("id_token").(string)
			idToken, err := rp.Verifier(&oidc.Config{ClientID: staffClientID}).Verify(t.Context(), rawID)
			if err != nil {
				t.Fatalf("verify ID token: %v", err)
			}
			if err := idToken.VerifyAccessToken(tok.AccessToken); err != nil {
				t.Errorf("at_hash: %v", err)
			}
			if got, want := idToken.Nonce, "nonce-1"; got != want {
				t.Errorf("nonce = %q, want %q", got, want)
			}
			if got, want := idToken.Subject, clerkSubject; got != want {
				t.Errorf("ID token sub = %q, want %q", got, want)
			}
			var id tokenClaims
			if err := idToken.Claims(&id); err != nil {
				t.Fatal(err)
			}
			checkClerkClaims(t, "ID token", id)

			access, err := rp.Verifier(&oidc.Config{ClientID: apiAudience}).Verify(t.Context(), tok.AccessToken)
			if err != nil {
				t.Fatalf("verify access token: %v", err)
			}
			if got, want := access.Audience, []string{apiAudience}; !slices.Equal(got, want) {
				t.Errorf("access token aud = %v, want %v", got, want)
			}
			var at tokenClaims
			if err := access.Claims(&at); err != nil {
				t.Fatal(err)
			}
			if access.Subject != clerkSubject || at.ClientID != staffClientID || at.Scope != "openid profile email" {
				t.Errorf("access token sub %q, client_id %q, scope %q", access.Subject, at.ClientID, at.Scope)
			}
			if !slices.Equal(at.RealmAccess.Roles, []string{"ozgflow-sachbearbeitung"}) || at.ARS != municipalityARS {
				t.Errorf("access token lacks the clerk's roles or ARS: %+v", at)
			}

			info, err := rp.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			var fromUserinfo tokenClaims
			if err := info.Claims(&fromUserinfo); err != nil {
				t.Fatal(err)
			}
			checkClerkClaims(t, "userinfo", fromUserinfo)

			if got, want := p.SignIns(), []string{clerkUsername}; !slices.Equal(got, want) {
				t.Errorf("SignIns() = %v, want %v", got, want)
			}
		})
	}
}

func checkClerkClaims(t *testing.T, where string, got tokenClaims) {
	t.Helper()
	if got.Name != "Sachbearbeiterin Eins" || got.Email != "sb1@example.org" || got.PreferredUsername != clerkUsername {
		t.Errorf("%s: name %q, email %q, preferred_username %q", where, got.Name, got.Email, got.PreferredUsername)
	}
	if !slices.Equal(got.RealmAccess.Roles, []string{"ozgflow-sachbearbeitung"}) {
		t.Errorf("%s: roles = %v", where, got.RealmAccess.Roles)
	}
	if got.ARS != municipalityARS || !slices.Equal(got.Groups, []string{"gewerbe"}) {
		t.Errorf("%s: ars %q, groups %v", where, got.ARS, got.Groups)
	}
}

func TestPKCEIsEnforced(t *testing.T) {
	t.Parallel()
	_, rp := startProvider(t, testConfig())
	conf := staffOAuth(rp, oauth2.AuthStyleInHeader)
	verifier := oauth2.GenerateVerifier()
	code := signIn(t, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), clerkUsername, clerkPassword).Query().Get("code")

	refused := []struct {
		name string
		opts []oauth2.AuthCodeOption
	}{
		{"no verifier", nil},
		{"wrong verifier", []oauth2.AuthCodeOption{oauth2.VerifierOption(oauth2.GenerateVerifier())}},
	}
	for _, tt := range refused {
		if _, err := conf.Exchange(t.Context(), code, tt.opts...); err == nil {
			t.Errorf("%s: code exchanged", tt.name)
		}
	}
	if _, err := conf.Exchange(t.Context(), code, oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("right verifier: %v", err)
	}
	if _, err := conf.Exchange(t.Context(), code, oauth2.VerifierOption(verifier)); err == nil {
		t.Error("a code was exchanged twice")
	}
}

func TestWrongPasswordShowsTheFormAgain(t *testing.T) {
	t.Parallel()
	p, rp := startProvider(t, testConfig())
	conf := staffOAuth(rp, oauth2.AuthStyleInHeader)
	login := openLoginPage(t, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))

	page := submitLogin(t, login, clerkUsername, "falsch")
	if page.StatusCode != http.StatusOK {
		t.Errorf("status = %d, want the form again", page.StatusCode)
	}
	for _, want := range []string{wrongCredentials, `id="anmelden"`, `value="` + clerkUsername + `"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if got := p.SignIns(); len(got) != 0 {
		t.Errorf("SignIns() = %v after a wrong password", got)
	}
	submitLogin(t, login, clerkUsername, clerkPassword).redirect(t)
	if got, want := p.SignIns(), []string{clerkUsername}; !slices.Equal(got, want) {
		t.Errorf("SignIns() = %v after the right password, want %v", got, want)
	}
}

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	p, rp := startProvider(t, testConfig())
	raw, err := p.ClientCredentials(t.Context(), portalClientID, portalSecret, submitScope)
	if err != nil {
		t.Fatal(err)
	}
	token, err := rp.Verifier(&oidc.Config{SkipClientIDCheck: true}).Verify(t.Context(), raw)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	var claims tokenClaims
	if err := token.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if got, want := token.Audience, []string{apiAudience}; !slices.Equal(got, want) {
		t.Errorf("aud = %v, want %v", got, want)
	}
	if token.Subject != portalClientID || claims.ClientID != portalClientID {
		t.Errorf("sub %q, client_id %q, want both %q", token.Subject, claims.ClientID, portalClientID)
	}
	if claims.Scope != submitScope || claims.ARS != municipalityARS {
		t.Errorf("scope %q, ars %q", claims.Scope, claims.ARS)
	}

	// client_secret_post, as golang.org/x/oauth2 sends it.
	post := clientcredentials.Config{
		ClientID:     portalClientID,
		ClientSecret: portalSecret,
		TokenURL:     rp.Endpoint().TokenURL,
		Scopes:       []string{submitScope},
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	tok, err := post.Token(t.Context())
	if err != nil {
		t.Fatalf("client_secret_post: %v", err)
	}
	if _, err := rp.Verifier(&oidc.Config{ClientID: apiAudience}).Verify(t.Context(), tok.AccessToken); err != nil {
		t.Errorf("client_secret_post token: %v", err)
	}
}

func TestClientCredentialsRefused(t *testing.T) {
	t.Parallel()
	p, _ := startProvider(t, testConfig())
	tests := []struct {
		name, clientID, secret, scope, wantError string
	}{
		{"wrong secret", portalClientID, "falsch", submitScope, "invalid_client"},
		{"unknown client", "niemand", portalSecret, submitScope, "invalid_client"},
		{"scope not given", portalClientID, portalSecret, "ozgflow.admin", "invalid_scope"},
		{"client without the grant", staffClientID, staffSecret, "", "unauthorized_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var scopes []string
			if tt.scope != "" {
				scopes = []string{tt.scope}
			}
			raw, err := p.ClientCredentials(t.Context(), tt.clientID, tt.secret, scopes...)
			if err == nil {
				t.Fatalf("got a token: %s", raw)
			}
			if !strings.Contains(err.Error(), tt.wantError) {
				t.Errorf("error %q does not name %s", err, tt.wantError)
			}
		})
	}
}

func TestExpiredAccessTokenIsRefused(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	// exp has whole seconds, so a token may expire up to a second early;
	// 2s keeps the fresh token valid for the first check.
	cfg.AccessTokenLifetime = 2 * time.Second
	p, rp := startProvider(t, cfg)
	raw, err := p.ClientCredentials(t.Context(), portalClientID, portalSecret)
	if err != nil {
		t.Fatal(err)
	}
	verifier := rp.Verifier(&oidc.Config{ClientID: apiAudience})
	if _, err := verifier.Verify(t.Context(), raw); err != nil {
		t.Fatalf("fresh token refused: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := verifier.Verify(t.Context(), raw)
		var expired *oidc.TokenExpiredError
		if errors.As(err, &expired) {
			return
		}
		if err != nil {
			t.Fatalf("refused for another reason: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("token with a lifetime of 1s still accepted after 5s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestEndSession(t *testing.T) {
	t.Parallel()
	p, rp := startProvider(t, testConfig())
	var doc struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := rp.Claims(&doc); err != nil {
		t.Fatal(err)
	}
	tok := staffTokens(t, rp, oauth2.AuthStyleInHeader)
	idToken, _ := tok.Extra("id_token").(string)
	logoutURL := func(postLogout string) string {
		return doc.EndSession + "?" + url.Values{
			"id_token_hint":            {idToken},
			"post_logout_redirect_uri": {postLogout},
			"state":                    {"s-9"},
		}.Encode()
	}

	refused := get(t, logoutURL("https://elsewhere.example/"))
	if refused.StatusCode != http.StatusBadRequest {
		t.Errorf("unregistered post_logout_redirect_uri: status %d, want 400; %s", refused.StatusCode, refused.body)
	}
	if got := p.SignOuts(); len(got) != 0 {
		t.Errorf("SignOuts() = %v after a refused logout", got)
	}

	back := get(t, logoutURL(staffSignedOut)).redirect(t)
	if got, want := back.String(), staffSignedOut+"?state=s-9"; got != want {
		t.Errorf("logout redirected to %s, want %s", got, want)
	}
	if got, want := p.SignOuts(), []string{clerkSubject}; !slices.Equal(got, want) {
		t.Errorf("SignOuts() = %v, want %v", got, want)
	}
	if _, err := rp.UserInfo(t.Context(), oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("userinfo still answers for an access token of an ended session")
	}
}

func TestStartRefusesAnInconsistentConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"user without name", Config{Users: []User{{Password: "x"}}}, "Users[0].Username"},
		{"same username twice", Config{Users: []User{{Username: "a"}, {Username: "a"}}}, "Users[1].Username"},
		{"same subject twice", Config{Users: []User{{Username: "a"}, {Username: "b", Subject: "a"}}}, "Users[1].Subject"},
		{"client without secret", Config{Clients: []Client{{ID: "c"}}}, "Clients[0].Secret"},
		{"same client twice", Config{Clients: []Client{{ID: "c", Secret: "s"}, {ID: "c", Secret: "s"}}}, "Clients[1].ID"},
		{"client named like a user", Config{Users: []User{{Username: "c"}}, Clients: []Client{{ID: "c", Secret: "s"}}}, "Clients[0].ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Start(tt.cfg)
			if err == nil {
				p.Close()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %s", err, tt.want)
			}
		})
	}
}
