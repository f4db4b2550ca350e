package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/ozgflow/ozgflow/activities/signer"
)

func gewerbeanmeldungFromSubmitToApproval(t *testing.T, st *Stack) {
	s := st.submit(t, gewerbeanmeldung(leipzig, "amt24-anna"))
	if s.Body["status"] != "awaiting_payment" || s.PaymentURL == "" {
		t.Fatalf("submit answer = %v, want awaiting_payment with a payment link", s.Body)
	}
	page := call(t, "", http.MethodGet, s.PaymentURL, "", nil)
	if page.Status != http.StatusOK || !strings.Contains(string(page.Body), "26,00 EUR") ||
		!strings.Contains(string(page.Body), "Gebühr Gewerbeanmeldung Stadt Leipzig") {
		t.Fatalf("payment page: %d %s", page.Status, page.Body)
	}
	pay(t, s.PaymentURL, "pay")
	c := st.waitStatus(t, s, "in_review")
	if c["payment"].(map[string]any)["status"] != "PAYED" {
		t.Errorf("payment = %v", c["payment"])
	}
	if def := c["definition"].(map[string]any); def["id"] != "gewerbeanmeldung-leipzig" || def["version"] != 1.0 {
		t.Errorf("definition = %v", def)
	}

	// The receipt verifies with the published keys.
	res := st.api(t, http.MethodGet, "/api/v1/applications/"+s.ID+"/receipt", s.Token, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("receipt: %d %s", res.Status, res.Body)
	}
	jws := res.JSON(t)["jws"].(string)
	var keys jose.JSONWebKeySet
	if err := json.Unmarshal(st.api(t, http.MethodGet, "/api/v1/keys", "", nil).Body, &keys); err != nil {
		t.Fatal(err)
	}
	payload, err := signer.Verify(jws, keys)
	if err != nil {
		t.Fatalf("receipt does not verify: %v", err)
	}
	var sealed map[string]any
	_ = json.Unmarshal(payload, &sealed)
	if sealed["caseId"] != s.ID || sealed["data"].(map[string]any)["betrieb"].(map[string]any)["name"] != "Café Anna" {
		t.Errorf("sealed payload = %s", payload)
	}

	// Delivered to the Fachverfahren simulator, which recorded it.
	recs := st.receivedBy(t, s.ID)
	if len(recs) != 1 || recs[0]["kind"] != "case" || recs[0]["target"] != "gewerbe-leipzig" {
		t.Fatalf("fachverfahren received %v", recs)
	}

	// Case workers: Leipzig sees the task, Dresden does not and cannot touch it.
	task := st.openTask(t, s.ID, "dev-sb-leipzig", "gewerbe")
	taskID := task["id"].(string)
	if task["queue"] != "gewerbe" || task["dueAt"] == nil || task["title"] == "" {
		t.Errorf("task = %v", task)
	}
	all := st.api(t, http.MethodGet, "/api/v1/tasks", "dev-sb-leipzig", nil)
	if !strings.Contains(string(all.Body), taskID) {
		t.Errorf("task missing from the list of all queues")
	}
	if res := st.api(t, http.MethodGet, "/api/v1/tasks", "dev-sb-dresden", nil); strings.Contains(string(res.Body), taskID) {
		t.Errorf("Dresden sees a Leipzig task")
	}
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/claim", "dev-sb-dresden", nil); res.Status != http.StatusNotFound {
		t.Errorf("Dresden claim: %d, want 404", res.Status)
	}
	if res := st.api(t, http.MethodGet, "/api/v1/applications/"+s.ID, "dev-sb-dresden", nil); res.Status != http.StatusNotFound {
		t.Errorf("Dresden reads Leipzig case: %d, want 404", res.Status)
	}
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/claim", "dev-sb-leipzig", nil); res.Status != http.StatusOK ||
		res.JSON(t)["assignee"] != "sb-leipzig" {
		t.Fatalf("claim: %d %s", res.Status, res.Body)
	}
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/complete", "dev-sb-leipzig",
		map[string]any{"outcome": "banish"}); res.Status != http.StatusUnprocessableEntity {
		t.Errorf("unknown outcome: %d %s, want 422", res.Status, res.Body)
	}
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/complete", "dev-sb-leipzig",
		map[string]any{"outcome": "approve", "comment": "Alles vollständig."}); res.Status != http.StatusOK ||
		res.JSON(t)["status"] != "approval" {
		t.Fatalf("complete: %d %s, want the decision waiting for approval (four-eyes in Leipzig)", res.Status, res.Body)
	}
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/approve", "dev-sb-leipzig",
		map[string]any{"approve": true}); res.Status != http.StatusForbidden {
		t.Errorf("approval by the proposer: %d %s, want 403", res.Status, res.Body)
	}
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/approve", "dev-sb-leipzig-2",
		map[string]any{"approve": true}); res.Status != http.StatusOK || res.JSON(t)["approvedBy"] != "sb-leipzig-2" {
		t.Fatalf("approval: %d %s", res.Status, res.Body)
	}
	c = st.waitStatus(t, s, "approved")
	want := []string{"received", "awaiting_payment", "forwarded", "in_review", "approved"}
	if got := statusesOf(c); !slices.Equal(got, want) {
		t.Errorf("timeline statuses %v, want %v", got, want)
	}
	for _, n := range c["timeline"].([]any) {
		if n.(map[string]any)["text"] == "" || n.(map[string]any)["at"] == nil {
			t.Errorf("notice without text or time: %v", n)
		}
	}
	if res := st.api(t, http.MethodPost, "/api/v1/applications/"+s.ID+"/withdraw", s.Token, nil); res.Status != http.StatusConflict {
		t.Errorf("withdraw after approval: %d, want 409", res.Status)
	}
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/claim", "dev-sb-leipzig", nil); res.Status != http.StatusConflict {
		t.Errorf("claim after decision: %d, want 409", res.Status)
	}

	// Every status notice reached the applicant's portal account.
	waitFor(t, "notices in the mailbox", 10*time.Second, func() bool {
		res := st.api(t, http.MethodGet, "/api/v1/accounts/amt24-anna/notices?limit=100", "dev-portal", nil)
		n := 0
		for _, x := range res.JSON(t)["notices"].([]any) {
			if x.(map[string]any)["caseId"] == s.ID {
				n++
			}
		}
		return n == len(c["timeline"].([]any))
	})
	// The archive step filed the decided case.
	waitFor(t, "archive delivery", 10*time.Second, func() bool {
		for _, r := range st.receivedBy(t, s.ID) {
			if r["kind"] == "archive" {
				return true
			}
		}
		return false
	})
}

func accessToCases(t *testing.T, st *Stack) {
	s := st.submit(t, hundesteuer(dresden))
	other := st.submit(t, hundesteuer(dresden))
	tests := []struct {
		name, token string
		want        int
	}{
		{"own access token", s.Token, http.StatusOK},
		{"case worker of the authority", "dev-sb-dresden", http.StatusOK},
		{"administrator", "dev-admin", http.StatusOK},
		{"case worker of another authority", "dev-sb-leipzig", http.StatusNotFound},
		{"access token of another case", other.Token, http.StatusNotFound},
		{"no token", "", http.StatusUnauthorized},
		{"unknown token", "nope", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := st.api(t, http.MethodGet, "/api/v1/applications/"+s.ID, tt.token, nil)
			if res.Status != tt.want {
				t.Errorf("got %d, want %d: %s", res.Status, tt.want, res.Body)
			}
			if res.Status >= 400 && res.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("error content type %q", res.Header.Get("Content-Type"))
			}
		})
	}
}

func hundesteuerIsDeliveredAndApprovedWithoutFee(t *testing.T, st *Stack) {
	s := st.submit(t, hundesteuer(leipzig))
	if s.Body["payment"] != nil {
		t.Errorf("payment offered for a free service: %v", s.Body["payment"])
	}
	c := st.waitStatus(t, s, "approved")
	if got, want := statusesOf(c), []string{"received", "forwarded", "approved"}; !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	if recs := st.receivedBy(t, s.ID); len(recs) != 1 || recs[0]["target"] != "steueramt-leipzig" {
		t.Errorf("received %v", recs)
	}
}

func parkingPermitDecidedByRule(t *testing.T, st *Stack) {
	s := st.submit(t, parkausweis("Südvorstadt", "amt24-ben"))
	pay(t, s.PaymentURL, "pay")
	c := st.waitStatus(t, s, "approved")
	if c["decision"].(map[string]any)["by"] != "rule:rule" || c["tasks"] != nil {
		t.Errorf("decision %v tasks %v", c["decision"], c["tasks"])
	}
}

func failedPaymentIsRetried(t *testing.T, st *Stack) {
	s := st.submit(t, parkausweis("Südvorstadt", "amt24-ben"))
	if res := st.api(t, http.MethodPost, "/api/v1/applications/"+s.ID+"/payment", s.Token, nil); res.Status != http.StatusConflict {
		t.Errorf("retry of an open payment: %d, want 409", res.Status)
	}
	pay(t, s.PaymentURL, "fail")
	waitFor(t, "failed payment", 10*time.Second, func() bool {
		return st.caseOf(t, s.ID, s.Token)["payment"].(map[string]any)["status"] == "FAILED"
	})
	if res := call(t, "", http.MethodPost, s.PaymentURL, "", url.Values{"action": {"pay"}}); res.Status != http.StatusConflict {
		t.Errorf("paying a failed payment: %d, want 409", res.Status)
	}
	res := st.api(t, http.MethodPost, "/api/v1/applications/"+s.ID+"/payment", s.Token, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("retry payment: %d %s", res.Status, res.Body)
	}
	p := res.JSON(t)
	if p["attempt"] != 2.0 || p["redirectUrl"] == s.PaymentURL {
		t.Fatalf("new payment = %v", p)
	}
	pay(t, p["redirectUrl"].(string), "pay")
	st.waitStatus(t, s, "approved")
}

func informationRequestRoundTrip(t *testing.T, st *Stack) {
	s := st.submit(t, parkausweis("Plagwitz-Nord", "amt24-ben"))
	pay(t, s.PaymentURL, "pay")
	task := st.openTask(t, s.ID, "dev-sb-leipzig", "parken")
	taskID := task["id"].(string)
	if res := st.api(t, http.MethodPost, "/api/v1/applications/"+s.ID+"/responses", s.Token,
		map[string]any{"text": "zu früh"}); res.Status != http.StatusConflict {
		t.Errorf("answer without a question: %d, want 409", res.Status)
	}
	res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/complete", "dev-sb-leipzig",
		map[string]any{"outcome": "request_information", "comment": "Bitte Meldebescheinigung hochladen."})
	if res.Status != http.StatusOK {
		t.Fatalf("request information: %d %s", res.Status, res.Body)
	}
	c := st.waitStatus(t, s, "information_requested")
	last := c["timeline"].([]any)[len(c["timeline"].([]any))-1].(map[string]any)
	if !strings.Contains(last["text"].(string), "Meldebescheinigung") {
		t.Errorf("question notice = %v", last)
	}
	if res := st.api(t, http.MethodPost, "/api/v1/applications/"+s.ID+"/responses", s.Token,
		map[string]any{"text": ""}); res.Status != http.StatusUnprocessableEntity {
		t.Errorf("empty answer: %d, want 422", res.Status)
	}
	if res := st.api(t, http.MethodPost, "/api/v1/applications/"+s.ID+"/responses", s.Token,
		map[string]any{"text": "Meldebescheinigung liegt bei."}); res.Status != http.StatusOK {
		t.Fatalf("answer: %d %s", res.Status, res.Body)
	}
	st.waitStatus(t, s, "in_review")
	again := st.openTask(t, s.ID, "dev-sb-leipzig", "parken")
	if again["id"] == taskID || again["assignee"] != "sb-leipzig" {
		t.Errorf("task back = %v", again)
	}
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+again["id"].(string)+"/complete", "dev-sb-leipzig",
		map[string]any{"outcome": "reject", "comment": "Zone nicht bewohnerparkberechtigt."}); res.Status != http.StatusOK {
		t.Fatalf("reject: %d %s", res.Status, res.Body)
	}
	c = st.waitStatus(t, s, "rejected")
	if got := c["informationRequests"].([]any)[0].(map[string]any)["answer"]; got != "Meldebescheinigung liegt bei." {
		t.Errorf("answer recorded = %v", got)
	}
}

func completingATaskSomeoneElseHoldsIsAConflict(t *testing.T, st *Stack) {
	s := st.submit(t, parkausweis("Unbekannt", "amt24-ben"))
	pay(t, s.PaymentURL, "pay")
	taskID := st.openTask(t, s.ID, "dev-sb-leipzig", "parken")["id"].(string)
	// Administrators look, they do not work cases.
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/claim", "dev-admin", nil); res.Status != http.StatusForbidden {
		t.Fatalf("administrator's claim: %d %s, want 403", res.Status, res.Body)
	}
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/claim", "dev-sb-leipzig-2", nil); res.Status != http.StatusOK {
		t.Fatalf("colleague's claim: %d %s", res.Status, res.Body)
	}
	res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/complete", "dev-sb-leipzig", map[string]any{"outcome": "approve"})
	if res.Status != http.StatusConflict || !strings.Contains(string(res.Body), "sb-leipzig-2") {
		t.Errorf("complete a task held by another: %d %s, want 409 naming the holder", res.Status, res.Body)
	}
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/release", "dev-sb-leipzig-2", nil); res.Status != http.StatusOK {
		t.Fatalf("release: %d %s", res.Status, res.Body)
	}
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/complete", "dev-sb-leipzig", map[string]any{"outcome": "approve"}); res.Status != http.StatusOK {
		t.Fatalf("complete after release: %d %s", res.Status, res.Body)
	}
	st.waitStatus(t, s, "approved")
}

func withdrawalRefundsRemovesTaskAndTellsFachverfahren(t *testing.T, st *Stack) {
	s := st.submit(t, gewerbeanmeldung(dresden, "amt24-anna"))
	pay(t, s.PaymentURL, "pay")
	task := st.openTask(t, s.ID, "dev-sb-dresden", "gewerbe")
	res := st.api(t, http.MethodPost, "/api/v1/applications/"+s.ID+"/withdraw", s.Token, map[string]any{"reason": "Umzug"})
	if res.Status != http.StatusOK || res.JSON(t)["status"] != "withdrawn" {
		t.Fatalf("withdraw: %d %s", res.Status, res.Body)
	}
	var c map[string]any
	waitFor(t, "refund", 20*time.Second, func() bool {
		c = st.caseOf(t, s.ID, s.Token)
		return c["payment"].(map[string]any)["refund"] == "REFUNDED"
	})
	waitFor(t, "withdrawal at the Fachverfahren", 10*time.Second, func() bool {
		recs := st.receivedBy(t, s.ID)
		return len(recs) == 1 && recs[0]["withdrawn"] == true && recs[0]["withdrawalReason"] == "Umzug"
	})
	list := st.api(t, http.MethodGet, "/api/v1/tasks?queue=gewerbe", "dev-sb-dresden", nil)
	if strings.Contains(string(list.Body), task["id"].(string)) {
		t.Errorf("withdrawn case's task still in the queue")
	}
	if res := st.api(t, http.MethodPost, "/api/v1/applications/"+s.ID+"/withdraw", s.Token, nil); res.Status != http.StatusConflict {
		t.Errorf("second withdrawal: %d, want 409", res.Status)
	}
	last := c["timeline"].([]any)[len(c["timeline"].([]any))-1].(map[string]any)
	if !strings.Contains(last["text"].(string), "25,00 EUR wird erstattet") {
		t.Errorf("withdrawal notice = %v", last["text"])
	}
}

func deliveryOutageIsShownAndRecovers(t *testing.T, st *Stack) {
	st.setDown(t, true)
	defer st.setDown(t, false)
	s := st.submit(t, hundesteuer(dresden))
	waitFor(t, "delivery retrying", 20*time.Second, func() bool {
		d, _ := st.caseOf(t, s.ID, s.Token)["delivery"].(map[string]any)
		return d != nil && d["state"] == "retrying" && d["attempts"].(float64) >= 2 &&
			strings.Contains(d["lastError"].(string), "503")
	})
	if c := st.caseOf(t, s.ID, s.Token); c["status"] != "received" || c["waitingFor"] != "delivery" {
		t.Errorf("status during outage = %v, waiting for %v", c["status"], c["waitingFor"])
	}
	// A paid case waits for its delivery, not for its payment.
	paid := st.submit(t, gewerbeanmeldung(dresden, "amt24-outage"))
	pay(t, paid.PaymentURL, "pay")
	waitFor(t, "the paid case's delivery retrying", 20*time.Second, func() bool {
		d, _ := st.caseOf(t, paid.ID, paid.Token)["delivery"].(map[string]any)
		return d != nil && d["state"] == "retrying"
	})
	if c := st.caseOf(t, paid.ID, paid.Token); c["status"] != "received" || c["waitingFor"] != "delivery" {
		t.Errorf("paid case during outage: status %v, waiting for %v", c["status"], c["waitingFor"])
	}
	applicant := &page{t: t, base: st.URL, cookies: map[string]string{}}
	applicant.get("/antraege/" + paid.ID + "?token=" + url.QueryEscape(paid.Token))
	page := applicant.get("/antraege/" + paid.ID)
	for _, want := range []string{"an die zuständige Stelle übermittelt", "Ihr Antrag ist eingegangen"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the applicant's page of a paid case during the outage lacks %q", want)
		}
	}
	for _, wrong := range []string{"Ihr Antrag wartet auf die Bezahlung der Gebühr", "Gebühr jetzt bezahlen"} {
		if strings.Contains(page.Body, wrong) {
			t.Errorf("the applicant's page of a paid case during the outage says %q", wrong)
		}
	}
	if n := failingDeliveries(t, st, "dev-sb-dresden", "Hundesteuer-Anmeldung"); n < 1 {
		t.Errorf("the statistics show %d failing deliveries during the outage", n)
	}
	st.setDown(t, false)
	if c := st.waitStatus(t, paid, "in_review"); c["waitingFor"] != "case_worker" {
		t.Errorf("after the outage the paid case waits for %v", c["waitingFor"])
	}
	c := st.waitStatus(t, s, "approved")
	if d := c["delivery"].(map[string]any); d["state"] != "delivered" || d["reference"] == "" {
		t.Errorf("delivery = %v", d)
	}
}

func idempotencyKey(t *testing.T, st *Stack) {
	key := "submit-" + time.Now().Format(time.RFC3339Nano)
	first := st.submit(t, hundesteuer(leipzig), "Idempotency-Key", key)
	again := st.submit(t, hundesteuer(leipzig), "Idempotency-Key", key)
	if again.ID != first.ID || again.Token != first.Token {
		t.Errorf("retry gave case %s, want %s", again.ID, first.ID)
	}
	changed := hundesteuer(leipzig)
	changed["applicant"].(map[string]any)["name"] = "Jemand Anderes"
	res := st.api(t, http.MethodPost, "/api/v1/applications", "dev-portal", changed, "Idempotency-Key", key)
	if res.Status != http.StatusConflict || res.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("same key, other body: %d %s, want 409", res.Status, res.Body)
	}
}
