// Package oidctest runs a real OpenID Connect provider inside a test process,
// so that staff sign-in, RP-initiated logout and machine clients are tested
// over HTTP against the protocol rather than against a stub.
//
// The provider is built on zitadel's op package with an in-memory storage of
// its own. It serves discovery, JWKS, the authorization code flow with PKCE,
// the token endpoint (client_secret_basic and client_secret_post), the client
// credentials grant, userinfo and end_session, plus a login page. It keeps no
// browser session: every authorization request shows the login page.
package oidctest

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// User is a person who can sign in at the provider's login page.
type User struct {
	Username, Password string
	// Subject is the "sub" of the user's tokens; it defaults to Username.
	Subject     string
	Name, Email string
	// Claims are put into the ID token, the userinfo response and the JWT
	// access token, e.g. realm_access roles, "ars" or "groups". The access
	// token carries name and email too, as Keycloak's do.
	Claims map[string]any
}

// Client is a registered, confidential OAuth client.
type Client struct {
	ID, Secret string
	// RedirectURIs are matched exactly; a client with none cannot use the
	// authorization code flow.
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	// Credentials lets the client use the client_credentials grant.
	Credentials bool
	// Scopes are the scopes beyond the OpenID ones the client may request;
	// a client credentials request for any other scope is refused.
	Scopes []string
	// Audience is the "aud" of the client's access tokens; it defaults to [ID].
	Audience []string
	// Claims are put into the client's client-credentials access tokens.
	Claims map[string]any
	// AccessTokenLifetime, if set, replaces Config.AccessTokenLifetime for
	// the client's access tokens, e.g. to watch one expire.
	AccessTokenLifetime time.Duration
}

// Config lists who may sign in and which clients are registered.
type Config struct {
	Users   []User
	Clients []Client
	// AccessTokenLifetime defaults to 5 minutes.
	AccessTokenLifetime time.Duration
	// IDTokenLifetime defaults to 5 minutes.
	IDTokenLifetime time.Duration
}

// Provider is a running OpenID Connect provider on a loopback port.
type Provider struct {
	issuer string
	op     *op.Provider
	store  *storage
	pages  *template.Template
	server *http.Server
}

const (
	defaultLifetime = 5 * time.Minute
	loginPath       = "/login"
	loggedOutPath   = "/logged-out"
	shutdownTimeout = 5 * time.Second
)

// Start serves a provider on 127.0.0.1 at a free port; its issuer is
// "http://127.0.0.1:<port>". Close stops it.
func Start(cfg Config) (*Provider, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("oidctest: generate signing key: %w", err)
	}
	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		return nil, fmt.Errorf("oidctest: generate crypto key: %w", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("oidctest: listen: %w", err)
	}
	issuer := "http://" + ln.Addr().String()
	store := newStorage(cfg, issuer+loginPath, signingKey{id: rand.Text(), key: key})
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:                cryptoKey,
		DefaultLogoutRedirectURI: issuer + loggedOutPath,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
	}, store, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("oidctest: %w", err)
	}

	p := &Provider{issuer: issuer, op: provider, store: store, pages: pages}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+loginPath, p.showLogin)
	mux.HandleFunc("POST "+loginPath, p.login)
	mux.HandleFunc("GET "+loggedOutPath, p.showLoggedOut)
	mux.Handle("/", provider)
	p.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.server.Serve(ln) }()
	return p, nil
}

// Issuer is the provider's issuer URL, also the base of its discovery document.
func (p *Provider) Issuer() string { return p.issuer }

// Close stops serving, waiting up to five seconds for requests in flight.
func (p *Provider) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	return p.server.Shutdown(ctx)
}

// ClientCredentials fetches an access token (the raw JWT) for a client over
// HTTP at the token endpoint, authenticating with client_secret_basic.
func (p *Provider) ClientCredentials(ctx context.Context, clientID, secret string, scopes ...string) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	endpoint := p.op.TokenEndpoint().Absolute(p.issuer)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("client credentials for %s: %w", clientID, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("client credentials for %s: %w", clientID, err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", fmt.Errorf("client credentials for %s: HTTP %d: %w", clientID, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		return "", fmt.Errorf("client credentials for %s: HTTP %d: %s: %s", clientID, resp.StatusCode, body.Error, body.Description)
	}
	return body.AccessToken, nil
}

// SignOuts returns the subjects whose sessions were ended at the end_session
// endpoint, in order, so that a test can prove RP-initiated logout reached the
// provider. A logout without id_token_hint names no subject and is not listed.
func (p *Provider) SignOuts() []string { return p.store.signOutsSoFar() }

// SignIns returns the usernames that signed in at the login page, in order.
func (p *Provider) SignIns() []string { return p.store.signInsSoFar() }

func (c Config) validate() error {
	usernames := map[string]bool{}
	subjects := map[string]bool{}
	for i, u := range c.Users {
		if u.Username == "" {
			return fmt.Errorf("oidctest: Users[%d].Username is empty", i)
		}
		if usernames[u.Username] {
			return fmt.Errorf("oidctest: Users[%d].Username %q is taken", i, u.Username)
		}
		usernames[u.Username] = true
		subject := cmp.Or(u.Subject, u.Username)
		if subjects[subject] {
			return fmt.Errorf("oidctest: Users[%d].Subject %q is taken", i, subject)
		}
		subjects[subject] = true
	}
	ids := map[string]bool{}
	for i, cl := range c.Clients {
		if cl.ID == "" {
			return fmt.Errorf("oidctest: Clients[%d].ID is empty", i)
		}
		if cl.Secret == "" {
			return fmt.Errorf("oidctest: Clients[%d].Secret is empty (clients are confidential)", i)
		}
		if ids[cl.ID] {
			return fmt.Errorf("oidctest: Clients[%d].ID %q is taken", i, cl.ID)
		}
		if subjects[cl.ID] {
			// A client is the subject of its client-credentials tokens.
			return fmt.Errorf("oidctest: Clients[%d].ID %q is also a user's subject", i, cl.ID)
		}
		if cl.AccessTokenLifetime < 0 {
			return fmt.Errorf("oidctest: Clients[%d].AccessTokenLifetime must not be negative", i)
		}
		ids[cl.ID] = true
	}
	if c.AccessTokenLifetime < 0 || c.IDTokenLifetime < 0 {
		return errors.New("oidctest: token lifetimes must not be negative")
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.AccessTokenLifetime == 0 {
		c.AccessTokenLifetime = defaultLifetime
	}
	if c.IDTokenLifetime == 0 {
		c.IDTokenLifetime = defaultLifetime
	}
	// Copies, so that a test changing its config after Start does not race
	// with the requests the provider serves.
	users := make([]User, len(c.Users))
	for i, u := range c.Users {
		u.Subject = cmp.Or(u.Subject, u.Username)
		u.Claims = maps.Clone(u.Claims)
		users[i] = u
	}
	c.Users = users
	clients := make([]Client, len(c.Clients))
	for i, cl := range c.Clients {
		cl.RedirectURIs = slices.Clone(cl.RedirectURIs)
		cl.PostLogoutRedirectURIs = slices.Clone(cl.PostLogoutRedirectURIs)
		cl.Scopes = slices.Clone(cl.Scopes)
		cl.Audience = slices.Clone(cl.Audience)
		cl.Claims = maps.Clone(cl.Claims)
		clients[i] = cl
	}
	c.Clients = clients
	return c
}
