package process

import (
	"strings"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow/worker"
)

func TestTargetPoliciesFromTheEnvironment(t *testing.T) {
	env := map[string]string{
		"OZGFLOW_TARGET_TIMEOUT":     "15s",
		"OZGFLOW_TARGET_ALERT_AFTER": "20m",
		"OZGFLOW_TARGET_POLICIES":    "gewerbe-leipzig:timeout=5s;alert=1h, dms:alert=2h",
	}
	cfg, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	p, err := cfg.Policies()
	if err != nil {
		t.Fatal(err)
	}
	for target, want := range map[string][2]time.Duration{
		"gewerbe-leipzig": {5 * time.Second, time.Hour},
		"dms":             {15 * time.Second, 2 * time.Hour},
		"payment":         {10 * time.Second, 20 * time.Minute}, // OZGFLOW_PAYMENT_TIMEOUT's default
		"signer":          {15 * time.Second, 20 * time.Minute},
	} {
		got := p.For(target)
		if got.Timeout != want[0] || got.AlertAfter != want[1] {
			t.Errorf("%s: %+v, want timeout %s alert %s", target, got, want[0], want[1])
		}
	}
}

func TestTargetRetryFromTheEnvironment(t *testing.T) {
	tests := []struct {
		name, value string
		want        map[string]worker.Retry
	}{
		{"all stated", "dms:retry=2s;backoff=2;maxinterval=5m",
			map[string]worker.Retry{"dms": {Initial: 2 * time.Second, Backoff: 2, Maximum: 5 * time.Minute}, "payment": {}}},
		{"beside timeout and alert, spaced", " payment: timeout=5s; retry=10s ; backoff=1.5, mail:alert=1h;maxinterval=30m",
			map[string]worker.Retry{"payment": {Initial: 10 * time.Second, Backoff: 1.5}, "mail": {Maximum: 30 * time.Minute}, "dms": {}}},
		{"constant", "signer:retry=1m;backoff=1", map[string]worker.Retry{"signer": {Initial: time.Minute, Backoff: 1}}},
		{"the limits", "dms:retry=1s;backoff=10;maxinterval=24h",
			map[string]worker.Retry{"dms": {Initial: time.Second, Backoff: 10, Maximum: 24 * time.Hour}}},
		{"none", "dms:alert=2h", map[string]worker.Retry{"dms": {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := FromEnv(func(k string) string {
				if k == "OZGFLOW_TARGET_POLICIES" {
					return tt.value
				}
				return ""
			})
			if err == nil {
				err = cfg.Validate("dev")
			}
			if err != nil {
				t.Fatal(err)
			}
			p, err := cfg.Policies()
			if err != nil {
				t.Fatal(err)
			}
			for target, want := range tt.want {
				if got := p.For(target).Retry; got != want {
					t.Errorf("%s: retry %+v, want %+v", target, got, want)
				}
			}
		})
	}
}

// TestPaymentTimeoutIsThePaymentTargetsTimeout: OZGFLOW_PAYMENT_TIMEOUT
// bounds the attempts to the payment provider, unless
// OZGFLOW_TARGET_POLICIES states a timeout for payment.
func TestPaymentTimeoutIsThePaymentTargetsTimeout(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want time.Duration
	}{
		{"default", nil, 10 * time.Second},
		{"set", map[string]string{"OZGFLOW_PAYMENT_TIMEOUT": "3s", "OZGFLOW_TARGET_TIMEOUT": "25s"}, 3 * time.Second},
		{"payment named without a timeout", map[string]string{"OZGFLOW_PAYMENT_TIMEOUT": "3s",
			"OZGFLOW_TARGET_POLICIES": "payment:alert=1h;retry=5s"}, 3 * time.Second},
		{"the target policy wins", map[string]string{"OZGFLOW_PAYMENT_TIMEOUT": "3s",
			"OZGFLOW_TARGET_POLICIES": "payment:timeout=7s"}, 7 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := FromEnv(func(k string) string { return tt.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			p, err := cfg.Policies()
			if err != nil {
				t.Fatal(err)
			}
			if got := p.For("payment").Timeout; got != tt.want {
				t.Errorf("payment timeout %s, want %s", got, tt.want)
			}
			if got, want := p.For("signer").Timeout, cfg.TargetTimeout; got != want {
				t.Errorf("signer timeout %s, want OZGFLOW_TARGET_TIMEOUT's %s", got, want)
			}
		})
	}
}

func TestOperationsValidationNamesTheVariable(t *testing.T) {
	for name, tc := range map[string]struct{ key, value string }{
		"policy without target":       {"OZGFLOW_TARGET_POLICIES", "timeout=5s"},
		"unknown setting":             {"OZGFLOW_TARGET_POLICIES", "dms:retries=5s"},
		"setting without value":       {"OZGFLOW_TARGET_POLICIES", "dms:retry"},
		"policy timeout too long":     {"OZGFLOW_TARGET_POLICIES", "dms:timeout=2m"},
		"retry not a duration":        {"OZGFLOW_TARGET_POLICIES", "dms:retry=soon"},
		"retry too short":             {"OZGFLOW_TARGET_POLICIES", "dms:retry=500ms"},
		"retry too long":              {"OZGFLOW_TARGET_POLICIES", "dms:retry=25h"},
		"backoff not a number":        {"OZGFLOW_TARGET_POLICIES", "dms:backoff=2s"},
		"backoff below 1":             {"OZGFLOW_TARGET_POLICIES", "dms:backoff=0.5"},
		"backoff above 10":            {"OZGFLOW_TARGET_POLICIES", "dms:backoff=11"},
		"backoff not a finite number": {"OZGFLOW_TARGET_POLICIES", "dms:backoff=NaN"},
		"maxinterval too short":       {"OZGFLOW_TARGET_POLICIES", "dms:maxinterval=100ms"},
		"maxinterval too long":        {"OZGFLOW_TARGET_POLICIES", "dms:maxinterval=48h"},
		"maxinterval below retry":     {"OZGFLOW_TARGET_POLICIES", "dms:retry=10m;maxinterval=5m"},
		"max attempts":                {"OZGFLOW_TARGET_POLICIES", "dms:attempts=5"},
		"timeout too long":            {"OZGFLOW_TARGET_TIMEOUT", "45s"},
		"payment timeout too long":    {"OZGFLOW_PAYMENT_TIMEOUT", "45s"},
		"operator address":            {"OZGFLOW_OPERATOR_EMAIL", "betrieb"},
		"webhook":                     {"OZGFLOW_ALERT_WEBHOOK_URL", "ftp://x"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := FromEnv(func(k string) string {
				if k == tc.key {
					return tc.value
				}
				return ""
			})
			if err == nil {
				err = cfg.Validate("dev")
			}
			if err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Errorf("%s=%q: %v, want an error naming %s", tc.key, tc.value, err, tc.key)
			}
		})
	}
}
