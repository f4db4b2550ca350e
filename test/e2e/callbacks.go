package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
)

// Gewerbeabmeldung is an application the Fachverfahren decides: no fee,
// no review in ozgflow.
func Gewerbeabmeldung(authority, account string) map[string]any {
	return map[string]any{
		"service": "gewerbeabmeldung", "authority": authority,
		"applicant": map[string]any{"name": "Anna Muster", "portalAccount": account},
		"data": map[string]any{
			"betrieb": map[string]any{"name": "Café Anna", "taetigkeit": "Betrieb eines Cafés"},
			"ende":    "2026-12-31", "grund": "aufgabe",
			"anschrift": map[string]any{"strasse": "Markt", "hausnummer": "1", "plz": "04109", "ort": "Leipzig"},
		},
	}
}

// caseDecidedByTheFachverfahren: a Gewerbeabmeldung in Leipzig goes to the
// Gewerbeamt's Fachverfahren (the simulator), which reports received and in
// review and then decides with a PDF; the decision and its document reach
// the applicant's mailbox, and no case worker sees a task.
func caseDecidedByTheFachverfahren(t *testing.T, st *Stack) {
	account := "amt24-abmeldung-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	s := st.submit(t, Gewerbeabmeldung(leipzig, account))
	c := st.waitStatus(t, s, "approved")

	if got := strings.Join(statusesOf(c), " → "); got != "received → forwarded → in_review → approved" {
		t.Errorf("statuses %s", got)
	}
	decision := c["decision"].(map[string]any)
	doc, _ := decision["document"].(map[string]any)
	if decision["by"] != "external:gewerbe-leipzig" || doc == nil || doc["contentType"] != "application/pdf" {
		t.Fatalf("decision %v", decision)
	}
	var events []string
	for _, r := range c["delivery"].(map[string]any)["reports"].([]any) {
		events = append(events, r.(map[string]any)["event"].(string))
	}
	if strings.Join(events, ",") != "received,in_review,decided" {
		t.Errorf("the delivery's reports: %v", events)
	}
	var titles []string
	for _, n := range c["timeline"].([]any) {
		titles = append(titles, n.(map[string]any)["title"].(string))
	}
	for _, want := range []string{"Beim Gewerbeamt eingegangen", "In Bearbeitung", "Gewerbeabmeldung bestätigt"} {
		if !strings.Contains(strings.Join(titles, "|"), want) {
			t.Errorf("timeline %v lacks %q", titles, want)
		}
	}

	// The mailbox: the decision's notice with its document.
	res := st.api(t, http.MethodGet, "/api/v1/accounts/"+account+"/notices", "dev-portal", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("mailbox: %d %s", res.Status, res.Body)
	}
	var href string
	for _, x := range res.JSON(t)["notices"].([]any) {
		n := x.(map[string]any)
		if n["status"] != "approved" {
			continue
		}
		docs, _ := n["documents"].([]any)
		if len(docs) != 1 || !strings.Contains(n["text"].(string), "Abmeldebestätigung liegt dieser Nachricht bei") {
			t.Fatalf("the decision's notice: %v", n)
		}
		d := docs[0].(map[string]any)
		if d["sha256"] != doc["sha256"] || d["contentType"] != "application/pdf" {
			t.Errorf("the notice's document %v, the decision's %v", d, doc)
		}
		href = d["href"].(string)
	}
	if href == "" {
		t.Fatal("no notice of the decision in the mailbox")
	}
	// The portal fetches it with the case's access token, as the applicant does.
	pdf := Call(t, st.URL, http.MethodGet, href, s.Token, nil)
	if pdf.Status != http.StatusOK || pdf.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(pdf.Body, []byte("%PDF-")) {
		t.Fatalf("the decision's document: %d %s %.40q", pdf.Status, pdf.Header.Get("Content-Type"), pdf.Body)
	}
	docs := st.api(t, http.MethodGet, "/api/v1/applications/"+s.ID+"/documents", s.Token, nil)
	if !strings.Contains(string(docs.Body), `"kind":"decision"`) {
		t.Errorf("the case's documents: %s", docs.Body)
	}
	if tasks, _ := c["tasks"].([]any); len(tasks) != 0 {
		t.Errorf("tasks %v: the Fachverfahren decided", tasks)
	}

	// The simulator kept what it sent and what the gateway answered.
	recs := st.receivedBy(t, s.ID)
	if len(recs) != 1 || recs[0]["callbackUrl"] == "" || recs[0]["submission"].(map[string]any)["awaitsDecision"] != true {
		t.Fatalf("the simulator's records: %v", recs)
	}
	for _, x := range recs[0]["callbacks"].([]any) {
		if cb := x.(map[string]any); cb["status"] != float64(http.StatusNoContent) {
			t.Errorf("callback %v not taken", cb)
		}
	}
}

// signedCallback posts a callback signed with secret at ts.
func (st *Stack) signedCallback(t *testing.T, secret []byte, ts time.Time, body []byte) Response {
	t.Helper()
	header := []string{ozgflow.HeaderSignatureTimestamp, strconv.FormatInt(ts.Unix(), 10)}
	if secret != nil {
		header = append(header, ozgflow.HeaderSignature, ozgflow.SignBody(secret, ts, body))
	}
	return Call(t, st.URL, http.MethodPost, ozgflow.CallbackPath, "", body, header...)
}

// fachverfahrenCallbacks: callbacks signed by hand on a Gewerbeanmeldung,
// which case workers decide: a good signature shows in the timeline, a bad
// one and one older than 5 minutes are refused, a replay has no effect, a
// decision and another delivery's reference are refused; every refusal a
// problem document.
func fachverfahrenCallbacks(t *testing.T, st *Stack) {
	if len(st.FachverfahrenSecret) == 0 {
		t.Log("not run against this stack: it does not say its Fachverfahren secret")
		return
	}
	s := st.submit(t, gewerbeanmeldung(leipzig, "amt24-callbacks-"+strconv.FormatInt(time.Now().UnixNano(), 36)))
	pay(t, s.PaymentURL, "pay")
	st.openTask(t, s.ID, "dev-sb-leipzig", "gewerbe")
	before := st.caseOf(t, s.ID, s.Token)
	ref := before["delivery"].(map[string]any)["reference"].(string)
	callback := func(id, event, reference, outcome string) []byte {
		b, _ := json.Marshal(ozgflow.CallbackRequest{ID: id, CaseID: s.ID, Reference: reference, Event: event, Outcome: outcome})
		return b
	}
	id := "cb-e2e-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	received := callback(id, ozgflow.CallbackReceived, ref, "")
	now := time.Now()

	problem := func(what string, res Response, status int, says string) {
		t.Helper()
		if res.Status != status || res.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(res.Body), says) {
			t.Errorf("%s: %d %s %s, want a %d problem saying %q", what, res.Status, res.Header.Get("Content-Type"), res.Body, status, says)
		}
	}
	problem("bad signature", st.signedCallback(t, []byte("not-the-secret-0123456789"), now, received), http.StatusUnauthorized, "signature")
	problem("unsigned", st.signedCallback(t, nil, now, received), http.StatusUnauthorized, "signature")
	problem("timestamp older than 5 minutes", st.signedCallback(t, st.FachverfahrenSecret, now.Add(-6*time.Minute), received),
		http.StatusUnauthorized, "timestamp")
	if n := len(st.caseOf(t, s.ID, s.Token)["timeline"].([]any)); n != len(before["timeline"].([]any)) {
		t.Fatalf("refused callbacks changed the timeline: %d notices, before %d", n, len(before["timeline"].([]any)))
	}

	if res := st.signedCallback(t, st.FachverfahrenSecret, now, received); res.Status != http.StatusNoContent {
		t.Fatalf("good signature: %d %s", res.Status, res.Body)
	}
	after := st.caseOf(t, s.ID, s.Token)
	timeline := after["timeline"].([]any)
	if last := timeline[len(timeline)-1].(map[string]any); len(timeline) != len(before["timeline"].([]any))+1 ||
		!strings.Contains(last["text"].(string), ref) {
		t.Fatalf("timeline after the callback: %v", timeline)
	}
	// A replay, the same request or signed anew, has no effect.
	for _, ts := range []time.Time{now, time.Now()} {
		if res := st.signedCallback(t, st.FachverfahrenSecret, ts, received); res.Status != http.StatusNoContent {
			t.Fatalf("replay: %d %s", res.Status, res.Body)
		}
	}
	again := st.caseOf(t, s.ID, s.Token)
	if len(again["timeline"].([]any)) != len(timeline) || len(again["delivery"].(map[string]any)["reports"].([]any)) != 1 {
		t.Errorf("the replay changed the case: %v", again["delivery"])
	}

	problem("another delivery's reference", st.signedCallback(t, st.FachverfahrenSecret, time.Now(),
		callback(id+"-ref", ozgflow.CallbackInReview, "FV-0000-999999", "")), http.StatusNotFound, "reference")
	problem("a decision the variant takes in ozgflow", st.signedCallback(t, st.FachverfahrenSecret, time.Now(),
		callback(id+"-decided", ozgflow.CallbackDecided, ref, ozgflow.OutcomeApprove)), http.StatusConflict, "not by the Fachverfahren")
	problem("no JSON", st.signedCallback(t, st.FachverfahrenSecret, time.Now(), []byte(`{"id":`)), http.StatusBadRequest, "")
}
