package oidctest

import (
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// registeredClient presents a Client to op: a confidential web client that
// authenticates with its secret (basic or post) and gets JWT access tokens.
type registeredClient struct {
	cfg             Client
	loginURL        string
	idTokenLifetime time.Duration
}

var _ op.Client = (*registeredClient)(nil)

func (c *registeredClient) audience() []string {
	if len(c.cfg.Audience) > 0 {
		return slices.Clone(c.cfg.Audience)
	}
	return []string{c.cfg.ID}
}

func (c *registeredClient) GetID() string                    { return c.cfg.ID }
func (c *registeredClient) RedirectURIs() []string           { return c.cfg.RedirectURIs }
func (c *registeredClient) PostLogoutRedirectURIs() []string { return c.cfg.PostLogoutRedirectURIs }
func (c *registeredClient) ApplicationType() op.ApplicationType {
	return op.ApplicationTypeWeb
}
func (c *registeredClient) AuthMethod() oidc.AuthMethod { return oidc.AuthMethodBasic }
func (c *registeredClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

func (c *registeredClient) GrantTypes() []oidc.GrantType {
	var grants []oidc.GrantType
	if len(c.cfg.RedirectURIs) > 0 {
		grants = append(grants, oidc.GrantTypeCode)
	}
	if c.cfg.Credentials {
		grants = append(grants, oidc.GrantTypeClientCredentials)
	}
	return grants
}

func (c *registeredClient) LoginURL(authRequestID string) string {
	return c.loginURL + "?authRequestID=" + url.QueryEscape(authRequestID)
}

func (c *registeredClient) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }
func (c *registeredClient) IDTokenLifetime() time.Duration      { return c.idTokenLifetime }
func (c *registeredClient) DevMode() bool                       { return false }
func (c *registeredClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return keepScopes
}

func (c *registeredClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return keepScopes
}

// IsScopeAllowed admits the client's own scopes; op admits the OpenID ones.
func (c *registeredClient) IsScopeAllowed(scope string) bool {
	return slices.Contains(c.cfg.Scopes, scope)
}

func (c *registeredClient) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *registeredClient) ClockSkew() time.Duration             { return 0 }

func keepScopes(scopes []string) []string { return scopes }
