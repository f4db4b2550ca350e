package process

import (
	"fmt"
	"slices"
	"strings"
)

// No defaults that open doors: outside `dev`, a process refuses to start
// with a secret anybody can read in this repository, or one too short to
// withstand guessing.

// minSecretLen is the shortest secret a process outside dev takes.
const minSecretLen = 16

// makeSecret says how to make a good secret.
const makeSecret = "make one with `openssl rand -hex 32`"

// knownSecrets are the values that have been defaults, examples or test
// settings of a process in this repository (docker-compose.yml, README.md,
// process/dev.go and process/notices.go, the end-to-end and external test
// harnesses): anybody can read them, so they open the door they should
// lock. Compared without regard to case and surrounding space.
var knownSecrets = []string{
	// docker-compose.yml, before its secrets were required.
	"dev-only-secret-change-me-in-production",
	"dev-payment-api-key",
	"dev-payment-webhook-secret",
	"dev-signature-webhook-secret",
	"dev-fachverfahren-secret",
	"dev-portal-webhook-secret",
	"dev-fitconnect-secret",
	"dev-smtp-password",
	// `ozgflow dev`'s sandboxes (process/dev.go, process/notices.go).
	"dev-payment-key",
	devSandboxSenderSecret,
	// The end-to-end and external test harnesses (test/e2e_test.go,
	// test/external) before they made their secrets at random.
	"e2e-secret-0123456789abcdef",
	"external-secret-0123456789",
	"external-payment-key",
	"external-webhook-secret",
	"external-signature-secret",
	"external-fachverfahren-secret",
	"external-portal-secret",
	// The gateway's tests.
	"test-secret-0123456789",
}

// placeholderWords mark a value someone was meant to replace.
var placeholderWords = []string{"change-me", "changeme", "change_me", "replace-me", "replaceme"}

// namedSecret is a secret's value and the variable that sets it.
type namedSecret struct {
	name, value string
	// anyLength exempts a secret another party chooses (an SMTP password)
	// from minSecretLen; known values are refused all the same.
	anyLength bool
}

// secrets lists every configured secret with its variable; an entry of
// OZGFLOW_PREVIOUS_SECRETS is named by its position.
func (c Config) secrets() []namedSecret {
	list := []namedSecret{
		{name: "OZGFLOW_SECRET", value: c.Secret},
		{name: "OZGFLOW_PAYMENT_API_KEY", value: c.PaymentAPIKey},
		{name: "OZGFLOW_PAYMENT_WEBHOOK_SECRET", value: c.PaymentWebhookSecret},
		{name: "OZGFLOW_SIGNATURE_WEBHOOK_SECRET", value: c.SignatureWebhookSecret},
		{name: "OZGFLOW_FACHVERFAHREN_SECRET", value: c.FachverfahrenSecret},
		{name: "OZGFLOW_PORTAL_WEBHOOK_SECRET", value: c.PortalWebhookSecret},
		{name: "OZGFLOW_OIDC_CLIENT_SECRET", value: c.OIDCClientSecret},
		{name: "OZGFLOW_SMTP_PASSWORD", value: c.SMTPPassword, anyLength: true},
		{name: "OZGFLOW_FITCONNECT_CLIENT_SECRET", value: c.FITConnectClientSecret},
	}
	list = append(list, c.fitConnectSecrets()...)
	for i, s := range c.previousSecrets() {
		list = append(list, namedSecret{name: fmt.Sprintf("OZGFLOW_PREVIOUS_SECRETS (entry %d)", i+1), value: s})
	}
	return list
}

// previousSecrets are the entries of OZGFLOW_PREVIOUS_SECRETS: former values
// of OZGFLOW_SECRET, whose access tokens stay valid.
func (c Config) previousSecrets() []string {
	var out []string
	for _, s := range strings.Split(c.PreviousSecrets, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// previousSecretKeys are previousSecrets as keys.
func (c Config) previousSecretKeys() [][]byte {
	var out [][]byte
	for _, s := range c.previousSecrets() {
		out = append(out, []byte(s))
	}
	return out
}

// refuseKnownSecrets refuses, for process, every configured secret that is
// a known demo value or placeholder, or shorter than minSecretLen, naming
// the variable and how to make a good value; never the value itself.
// OZGFLOW_SECRET's length is checked by Validate for every process.
func (c Config) refuseKnownSecrets(process string) []error {
	var errs []error
	for _, s := range c.secrets() {
		v := strings.ToLower(strings.TrimSpace(s.value))
		switch {
		case v == "":
		case slices.Contains(knownSecrets, v):
			errs = append(errs, fmt.Errorf("%s is a demo value published with ozgflow; %s does not start with it: set a secret of your own (%s)",
				s.name, process, makeSecret))
		case slices.ContainsFunc(placeholderWords, func(w string) bool { return strings.Contains(v, w) }):
			errs = append(errs, fmt.Errorf("%s is a placeholder; %s does not start with it: set a secret of your own (%s)",
				s.name, process, makeSecret))
		case !s.anyLength && s.name != "OZGFLOW_SECRET" && len(s.value) < minSecretLen:
			errs = append(errs, fmt.Errorf("%s must be at least %d characters; %s", s.name, minSecretLen, makeSecret))
		}
	}
	return errs
}
