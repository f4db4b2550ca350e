package oidctest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// ErrWrongCredentials means the login page refused the username or password.
var ErrWrongCredentials = errors.New("oidctest: the login page refused the username or password")

// SignInFrom signs a user in the way a browser does: it follows start (a
// relying party's sign-in address, or an authorization URL) with c to the
// login page, submits username and password there and lets c follow the
// redirects back. It returns the last response, its body unread; c decides
// where to stop (CheckRedirect) and keeps the cookies (Jar), as a browser
// would.
func (p *Provider) SignInFrom(ctx context.Context, c *http.Client, start, username, password string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, start, nil)
	if err != nil {
		return nil, fmt.Errorf("oidctest: sign in from %s: %w", start, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oidctest: sign in from %s: %w", start, err)
	}
	drain(resp)
	login := resp.Request.URL
	if resp.StatusCode != http.StatusOK || !p.isLoginPage(login) {
		return nil, fmt.Errorf("oidctest: sign in from %s: ended at %s (HTTP %d), not at the login page", start, login, resp.StatusCode)
	}
	form := url.Values{
		"authRequestID": {login.Query().Get("authRequestID")},
		"username":      {username},
		"password":      {password},
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, p.issuer+loginPath, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("oidctest: sign in as %s: %w", username, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oidctest: sign in as %s: %w", username, err)
	}
	if resp.StatusCode == http.StatusOK && p.isLoginPage(resp.Request.URL) {
		drain(resp)
		return nil, fmt.Errorf("sign in as %s: %w", username, ErrWrongCredentials)
	}
	return resp, nil
}

// Tokens are what a client gets for a signed-in user.
type Tokens struct {
	AccessToken string // a JWT
	IDToken     string
	Expiry      time.Time // of the access token
}

// UserTokens signs a user in with the authorization code flow (state,
// nonce, PKCE) over HTTP, through the login page, and redeems the code for
// the client: what a relying party does, without a relying party to serve
// redirectURI, which must be one of the client's. Scopes are asked for
// besides "openid".
func (p *Provider) UserTokens(ctx context.Context, clientID, secret, redirectURI, username, password string, scopes ...string) (Tokens, error) {
	back, err := url.Parse(redirectURI)
	if err != nil {
		return Tokens{}, fmt.Errorf("oidctest: redirect URI %q: %w", redirectURI, err)
	}
	conf := oauth2.Config{ClientID: clientID, ClientSecret: secret, RedirectURL: redirectURI,
		Scopes: append([]string{"openid"}, scopes...),
		Endpoint: oauth2.Endpoint{AuthURL: p.op.AuthorizationEndpoint().Absolute(p.issuer),
			TokenURL: p.op.TokenEndpoint().Absolute(p.issuer), AuthStyle: oauth2.AuthStyleInHeader}}
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL(state, oauth2.SetAuthURLParam("nonce", nonce), oauth2.S256ChallengeOption(verifier))
	// Follow the provider's redirects, but not the one to the client.
	c := &http.Client{CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Scheme == back.Scheme && req.URL.Host == back.Host && req.URL.Path == back.Path {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := p.SignInFrom(ctx, c, authURL, username, password)
	if err != nil {
		return Tokens{}, err
	}
	drain(resp)
	loc, err := resp.Location()
	if err != nil {
		return Tokens{}, fmt.Errorf("oidctest: sign in as %s: HTTP %d without a redirect to the client", username, resp.StatusCode)
	}
	q := loc.Query()
	if q.Get("error") != "" {
		return Tokens{}, fmt.Errorf("oidctest: sign in as %s: %s: %s", username, q.Get("error"), q.Get("error_description"))
	}
	if q.Get("state") != state {
		return Tokens{}, fmt.Errorf("oidctest: sign in as %s: the redirect carries another state", username)
	}
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return Tokens{}, fmt.Errorf("oidctest: redeem the code of %s: %w", username, err)
	}
	idToken, _ := tok.Extra("id_token").(string)
	return Tokens{AccessToken: tok.AccessToken, IDToken: idToken, Expiry: tok.Expiry}, nil
}

func (p *Provider) isLoginPage(u *url.URL) bool {
	return u.Scheme+"://"+u.Host == p.issuer && u.Path == loginPath
}

// drain reads and closes a body, so that its connection is reused.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
