package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow/locale"
)

// followUpAndCaseSearch: a case worker sets a follow-up (Wiedervorlage) on
// the task they hold, with an internal note that the applicant never
// sees; a colleague may not, a day that is none or past is refused naming
// the field; clearing it takes it away. Decided, the case is found under
// the closed cases with its decision, by the authority's case workers
// only.
func followUpAndCaseSearch(t *testing.T, st *Stack) {
	s, taskID := st.paidGewerbeTask(t, dresden, "dev-sb-dresden")
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/claim", "dev-sb-dresden", nil); res.Status != http.StatusOK {
		t.Fatalf("claim: %d %s", res.Status, res.Body)
	}
	today := time.Now().In(locale.Berlin)
	tomorrow := today.AddDate(0, 0, 1).Format("2006-01-02")
	path := "/api/v1/tasks/" + taskID + "/follow-up"
	res := st.api(t, http.MethodPost, path, "dev-sb-dresden", map[string]any{"date": tomorrow, "note": "Intern: Register prüfen"})
	if res.Status != http.StatusOK {
		t.Fatalf("follow-up: %d %s", res.Status, res.Body)
	}
	if f, _ := res.JSON(t)["followUp"].(map[string]any); f == nil || f["date"] != tomorrow || f["due"] != false || f["note"] != "Intern: Register prüfen" {
		t.Errorf("the task's follow-up: %s", res.Body)
	}
	for _, tc := range []struct {
		token  string
		body   map[string]any
		status int
		want   string
	}{
		{"dev-sb-dresden-2", map[string]any{"date": tomorrow}, http.StatusConflict, "sb-dresden"},
		{"dev-sb-dresden", map[string]any{"date": "2026-13-01"}, http.StatusUnprocessableEntity, `"pointer":"/date"`},
		{"dev-sb-dresden", map[string]any{"date": today.AddDate(0, 0, -1).Format("2006-01-02")}, http.StatusUnprocessableEntity, "not in the future"},
		{"dev-sb-dresden", map[string]any{"date": tomorrow, "note": strings.Repeat("x", 2001)}, http.StatusUnprocessableEntity, `"pointer":"/note"`},
		{"dev-sb-leipzig", map[string]any{"date": tomorrow}, http.StatusNotFound, ""},
	} {
		res := st.api(t, http.MethodPost, path, tc.token, tc.body)
		if res.Status != tc.status || !strings.Contains(string(res.Body), tc.want) {
			t.Errorf("%s %v: %d %s, want %d with %s", tc.token, tc.body, res.Status, res.Body, tc.status, tc.want)
		}
	}
	list := st.api(t, http.MethodGet, "/api/v1/tasks?queue=gewerbe&status=mine&limit=500", "dev-sb-dresden", nil)
	if !strings.Contains(string(list.Body), `"date":"`+tomorrow+`"`) {
		t.Errorf("the list does not carry the follow-up: %s", list.Body)
	}
	if body := st.api(t, http.MethodGet, "/api/v1/applications/"+s.ID, s.Token, nil).Body; strings.Contains(string(body), "Register prüfen") {
		t.Errorf("the internal note reaches the applicant: %s", body)
	}
	if res := st.api(t, http.MethodPost, path, "dev-sb-dresden", map[string]any{"date": ""}); res.Status != http.StatusOK || strings.Contains(string(res.Body), "followUp") {
		t.Errorf("clearing: %d %s", res.Status, res.Body)
	}
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/complete", "dev-sb-dresden", map[string]any{"outcome": "approve"}); res.Status != http.StatusOK {
		t.Fatalf("decide: %d %s", res.Status, res.Body)
	}
	c := st.waitStatus(t, s, "approved")

	search := func(token string, q url.Values) []map[string]any {
		t.Helper()
		res := st.api(t, http.MethodGet, "/api/v1/cases?"+q.Encode(), token, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("search %s: %d %s", q.Encode(), res.Status, res.Body)
		}
		var out []map[string]any
		for _, c := range res.JSON(t)["cases"].([]any) {
			out = append(out, c.(map[string]any))
		}
		return out
	}
	find := func(hits []map[string]any) map[string]any {
		for _, h := range hits {
			if h["id"] == s.ID {
				return h
			}
		}
		return nil
	}
	day := today.Format("2006-01-02")
	var hit map[string]any
	WaitFor(t, "the decided case among the closed ones", 10*time.Second, func() bool {
		hit = find(search("dev-sb-dresden", url.Values{"status": {"closed"}, "from": {day}, "to": {day}, "limit": {"500"}}))
		return hit != nil
	})
	if d, _ := hit["decision"].(map[string]any); d == nil || d["outcomeText"] != "Bestätigt" || hit["closedAt"] == nil || hit["final"] != true {
		t.Errorf("the closed case: %v", hit)
	}
	if find(search("dev-sb-dresden", url.Values{"status": {"open"}, "from": {day}, "limit": {"500"}})) != nil {
		t.Error("the decided case is among the open ones")
	}
	if find(search("dev-sb-leipzig", url.Values{"from": {day}, "limit": {"500"}})) != nil {
		t.Error("Leipzig finds Dresden's case")
	}
	// The short case number and the applicant are filled by the workflow
	// where it assigns them; the search finds the case by both.
	if number, _ := c["caseNumber"].(string); number != "" {
		if find(search("dev-sb-dresden", url.Values{"q": {number}})) == nil {
			t.Errorf("not found by its case number %s", number)
		}
	}
	if hit["applicant"] != nil {
		if find(search("dev-sb-dresden", url.Values{"q": {"Anna Muster"}, "from": {day}, "limit": {"500"}})) == nil {
			t.Error("not found by the applicant's name")
		}
	}
}
