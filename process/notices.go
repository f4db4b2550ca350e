package process

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/activities/mail"
	"github.com/ozgflow/ozgflow/activities/portal"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/store"
)

// How notices leave ozgflow: every notice filed into a portal mailbox goes
// to the portal's webhook as a CloudEvent (the dispatcher runs in `dev` and
// in every worker), and variants with emailNotices also send it by email
// (SMTP). In `dev` both go to sandboxes unless configured otherwise.

// dev-only defaults of the notice channels.
const (
	devPortalSecret = "dev-portal-webhook-secret"
	devMailFrom     = "ozgflow (dev) <noreply@ozgflow.localhost>"
)

// noticesFromEnv reads the settings of the portal webhook and of email.
func (c *Config) noticesFromEnv(getenv func(string) string) error {
	for dst, name := range map[*string]string{
		&c.PortalWebhookURL: "OZGFLOW_PORTAL_WEBHOOK_URL", &c.PortalWebhookSecret: "OZGFLOW_PORTAL_WEBHOOK_SECRET",
		&c.SMTPAddr: "OZGFLOW_SMTP_ADDR", &c.SMTPFrom: "OZGFLOW_SMTP_FROM",
		&c.SMTPUsername: "OZGFLOW_SMTP_USERNAME", &c.SMTPPassword: "OZGFLOW_SMTP_PASSWORD",
	} {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			*dst = v
		}
	}
	if v := getenv("OZGFLOW_PORTAL_MAX_ATTEMPTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("OZGFLOW_PORTAL_MAX_ATTEMPTS %q: want a number of attempts, 1 or more", v)
		}
		c.PortalMaxAttempts = n
	}
	return setDurations(getenv, map[string]*time.Duration{
		"OZGFLOW_PORTAL_BACKOFF_INITIAL": &c.PortalBackoffInitial, "OZGFLOW_PORTAL_BACKOFF_MAX": &c.PortalBackoffMax,
	}, "1s or 10m")
}

// validateNotices checks the notice settings a process needs.
func (c Config) validateNotices(process string) []error {
	var errs []error
	need := requirer(&errs)
	switch process {
	case "worker":
		need(c.PortalWebhookURL, "OZGFLOW_PORTAL_WEBHOOK_URL", "every notice goes to the portal's webhook")
		need(c.PortalWebhookSecret, "OZGFLOW_PORTAL_WEBHOOK_SECRET", "portal events are HMAC-signed")
	case "sandbox":
		need(c.PortalWebhookSecret, "OZGFLOW_PORTAL_WEBHOOK_SECRET", "the sandbox portal checks the event signatures")
	}
	if c.PortalWebhookURL != "" {
		if u, err := url.Parse(c.PortalWebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("OZGFLOW_PORTAL_WEBHOOK_URL %q: want an http(s) URL", c.PortalWebhookURL))
		}
	}
	if c.PortalMaxAttempts < 1 {
		errs = append(errs, errors.New("OZGFLOW_PORTAL_MAX_ATTEMPTS must be 1 or more"))
	}
	if c.PortalBackoffInitial <= 0 || c.PortalBackoffMax < c.PortalBackoffInitial {
		errs = append(errs, errors.New("OZGFLOW_PORTAL_BACKOFF_INITIAL must be above 0 and OZGFLOW_PORTAL_BACKOFF_MAX not below it"))
	}
	if c.SMTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.SMTPAddr); err != nil {
			errs = append(errs, fmt.Errorf("OZGFLOW_SMTP_ADDR %q: want host:port", c.SMTPAddr))
		}
		if process == "worker" || process == "dev" {
			need(c.SMTPFrom, "OZGFLOW_SMTP_FROM", "the sender of email notices")
		}
		if process == "worker" {
			need(c.PublicURL, "OZGFLOW_PUBLIC_URL", "every email notice links to the applicant's status page on the gateway")
		}
	}
	if c.SMTPUsername != "" && c.SMTPPassword == "" {
		errs = append(errs, errors.New("OZGFLOW_SMTP_PASSWORD is required with OZGFLOW_SMTP_USERNAME"))
	}
	return errs
}

// statusURL gives the absolute address of a case's status page on the
// gateway (OZGFLOW_PUBLIC_URL), with the applicant's access token as the
// portal's links carry it: the page takes it into a cookie and out of the
// address. Without a public URL there is none.
func (c Config) statusURL() func(caseID string) string {
	base := strings.TrimSuffix(c.PublicURL, "/")
	if base == "" {
		return nil
	}
	tokens := web.NewAccessTokenRing([]byte(c.Secret), c.previousSecretKeys()...)
	return func(caseID string) string {
		return base + "/antraege/" + url.PathEscape(caseID) + "?token=" + url.QueryEscape(tokens.Issue(caseID))
	}
}

// statusPage gives the absolute address of a case's status page without
// the access token: where the payment provider sends the applicant back,
// in whose browser the page's cookie holds it. Without a public URL there
// is none.
func (c Config) statusPage() func(caseID string) string {
	base := strings.TrimSuffix(c.PublicURL, "/")
	if base == "" {
		return nil
	}
	return func(caseID string) string { return base + "/antraege/" + url.PathEscape(caseID) }
}

// smtpMailer returns the SMTP mailer when OZGFLOW_SMTP_ADDR is set, and
// none otherwise (then email notices fail without retries).
func (c Config) smtpMailer() (activities.Mailer, error) {
	if c.SMTPAddr == "" {
		return nil, nil
	}
	m, err := mail.New(mail.Config{Addr: c.SMTPAddr, From: c.SMTPFrom, Username: c.SMTPUsername, Password: c.SMTPPassword})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// portalDispatcher posts the notices of the outbox in st to the portal's
// webhook and notes those the portal took in ledger.
func (c Config) portalDispatcher(st *store.Store, ledger portal.Ledger, logger *slog.Logger) *portal.Dispatcher {
	return &portal.Dispatcher{
		Outbox: st,
		Ledger: ledger,
		Sender: &portal.Client{URL: c.PortalWebhookURL, Secret: []byte(c.PortalWebhookSecret),
			HTTP: &http.Client{Timeout: 30 * time.Second}},
		Backoff:     portal.Backoff{Initial: c.PortalBackoffInitial, Max: c.PortalBackoffMax, Jitter: portal.DefaultBackoff.Jitter},
		MaxAttempts: c.PortalMaxAttempts,
		Logger:      logger,
	}
}
