package process

import (
	"strings"
	"testing"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestConfigFromEnvironment(t *testing.T) {
	cfg, err := FromEnv(env(map[string]string{
		"OZGFLOW_ADDR": ":9090", "REDIS_URL": "redis://cache:6379/1", "TEMPORAL_ADDRESS": "temporal:7233",
		"OZGFLOW_FACHVERFAHREN_TARGETS": "gewerbe-leipzig=http://fv-leipzig, dms=http://dms", "OZGFLOW_LOG_LEVEL": "debug",
		"OZGFLOW_SIGNATURE_WEBHOOK_SECRET": "sig-secret", "OZGFLOW_SIGNATURE_WEBHOOK_URL": "http://gw/hook",
		"OZGFLOW_SIGNATURE_RETURN_URL": "https://portal.example",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":9090" || cfg.RedisURL != "redis://cache:6379/1" || cfg.TemporalAddress != "temporal:7233" ||
		cfg.DataDir != "./data" || cfg.TemporalNamespace != "ozgflow" || cfg.SignatureWebhookSecret != "sig-secret" ||
		cfg.SignatureWebhookURL != "http://gw/hook" || cfg.SignatureReturnURL != "https://portal.example" {
		t.Errorf("cfg = %+v", cfg)
	}
	targets, err := cfg.Targets()
	if err != nil || targets["dms"] != "http://dms" || targets["gewerbe-leipzig"] != "http://fv-leipzig" {
		t.Errorf("targets = %v %v", targets, err)
	}
	if _, err := FromEnv(env(map[string]string{"OZGFLOW_LOG_LEVEL": "loud"})); err == nil ||
		!strings.Contains(err.Error(), "OZGFLOW_LOG_LEVEL") {
		t.Errorf("bad log level: %v", err)
	}
}

func TestValidateNamesTheVariable(t *testing.T) {
	tests := []struct {
		process  string
		vars     map[string]string
		wantVars []string
	}{
		{"dev", nil, nil},
		{"worker", nil, []string{"OZGFLOW_SECRET", "OZGFLOW_PAYMENT_URL", "OZGFLOW_SIGNER_URL",
			"OZGFLOW_FACHVERFAHREN_SECRET", "OZGFLOW_FACHVERFAHREN_URL"}},
		{"gateway", map[string]string{"OZGFLOW_SECRET": "short"}, []string{"OZGFLOW_SECRET must be at least 16",
			"OZGFLOW_PAYMENT_WEBHOOK_SECRET", "OZGFLOW_SIGNER_URL"}},
		{"dev", map[string]string{"OZGFLOW_FACHVERFAHREN_TARGETS": "nourl"}, []string{"OZGFLOW_FACHVERFAHREN_TARGETS"}},
		{"dev", map[string]string{"OZGFLOW_FITCONNECT_CLIENTS": "portal-a"}, []string{"OZGFLOW_FITCONNECT_CLIENTS"}},
		{"gateway", map[string]string{"OZGFLOW_FITCONNECT_CLIENTS": "portal-a=" + strings.Repeat("s", 32)},
			[]string{"OZGFLOW_FITCONNECT_KEYS_DIR"}},
		{"gateway", map[string]string{"OZGFLOW_FITCONNECT_CLIENTS": "dev-fitconnect=dev-fitconnect-secret"},
			[]string{"OZGFLOW_FITCONNECT_CLIENTS (client dev-fitconnect) is a demo value"}},
		{"gateway", map[string]string{"OZGFLOW_OIDC_ISSUER": "http://127.0.0.1:1"},
			[]string{"OZGFLOW_OIDC_CLIENT_ID", "OZGFLOW_OIDC_CLIENT_SECRET", "OZGFLOW_PUBLIC_URL"}},
		{"dev", map[string]string{"OZGFLOW_OIDC_ISSUER": "http://127.0.0.1:1"}, []string{"OZGFLOW_OIDC_CLIENT_ID", "OZGFLOW_OIDC_CLIENT_SECRET"}},
		{"dev", map[string]string{"OZGFLOW_OIDC_ISSUER": "http://127.0.0.1:1", "OZGFLOW_OIDC_CLIENT_ID": "ozgflow",
			"OZGFLOW_OIDC_CLIENT_SECRET": "s", "OZGFLOW_SESSION_IDLE": "1h", "OZGFLOW_SESSION_MAX": "30m"}, []string{"OZGFLOW_SESSION_IDLE"}},
		{"sandbox", map[string]string{"OZGFLOW_PAYMENT_API_KEY": "k", "OZGFLOW_PAYMENT_WEBHOOK_URL": "http://gw",
			"OZGFLOW_PAYMENT_WEBHOOK_SECRET": "s", "OZGFLOW_FACHVERFAHREN_SECRET": "f",
			"OZGFLOW_SIGNATURE_WEBHOOK_URL": "http://gw/api/v1/webhooks/signatures"}, []string{"OZGFLOW_SIGNATURE_WEBHOOK_SECRET"}},
	}
	for _, tt := range tests {
		t.Run(tt.process, func(t *testing.T) {
			cfg, _ := FromEnv(env(tt.vars))
			err := cfg.Validate(tt.process)
			if len(tt.wantVars) == 0 {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, v := range tt.wantVars {
				if !strings.Contains(err.Error(), v) {
					t.Errorf("error does not name %s: %v", v, err)
				}
			}
		})
	}
}
