package process

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// productionEnv configures every role with secrets of its own: Validate
// passes it for worker, gateway and sandbox.
func productionEnv() map[string]string {
	return map[string]string{
		"OZGFLOW_SECRET":                   "5f0c3a9e1b7d4c2a8e6f0b1d3c5a7e9f",
		"OZGFLOW_PREVIOUS_SECRETS":         "0a1b2c3d4e5f60718293a4b5c6d7e8f9, 9f8e7d6c5b4a39281706f5e4d3c2b1a0",
		"OZGFLOW_PAYMENT_URL":              "https://pay.example/api",
		"OZGFLOW_PAYMENT_API_KEY":          "c2f1e0d9b8a7968574635241302f1e0d",
		"OZGFLOW_PAYMENT_WEBHOOK_SECRET":   "7e6d5c4b3a29180f7e6d5c4b3a291807",
		"OZGFLOW_PAYMENT_WEBHOOK_URL":      "https://ozgflow.example/api/v1/webhooks/payments",
		"OZGFLOW_SIGNER_URL":               "https://signer.example",
		"OZGFLOW_SIGNATURE_WEBHOOK_SECRET": "3b2a1908f7e6d5c4b3a2918070f6e5d4",
		"OZGFLOW_FACHVERFAHREN_URL":        "https://fv.example",
		"OZGFLOW_FACHVERFAHREN_SECRET":     "e4d3c2b1a0918273645546372819a0b1",
		"OZGFLOW_PORTAL_WEBHOOK_URL":       "https://portal.example/events",
		"OZGFLOW_PORTAL_WEBHOOK_SECRET":    "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
		"OZGFLOW_OIDC_ISSUER":              "https://idp.example/realms/ozgflow",
		"OZGFLOW_OIDC_CLIENT_ID":           "ozgflow",
		"OZGFLOW_OIDC_CLIENT_SECRET":       "d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1",
		"OZGFLOW_PUBLIC_URL":               "https://ozgflow.example",
		"OZGFLOW_SMTP_ADDR":                "mail.example:587",
		"OZGFLOW_SMTP_FROM":                "noreply@ozgflow.example",
		"OZGFLOW_SMTP_USERNAME":            "ozgflow",
		"OZGFLOW_SMTP_PASSWORD":            "mail-password-1",
		"OZGFLOW_RECORDS_URL":              "postgres://ozgflow@db.example/ozgflow",
	}
}

// secretVariables are the variables whose values secrets.go checks.
var secretVariables = []string{"OZGFLOW_SECRET", "OZGFLOW_PREVIOUS_SECRETS", "OZGFLOW_PAYMENT_WEBHOOK_SECRET",
	"OZGFLOW_SIGNATURE_WEBHOOK_SECRET", "OZGFLOW_FACHVERFAHREN_SECRET", "OZGFLOW_PORTAL_WEBHOOK_SECRET",
	"OZGFLOW_PAYMENT_API_KEY", "OZGFLOW_OIDC_CLIENT_SECRET", "OZGFLOW_SMTP_PASSWORD"}

var nonDevProcesses = []string{"worker", "gateway", "sandbox"}

// validate is Validate(process) of env with the given overrides.
func validate(t *testing.T, process string, env map[string]string, override map[string]string) error {
	t.Helper()
	vars := maps.Clone(env)
	maps.Copy(vars, override)
	cfg, err := FromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Validate(process)
}

func TestProductionSecretsStart(t *testing.T) {
	for _, process := range append(nonDevProcesses, "dev") {
		if err := validate(t, process, productionEnv(), nil); err != nil {
			t.Errorf("%s refuses secrets of its own: %v", process, err)
		}
	}
}

func TestDemoSecretsAreRefusedOutsideDev(t *testing.T) {
	for _, process := range nonDevProcesses {
		t.Run(process, func(t *testing.T) {
			for _, name := range secretVariables {
				t.Run(name, func(t *testing.T) {
					for _, demo := range knownSecrets {
						value := demo
						if name == "OZGFLOW_PREVIOUS_SECRETS" {
							value = "0a1b2c3d4e5f60718293a4b5c6d7e8f9," + strings.ToUpper(demo) + " "
						}
						err := validate(t, process, productionEnv(), map[string]string{name: value})
						if err == nil {
							t.Fatalf("%s starts with %s=%s", process, name, value)
						}
						msg := err.Error()
						if !strings.Contains(msg, name) || !strings.Contains(msg, "openssl rand -hex 32") {
							t.Errorf("%s=%s: the refusal does not name the variable and how to make a secret: %v", name, demo, err)
						}
						if name == "OZGFLOW_PREVIOUS_SECRETS" && !strings.Contains(msg, "entry 2") {
							t.Errorf("the refusal does not say which entry of OZGFLOW_PREVIOUS_SECRETS: %v", err)
						}
					}
				})
			}
		})
	}
}

func TestShortSecretsAndPlaceholdersAreRefusedOutsideDev(t *testing.T) {
	for _, process := range nonDevProcesses {
		for _, name := range secretVariables {
			t.Run(process+"/"+name, func(t *testing.T) {
				err := validate(t, process, productionEnv(), map[string]string{name: "please-CHANGE-ME-before-use-0123456789"})
				if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "placeholder") {
					t.Errorf("a placeholder in %s: %v, want a refusal naming the variable", name, err)
				}
				err = validate(t, process, productionEnv(), map[string]string{name: "k7Qx2mP9vR4t"})
				if name == "OZGFLOW_SMTP_PASSWORD" {
					// The mail provider chooses that one.
					if err != nil {
						t.Errorf("a short SMTP password refused: %v", err)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "at least 16 characters") {
					t.Errorf("12 characters in %s: %v, want a refusal naming the variable", name, err)
				}
				if strings.Contains(err.Error(), "k7Qx2mP9vR4t") {
					t.Errorf("the refusal shows the secret: %v", err)
				}
			})
		}
	}
}

func TestDevStartsWithItsOwnDemoSecrets(t *testing.T) {
	env := productionEnv()
	for _, name := range secretVariables {
		env[name] = "dev-payment-webhook-secret"
	}
	if err := validate(t, "dev", env, nil); err != nil {
		t.Errorf("dev refuses the demo secrets it runs its sandboxes with: %v", err)
	}
}

// TestEveryDevSecretIsKnown guards the list: a secret `dev` sets for its
// sandboxes is published with ozgflow, so no other process may take it.
func TestEveryDevSecretIsKnown(t *testing.T) {
	for _, v := range []string{devPaymentAPIKey, devWebhookSecret, devFachverfahrenHMAC, devSignatureSecret, devPortalSecret} {
		if !slices.Contains(knownSecrets, v) {
			t.Errorf("dev's secret %q is missing from knownSecrets", v)
		}
	}
	for _, v := range knownSecrets {
		if v != strings.ToLower(strings.TrimSpace(v)) {
			t.Errorf("knownSecrets entry %q must be lower case without spaces: it is compared so", v)
		}
	}
}

func TestPreviousSecretsAreTheGatewaysKeyRing(t *testing.T) {
	cfg, err := FromEnv(func(k string) string { return productionEnv()[k] })
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.previousSecretKeys()
	if len(got) != 2 || string(got[0]) != "0a1b2c3d4e5f60718293a4b5c6d7e8f9" || string(got[1]) != "9f8e7d6c5b4a39281706f5e4d3c2b1a0" {
		t.Errorf("previous secrets %q, want the two entries without spaces", got)
	}
}
