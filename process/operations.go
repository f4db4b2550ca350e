package process

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/worker"
)

// OperationsConfig says how external calls are bounded and who hears when
// a target fails for too long.
type OperationsConfig struct {
	// TargetTimeout bounds one attempt of a call to any target
	// (OZGFLOW_TARGET_TIMEOUT, default 20s, at most 30s).
	TargetTimeout time.Duration
	// TargetAlertAfter is how long a target may fail before the operator
	// is alerted (OZGFLOW_TARGET_ALERT_AFTER, default 15m).
	TargetAlertAfter time.Duration
	// TargetPolicies override both per target
	// (OZGFLOW_TARGET_POLICIES: "target:timeout=10s;alert=30m,other:alert=2h").
	TargetPolicies string
	// OperatorEmail receives the alerts by email (OZGFLOW_OPERATOR_EMAIL),
	// through the SMTP server of the email notices.
	OperatorEmail string
	// AlertWebhookURL receives the alerts as JSON (OZGFLOW_ALERT_WEBHOOK_URL).
	AlertWebhookURL string
	// AlertCheck is how often the worker looks for failing targets
	// (OZGFLOW_ALERT_CHECK, default 30s).
	AlertCheck time.Duration
}

func defaultOperationsConfig() OperationsConfig {
	return OperationsConfig{TargetTimeout: worker.DefaultCallTimeout, TargetAlertAfter: worker.DefaultAlertAfter,
		AlertCheck: 30 * time.Second}
}

func (c *Config) operationsFromEnv(getenv func(string) string) error {
	set := setter(getenv)
	set(&c.TargetPolicies, "OZGFLOW_TARGET_POLICIES")
	set(&c.OperatorEmail, "OZGFLOW_OPERATOR_EMAIL")
	set(&c.AlertWebhookURL, "OZGFLOW_ALERT_WEBHOOK_URL")
	return setDurations(getenv, map[string]*time.Duration{
		"OZGFLOW_TARGET_TIMEOUT": &c.TargetTimeout, "OZGFLOW_TARGET_ALERT_AFTER": &c.TargetAlertAfter,
		"OZGFLOW_ALERT_CHECK": &c.AlertCheck}, "30s")
}

func (c Config) validateOperations() []error {
	var errs []error
	if c.TargetTimeout > worker.MaxCallTimeout {
		errs = append(errs, fmt.Errorf("OZGFLOW_TARGET_TIMEOUT %s: at most %s, the time an attempt may take", c.TargetTimeout, worker.MaxCallTimeout))
	}
	if _, err := c.Policies(); err != nil {
		errs = append(errs, err)
	}
	if c.OperatorEmail != "" {
		if _, err := mail.ParseAddress(c.OperatorEmail); err != nil {
			errs = append(errs, fmt.Errorf("OZGFLOW_OPERATOR_EMAIL %q: not an email address", c.OperatorEmail))
		}
	}
	if c.AlertWebhookURL != "" {
		if u, err := url.Parse(c.AlertWebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("OZGFLOW_ALERT_WEBHOOK_URL %q: want an http or https URL", c.AlertWebhookURL))
		}
	}
	return errs
}

// Policies are the targets' policies: the defaults, overridden per target
// by OZGFLOW_TARGET_POLICIES.
func (c Config) Policies() (worker.TargetPolicies, error) {
	p := worker.TargetPolicies{Default: worker.TargetPolicy{Timeout: c.TargetTimeout, AlertAfter: c.TargetAlertAfter},
		Targets: map[string]worker.TargetPolicy{}}
	const msg = "OZGFLOW_TARGET_POLICIES: %q: want target:timeout=10s;alert=30m"
	for _, entry := range strings.Split(c.TargetPolicies, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		target, settings, ok := strings.Cut(entry, ":")
		target = strings.TrimSpace(target)
		if !ok || target == "" {
			return p, fmt.Errorf(msg, entry)
		}
		var tp worker.TargetPolicy
		for _, kv := range strings.Split(settings, ";") {
			key, value, ok := strings.Cut(strings.TrimSpace(kv), "=")
			d, err := time.ParseDuration(strings.TrimSpace(value))
			if !ok || err != nil || d <= 0 {
				return p, fmt.Errorf(msg, entry)
			}
			switch strings.TrimSpace(key) {
			case "timeout":
				if d > worker.MaxCallTimeout {
					return p, fmt.Errorf("OZGFLOW_TARGET_POLICIES: timeout of %s is %s: at most %s", target, d, worker.MaxCallTimeout)
				}
				tp.Timeout = d
			case "alert":
				tp.AlertAfter = d
			default:
				return p, fmt.Errorf(msg, entry)
			}
		}
		p.Targets[target] = tp
	}
	return p, nil
}

// startAlerts starts the periodic check of failing targets, which alerts
// the operator by email (through mailer) and webhook as configured.
func startAlerts(ctx context.Context, cfg Config, conn connection, mailer activities.Mailer, logger *slog.Logger, stops *closers) {
	policies, _ := cfg.Policies()
	sender := worker.AlertSender{To: cfg.OperatorEmail, WebhookURL: cfg.AlertWebhookURL, PublicURL: strings.TrimSuffix(cfg.PublicURL, "/")}
	if cfg.OperatorEmail != "" {
		sender.Mailer = mailer
		if mailer == nil {
			logger.Warn("Alerts are not mailed: OZGFLOW_OPERATOR_EMAIL needs OZGFLOW_SMTP_ADDR")
		}
	}
	cases := &casework.Service{Temporal: conn.temporal, Store: conn.store, Namespace: cfg.TemporalNamespace, Logger: logger}
	alerts := &worker.Alerts{Targets: conn.store, Waits: cases.WaitsOn, Policies: policies, Notify: sender.Send,
		Metrics: conn.metrics, Logger: logger, Interval: cfg.AlertCheck}
	labelled(ctx, ProfileWorker, func() {
		stops.addFunc(sync.OnceFunc(background(ctx, logger, "Alerts", alerts.Run)))
	})
}
