package test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/ozgflow/ozgflow/activities/signer"
)

func TestGewerbeanmeldungFromSubmitToApproval(t *testing.T) {
	s := submit(t, gewerbeanmeldung(leipzig, "amt24-anna"))
	if s.Body["status"] != "awaiting_payment" || s.PaymentURL == "" {
		t.Fatalf("submit answer = %v, want awaiting_payment with a payment link", s.Body)
	}
	page := call(t, "", http.MethodGet, s.PaymentURL, "", nil)
	if page.status != http.StatusOK || !strings.Contains(string(page.body), "26,00 EUR") ||
		!strings.Contains(string(page.body), "Gebühr Gewerbeanmeldung Stadt Leipzig") {
		t.Fatalf("payment page: %d %s", page.status, page.body)
	}
	pay(t, s.PaymentURL, "pay")
	c := waitStatus(t, s, "in_review")
	if c["payment"].(map[string]any)["status"] != "PAYED" {
		t.Errorf("payment = %v", c["payment"])
	}
	if def := c["definition"].(map[string]any); def["id"] != "gewerbeanmeldung-leipzig" || def["version"] != 1.0 {
		t.Errorf("definition = %v", def)
	}

	// The receipt verifies with the published keys.
	res := api(t, http.MethodGet, "/api/v1/applications/"+s.ID+"/receipt", s.Token, nil)
	if res.status != http.StatusOK {
		t.Fatalf("receipt: %d %s", res.status, res.body)
	}
	jws := res.json(t)["jws"].(string)
	var keys jose.JSONWebKeySet
	if err := json.Unmarshal(api(t, http.MethodGet, "/api/v1/keys", "", nil).body, &keys); err != nil {
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
	recs := receivedBy(t, s.ID)
	if len(recs) != 1 || recs[0]["kind"] != "case" || recs[0]["target"] != "gewerbe-leipzig" {
		t.Fatalf("fachverfahren received %v", recs)
	}

	// Case workers: Leipzig sees the task, Dresden does not and cannot touch it.
	task := openTask(t, s.ID, "dev-sb-leipzig", "gewerbe")
	taskID := task["id"].(string)
	if task["queue"] != "gewerbe" || task["dueAt"] == nil || task["title"] == "" {
		t.Errorf("task = %v", task)
	}
	all := api(t, http.MethodGet, "/api/v1/tasks", "dev-sb-leipzig", nil)
	if !strings.Contains(string(all.body), taskID) {
		t.Errorf("task missing from the list of all queues")
	}
	if res := api(t, http.MethodGet, "/api/v1/tasks", "dev-sb-dresden", nil); strings.Contains(string(res.body), taskID) {
		t.Errorf("Dresden sees a Leipzig task")
	}
	if res := api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/claim", "dev-sb-dresden", nil); res.status != http.StatusNotFound {
		t.Errorf("Dresden claim: %d, want 404", res.status)
	}
	if res := api(t, http.MethodGet, "/api/v1/applications/"+s.ID, "dev-sb-dresden", nil); res.status != http.StatusNotFound {
		t.Errorf("Dresden reads Leipzig case: %d, want 404", res.status)
	}
	if res := api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/claim", "dev-sb-leipzig", nil); res.status != http.StatusOK ||
		res.json(t)["assignee"] != "sb-leipzig" {
		t.Fatalf("claim: %d %s", res.status, res.body)
	}
	if res := api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/complete", "dev-sb-leipzig",
		map[string]any{"outcome": "banish"}); res.status != http.StatusUnprocessableEntity {
		t.Errorf("unknown outcome: %d %s, want 422", res.status, res.body)
	}
	if res := api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/complete", "dev-sb-leipzig",
		map[string]any{"outcome": "approve", "comment": "Alles vollständig."}); res.status != http.StatusOK {
		t.Fatalf("complete: %d %s", res.status, res.body)
	}
	c = waitStatus(t, s, "approved")
	want := []string{"received", "awaiting_payment", "forwarded", "in_review", "approved"}
	if got := statusesOf(c); !slices.Equal(got, want) {
		t.Errorf("timeline statuses %v, want %v", got, want)
	}
	for _, n := range c["timeline"].([]any) {
		if n.(map[string]any)["text"] == "" || n.(map[string]any)["at"] == nil {
			t.Errorf("notice without text or time: %v", n)
		}
	}
	if res := api(t, http.MethodPost, "/api/v1/applications/"+s.ID+"/withdraw", s.Token, nil); res.status != http.StatusConflict {
		t.Errorf("withdraw after approval: %d, want 409", res.status)
	}
	if res := api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/claim", "dev-sb-leipzig", nil); res.status != http.StatusConflict {
		t.Errorf("claim after decision: %d, want 409", res.status)
	}

	// Every status notice reached the applicant's portal account.
	waitFor(t, "notices in the mailbox", 10*time.Second, func() bool {
		res := api(t, http.MethodGet, "/api/v1/accounts/amt24-anna/notices?limit=100", "dev-portal", nil)
		n := 0
		for _, x := range res.json(t)["notices"].([]any) {
			if x.(map[string]any)["caseId"] == s.ID {
				n++
			}
		}
		return n == len(c["timeline"].([]any))
	})
	// The archive step filed the decided case.
	waitFor(t, "archive delivery", 10*time.Second, func() bool {
		for _, r := range receivedBy(t, s.ID) {
			if r["kind"] == "archive" {
				return true
			}
		}
		return false
	})
}

func TestAccessToCases(t *testing.T) {
	s := submit(t, hundesteuer(dresden))
	other := submit(t, hundesteuer(dresden))
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
			res := api(t, http.MethodGet, "/api/v1/applications/"+s.ID, tt.token, nil)
			if res.status != tt.want {
				t.Errorf("got %d, want %d: %s", res.status, tt.want, res.body)
			}
			if res.status >= 400 && res.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("error content type %q", res.header.Get("Content-Type"))
			}
		})
	}
}

func TestHundesteuerIsDeliveredAndApprovedWithoutFee(t *testing.T) {
	s := submit(t, hundesteuer(leipzig))
	if s.Body["payment"] != nil {
		t.Errorf("payment offered for a free service: %v", s.Body["payment"])
	}
	c := waitStatus(t, s, "approved")
	if got, want := statusesOf(c), []string{"received", "forwarded", "approved"}; !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	if recs := receivedBy(t, s.ID); len(recs) != 1 || recs[0]["target"] != "steueramt-leipzig" {
		t.Errorf("received %v", recs)
	}
}

func TestParkingPermitDecidedByRule(t *testing.T) {
	s := submit(t, parkausweis("Südvorstadt", "amt24-ben"))
	pay(t, s.PaymentURL, "pay")
	c := waitStatus(t, s, "approved")
	if c["decision"].(map[string]any)["by"] != "rule:rule" || c["tasks"] != nil {
		t.Errorf("decision %v tasks %v", c["decision"], c["tasks"])
	}
}

func TestFailedPaymentIsRetried(t *testing.T) {
	s := submit(t, parkausweis("Südvorstadt", "amt24-ben"))
	if res := api(t, http.MethodPost, "/api/v1/applications/"+s.ID+"/payment", s.Token, nil); res.status != http.StatusConflict {
		t.Errorf("retry of an open payment: %d, want 409", res.status)
	}
	pay(t, s.PaymentURL, "fail")
	waitFor(t, "failed payment", 10*time.Second, func() bool {
		return caseOf(t, s.ID, s.Token)["payment"].(map[string]any)["status"] == "FAILED"
	})
	if res := call(t, "", http.MethodPost, s.PaymentURL, "", urlValues("pay")); res.status != http.StatusConflict {
		t.Errorf("paying a failed payment: %d, want 409", res.status)
	}
	res := api(t, http.MethodPost, "/api/v1/applications/"+s.ID+"/payment", s.Token, nil)
	if res.status != http.StatusOK {
		t.Fatalf("retry payment: %d %s", res.status, res.body)
	}
	p := res.json(t)
	if p["attempt"] != 2.0 || p["redirectUrl"] == s.PaymentURL {
		t.Fatalf("new payment = %v", p)
	}
	pay(t, p["redirectUrl"].(string), "pay")
	waitStatus(t, s, "approved")
}

func TestInformationRequestRoundTrip(t *testing.T) {
	s := submit(t, parkausweis("Plagwitz-Nord", "amt24-ben"))
	pay(t, s.PaymentURL, "pay")
	task := openTask(t, s.ID, "dev-sb-leipzig", "parken")
	taskID := task["id"].(string)
	if res := api(t, http.MethodPost, "/api/v1/applications/"+s.ID+"/responses", s.Token,
		map[string]any{"text": "zu früh"}); res.status != http.StatusConflict {
		t.Errorf("answer without a question: %d, want 409", res.status)
	}
	res := api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/complete", "dev-sb-leipzig",
		map[string]any{"outcome": "request_information", "comment": "Bitte Meldebescheinigung hochladen."})
	if res.status != http.StatusOK {
		t.Fatalf("request information: %d %s", res.status, res.body)
	}
	c := waitStatus(t, s, "information_requested")
	last := c["timeline"].([]any)[len(c["timeline"].([]any))-1].(map[string]any)
	if !strings.Contains(last["text"].(string), "Meldebescheinigung") {
		t.Errorf("question notice = %v", last)
	}
	if res := api(t, http.MethodPost, "/api/v1/applications/"+s.ID+"/responses", s.Token,
		map[string]any{"text": ""}); res.status != http.StatusUnprocessableEntity {
		t.Errorf("empty answer: %d, want 422", res.status)
	}
	if res := api(t, http.MethodPost, "/api/v1/applications/"+s.ID+"/responses", s.Token,
		map[string]any{"text": "Meldebescheinigung liegt bei."}); res.status != http.StatusOK {
		t.Fatalf("answer: %d %s", res.status, res.body)
	}
	waitStatus(t, s, "in_review")
	again := openTask(t, s.ID, "dev-sb-leipzig", "parken")
	if again["id"] == taskID || again["assignee"] != "sb-leipzig" {
		t.Errorf("task back = %v", again)
	}
	if res := api(t, http.MethodPost, "/api/v1/tasks/"+again["id"].(string)+"/complete", "dev-sb-leipzig",
		map[string]any{"outcome": "reject", "comment": "Zone nicht bewohnerparkberechtigt."}); res.status != http.StatusOK {
		t.Fatalf("reject: %d %s", res.status, res.body)
	}
	c = waitStatus(t, s, "rejected")
	if got := c["informationRequests"].([]any)[0].(map[string]any)["answer"]; got != "Meldebescheinigung liegt bei." {
		t.Errorf("answer recorded = %v", got)
	}
}

func TestCompletingATaskSomeoneElseHoldsIsAConflict(t *testing.T) {
	s := submit(t, parkausweis("Unbekannt", "amt24-ben"))
	pay(t, s.PaymentURL, "pay")
	taskID := openTask(t, s.ID, "dev-sb-leipzig", "parken")["id"].(string)
	if res := api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/claim", "dev-admin", nil); res.status != http.StatusOK {
		t.Fatalf("admin claim: %d %s", res.status, res.body)
	}
	res := api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/complete", "dev-sb-leipzig", map[string]any{"outcome": "approve"})
	if res.status != http.StatusConflict || !strings.Contains(string(res.body), "admin") {
		t.Errorf("complete a task held by another: %d %s, want 409 naming the holder", res.status, res.body)
	}
	if res := api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/release", "dev-admin", nil); res.status != http.StatusOK {
		t.Fatalf("release: %d %s", res.status, res.body)
	}
	if res := api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/complete", "dev-sb-leipzig", map[string]any{"outcome": "approve"}); res.status != http.StatusOK {
		t.Fatalf("complete after release: %d %s", res.status, res.body)
	}
	waitStatus(t, s, "approved")
}

func TestWithdrawalRefundsRemovesTaskAndTellsFachverfahren(t *testing.T) {
	s := submit(t, gewerbeanmeldung(dresden, "amt24-anna"))
	pay(t, s.PaymentURL, "pay")
	task := openTask(t, s.ID, "dev-sb-dresden", "gewerbe")
	res := api(t, http.MethodPost, "/api/v1/applications/"+s.ID+"/withdraw", s.Token, map[string]any{"reason": "Umzug"})
	if res.status != http.StatusOK || res.json(t)["status"] != "withdrawn" {
		t.Fatalf("withdraw: %d %s", res.status, res.body)
	}
	var c map[string]any
	waitFor(t, "refund", 20*time.Second, func() bool {
		c = caseOf(t, s.ID, s.Token)
		return c["payment"].(map[string]any)["refund"] == "REFUNDED"
	})
	waitFor(t, "withdrawal at the Fachverfahren", 10*time.Second, func() bool {
		recs := receivedBy(t, s.ID)
		return len(recs) == 1 && recs[0]["withdrawn"] == true && recs[0]["withdrawalReason"] == "Umzug"
	})
	list := api(t, http.MethodGet, "/api/v1/tasks?queue=gewerbe", "dev-sb-dresden", nil)
	if strings.Contains(string(list.body), task["id"].(string)) {
		t.Errorf("withdrawn case's task still in the queue")
	}
	if res := api(t, http.MethodPost, "/api/v1/applications/"+s.ID+"/withdraw", s.Token, nil); res.status != http.StatusConflict {
		t.Errorf("second withdrawal: %d, want 409", res.status)
	}
	last := c["timeline"].([]any)[len(c["timeline"].([]any))-1].(map[string]any)
	if !strings.Contains(last["text"].(string), "25,00 EUR wird erstattet") {
		t.Errorf("withdrawal notice = %v", last["text"])
	}
}

func TestDeliveryOutageIsShownAndRecovers(t *testing.T) {
	stack.Fachverfahren.SetDown(true)
	defer stack.Fachverfahren.SetDown(false)
	s := submit(t, hundesteuer(dresden))
	waitFor(t, "delivery retrying", 20*time.Second, func() bool {
		d, _ := caseOf(t, s.ID, s.Token)["delivery"].(map[string]any)
		return d != nil && d["state"] == "retrying" && d["attempts"].(float64) >= 2 &&
			strings.Contains(d["lastError"].(string), "503")
	})
	if c := caseOf(t, s.ID, s.Token); c["status"] != "received" {
		t.Errorf("status during outage = %v", c["status"])
	}
	stack.Fachverfahren.SetDown(false)
	c := waitStatus(t, s, "approved")
	if d := c["delivery"].(map[string]any); d["state"] != "delivered" || d["reference"] == "" {
		t.Errorf("delivery = %v", d)
	}
}

func TestIdempotencyKey(t *testing.T) {
	key := "submit-" + time.Now().Format(time.RFC3339Nano)
	first := submit(t, hundesteuer(leipzig), "Idempotency-Key", key)
	again := submit(t, hundesteuer(leipzig), "Idempotency-Key", key)
	if again.ID != first.ID || again.Token != first.Token {
		t.Errorf("retry gave case %s, want %s", again.ID, first.ID)
	}
	changed := hundesteuer(leipzig)
	changed["applicant"].(map[string]any)["name"] = "Jemand Anderes"
	res := api(t, http.MethodPost, "/api/v1/applications", "dev-portal", changed, "Idempotency-Key", key)
	if res.status != http.StatusConflict || res.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("same key, other body: %d %s, want 409", res.status, res.body)
	}
}
