package process

import (
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ozgflow/ozgflow"
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
	// TargetPolicies override both per target and may state how a failed
	// call to the target is tried again: first after retry, each wait
	// backoff times the one before, at most maxinterval apart
	// (OZGFLOW_TARGET_POLICIES:
	// "target:timeout=10s;alert=30m;retry=2s;backoff=2;maxinterval=5m,other:alert=2h").
	// A variant's deliver or archive step that states its own retry keeps it.
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
	if c.PaymentTimeout > worker.MaxCallTimeout {
		errs = append(errs, fmt.Errorf("OZGFLOW_PAYMENT_TIMEOUT %s: at most %s, the time an attempt may take", c.PaymentTimeout, worker.MaxCallTimeout))
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
// by OZGFLOW_TARGET_POLICIES. OZGFLOW_PAYMENT_TIMEOUT is the payment
// provider's timeout unless OZGFLOW_TARGET_POLICIES states one for payment.
func (c Config) Policies() (worker.TargetPolicies, error) {
	p := worker.TargetPolicies{Default: worker.TargetPolicy{Timeout: c.TargetTimeout, AlertAfter: c.TargetAlertAfter},
		Targets: map[string]worker.TargetPolicy{}}
	for _, entry := range strings.Split(c.TargetPolicies, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		target, tp, err := parseTargetPolicy(entry)
		if err != nil {
			return p, err
		}
		p.Targets[target] = tp
	}
	if pay := p.Targets[ozgflow.TargetPayment]; pay.Timeout == 0 && c.PaymentTimeout > 0 {
		pay.Timeout = c.PaymentTimeout
		p.Targets[ozgflow.TargetPayment] = pay
	}
	return p, nil
}

// Limits of a retry stated in OZGFLOW_TARGET_POLICIES, the same as a
// variant's (definitions.Retry).
const (
	minRetryInterval = time.Second
	maxRetryInterval = 24 * time.Hour
	maxRetryBackoff  = 10
)

// parseTargetPolicy reads one entry of OZGFLOW_TARGET_POLICIES,
// "target:timeout=10s;alert=30m;retry=2s;backoff=2;maxinterval=5m".
func parseTargetPolicy(entry string) (string, worker.TargetPolicy, error) {
	var tp worker.TargetPolicy
	target, settings, ok := strings.Cut(entry, ":")
	target = strings.TrimSpace(target)
	if !ok || target == "" {
		return target, tp, fmt.Errorf("OZGFLOW_TARGET_POLICIES: %q: want target:timeout=10s;alert=30m;retry=2s;backoff=2;maxinterval=5m", entry)
	}
	for _, kv := range strings.Split(settings, ";") {
		key, value, _ := strings.Cut(kv, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		bad := func(want string) error {
			return fmt.Errorf("OZGFLOW_TARGET_POLICIES: %s of %s is %q: %s", key, target, value, want)
		}
		if key == "backoff" {
			f, err := strconv.ParseFloat(value, 64)
			if err != nil || !(f >= 1 && f <= maxRetryBackoff) { // NaN too
				return target, tp, bad(fmt.Sprintf("want a factor between 1 and %d", maxRetryBackoff))
			}
			tp.Retry.Backoff = f
			continue
		}
		var dst *time.Duration
		var least, most time.Duration
		switch key {
		case "timeout":
			dst, most = &tp.Timeout, worker.MaxCallTimeout
		case "alert":
			dst = &tp.AlertAfter
		case "retry":
			dst, least, most = &tp.Retry.Initial, minRetryInterval, maxRetryInterval
		case "maxinterval":
			dst, least, most = &tp.Retry.Maximum, minRetryInterval, maxRetryInterval
		default:
			return target, tp, fmt.Errorf("OZGFLOW_TARGET_POLICIES: %q: %q is no setting; want timeout, alert, retry, backoff or maxinterval, as in target:timeout=10s;alert=30m;retry=2s;backoff=2;maxinterval=5m", entry, key)
		}
		d, err := time.ParseDuration(value)
		switch {
		case err != nil || d <= 0:
			return target, tp, bad("want a duration such as 30s")
		case d < least:
			return target, tp, bad("at least " + shortDuration(least))
		case most > 0 && d > most:
			return target, tp, bad("at most " + shortDuration(most))
		}
		*dst = d
	}
	if r := tp.Retry; r.Maximum > 0 && r.Maximum < r.Initial {
		return target, tp, fmt.Errorf("OZGFLOW_TARGET_POLICIES: maxinterval of %s is %s: not shorter than its retry %s",
			target, shortDuration(r.Maximum), shortDuration(r.Initial))
	}
	return target, tp, nil
}

// shortDuration writes d without zero units: 24h, 5m, 1m30s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
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
