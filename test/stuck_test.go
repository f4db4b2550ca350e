package test

import (
	"context"
	"net"
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
	res := e2e.Call(t, dev.URL, http.MethodGet, "/api/v1/operations/stuck", "dev-admin", nil)
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

// formToken is the form token of a page of stuck cases.
func formToken(t *testing.T, page []byte) string {
	t.Helper()
	m := stuckForm.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no form token on the page: %s", page)
	}
	return string(m[1])
}

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

// stuckRow finds a case's row of target in the administrators' list.
func stuckRow(t *testing.T, base, caseID, target string) map[string]any {
	t.Helper()
	res := e2e.Call(t, base, http.MethodGet, "/api/v1/operations/stuck", "dev-admin", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("stuck cases: %d %s", res.Status, res.Body)
	}
	for _, c := range res.JSON(t)["cases"].([]any) {
		if m := c.(map[string]any); m["caseId"] == caseID && m["target"] == target {
			return m
		}
	}
	return nil
}

// lasttestFITConnect is an application to the service delivered by
// FIT-Connect to the sandbox destination.
func lasttestFITConnect() map[string]any {
	return map[string]any{
		"service": "lasttest-fitconnect", "authority": e2e.Chemnitz,
		"applicant": map[string]any{"name": "Lasttest", "portalAccount": "amt24-lasttest"},
		"data":      map[string]any{"betreff": "Zustellung über FIT-Connect"},
	}
}

func TestARejectedFITConnectDeliveryIsListedAsStuckAndResentFromThere(t *testing.T) {
	st := stackOf(dev)
	if res := e2e.Call(t, dev.URL, http.MethodPut, "/sandbox/fitconnect/reject", "", map[string]int{"next": 2}); res.Status != http.StatusOK {
		t.Fatalf("sandbox reject: %d %s", res.Status, res.Body)
	}
	defer e2e.Call(t, dev.URL, http.MethodPut, "/sandbox/fitconnect/reject", "", map[string]int{"next": 0})
	resent, cancelled := st.Submit(t, lasttestFITConnect()), st.Submit(t, lasttestFITConnect())

	// Both deliveries are rejected: the list holds them beside the
	// failing calls, marked as rejected, with the destination's reason,
	// since when and the round.
	var row map[string]any
	e2e.WaitFor(t, "both rejected deliveries on the list", 60*time.Second, func() bool {
		row = stuckRow(t, dev.URL, resent.ID, "fitconnect-chemnitz")
		return row != nil && stuckRow(t, dev.URL, cancelled.ID, "fitconnect-chemnitz") != nil
	})
	rej, _ := row["rejection"].(map[string]any)
	if row["state"] != "rejected" || rej == nil || row["operation"] != "Deliver" || row["authority"] != e2e.Chemnitz ||
		row["caseNumber"] == nil || row["serviceName"] != "Lasttest (FIT-Connect)" ||
		!strings.Contains(row["lastError"].(string), "Inhalt nicht angenommen") ||
		row["lastErrorText"] != "Die Empfangsstelle hat den Vorgang abgelehnt." {
		t.Fatalf("rejected row = %v", row)
	}
	since, err := time.Parse(time.RFC3339Nano, rej["since"].(string))
	if rej["round"] != float64(1) || rej["target"] != "fitconnect-chemnitz" || rej["submissionId"] == "" || rej["timedOut"] != nil ||
		!strings.Contains(rej["reason"].(string), "Inhalt nicht angenommen") || err != nil || time.Since(since) > time.Minute ||
		row["since"] != rej["since"] {
		t.Errorf("rejection = %v (since %v)", rej, err)
	}

	// The page marks the rows as rejected, with the reason and a link to
	// the case's delivery; its forms name the row's target.
	session := e2e.SignIn(t, dev.URL, "dev-admin")
	cookie := "ozgflow_session=" + session
	page := e2e.Call(t, dev.URL, http.MethodGet, "/verwaltung/stoerungen", "", nil, "Cookie", cookie)
	body := string(page.Body)
	for _, want := range []string{"Von der Empfangsstelle abgelehnt", "Grund der Empfangsstelle: Inhalt nicht angenommen",
		"Sendung 1", `href="/verwaltung/vorgaenge/` + resent.ID + `/zustellung"`, `name="target" value="fitconnect-chemnitz"`,
		`action="/verwaltung/stoerungen/` + cancelled.ID + `/abbrechen"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page of stuck cases lacks %s", want)
		}
	}
	if page.Status != http.StatusOK || t.Failed() {
		t.Fatalf("page of stuck cases: %d %s", page.Status, body)
	}

	// A target the case does not wait on is a conflict.
	if res := e2e.Call(t, dev.URL, http.MethodPost, "/api/v1/operations/stuck/"+resent.ID+"/resend", "dev-admin",
		map[string]any{"target": "steueramt-dresden"}); res.Status != http.StatusConflict {
		t.Errorf("resend on another target: %d %s", res.Status, res.Body)
	}
	// The resend from the list is the delivery's resend: a new
	// submission, which the destination accepts.
	res := e2e.Call(t, dev.URL, http.MethodPost, "/api/v1/operations/stuck/"+resent.ID+"/resend", "dev-admin",
		map[string]any{"target": "fitconnect-chemnitz"})
	if res.Status != http.StatusAccepted || res.JSON(t)["state"] != "rejected" || res.JSON(t)["target"] != "fitconnect-chemnitz" {
		t.Fatalf("resend: %d %s", res.Status, res.Body)
	}
	if stuckRow(t, dev.URL, resent.ID, "fitconnect-chemnitz") != nil {
		t.Error("a resent delivery is still on the list")
	}
	c := st.WaitStatus(t, resent, "approved")
	if d, _ := e2e.Call(t, dev.URL, http.MethodGet, "/api/v1/applications/"+resent.ID, "dev-admin", nil).JSON(t)["delivery"].(map[string]any); d["state"] != "delivered" || d["round"] != float64(2) {
		t.Errorf("delivery after the resend from the list = %v (case %v)", d, c["status"])
	}
	if res := e2e.Call(t, dev.URL, http.MethodPost, "/api/v1/operations/stuck/"+resent.ID+"/resend", "dev-admin", nil); res.Status != http.StatusConflict {
		t.Errorf("resend of an accepted delivery: %d %s", res.Status, res.Body)
	}

	// The other is cancelled from the page, its row named by its target.
	csrf := formToken(t, page.Body)
	res = e2e.Call(t, dev.URL, http.MethodPost, "/verwaltung/stoerungen/"+cancelled.ID+"/abbrechen", "",
		url.Values{"csrf": {csrf}, "bestaetigt": {"ja"}, "target": {"fitconnect-chemnitz"},
			"grund": {"Die Empfangsstelle nimmt den Antrag nicht an; bitte stellen Sie ihn neu."}}, "Cookie", cookie)
	if res.Status != http.StatusOK || !strings.Contains(string(res.Body), "ist abgebrochen. Die antragstellende Person ist benachrichtigt.") {
		t.Fatalf("cancel from the page: %d %s", res.Status, res.Body)
	}
	st.WaitStatus(t, cancelled, "cancelled")
	if stuckRow(t, dev.URL, cancelled.ID, "fitconnect-chemnitz") != nil {
		t.Error("a cancelled case is still on the list")
	}
}

// TestACaseStuckOnTwoTargetsIsResentOnTheRowClicked: with the mail server
// unreachable and the Fachverfahren down, a paid Gewerbeanmeldung in
// Dresden waits on both, a row each; a resend names its row's target and
// resets that call only.
func TestACaseStuckOnTwoTargetsIsResentOnTheRowClicked(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	d, st := startWithFachverfahrenDown(t, func(cfg *process.Config) {
		cfg.SMTPAddr, cfg.SMTPFrom = closed, "noreply@example.org"
	})
	s := st.Submit(t, e2e.Gewerbeanmeldung(e2e.Dresden, "amt24-anna"))
	e2e.Pay(t, s.PaymentURL, "pay")

	// The notice mail fails since the submission, the delivery since the
	// payment: the mail's row comes first. The delivery has failed three
	// times and waits 8 s for its next attempt.
	var mail, delivery map[string]any
	e2e.WaitFor(t, "the case on the list twice", 90*time.Second, func() bool {
		mail, delivery = stuckRow(t, d.URL, s.ID, "mail"), stuckRow(t, d.URL, s.ID, "gewerbe-dresden")
		if mail == nil || delivery == nil || delivery["attempts"].(float64) < 3 || delivery["nextAttemptAt"] == nil {
			return false
		}
		next, err := time.Parse(time.RFC3339Nano, delivery["nextAttemptAt"].(string))
		return err == nil && time.Until(next) > 3*time.Second
	})
	mailSince, _ := time.Parse(time.RFC3339Nano, mail["since"].(string))
	deliverySince, _ := time.Parse(time.RFC3339Nano, delivery["since"].(string))
	if mail["state"] != "failing" || mail["operation"] != "Email" || delivery["state"] != "failing" || delivery["operation"] != "Deliver" ||
		!mailSince.Before(deliverySince) {
		t.Fatalf("rows: mail %v, delivery %v", mail, delivery)
	}
	mailAttempts := mail["attempts"].(float64)

	// The page's second row resends the delivery: its attempts count from
	// one again, the mail's do not.
	session := e2e.SignIn(t, d.URL, "dev-admin")
	cookie := "ozgflow_session=" + session
	page := e2e.Call(t, d.URL, http.MethodGet, "/verwaltung/stoerungen", "", nil, "Cookie", cookie)
	mailForm, deliveryForm := strings.Index(string(page.Body), `name="target" value="mail"`), strings.Index(string(page.Body), `name="target" value="gewerbe-dresden"`)
	if page.Status != http.StatusOK || mailForm < 0 || deliveryForm < mailForm {
		t.Fatalf("page of stuck cases: %d %s", page.Status, page.Body)
	}
	csrf := formToken(t, page.Body)
	res := e2e.Call(t, d.URL, http.MethodPost, "/verwaltung/stoerungen/"+s.ID+"/erneut", "",
		url.Values{"csrf": {csrf}, "bestaetigt": {"ja"}, "target": {"gewerbe-dresden"}}, "Cookie", cookie)
	if res.Status != http.StatusOK || !strings.Contains(string(res.Body), "wird jetzt erneut gesendet") {
		t.Fatalf("resend from the page: %d %s", res.Status, res.Body)
	}
	e2e.WaitFor(t, "the delivery's attempts counted afresh", 6*time.Second, func() bool {
		row := stuckRow(t, d.URL, s.ID, "gewerbe-dresden")
		return row != nil && row["attempts"].(float64) < 3
	})
	if row := stuckRow(t, d.URL, s.ID, "mail"); row == nil || row["attempts"].(float64) < mailAttempts {
		t.Errorf("the mail's row after the delivery's resend = %v, want at least %v attempts", row, mailAttempts)
	}

	// A target the case does not wait on is a conflict, on the page and
	// in the API; body and query naming two targets are refused.
	res = e2e.Call(t, d.URL, http.MethodPost, "/verwaltung/stoerungen/"+s.ID+"/erneut", "",
		url.Values{"csrf": {csrf}, "bestaetigt": {"ja"}, "target": {"archiv"}}, "Cookie", cookie)
	if res.Status != http.StatusConflict || !strings.Contains(string(res.Body), "Der Vorgang wartet nicht mehr auf ein gestörtes System.") {
		t.Errorf("page resend on another target: %d", res.Status)
	}
	for _, c := range []struct {
		path string
		body any
		want int
	}{
		{"/resend", map[string]any{"target": "archiv"}, http.StatusConflict},
		{"/resend?target=archiv", nil, http.StatusConflict},
		{"/cancel", map[string]any{"target": "archiv", "reason": "Test"}, http.StatusConflict},
		{"/resend?target=mail", map[string]any{"target": "gewerbe-dresden"}, http.StatusBadRequest},
	} {
		if res := e2e.Call(t, d.URL, http.MethodPost, "/api/v1/operations/stuck/"+s.ID+c.path, "dev-admin", c.body); res.Status != c.want {
			t.Errorf("%s %v: %d %s, want %d", c.path, c.body, res.Status, res.Body, c.want)
		}
	}
	// Without a target the first row is resent, as before; the query names one too.
	if res := e2e.Call(t, d.URL, http.MethodPost, "/api/v1/operations/stuck/"+s.ID+"/resend", "dev-admin", map[string]any{}); res.Status != http.StatusAccepted || res.JSON(t)["target"] != "mail" {
		t.Errorf("resend without a target: %d %s", res.Status, res.Body)
	}
	if res := e2e.Call(t, d.URL, http.MethodPost, "/api/v1/operations/stuck/"+s.ID+"/resend?target=gewerbe-dresden", "dev-admin", nil); res.Status != http.StatusAccepted || res.JSON(t)["target"] != "gewerbe-dresden" {
		t.Errorf("resend with the query's target: %d %s", res.Status, res.Body)
	}

	// Cancelling names the row too.
	res = e2e.Call(t, d.URL, http.MethodPost, "/api/v1/operations/stuck/"+s.ID+"/cancel", "dev-admin",
		map[string]any{"target": "gewerbe-dresden", "reason": "Das Fachverfahren wird abgelöst; bitte stellen Sie den Antrag neu."})
	if res.Status != http.StatusOK || res.JSON(t)["status"] != "cancelled" {
		t.Fatalf("cancel on the delivery's row: %d %s", res.Status, res.Body)
	}
}

// TestATargetsStatedRetrySetsTheNextAttempt: with a retry stated for the
// target in OZGFLOW_TARGET_POLICIES, Temporal schedules the next attempt of
// a failed delivery as it says (an hour), not after the default 2 s.
func TestATargetsStatedRetrySetsTheNextAttempt(t *testing.T) {
	d, st := startWithFachverfahrenDown(t, func(cfg *process.Config) {
		cfg.TargetPolicies = "steueramt-dresden:retry=1h;maxinterval=2h"
	})
	s := st.Submit(t, e2e.Hundesteuer(e2e.Dresden))
	var stuck map[string]any
	e2e.WaitFor(t, "the case on the list with its next attempt", 30*time.Second, func() bool {
		stuck = stuckRow(t, d.URL, s.ID, "steueramt-dresden")
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

// startWithFachverfahrenDown starts a dev instance of its own, configured
// by configure, whose Fachverfahren simulator is down; it stops with the
// test.
func startWithFachverfahrenDown(t *testing.T, configure func(*process.Config)) (*process.Dev, *e2e.Stack) {
	t.Helper()
	cfg := devConfig(t.TempDir(), "127.0.0.1:0")
	cfg.RedisPrefix = "e2e:" + uuid.NewString() + ":"
	configure(&cfg)
	d, err := process.StartDev(context.Background(), cfg, process.DevOptions{InMemory: true, RequireRedis: true}, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	d.Fachverfahren.SetDown(true)
	return d, stackOf(d)
}
