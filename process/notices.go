package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/activities/mail"
	"github.com/ozgflow/ozgflow/portal"
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
	// sandboxSMTPAddr is where the sandbox role's mail sink listens when
	// OZGFLOW_SMTP_ADDR does not say.
	sandboxSMTPAddr = ":2525"
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
	for dst, name := range map[*time.Duration]string{
		&c.PortalBackoffInitial: "OZGFLOW_PORTAL_BACKOFF_INITIAL", &c.PortalBackoffMax: "OZGFLOW_PORTAL_BACKOFF_MAX",
	} {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("%s %q: want a duration such as 1s or 10m", name, v)
			}
			*dst = d
		}
	}
	return nil
}

// validateNotices checks the notice settings a role needs.
func (c Config) validateNotices(role string) []error {
	var errs []error
	need := func(v, name, why string) {
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is required: %s", name, why))
		}
	}
	switch role {
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
		if role == "worker" || role == "dev" {
			need(c.SMTPFrom, "OZGFLOW_SMTP_FROM", "the sender of email notices")
		}
	}
	if c.SMTPUsername != "" && c.SMTPPassword == "" {
		errs = append(errs, errors.New("OZGFLOW_SMTP_PASSWORD is required with OZGFLOW_SMTP_USERNAME"))
	}
	return errs
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

// portalDispatcher is the dispatcher of a role, posting to webhook.
func (c Config) portalDispatcher(st *store.Store, webhook, secret string, logger *slog.Logger) *portal.Dispatcher {
	return &portal.Dispatcher{
		Outbox:      st,
		Sender:      &portal.Client{URL: webhook, Secret: []byte(secret), HTTP: &http.Client{Timeout: 30 * time.Second}},
		Backoff:     portal.Backoff{Initial: c.PortalBackoffInitial, Max: c.PortalBackoffMax, Jitter: portal.DefaultBackoff.Jitter},
		MaxAttempts: c.PortalMaxAttempts,
		Logger:      logger,
	}
}

// background runs fn until the returned stop is called, which waits for it
// to return. ctx gives values and profile labels, not cancellation: the
// role stops the work in its own order.
func background(ctx context.Context, logger *slog.Logger, what string, fn func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := fn(ctx); err != nil {
			logger.Error(what+" stopped", "error", err)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// startNoticeSandboxes starts the sandbox portal and the mail sink of
// `dev` and returns the mailer email notices use: the sink, or the SMTP
// server of OZGFLOW_SMTP_ADDR when one is set.
func (d *Dev) startNoticeSandboxes(cfg Config, opts DevOptions, logger *slog.Logger) (activities.Mailer, error) {
	secret := cfg.PortalWebhookSecret
	if secret == "" {
		secret = devPortalSecret
	}
	var err error
	if d.Portal, err = portal.NewSandbox(portal.SandboxConfig{Secret: []byte(secret),
		StateFile: stateFile(cfg, opts, "portal.jsonl"), Logger: logger}); err != nil {
		return nil, err
	}
	d.closers = append(d.closers, func() { d.Portal.Close() })
	if d.Mail, err = mail.NewSink(mail.SinkConfig{Addr: "127.0.0.1:0",
		StateFile: stateFile(cfg, opts, "mail.jsonl"), Logger: logger}); err != nil {
		return nil, err
	}
	d.closers = append(d.closers, func() { d.Mail.Close() })
	if cfg.SMTPAddr != "" {
		return cfg.smtpMailer()
	}
	return mail.New(mail.Config{Addr: d.Mail.Addr(), From: devMailFrom})
}

// startDevDispatcher starts the portal dispatcher of `dev`, posting to the
// sandbox portal at base unless OZGFLOW_PORTAL_WEBHOOK_URL says otherwise.
func (d *Dev) startDevDispatcher(ctx context.Context, cfg Config, base string, logger *slog.Logger) {
	webhook, secret := cfg.PortalWebhookURL, cfg.PortalWebhookSecret
	if webhook == "" {
		webhook = base + portal.SandboxPath + "/events"
	}
	if secret == "" {
		secret = devPortalSecret
	}
	disp := cfg.portalDispatcher(d.Store, webhook, secret, logger)
	asRole(ctx, RoleWorker, func() {
		d.closers = append(d.closers, background(ctx, logger, "Portal dispatcher", disp.Run))
	})
}

// sandboxNotices adds the sandbox portal and the mail sink to the sandbox
// role; the sink listens on OZGFLOW_SMTP_ADDR (default :2525).
func sandboxNotices(cfg Config, logger *slog.Logger) (*portal.Sandbox, *mail.Sink, error) {
	sb, err := portal.NewSandbox(portal.SandboxConfig{Secret: []byte(cfg.PortalWebhookSecret),
		StateFile: filepath.Join(cfg.DataDir, "sandbox", "portal.jsonl"), Logger: logger})
	if err != nil {
		return nil, nil, err
	}
	addr := cfg.SMTPAddr
	if addr == "" {
		addr = sandboxSMTPAddr
	}
	sink, err := mail.NewSink(mail.SinkConfig{Addr: addr, StateFile: filepath.Join(cfg.DataDir, "sandbox", "mail.jsonl"), Logger: logger})
	if err != nil {
		sb.Close()
		return nil, nil, fmt.Errorf("OZGFLOW_SMTP_ADDR: %w", err)
	}
	return sb, sink, nil
}
