package process

import (
	"strings"
	"testing"
	"time"
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
		"payment":         {15 * time.Second, 20 * time.Minute},
	} {
		got := p.For(target)
		if got.Timeout != want[0] || got.AlertAfter != want[1] {
			t.Errorf("%s: %+v, want timeout %s alert %s", target, got, want[0], want[1])
		}
	}
}

func TestOperationsValidationNamesTheVariable(t *testing.T) {
	for name, tc := range map[string]struct{ key, value string }{
		"policy without target":   {"OZGFLOW_TARGET_POLICIES", "timeout=5s"},
		"unknown setting":         {"OZGFLOW_TARGET_POLICIES", "dms:retries=5s"},
		"policy timeout too long": {"OZGFLOW_TARGET_POLICIES", "dms:timeout=2m"},
		"timeout too long":        {"OZGFLOW_TARGET_TIMEOUT", "45s"},
		"operator address":        {"OZGFLOW_OPERATOR_EMAIL", "betrieb"},
		"webhook":                 {"OZGFLOW_ALERT_WEBHOOK_URL", "ftp://x"},
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
