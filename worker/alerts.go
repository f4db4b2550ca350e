package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/locale"
	"github.com/ozgflow/ozgflow/metrics"
)

// FailingTargets is the index of failing calls as the alerts read it
// (store.Store).
type FailingTargets interface {
	FailingTargets(ctx context.Context) (map[string]time.Time, error)
	CallFailures(ctx context.Context) ([]ozgflow.CallFailure, error)
	ClearTarget(ctx context.Context, target string) error
	MarkAlerted(ctx context.Context, target string, since time.Time) (bool, error)
	AlertedTargets(ctx context.Context) (map[string]time.Time, error)
	ClearAlerted(ctx context.Context, target string, since time.Time) (bool, error)
}

// Alert tells the operator that a target has failed for longer than its
// threshold, or, with Recovered, that it no longer fails.
type Alert struct {
	Target    string        `json:"target"`
	Recovered bool          `json:"recovered"`
	Since     time.Time     `json:"since"`          // the failure's first failed call
	At        time.Time     `json:"at"`             // when the check saw it
	Failing   time.Duration `json:"failingSeconds"` // how long it failed, in nanoseconds in Go, seconds in JSON
	Cases     int           `json:"cases"`          // cases waiting on the target
	// LastError says in German how the last call failed
	// (locale.CallError); the technical message stays out of alerts, it
	// may name a person.
	LastError string        `json:"lastError,omitempty"`
	Status    int           `json:"status,omitempty"` // the HTTP status of the last failure, if any
	Threshold time.Duration `json:"thresholdSeconds"` // the target's alert threshold
}

// MarshalJSON writes the durations in seconds.
func (a Alert) MarshalJSON() ([]byte, error) {
	type plain Alert
	return json.Marshal(struct {
		plain
		Failing   float64 `json:"failingSeconds"`
		Threshold float64 `json:"thresholdSeconds"`
	}{plain(a), a.Failing.Seconds(), a.Threshold.Seconds()})
}

// Alerts watches the failing targets: when a target has failed without a
// success for longer than its threshold, the operator is alerted once per
// incident (an ERROR log line, and the Notify of the alert), and told once
// of its recovery. The gauge ozgflow_target_failing_seconds shows every
// failing target. Several workers may watch; the store notes each alert
// once.
type Alerts struct {
	Targets  FailingTargets
	Policies TargetPolicies
	// Waits says whether a case of the index still waits on its call
	// (casework.Service.WaitsOn asks Temporal); nil trusts the index.
	Waits func(ctx context.Context, f ozgflow.CallFailure) (bool, error)
	// Notify sends an alert or recovery to the operator; nil only logs.
	Notify  func(ctx context.Context, a Alert) error
	Metrics *metrics.Metrics
	Logger  *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Interval is the time between checks; zero is 30 s.
	Interval time.Duration

	shown map[string]bool // targets the gauge shows failing
}

// Run checks at every interval until ctx ends.
func (a *Alerts) Run(ctx context.Context) error {
	interval := a.Interval
	if interval <= 0 {
		interval = 30 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := a.Check(ctx); err != nil && ctx.Err() == nil {
			a.Logger.Warn("Failing targets not checked", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Check looks once at the failing targets, alerts of those past their
// threshold and tells of those recovered. A target none of whose cases
// waits any more (cancelled, ended) counts as recovered.
func (a *Alerts) Check(ctx context.Context) error {
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	failing, err := a.Targets.FailingTargets(ctx)
	if err != nil {
		return err
	}
	calls, err := a.Targets.CallFailures(ctx)
	if err != nil {
		return err
	}
	waiting := map[string][]ozgflow.CallFailure{}
	var errs []error
	for _, f := range calls {
		if a.Waits != nil {
			waits, err := a.Waits(ctx, f)
			if err != nil {
				errs = append(errs, err) // unknown: counted as waiting
			} else if !waits {
				continue
			}
		}
		waiting[f.Target] = append(waiting[f.Target], f)
	}
	alerted, err := a.Targets.AlertedTargets(ctx)
	if err != nil {
		return err
	}
	for _, target := range sortedTargets(failing) {
		if len(waiting[target]) == 0 {
			if err := a.Targets.ClearTarget(ctx, target); err != nil {
				errs = append(errs, err)
			}
			delete(failing, target)
		}
	}
	// Incidents alerted that are over: the target answers, no case waits
	// on it, or it recovered and fails again since another time.
	for _, target := range sortedTargets(alerted) {
		since := alerted[target]
		if cur, still := failing[target]; still && cur.Equal(since) {
			continue
		}
		first, err := a.Targets.ClearAlerted(ctx, target, since)
		if err != nil || !first {
			errs = append(errs, err)
			continue
		}
		a.Logger.Info("External target recovered", "target", target, "since", since, "failed", now.Sub(since).Round(time.Second))
		if err := a.notify(ctx, Alert{Target: target, Recovered: true, Since: since, At: now,
			Failing: max(now.Sub(since), 0), Threshold: a.Policies.For(target).AlertAfter}); err != nil {
			errs = append(errs, err)
			if _, still := failing[target]; !still {
				// Told at the next check.
				_, _ = a.Targets.MarkAlerted(ctx, target, since)
			}
		}
	}
	for _, target := range sortedTargets(failing) {
		since := failing[target]
		d := max(now.Sub(since), 0)
		a.gauge(target, d)
		policy := a.Policies.For(target)
		if d < policy.AlertAfter {
			continue
		}
		first, err := a.Targets.MarkAlerted(ctx, target, since)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !first {
			continue
		}
		last := latest(waiting[target])
		alert := Alert{Target: target, Since: since, At: now, Failing: d, Cases: len(waiting[target]),
			LastError: locale.CallError(last.Error), Status: locale.CallStatus(last.Error), Threshold: policy.AlertAfter}
		a.Logger.Error("External target failing longer than its threshold", "target", target, "since", since,
			"failing", d.Round(time.Second), "threshold", policy.AlertAfter, "cases", alert.Cases,
			"lastError", alert.LastError, "status", alert.Status)
		if err := a.notify(ctx, alert); err != nil {
			// Not sent: the next check tries again.
			errs = append(errs, err)
			if _, err := a.Targets.ClearAlerted(ctx, target, since); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for target := range a.shown {
		if _, still := failing[target]; !still {
			a.gauge(target, 0)
		}
	}
	return errors.Join(errs...)
}

// gauge shows how long a target fails; zero says it answers again.
func (a *Alerts) gauge(target string, d time.Duration) {
	if a.Metrics == nil {
		return
	}
	if a.shown == nil {
		a.shown = map[string]bool{}
	}
	a.Metrics.TargetFailing(target, d)
	if d > 0 {
		a.shown[target] = true
	} else {
		delete(a.shown, target)
	}
}

func (a *Alerts) notify(ctx context.Context, alert Alert) error {
	if a.Notify == nil {
		return nil
	}
	if err := a.Notify(ctx, alert); err != nil {
		return fmt.Errorf("alert of %s not sent: %w", alert.Target, err)
	}
	return nil
}

func sortedTargets(m map[string]time.Time) []string {
	out := make([]string, 0, len(m))
	for t := range m {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func latest(fs []ozgflow.CallFailure) ozgflow.CallFailure {
	var out ozgflow.CallFailure
	for _, f := range fs {
		if f.At.After(out.At) {
			out = f
		}
	}
	return out
}

// AlertSender sends alerts to the operator: by email to To through
// Mailer, and as JSON to WebhookURL; either may be empty.
type AlertSender struct {
	Mailer     activities.Mailer
	To         string
	WebhookURL string
	HTTP       *http.Client // nil: one with a 10 s timeout
	// PublicURL is where the administrators' page of stuck cases lives.
	PublicURL string
}

// Send sends one alert both ways; the mail's ID makes a repeat arrive once
// where the mail system honours it. An alert about the mail server itself
// goes by webhook only: it could not be mailed.
func (s AlertSender) Send(ctx context.Context, a Alert) error {
	var errs []error
	if s.Mailer != nil && s.To != "" && a.Target != ozgflow.TargetMail {
		kind := "alert"
		if a.Recovered {
			kind = "recovery"
		}
		errs = append(errs, s.Mailer.Send(ctx, activities.EmailRequest{
			NoticeID: fmt.Sprintf("%s-%s-%d", kind, a.Target, a.Since.Unix()),
			To:       s.To, Subject: alertSubject(a), Text: s.alertText(a)}))
	}
	if s.WebhookURL != "" {
		errs = append(errs, s.post(ctx, a))
	}
	return errors.Join(errs...)
}

func (s AlertSender) post(ctx context.Context, a Alert) error {
	body, err := json.Marshal(a)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	hc := s.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	res, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("alert webhook: %w", err)
	}
	res.Body.Close()
	if res.StatusCode >= 300 {
		return fmt.Errorf("alert webhook: %s", res.Status)
	}
	return nil
}

func alertSubject(a Alert) string {
	if a.Recovered {
		return "ozgflow: " + a.Target + " ist wieder erreichbar"
	}
	return "ozgflow: " + a.Target + " gestört seit " + locale.DE.Short(a.Since)
}

func (s AlertSender) alertText(a Alert) string {
	if a.Recovered {
		return fmt.Sprintf("Das Zielsystem %s ist wieder erreichbar oder kein Vorgang wartet mehr darauf.\n"+
			"Die Störung begann am %s und dauerte %s.\n", a.Target, locale.DE.Short(a.Since), germanDuration(a.Failing))
	}
	text := fmt.Sprintf("Aufrufe an das Zielsystem %s schlagen seit %s fehl (%s, Schwelle %s).\n"+
		"Wartende Vorgänge: %d\nLetzter Fehler: %s\n", a.Target, locale.DE.Short(a.Since), germanDuration(a.Failing),
		germanDuration(a.Threshold), a.Cases, a.LastError)
	if s.PublicURL != "" {
		text += "\nDie Vorgänge sehen Sie unter " + s.PublicURL + "/verwaltung/stoerungen\n"
	}
	return text
}

// germanDuration words a duration in minutes or hours, as people read it.
func germanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d Sekunden", int(d.Seconds()))
	case d < 2*time.Hour:
		return fmt.Sprintf("%d Minuten", int(d.Minutes()))
	}
	return fmt.Sprintf("%d Stunden", int(d.Hours()))
}
