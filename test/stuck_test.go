package test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ozgflow/ozgflow/process"
	"github.com/ozgflow/ozgflow/test/e2e"
)

// stuckCase finds a case in the administrators' list of stuck cases.
func stuckCase(t *testing.T, caseID string) map[string]any {
	t.Helper()
	return stuckCaseAt(t, dev, caseID)
}

// stuckCaseAt is stuckCase in the instance d.
func stuckCaseAt(t *testing.T, d *process.Dev, caseID string) map[string]any {
	t.Helper()
	res := e2e.Call(t, d.URL, http.MethodGet, "/api/v1/operations/stuck", "dev-admin", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("stuck cases: %d %s", res.Status, res.Body)
	}
	for _, c := range res.JSON(t)["cases"].([]any) {
		if m := c.(map[string]any); m["caseId"] == caseID {
			return m
		}
	}
	return nil
}

// stuckForm is the form token of the page of stuck cases.
var stuckForm = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func TestAFachverfahrenOutageShowsTheCaseAsStuckUntilItIsResent(t *testing.T) {
	dev.Fachverfahren.SetDown(true)
	defer dev.Fachverfahren.SetDown(false)
	st := stackOf(dev)
	s := st.Submit(t, e2e.Hundesteuer(e2e.Dresden))

	// The delivery fails again and again: the case is listed with its
	// target, since when, the attempts and the last error. After the
	// third failed attempt the next one is 8 s away, time for the resend.
	var stuck map[string]any
	e2e.WaitFor(t, "the case on the list after its third attempt", 60*time.Second, func() bool {
		stuck = stuckCase(t, s.ID)
		if stuck == nil || stuck["attempts"].(float64) < 3 || stuck["nextAttemptAt"] == nil {
			return false
		}
		next, err := time.Parse(time.RFC3339Nano, stuck["nextAttemptAt"].(string))
		return err == nil && time.Until(next) > 3*time.Second
	})
	since, err := time.Parse(time.RFC3339Nano, stuck["since"].(string))
	if err != nil || time.Since(since) > time.Minute || time.Since(since) < 0 {
		t.Errorf("since = %v (%v)", stuck["since"], err)
	}
	if stuck["target"] != "steueramt-dresden" || stuck["operation"] != "Deliver" || stuck["authority"] != e2e.Dresden ||
		!strings.Contains(stuck["lastError"].(string), "503") ||
		stuck["lastErrorText"] != "Das Zielsystem meldet einen Fehler auf seiner Seite (Status 503)." {
		t.Errorf("stuck case = %v", stuck)
	}

	// Every attempt is counted by target, operation and outcome.
	metrics := string(e2e.Call(t, dev.URL, http.MethodGet, "/metrics", "", nil).Body)
	for _, want := range []string{
		`ozgflow_external_calls_total{operation="Deliver",outcome="error",target="steueramt-dresden"}`,
		`ozgflow_external_call_duration_seconds_count{operation="Deliver",target="steueramt-dresden"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// Administrators see it on their page.
	session := e2e.SignIn(t, dev.URL, "dev-admin")
	page := e2e.Call(t, dev.URL, http.MethodGet, "/verwaltung/stoerungen", "", nil, "Cookie", "ozgflow_session="+session)
	body := string(page.Body)
	if page.Status != http.StatusOK || !strings.Contains(body, stuck["caseNumber"].(string)) ||
		!strings.Contains(body, "steueramt-dresden") || !strings.Contains(body, "Das Zielsystem meldet einen Fehler") ||
		!strings.Contains(body, `action="/verwaltung/stoerungen/`+s.ID+`/erneut"`) {
		t.Fatalf("page of stuck cases: %d %s", page.Status, body)
	}
	// A case worker does not.
	if res := e2e.Call(t, dev.URL, http.MethodGet, "/api/v1/operations/stuck", "dev-sb-leipzig", nil); res.Status != http.StatusForbidden {
		t.Errorf("case worker: %d", res.Status)
	}

	// The Fachverfahren is back; the administrator sends the case again
	// at once, and it arrives once.
	dev.Fachverfahren.SetDown(false)
	if res := e2e.Call(t, dev.URL, http.MethodPost, "/api/v1/operations/stuck/"+s.ID+"/resend", "dev-admin", map[string]any{}); res.Status != http.StatusAccepted {
		t.Fatalf("resend: %d %s", res.Status, res.Body)
	}
	e2e.WaitFor(t, "delivered after the resend", 10*time.Second, func() bool {
		c := st.Case(t, s.ID, s.Token)
		d, _ := c["delivery"].(map[string]any)
		return d != nil && d["reference"] != nil && d["reference"] != ""
	})
	st.WaitStatus(t, s, "approved")
	n := 0
	for _, r := range dev.Fachverfahren.Received() {
		if r.CaseID == s.ID && r.Kind == "case" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the simulator recorded the case %d times, want once", n)
	}
	if stuckCase(t, s.ID) != nil {
		t.Error("a delivered case is still on the list")
	}
	if res := e2e.Call(t, dev.URL, http.MethodPost, "/api/v1/operations/stuck/"+s.ID+"/resend", "dev-admin", map[string]any{}); res.Status != http.StatusConflict {
		t.Errorf("resend of a delivered case: %d %s", res.Status, res.Body)
	}
}

func TestCancellingAStuckCaseEndsItAndTellsTheApplicant(t *testing.T) {
	dev.Fachverfahren.SetDown(true)
	defer dev.Fachverfahren.SetDown(false)
	st := stackOf(dev)
	s := st.Submit(t, e2e.Hundesteuer(e2e.Dresden))
	e2e.WaitFor(t, "the case on the list", 30*time.Second, func() bool { return stuckCase(t, s.ID) != nil })

	session := e2e.SignIn(t, dev.URL, "dev-admin")
	cookie := "ozgflow_session=" + session
	page := e2e.Call(t, dev.URL, http.MethodGet, "/verwaltung/stoerungen", "", nil, "Cookie", cookie)
	m := stuckForm.FindSubmatch(page.Body)
	if m == nil {
		t.Fatalf("no form token on the page: %s", page.Body)
	}
	csrf := string(m[1])
	action := "/verwaltung/stoerungen/" + s.ID + "/abbrechen"
	// Without the confirmation, or without a reason, nothing happens.
	res := e2e.Call(t, dev.URL, http.MethodPost, action, "", url.Values{"csrf": {csrf}, "grund": {"Das Fachverfahren ist abgeschaltet."}}, "Cookie", cookie)
	if res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), "Bitte bestätigen Sie") {
		t.Errorf("without confirmation: %d %s", res.Status, res.Body)
	}
	res = e2e.Call(t, dev.URL, http.MethodPost, action, "", url.Values{"csrf": {csrf}, "bestaetigt": {"ja"}}, "Cookie", cookie)
	if res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), "Bitte geben Sie einen Grund an") {
		t.Errorf("without reason: %d %s", res.Status, res.Body)
	}
	if c := st.Case(t, s.ID, s.Token); c["status"] == "cancelled" {
		t.Fatal("cancelled without confirmation and reason")
	}
	res = e2e.Call(t, dev.URL, http.MethodPost, action, "",
		url.Values{"csrf": {csrf}, "bestaetigt": {"ja"}, "grund": {"Das Fachverfahren wird abgelöst; bitte stellen Sie den Antrag neu."}},
		"Cookie", cookie)
	// The answer redirects to the list, which says so.
	if res.Status != http.StatusOK || !strings.Contains(string(res.Body), "ist abgebrochen. Die antragstellende Person ist benachrichtigt.") {
		t.Fatalf("cancel: %d %s", res.Status, res.Body)
	}
	c := st.WaitStatus(t, s, "cancelled")
	timeline := c["timeline"].([]any)
	last := timeline[len(timeline)-1].(map[string]any)
	if !strings.Contains(last["text"].(string), "Grund: Das Fachverfahren wird abgelöst; bitte stellen Sie den Antrag neu.") {
		t.Errorf("the applicant's last notice = %v", last)
	}
	if stuckCase(t, s.ID) != nil {
		t.Error("a cancelled case is still on the list")
	}
	// The Fachverfahren never receives it, even once it is back.
	dev.Fachverfahren.SetDown(false)
	for _, r := range dev.Fachverfahren.Received() {
		if r.CaseID == s.ID {
			t.Errorf("the simulator received the cancelled case: %+v", r)
		}
	}
	if res := e2e.Call(t, dev.URL, http.MethodPost, "/api/v1/operations/stuck/"+s.ID+"/cancel", "dev-admin", map[string]any{"reason": "noch einmal"}); res.Status != http.StatusConflict {
		t.Errorf("cancel of a cancelled case: %d %s", res.Status, res.Body)
	}
}

// TestATargetsStatedRetrySetsTheNextAttempt: with a retry stated for the
// target in OZGFLOW_TARGET_POLICIES, Temporal schedules the next attempt of
// a failed delivery as it says (an hour), not after the default 2 s.
func TestATargetsStatedRetrySetsTheNextAttempt(t *testing.T) {
	cfg := devConfig(t.TempDir(), "127.0.0.1:0")
	cfg.RedisPrefix = "e2e:" + uuid.NewString() + ":"
	cfg.TargetPolicies = "steueramt-dresden:retry=1h;maxinterval=2h"
	d, err := process.StartDev(context.Background(), cfg, process.DevOptions{InMemory: true, RequireRedis: true}, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.Fachverfahren.SetDown(true)
	st := stackOf(d)
	s := st.Submit(t, e2e.Hundesteuer(e2e.Dresden))
	var stuck map[string]any
	e2e.WaitFor(t, "the case on the list with its next attempt", 30*time.Second, func() bool {
		stuck = stuckCaseAt(t, d, s.ID)
		return stuck != nil && stuck["nextAttemptAt"] != nil
	})
	next, err := time.Parse(time.RFC3339Nano, stuck["nextAttemptAt"].(string))
	if err != nil || time.Until(next) < 55*time.Minute || time.Until(next) > time.Hour {
		t.Errorf("next attempt at %v (%v), want in an hour", stuck["nextAttemptAt"], err)
	}
	if stuck["attempts"].(float64) != 1 || !strings.Contains(stuck["lastError"].(string), "503") {
		t.Errorf("stuck case = %v", stuck)
	}
}
