package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ozgflow/ozgflow/gateway/idp"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/store"
)

// IdentityConfig is how people and API clients are identified: the
// identity provider (OpenID Connect), the claim mapping, the API clients'
// bindings and the staff sessions' timeouts.
type IdentityConfig struct {
	OIDCIssuer       string   // OZGFLOW_OIDC_ISSUER: the identity provider's issuer URL
	OIDCClientID     string   // OZGFLOW_OIDC_CLIENT_ID: ozgflow's client for staff sign-in
	OIDCClientSecret string   // OZGFLOW_OIDC_CLIENT_SECRET
	OIDCRedirectURL  string   // OZGFLOW_OIDC_REDIRECT_URL, default <public URL>/anmelden/rueckkehr
	OIDCScopes       []string // OZGFLOW_OIDC_SCOPES, default "profile email"
	// Claims: OZGFLOW_OIDC_ROLES_CLAIM, _AUTHORITY_CLAIM, _QUEUES_CLAIM,
	// _NAME_CLAIM, _CASEWORKER_ROLE, _ADMIN_ROLE, _DATAPROTECTION_ROLE
	// (defaults: idp.DefaultClaims).
	Claims idp.ClaimMap
	// APIClientsFile binds the API clients (OZGFLOW_API_CLIENTS_FILE, YAML).
	APIClientsFile string
	// APIAudience is the "aud" the API's access tokens carry
	// (OZGFLOW_API_AUDIENCE, default ozgflow-api); the file may set it too.
	// It must differ from OZGFLOW_OIDC_CLIENT_ID.
	APIAudience string
	SessionIdle time.Duration // OZGFLOW_SESSION_IDLE, default 30m
	SessionMax  time.Duration // OZGFLOW_SESSION_MAX, default 10h
}

func defaultIdentityConfig() IdentityConfig {
	return IdentityConfig{OIDCScopes: []string{"profile", "email"}, Claims: idp.DefaultClaims, APIAudience: "ozgflow-api",
		SessionIdle: store.DefaultSessionTimeouts.Idle, SessionMax: store.DefaultSessionTimeouts.Absolute}
}

func (c *Config) identityFromEnv(getenv func(string) string) error {
	set := setter(getenv)
	set(&c.OIDCIssuer, "OZGFLOW_OIDC_ISSUER")
	set(&c.OIDCClientID, "OZGFLOW_OIDC_CLIENT_ID")
	set(&c.OIDCClientSecret, "OZGFLOW_OIDC_CLIENT_SECRET")
	set(&c.OIDCRedirectURL, "OZGFLOW_OIDC_REDIRECT_URL")
	if v := getenv("OZGFLOW_OIDC_SCOPES"); v != "" {
		c.OIDCScopes = strings.Fields(strings.ReplaceAll(v, ",", " "))
	}
	set(&c.Claims.Roles, "OZGFLOW_OIDC_ROLES_CLAIM")
	set(&c.Claims.Authority, "OZGFLOW_OIDC_AUTHORITY_CLAIM")
	set(&c.Claims.Queues, "OZGFLOW_OIDC_QUEUES_CLAIM")
	set(&c.Claims.Name, "OZGFLOW_OIDC_NAME_CLAIM")
	set(&c.Claims.CaseWorkerRole, "OZGFLOW_OIDC_CASEWORKER_ROLE")
	set(&c.Claims.AdminRole, "OZGFLOW_OIDC_ADMIN_ROLE")
	set(&c.Claims.DataProtectionRole, "OZGFLOW_OIDC_DATAPROTECTION_ROLE")
	set(&c.APIClientsFile, "OZGFLOW_API_CLIENTS_FILE")
	set(&c.APIAudience, "OZGFLOW_API_AUDIENCE")
	return setDurations(getenv, map[string]*time.Duration{"OZGFLOW_SESSION_IDLE": &c.SessionIdle, "OZGFLOW_SESSION_MAX": &c.SessionMax},
		"30m or 10h")
}

// validateIdentity checks what the gateway needs to identify anyone: every
// role but `dev` signs staff in at an identity provider, and `dev` does
// when one is configured.
func (c Config) validateIdentity(process string) []error {
	if process != "gateway" && (process != "dev" || c.OIDCIssuer == "") {
		return nil
	}
	var errs []error
	need := requirer(&errs)
	need(c.OIDCIssuer, "OZGFLOW_OIDC_ISSUER", "staff sign in at the identity provider (OpenID Connect) and API clients present its tokens")
	need(c.OIDCClientID, "OZGFLOW_OIDC_CLIENT_ID", "ozgflow's client at the identity provider")
	need(c.OIDCClientSecret, "OZGFLOW_OIDC_CLIENT_SECRET", "ozgflow's client secret at the identity provider")
	if process == "gateway" {
		// dev derives its public URL from the address it listens on.
		need(c.PublicURL, "OZGFLOW_PUBLIC_URL", "the identity provider sends people back there after signing in and out, and https makes the cookies Secure")
	}
	if c.SessionIdle > c.SessionMax {
		errs = append(errs, errors.New("OZGFLOW_SESSION_IDLE must not be longer than OZGFLOW_SESSION_MAX"))
	}
	if c.APIClientsFile != "" {
		if _, err := idp.LoadAPIClients(c.APIClientsFile, c.APIAudience); err != nil {
			errs = append(errs, fmt.Errorf("OZGFLOW_API_CLIENTS_FILE: %w", err))
		}
	}
	if c.OIDCClientID != "" && c.OIDCClientID == c.apiAudience() {
		errs = append(errs, fmt.Errorf("OZGFLOW_API_AUDIENCE (or the clients file's audience) %q must differ from OZGFLOW_OIDC_CLIENT_ID: ID tokens would pass as access tokens", c.OIDCClientID))
	}
	return errs
}

// apiAudience is the audience API access tokens must carry: the clients
// file's, or OZGFLOW_API_AUDIENCE.
func (c Config) apiAudience() string {
	if c.APIClientsFile != "" {
		if clients, err := idp.LoadAPIClients(c.APIClientsFile, c.APIAudience); err == nil {
			return clients.Audience
		}
	}
	return c.APIAudience
}

// sessionTimeouts are the staff sessions' bounds.
func (c Config) sessionTimeouts() store.SessionTimeouts {
	return store.SessionTimeouts{Idle: c.SessionIdle, Absolute: c.SessionMax}
}

// connectProvider connects to the identity provider, if one is configured,
// waiting up to a minute for it to come up (it may start with ozgflow).
func connectProvider(ctx context.Context, c Config, logger *slog.Logger) (*idp.Provider, error) {
	if c.OIDCIssuer == "" {
		return nil, nil
	}
	clients := idp.APIClients{Audience: c.APIAudience}
	if c.APIClientsFile != "" {
		var err error
		if clients, err = idp.LoadAPIClients(c.APIClientsFile, c.APIAudience); err != nil {
			return nil, err
		}
	}
	redirect := c.OIDCRedirectURL
	if redirect == "" {
		redirect = strings.TrimSuffix(c.PublicURL, "/") + "/anmelden/rueckkehr"
	}
	cfg := idp.Config{Issuer: c.OIDCIssuer, ClientID: c.OIDCClientID, ClientSecret: c.OIDCClientSecret,
		RedirectURL: redirect, Scopes: c.OIDCScopes, Claims: c.Claims, API: clients}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		p, err := idp.Connect(ctx, cfg)
		if err == nil {
			logger.Info("Identity provider connected", "issuer", c.OIDCIssuer, "apiClients", len(clients.Clients))
			return p, nil
		}
		logger.Warn("Identity provider not reachable yet", "issuer", c.OIDCIssuer, "error", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("OZGFLOW_OIDC_ISSUER: %w", err)
		case <-time.After(2 * time.Second):
		}
	}
}

// authenticator is what the gateway accepts as bearer tokens: the identity
// provider's access tokens and, in `dev` only, the demo tokens.
func authenticator(provider *idp.Provider, demo web.StaticTokens) web.Authenticator {
	var auth web.Authenticators
	if demo != nil {
		auth = append(auth, demo)
	}
	if provider != nil {
		auth = append(auth, provider)
	}
	return auth
}
