package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/internal/redistest"
	"github.com/ozgflow/ozgflow/metrics"
)

// sentMail keeps what the alerts mailed.
type sentMail struct {
	mu   sync.Mutex
	sent []activities.EmailRequest
}

func (m *sentMail) Send(_ context.Context, req activities.EmailRequest) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, req)
	return nil
}

func TestAlertFiresOnceAfterTheThresholdAndClearsOnRecovery(t *testing.T) {
	ctx := context.Background()
	st := redistest.Store(t, "test:alerts:")
	var hooks []Alert
	var hookMu sync.Mutex
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a map[string]any
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &a); err != nil {
			t.Errorf("webhook body %s: %v", b, err)
		}
		var got Alert
		_ = json.Unmarshal(b, &got)
		hookMu.Lock()
		hooks = append(hooks, got)
		hookMu.Unlock()
		if a["failingSeconds"] == nil {
			t.Errorf("webhook body without failingSeconds: %s", b)
		}
	}))
	defer hook.Close()
	mailer := &sentMail{}
	var logs bytes.Buffer
	m := metrics.New()
	start := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	now := start
	alerts := &Alerts{Targets: st, Metrics: m, Now: func() time.Time { return now },
		Policies: TargetPolicies{Default: TargetPolicy{AlertAfter: 15 * time.Minute},
			Targets: map[string]TargetPolicy{"dms": {AlertAfter: time.Hour}}},
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Notify: AlertSender{Mailer: mailer, To: "betrieb@example.org", WebhookURL: hook.URL, PublicURL: "https://ozgflow.example"}.Send}

	fail := func(caseID, target string) {
		t.Helper()
		if err := st.CallFailed(ctx, ozgflow.CallFailure{CaseID: caseID, Target: target, Operation: "Deliver",
			Error: "fachverfahren " + target + ": 503 Service Unavailable", Attempt: 2, At: now}); err != nil {
			t.Fatal(err)
		}
	}
	check := func() {
		t.Helper()
		if err := alerts.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	fail("c1", "gewerbe-leipzig")
	fail("c2", "dms")
	check()
	if len(mailer.sent) != 0 || len(hooks) != 0 {
		t.Fatalf("alerted before the threshold: %+v %+v", mailer.sent, hooks)
	}
	// 16 minutes on, both still fail: gewerbe-leipzig is past 15 minutes,
	// dms not past its hour.
	now = start.Add(16 * time.Minute)
	fail("c1", "gewerbe-leipzig")
	check()
	check() // a second look sends nothing more
	if len(mailer.sent) != 1 || len(hooks) != 1 {
		t.Fatalf("want one alert, got mails %+v hooks %+v", mailer.sent, hooks)
	}
	mail := mailer.sent[0]
	if mail.To != "betrieb@example.org" || !strings.Contains(mail.Subject, "gewerbe-leipzig gestört seit 27.11.2026") ||
		!strings.Contains(mail.Text, "Letzter Fehler: Das Zielsystem meldet einen Fehler auf seiner Seite (Status 503).") || !strings.Contains(mail.Text, "Wartende Vorgänge: 1") ||
		!strings.Contains(mail.Text, "https://ozgflow.example/verwaltung/stoerungen") {
		t.Errorf("alert mail = %+v", mail)
	}
	if h := hooks[0]; h.Target != "gewerbe-leipzig" || h.Recovered || !h.Since.Equal(start) || h.Status != 503 {
		t.Errorf("webhook = %+v", h)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "target=gewerbe-leipzig") {
		t.Errorf("no ERROR line naming the target: %s", logs.String())
	}
	if got := gaugeValue(t, m.TargetFailingGauge("gewerbe-leipzig")); got != 16*60 {
		t.Errorf("ozgflow_target_failing_seconds{target=gewerbe-leipzig} = %v, want 960", got)
	}

	// The target answers again: one recovery, then quiet.
	now = start.Add(20 * time.Minute)
	if err := st.CallSucceeded(ctx, "c1", "gewerbe-leipzig"); err != nil {
		t.Fatal(err)
	}
	check()
	check()
	if len(mailer.sent) != 2 || len(hooks) != 2 || !hooks[1].Recovered || hooks[1].Target != "gewerbe-leipzig" ||
		!strings.Contains(mailer.sent[1].Subject, "wieder erreichbar") {
		t.Fatalf("want one recovery, got mails %+v hooks %+v", mailer.sent, hooks)
	}
	if got := gaugeValue(t, m.TargetFailingGauge("gewerbe-leipzig")); got != 0 {
		t.Errorf("gauge after recovery = %v, want 0", got)
	}

	// A new incident of the same target is alerted again.
	now = start.Add(30 * time.Minute)
	fail("c3", "gewerbe-leipzig")
	now = start.Add(50 * time.Minute)
	check()
	if len(hooks) != 3 || hooks[2].Recovered || !hooks[2].Since.Equal(start.Add(30*time.Minute)) {
		t.Fatalf("second incident: hooks %+v", hooks)
	}
	// dms passes its hour.
	now = start.Add(61 * time.Minute)
	check()
	if len(hooks) != 4 || hooks[3].Target != "dms" {
		t.Fatalf("dms after its hour: hooks %+v", hooks)
	}
}

func TestATargetNoCaseWaitsOnAnyMoreIsNoLongerFailing(t *testing.T) {
	ctx := context.Background()
	st := redistest.Store(t, "test:alerts:")
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	var sent []Alert
	alerts := &Alerts{Targets: st, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler),
		Policies: TargetPolicies{Default: TargetPolicy{AlertAfter: time.Minute}},
		Notify:   func(_ context.Context, a Alert) error { sent = append(sent, a); return nil }}
	if err := st.CallFailed(ctx, ozgflow.CallFailure{CaseID: "c1", Target: "payment", Operation: "CreatePayment", Error: "down", At: now}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Minute)
	if err := alerts.Check(ctx); err != nil || len(sent) != 1 {
		t.Fatalf("alert: %v %+v", err, sent)
	}
	// The case was cancelled: nothing waits on the payment provider.
	if err := st.ForgetCallFailure(ctx, "c1", ""); err != nil {
		t.Fatal(err)
	}
	if err := alerts.Check(ctx); err != nil || len(sent) != 2 || !sent[1].Recovered {
		t.Fatalf("recovery: %v %+v", err, sent)
	}
	failing, _ := st.FailingTargets(ctx)
	if len(failing) != 0 {
		t.Errorf("failing targets left: %v", failing)
	}
}

func gaugeValue(t *testing.T, g interface{ Write(*dto.Metric) error }) float64 {
	t.Helper()
	var out dto.Metric
	if err := g.Write(&out); err != nil {
		t.Fatal(err)
	}
	return out.GetGauge().GetValue()
}

// flakyMail fails while down is set, and keeps what it sent.
type flakyMail struct {
	sentMail
	down bool
}

func (m *flakyMail) Send(ctx context.Context, req activities.EmailRequest) error {
	if m.down {
		return errors.New("smtp mail:587: connection refused")
	}
	return m.sentMail.Send(ctx, req)
}

func TestAnAlertThatCouldNotBeSentIsSentAtTheNextCheck(t *testing.T) {
	ctx := context.Background()
	st := redistest.Store(t, "test:alerts:")
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	mailer := &flakyMail{down: true}
	alerts := &Alerts{Targets: st, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler),
		Policies: TargetPolicies{Default: TargetPolicy{AlertAfter: time.Minute}},
		Notify:   AlertSender{Mailer: mailer, To: "betrieb@example.org"}.Send}
	if err := st.CallFailed(ctx, ozgflow.CallFailure{CaseID: "c1", Target: "dms", Operation: "Deliver",
		Error: "dms: 503 Service Unavailable", At: now}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Minute)
	if err := alerts.Check(ctx); err == nil {
		t.Error("a check whose alert was not sent reports no error")
	}
	mailer.down = false
	if err := alerts.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if err := alerts.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if len(mailer.sent) != 1 || !strings.Contains(mailer.sent[0].Subject, "dms gestört") {
		t.Fatalf("want the alert once the mail server answers, got %+v", mailer.sent)
	}
}

func TestAnAlertAboutTheMailServerIsNotMailed(t *testing.T) {
	ctx := context.Background()
	mailer := &sentMail{}
	var hooks int
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hooks++ }))
	defer hook.Close()
	send := AlertSender{Mailer: mailer, To: "betrieb@example.org", WebhookURL: hook.URL}.Send
	if err := send(ctx, Alert{Target: ozgflow.TargetMail, Since: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if len(mailer.sent) != 0 || hooks != 1 {
		t.Errorf("mails %+v, webhooks %d: want the webhook only", mailer.sent, hooks)
	}
}

func TestATargetThatRecoversAndFailsAgainBetweenChecksIsAlertedAgain(t *testing.T) {
	ctx := context.Background()
	st := redistest.Store(t, "test:alerts:")
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	now := t0
	var sent []Alert
	alerts := &Alerts{Targets: st, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler),
		Policies: TargetPolicies{Default: TargetPolicy{AlertAfter: time.Minute}},
		Notify:   func(_ context.Context, a Alert) error { sent = append(sent, a); return nil }}
	fail := func(caseID string) {
		t.Helper()
		if err := st.CallFailed(ctx, ozgflow.CallFailure{CaseID: caseID, Target: "dms", Operation: "Deliver",
			Error: "dms: 503 Service Unavailable", At: now}); err != nil {
			t.Fatal(err)
		}
	}
	fail("c1")
	now = t0.Add(2 * time.Minute)
	if err := alerts.Check(ctx); err != nil || len(sent) != 1 {
		t.Fatalf("first incident: %v %+v", err, sent)
	}
	// Between two checks the target answers, then fails again.
	now = t0.Add(3 * time.Minute)
	if err := st.CallSucceeded(ctx, "c1", "dms"); err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(4 * time.Minute)
	now = t1
	fail("c2")
	now = t0.Add(10 * time.Minute)
	if err := alerts.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 3 || !sent[1].Recovered || !sent[1].Since.Equal(t0) || sent[2].Recovered || !sent[2].Since.Equal(t1) {
		t.Fatalf("want the first incident's recovery and the second's alert, got %+v", sent)
	}
}

func TestAlertsCountOnlyCasesTemporalSaysStillWaitAndCarryNoTechnicalMessage(t *testing.T) {
	ctx := context.Background()
	st := redistest.Store(t, "test:alerts:")
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	var sent []Alert
	var logs bytes.Buffer
	ended := map[string]bool{}
	alerts := &Alerts{Targets: st, Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Policies: TargetPolicies{Default: TargetPolicy{AlertAfter: time.Minute}},
		Waits: func(_ context.Context, f ozgflow.CallFailure) (bool, error) {
			return !ended[f.CaseID], nil
		},
		Notify: func(_ context.Context, a Alert) error { sent = append(sent, a); return nil }}
	for _, c := range []string{"c1", "c2"} {
		if err := st.CallFailed(ctx, ozgflow.CallFailure{CaseID: c, Target: "mail", Operation: "Email",
			Error: "smtp mail:587: 452 4.2.2 <anna.beispiel@example.org>: mailbox full", At: now}); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(2 * time.Minute)
	if err := alerts.Check(ctx); err != nil || len(sent) != 1 || sent[0].Cases != 2 {
		t.Fatalf("alert: %v %+v", err, sent)
	}
	body, _ := json.Marshal(sent[0])
	if strings.Contains(string(body), "anna") || strings.Contains(logs.String(), "anna") || strings.Contains(logs.String(), "mailbox full") {
		t.Errorf("the alert carries the technical message: %s\n%s", body, logs.String())
	}
	if sent[0].LastError != "Der Aufruf ist fehlgeschlagen." {
		t.Errorf("lastError = %q, want the German classification", sent[0].LastError)
	}
	// Both cases ended (withdrawn): the index still holds them, Temporal
	// says they wait no more: the target has recovered.
	ended["c1"], ended["c2"] = true, true
	if err := alerts.Check(ctx); err != nil || len(sent) != 2 || !sent[1].Recovered {
		t.Fatalf("recovery: %v %+v", err, sent)
	}
}
