package process

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestGatewayNeedsAnIdentityProvider(t *testing.T) {
	base := map[string]string{"OZGFLOW_SECRET": "0123456789abcdef0123", "OZGFLOW_PAYMENT_WEBHOOK_SECRET": "x",
		"OZGFLOW_SIGNER_URL": "http://signer"}
	cfg, err := FromEnv(env(base))
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Validate("gateway")
	for _, name := range []string{"OZGFLOW_OIDC_ISSUER", "OZGFLOW_OIDC_CLIENT_ID", "OZGFLOW_OIDC_CLIENT_SECRET", "OZGFLOW_PUBLIC_URL"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("a gateway without an identity provider: %v, want it to name %s", err, name)
		}
	}
	if err := cfg.Validate("worker"); err != nil && strings.Contains(err.Error(), "OIDC") {
		t.Errorf("the worker signs no one in: %v", err)
	}
}

func TestIdentityConfigFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	clients := filepath.Join(dir, "clients.yaml")
	if err := os.WriteFile(clients, []byte("audience: ozgflow-api\nclients:\n  portal-amt24: {role: portal, accountPrefix: amt24-}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := FromEnv(env(map[string]string{
		"OZGFLOW_OIDC_ISSUER": "https://idp.example/realms/ozgflow", "OZGFLOW_OIDC_CLIENT_ID": "ozgflow",
		"OZGFLOW_OIDC_CLIENT_SECRET": "s3cr3t-s3cr3t-s3cr3t", "OZGFLOW_PUBLIC_URL": "https://ozgflow.example",
		"OZGFLOW_OIDC_ROLES_CLAIM": "groups", "OZGFLOW_OIDC_CASEWORKER_ROLE": "sb", "OZGFLOW_OIDC_SCOPES": "profile,email roles",
		"OZGFLOW_API_CLIENTS_FILE": clients, "OZGFLOW_SESSION_IDLE": "15m", "OZGFLOW_SESSION_MAX": "8h",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Claims.Roles != "groups" || cfg.Claims.CaseWorkerRole != "sb" || cfg.Claims.AdminRole != "ozgflow-administration" ||
		strings.Join(cfg.OIDCScopes, " ") != "profile email roles" || cfg.SessionIdle != 15*time.Minute || cfg.SessionMax != 8*time.Hour {
		t.Errorf("identity config = %+v", cfg.IdentityConfig)
	}
	if errs := cfg.validateIdentity("gateway"); len(errs) > 0 {
		t.Errorf("complete identity config refused: %v", errs)
	}
	if _, err := FromEnv(env(map[string]string{"OZGFLOW_SESSION_IDLE": "forever"})); err == nil ||
		!strings.Contains(err.Error(), "OZGFLOW_SESSION_IDLE") {
		t.Errorf("bad idle timeout: %v", err)
	}
}

// TestStaticTokensAreRefused: API clients authenticate at the identity
// provider; a client file that configures a static token stops the start.
func TestStaticTokensAreRefused(t *testing.T) {
	clients := filepath.Join(t.TempDir(), "clients.yaml")
	if err := os.WriteFile(clients, []byte("audience: ozgflow-api\nclients:\n  portal-amt24: {role: portal, accountPrefix: amt24-, token: dev-portal}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.OIDCIssuer, cfg.OIDCClientID, cfg.OIDCClientSecret, cfg.PublicURL = "https://idp", "ozgflow", "s3cr3t-s3cr3t-s3cr3t", "https://ozgflow"
	cfg.APIClientsFile = clients
	errs := cfg.validateIdentity("gateway")
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "static tokens are not accepted") ||
		!strings.Contains(errs[0].Error(), "OZGFLOW_API_CLIENTS_FILE") {
		t.Errorf("static token in the client file: %v", errs)
	}
}
