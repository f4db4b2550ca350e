package e2e

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/xuri/excelize/v2"
)

// paidGewerbeTask submits a Gewerbeanmeldung, pays it and returns its review task.
func (st *Stack) paidGewerbeTask(t *testing.T, authority, token string) (Submitted, string) {
	t.Helper()
	s := st.submit(t, gewerbeanmeldung(authority, "amt24-anna"))
	pay(t, s.PaymentURL, "pay")
	return s, st.openTask(t, s.ID, token, "gewerbe")["id"].(string)
}

// concurrentClaimsHaveOneWinner: two case workers claim the same task at the
// same moment; exactly one gets it, the other learns who holds it.
func concurrentClaimsHaveOneWinner(t *testing.T, st *Stack) {
	for round := 0; round < 3; round++ {
		_, taskID := st.paidGewerbeTask(t, leipzig, "dev-sb-leipzig")
		var wg sync.WaitGroup
		results := make([]Response, 2)
		for i, name := range []string{"dev-sb-leipzig", "dev-sb-leipzig-2"} {
			token := st.token(t, name) // here: Tokens may fail the test
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = call(t, st.URL, http.MethodPost, "/api/v1/tasks/"+taskID+"/claim", token, nil)
			}()
		}
		wg.Wait()
		won, lost := results[0], results[1]
		if won.Status != http.StatusOK {
			won, lost = lost, won
		}
		if won.Status != http.StatusOK || lost.Status != http.StatusConflict {
			t.Fatalf("claims answered %d and %d, want one 200 and one 409", results[0].Status, results[1].Status)
		}
		holder := won.JSON(t)["assignee"].(string)
		if !strings.Contains(string(lost.Body), holder) {
			t.Errorf("the loser is not told who holds the task: %s", lost.Body)
		}
	}
}

// decisionOnAWithdrawnCaseIsRefused: the applicant withdraws while the case
// worker holds the task; the decision is refused with a readable message.
func decisionOnAWithdrawnCaseIsRefused(t *testing.T, st *Stack) {
	s, taskID := st.paidGewerbeTask(t, dresden, "dev-sb-dresden")
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/claim", "dev-sb-dresden", nil); res.Status != http.StatusOK {
		t.Fatalf("claim: %d %s", res.Status, res.Body)
	}
	if res := st.api(t, http.MethodPost, "/api/v1/applications/"+s.ID+"/withdraw", s.Token, map[string]any{}); res.Status != http.StatusOK {
		t.Fatalf("withdraw: %d %s", res.Status, res.Body)
	}
	res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/complete", "dev-sb-dresden", map[string]any{"outcome": "approve"})
	if res.Status != http.StatusConflict || !strings.Contains(string(res.Body), "withdrawn") {
		t.Errorf("decision after withdrawal: %d %s, want 409 saying it was withdrawn", res.Status, res.Body)
	}
	st.waitStatus(t, s, "withdrawn")
}

// queuesAreIsolated: a task handed to the team lead's queue is invisible to
// a colleague who does not work that queue, by list, URL or API; other
// authorities see nothing of it.
func queuesAreIsolated(t *testing.T, st *Stack) {
	s, taskID := st.paidGewerbeTask(t, leipzig, "dev-sb-leipzig")
	res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/handover", "dev-sb-leipzig-2",
		map[string]any{"queue": "gewerbe-leitung", "note": "Bitte entscheiden"})
	if res.Status != http.StatusOK || res.JSON(t)["queue"] != "gewerbe-leitung" {
		t.Fatalf("handover to the team lead's queue: %d %s", res.Status, res.Body)
	}
	for _, probe := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/tasks?queue=gewerbe-leitung"},
		{http.MethodPost, "/api/v1/tasks/" + taskID + "/claim"},
		{http.MethodGet, "/api/v1/applications/" + s.ID},
	} {
		if res := st.api(t, probe.method, probe.path, "dev-sb-leipzig-2", nil); res.Status != http.StatusNotFound {
			t.Errorf("%s %s as a non-member: %d, want 404", probe.method, probe.path, res.Status)
		}
	}
	if res := st.api(t, http.MethodGet, "/api/v1/tasks", "dev-sb-leipzig-2", nil); strings.Contains(string(res.Body), taskID) {
		t.Error("a non-member lists the task")
	}
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/claim", "dev-sb-dresden", nil); res.Status != http.StatusNotFound {
		t.Errorf("another authority claims: %d, want 404", res.Status)
	}
	lead := st.api(t, http.MethodGet, "/api/v1/tasks?queue=gewerbe-leitung", "dev-sb-leipzig", nil)
	if !strings.Contains(string(lead.Body), taskID) || !strings.Contains(string(lead.Body), "Bitte entscheiden") {
		t.Errorf("the team lead does not see the handed-over task with its note: %s", lead.Body)
	}
	queues := st.api(t, http.MethodGet, "/api/v1/queues", "dev-sb-leipzig-2", nil)
	if queues.Status != http.StatusOK || strings.Contains(string(queues.Body), "gewerbe-leitung") {
		t.Errorf("queues of a non-member: %d %s", queues.Status, queues.Body)
	}
	// Hand-overs name colleagues who work the target queue.
	res = st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/handover", "dev-sb-leipzig", map[string]any{"to": "sb-leipzig-2"})
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(string(res.Body), "/to") {
		t.Errorf("handover to a colleague outside the queue: %d %s, want 422 at /to", res.Status, res.Body)
	}
	res = st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/handover", "dev-sb-leipzig", map[string]any{"to": "sb-dresden"})
	if res.Status != http.StatusUnprocessableEntity {
		t.Errorf("handover to another authority: %d %s, want 422", res.Status, res.Body)
	}
	res = st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/handover", "dev-sb-leipzig",
		map[string]any{"to": "sb-leipzig-2", "queue": "gewerbe", "note": "Zurück ins Team"})
	if res.Status != http.StatusOK || res.JSON(t)["assignee"] != "sb-leipzig-2" {
		t.Fatalf("handover back to the team: %d %s", res.Status, res.Body)
	}
}

// bulkClaimAndExport: a case worker selects several tasks, claims them in
// one request and downloads them as Excel.
func bulkClaimAndExport(t *testing.T, st *Stack) {
	var ids []string
	for range 3 {
		_, taskID := st.paidGewerbeTask(t, dresden, "dev-sb-dresden")
		ids = append(ids, taskID)
	}
	taken := ids[2]
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taken+"/claim", "dev-sb-dresden-2", nil); res.Status != http.StatusOK {
		t.Fatalf("claim: %d %s", res.Status, res.Body)
	}
	res := st.api(t, http.MethodPost, "/api/v1/tasks/bulk", "dev-sb-dresden", map[string]any{"action": "claim", "taskIds": ids})
	if res.Status != http.StatusOK {
		t.Fatalf("bulk claim: %d %s", res.Status, res.Body)
	}
	results := res.JSON(t)["results"].([]any)
	for i, r := range results {
		r := r.(map[string]any)
		if want := ids[i] != taken; r["ok"] != want {
			t.Errorf("bulk result %d = %v, want ok=%v", i, r, want)
		}
	}
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/bulk", "dev-sb-dresden", map[string]any{"action": "delete", "taskIds": ids}); res.Status != http.StatusUnprocessableEntity {
		t.Errorf("unknown bulk action: %d", res.Status)
	}
	mine := st.api(t, http.MethodGet, "/api/v1/tasks?status=mine&queue=gewerbe", "dev-sb-dresden", nil)
	for _, id := range ids[:2] {
		if !strings.Contains(string(mine.Body), id) {
			t.Errorf("claimed task %s missing from mine", id)
		}
	}
	export := st.api(t, http.MethodGet, "/api/v1/tasks/export.xlsx?id="+ids[0]+"&id="+ids[1], "dev-sb-dresden", nil)
	book, err := excelize.OpenReader(bytes.NewReader(export.Body))
	if export.Status != http.StatusOK || err != nil {
		t.Fatalf("export: %d %v", export.Status, err)
	}
	rows, _ := book.GetRows("Aufgaben")
	// Queue and holder by the names people read, not by their keys.
	if len(rows) != 3 || rows[1][0] != ids[0] || rows[2][4] != "Gewerbeangelegenheiten" || rows[2][6] != "Sachbearbeitung Dresden (Teamleitung)" ||
		!strings.HasPrefix(rows[2][1], "GEW-") {
		t.Errorf("exported rows %v", rows)
	}
}

// conflictOnAStaffPageSaysWhy: a case worker claims from the case page a task
// a colleague took meanwhile; the answer is a 409 page naming the holder, in
// German or English as the browser asks.
func conflictOnAStaffPageSaysWhy(t *testing.T, st *Stack) {
	s, taskID := st.paidGewerbeTask(t, leipzig, "dev-sb-leipzig")
	colleague := &page{t: t, base: st.URL, cookies: map[string]string{"ozgflow_session": st.session(t, "dev-sb-leipzig-2")}}
	casePage := colleague.get("/arbeitskorb/vorgaenge/" + s.ID)
	m := csrfField.FindStringSubmatch(casePage.Body)
	if casePage.Status != http.StatusOK || m == nil {
		t.Fatalf("case page: %d", casePage.Status)
	}
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/claim", "dev-sb-leipzig", nil); res.Status != http.StatusOK {
		t.Fatalf("claim: %d %s", res.Status, res.Body)
	}
	for lang, want := range map[string]string{
		"de": "Diese Aufgabe bearbeitet bereits Sachbearbeitung Leipzig (Teamleitung).",
		"en": "This task is already being worked on by Sachbearbeitung Leipzig (Teamleitung).",
	} {
		colleague.lang = lang
		res := colleague.post("/arbeitskorb/aufgaben/"+taskID+"/uebernehmen", url.Values{"csrf": {m[1]}})
		if res.Status != http.StatusConflict || !strings.Contains(res.Body, want) ||
			!strings.Contains(res.Body, `href="/arbeitskorb/vorgaenge/`+s.ID+`"`) || !strings.Contains(res.Body, `lang="`+lang+`"`) {
			t.Errorf("%s: %d, want 409 saying %q:\n%s", lang, res.Status, want, res.Body)
		}
	}
}
