package process

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow/gateway/web"
)

func TestNoticeSettingsFromEnvironment(t *testing.T) {
	cfg, err := FromEnv(env(map[string]string{
		"OZGFLOW_PORTAL_WEBHOOK_URL": "https://portal.example/webhooks/ozgflow", "OZGFLOW_PORTAL_WEBHOOK_SECRET": "s3cret",
		"OZGFLOW_PORTAL_MAX_ATTEMPTS": "7", "OZGFLOW_PORTAL_BACKOFF_INITIAL": "250ms", "OZGFLOW_PORTAL_BACKOFF_MAX": "2m",
		"OZGFLOW_SMTP_ADDR": "mail.example:587", "OZGFLOW_SMTP_FROM": "noreply@example.org",
		"OZGFLOW_SMTP_USERNAME": "ozgflow", "OZGFLOW_SMTP_PASSWORD": "pw",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PortalWebhookURL != "https://portal.example/webhooks/ozgflow" || cfg.PortalWebhookSecret != "s3cret" ||
		cfg.PortalMaxAttempts != 7 || cfg.PortalBackoffInitial != 250*time.Millisecond || cfg.PortalBackoffMax != 2*time.Minute ||
		cfg.SMTPAddr != "mail.example:587" || cfg.SMTPFrom != "noreply@example.org" || cfg.SMTPUsername != "ozgflow" || cfg.SMTPPassword != "pw" {
		t.Errorf("cfg = %+v", cfg)
	}
	if m, err := cfg.smtpMailer(); err != nil || m == nil {
		t.Errorf("smtp mailer: %v, %v", m, err)
	}
	d := DefaultConfig()
	if d.PortalMaxAttempts != 40 || d.PortalBackoffInitial != time.Second || d.PortalBackoffMax != 10*time.Minute {
		t.Errorf("defaults: %d attempts, %v to %v", d.PortalMaxAttempts, d.PortalBackoffInitial, d.PortalBackoffMax)
	}
	if m, err := d.smtpMailer(); err != nil || m != nil {
		t.Errorf("without OZGFLOW_SMTP_ADDR: %v, %v; want no mailer", m, err)
	}
	for name, value := range map[string]string{
		"OZGFLOW_PORTAL_MAX_ATTEMPTS": "0", "OZGFLOW_PORTAL_BACKOFF_INITIAL": "soon", "OZGFLOW_PORTAL_BACKOFF_MAX": "-1s",
	} {
		if _, err := FromEnv(env(map[string]string{name: value})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: %v", name, value, err)
		}
	}
}

func TestNoticeSettingsAreValidated(t *testing.T) {
	worker := map[string]string{"OZGFLOW_SECRET": "0123456789abcdef0123", "OZGFLOW_PAYMENT_URL": "http://p", "OZGFLOW_SIGNER_URL": "http://s",
		"OZGFLOW_FACHVERFAHREN_SECRET": "f0e1d2c3b4a5968778695a4b3c2d1e0f", "OZGFLOW_FACHVERFAHREN_URL": "http://f",
		"OZGFLOW_RECORDS_URL": "postgres://ozgflow@db/ozgflow"}
	with := func(extra map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range worker {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	portal := map[string]string{"OZGFLOW_PORTAL_WEBHOOK_URL": "http://portal/events", "OZGFLOW_PORTAL_WEBHOOK_SECRET": "9a8b7c6d5e4f30211203f4e5d6c7b8a9"}
	tests := []struct {
		name, process string
		vars          map[string]string
		want          []string // variables the error names; none: valid
	}{
		{"worker without portal", "worker", worker, []string{"OZGFLOW_PORTAL_WEBHOOK_URL", "OZGFLOW_PORTAL_WEBHOOK_SECRET"}},
		{"worker with portal", "worker", with(portal), nil},
		{"portal URL not http", "worker", with(map[string]string{"OZGFLOW_PORTAL_WEBHOOK_URL": "portal:80", "OZGFLOW_PORTAL_WEBHOOK_SECRET": "9a8b7c6d5e4f30211203f4e5d6c7b8a9"}),
			[]string{"OZGFLOW_PORTAL_WEBHOOK_URL"}},
		{"smtp without sender", "worker", with(map[string]string{"OZGFLOW_PORTAL_WEBHOOK_URL": "http://portal/events",
			"OZGFLOW_PORTAL_WEBHOOK_SECRET": "9a8b7c6d5e4f30211203f4e5d6c7b8a9", "OZGFLOW_SMTP_ADDR": "mail:25"}), []string{"OZGFLOW_SMTP_FROM"}},
		{"smtp user without password", "dev", map[string]string{"OZGFLOW_SMTP_USERNAME": "u"}, []string{"OZGFLOW_SMTP_PASSWORD"}},
		{"backoff upside down", "dev", map[string]string{"OZGFLOW_PORTAL_BACKOFF_INITIAL": "1m", "OZGFLOW_PORTAL_BACKOFF_MAX": "1s"},
			[]string{"OZGFLOW_PORTAL_BACKOFF_MAX"}},
		{"dev needs nothing", "dev", nil, nil},
		{"sandbox checks signatures", "sandbox", nil, []string{"OZGFLOW_PORTAL_WEBHOOK_SECRET"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := FromEnv(env(tt.vars))
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.Validate(tt.process)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			for _, v := range tt.want {
				if err == nil || !strings.Contains(err.Error(), v) {
					t.Errorf("error does not name %s: %v", v, err)
				}
			}
		})
	}
}

// TestLinksToTheStatusPage: a worker that sends email needs the gateway's
// public address; the links it makes open the case's status page, the
// email's with the applicant's access token.
func TestLinksToTheStatusPage(t *testing.T) {
	cfg := DefaultConfig()
	cfg.SMTPAddr, cfg.SMTPFrom = "mail.example:587", "noreply@example.org"
	cfg.PortalWebhookURL, cfg.PortalWebhookSecret = "https://portal.example/hook", "portal-secret-0123456789"
	if err := errors.Join(cfg.validateNotices("worker")...); err == nil || !strings.Contains(err.Error(), "OZGFLOW_PUBLIC_URL") {
		t.Errorf("a worker sending email without OZGFLOW_PUBLIC_URL: %v", err)
	}
	if cfg.statusURL() != nil || cfg.statusPage() != nil {
		t.Error("links without a public URL")
	}
	cfg.PublicURL, cfg.Secret = "https://antrag.example/", "0123456789abcdef-secret"
	if err := errors.Join(cfg.validateNotices("worker")...); err != nil {
		t.Errorf("with OZGFLOW_PUBLIC_URL: %v", err)
	}
	link := cfg.statusURL()("c-1")
	token, ok := strings.CutPrefix(link, "https://antrag.example/antraege/c-1?token=")
	if !ok || !web.NewAccessTokens([]byte(cfg.Secret)).Valid("c-1", token) {
		t.Errorf("email link %q does not open case c-1", link)
	}
	if got := cfg.statusPage()("c-1"); got != "https://antrag.example/antraege/c-1" {
		t.Errorf("return address %q", got)
	}
}
