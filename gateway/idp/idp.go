// Package idp connects ozgflow to the municipality's identity provider
// over OpenID Connect: staff sign in with the authorization code flow and
// PKCE, API clients (portals, back-office systems) present the provider's
// JWT access tokens obtained with client credentials. Which claim carries
// roles, authority and queues is configuration (ClaimMap); which client may
// reach what is configuration too (APIClients).
package idp

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/ozgflow/ozgflow"
)

// Config is the connection to the identity provider.
type Config struct {
	// Issuer is the provider's issuer URL; discovery starts there.
	Issuer string
	// ClientID and ClientSecret are ozgflow's own client for staff sign-in.
	ClientID     string
	ClientSecret string
	// RedirectURL is where the provider sends people back: the gateway's
	// /anmelden/rueckkehr.
	RedirectURL string
	// Scopes asked for at sign-in; "openid" is always among them.
	Scopes []string
	// Claims map the ID token's claims to ozgflow's roles.
	Claims ClaimMap
	// API binds the API clients.
	API APIClients
}

// Validate checks the claim mapping and the API clients' bindings. The
// API's audience must differ from ozgflow's sign-in client: an ID token
// (whose audience is that client) must never pass as an access token.
func (c Config) Validate() error {
	if err := c.Claims.validate(); err != nil {
		return err
	}
	if c.API.Audience == c.ClientID {
		return fmt.Errorf("the API's audience %q is the sign-in client's ID: ID tokens would pass as access tokens; give the API an audience of its own (e.g. ozgflow-api)", c.ClientID)
	}
	return c.API.Validate()
}

// Provider is a connected identity provider.
type Provider struct {
	cfg          Config
	oauth        oauth2.Config
	idTokens     *oidc.IDTokenVerifier
	accessTokens *oidc.IDTokenVerifier
	endSession   string
}

// Connect discovers the provider at cfg.Issuer.
func Connect(ctx context.Context, cfg Config) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p, err := oidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("identity provider %s: %w", cfg.Issuer, err)
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&meta); err != nil {
		return nil, fmt.Errorf("identity provider %s: discovery document: %w", cfg.Issuer, err)
	}
	scopes := append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	return &Provider{
		cfg: cfg,
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL,
			Endpoint: p.Endpoint(), Scopes: slices.Compact(scopes)},
		idTokens: p.Verifier(&oidc.Config{ClientID: cfg.ClientID}),
		// The audience of access tokens is checked against the API's own
		// (APIClients.Audience), not against ozgflow's sign-in client.
		accessTokens: p.Verifier(&oidc.Config{SkipClientIDCheck: true}),
		endSession:   meta.EndSession,
	}, nil
}

// AuthCodeURL is where a person signs in: state binds the return to this
// browser, nonce the ID token to this attempt, verifier the code to it
// (PKCE, S256).
func (p *Provider) AuthCodeURL(state, nonce, verifier string) string {
	return p.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
}

// SignedIn is a person the provider signed in.
type SignedIn struct {
	Identity ozgflow.Identity
	IDToken  string
}

// ErrNoRole means the person signed in at the provider but holds no role
// in ozgflow (or a case worker's token names no authority).
var ErrNoRole = errors.New("the account holds no role in ozgflow")

// Exchange redeems the code of a sign-in for the person's identity: it
// checks the ID token's signature, issuer, audience, expiry and nonce.
func (p *Provider) Exchange(ctx context.Context, code, verifier, nonce string) (SignedIn, error) {
	tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return SignedIn{}, fmt.Errorf("redeem the code: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return SignedIn{}, errors.New("the provider sent no ID token")
	}
	idt, err := p.idTokens.Verify(ctx, raw)
	if err != nil {
		return SignedIn{}, fmt.Errorf("ID token: %w", err)
	}
	if idt.Nonce != nonce {
		return SignedIn{}, errors.New("ID token: nonce does not match the sign-in")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return SignedIn{}, fmt.Errorf("ID token claims: %w", err)
	}
	id, err := p.cfg.Claims.Identity(claims)
	if err != nil {
		return SignedIn{}, err
	}
	return SignedIn{Identity: id, IDToken: raw}, nil
}

// LogoutURL ends the person's session at the provider too (RP-initiated
// logout) and sends them back to returnTo; "" when the provider offers no
// end-session endpoint.
func (p *Provider) LogoutURL(idToken, returnTo string) string {
	if p.endSession == "" {
		return ""
	}
	q := url.Values{"client_id": {p.cfg.ClientID}, "post_logout_redirect_uri": {returnTo}}
	if idToken != "" {
		q.Set("id_token_hint", idToken)
	}
	sep := "?"
	if strings.Contains(p.endSession, "?") {
		sep = "&"
	}
	return p.endSession + sep + q.Encode()
}

// Authenticate implements the gateway's Authenticator for the provider's
// JWT access tokens: signature from the issuer's keys, issuer, expiry and
// the API's audience. A client bound in APIClients becomes that client's
// identity, with its token's scopes; any other token must carry a person's
// roles (ClaimMap). ID tokens are refused, whatever their audience.
func (p *Provider) Authenticate(ctx context.Context, token string) (ozgflow.Identity, bool) {
	if strings.Count(token, ".") != 2 {
		return ozgflow.Identity{}, false
	}
	t, err := p.accessTokens.Verify(ctx, token)
	if err != nil || !slices.Contains(t.Audience, p.cfg.API.Audience) {
		return ozgflow.Identity{}, false
	}
	var claims map[string]any
	if err := t.Claims(&claims); err != nil || isIDToken(claims) {
		return ozgflow.Identity{}, false
	}
	if id, ok := p.cfg.API.Identity(claims); ok {
		return id, true
	}
	id, err := p.cfg.Claims.Identity(claims)
	return id, err == nil
}

// isIDToken reports whether claims are an ID token's. An ID token tells a
// client who signed in; it grants no access, and it travels in the
// sign-out address as a hint, so it must not open the API even where its
// audience (ozgflow's client ID) is the API's too. at_hash and c_hash
// occur in ID tokens only (OpenID Connect Core 3.1.3.6, 3.3.2.11);
// Keycloak also marks them typ "ID".
func isIDToken(claims map[string]any) bool {
	_, atHash := claims["at_hash"]
	_, cHash := claims["c_hash"]
	return atHash || cHash || claims["typ"] == "ID"
}
