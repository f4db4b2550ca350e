package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/store"
)

// seedSearch writes three Leipzig cases and one of Dresden with their
// applicants: an open one in gewerbe, one decided, one escalated to the
// team leads' queue.
func seedSearch(t *testing.T, st *store.Store) {
	t.Helper()
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	mk := func(id, number, authority, queue string, status ozgflow.Status, a ozgflow.CaseApplicant) ozgflow.Case {
		c := ozgflow.Case{ID: id, CaseNumber: number, Applicant: &a, Revision: 1, Authority: authority,
			Service: "99050035001000", ServiceName: "Gewerbeanmeldung", Status: status,
			DefinitionID: "gewerbeanmeldung-leipzig", DefinitionVersion: 1, SubmittedAt: at, UpdatedAt: at,
			Timeline: []ozgflow.Notice{}, Tasks: []ozgflow.Task{{ID: id + ".review.1", CaseID: id, Authority: authority,
				Queue: queue, Title: "Gewerbeanmeldung prüfen", Status: ozgflow.TaskOpen}}}
		if status.Final() {
			c.Tasks[0].Status = ozgflow.TaskDone
			c.Decision = &ozgflow.Decision{Outcome: ozgflow.OutcomeApprove, By: "sb-leipzig", At: at.Add(50 * time.Hour)}
		}
		at = at.Add(time.Hour)
		return c
	}
	cases := []ozgflow.Case{
		mk("11111111-1111-4111-8111-111111111111", "GEW-2026-000001", leipzigARS, "gewerbe", ozgflow.StatusInReview,
			ozgflow.CaseApplicant{Name: "Jürgen Müller", BusinessName: "Café Müller", Address: "Markt 1, 04109 Leipzig"}),
		mk("22222222-2222-4222-8222-222222222222", "GEW-2026-000002", leipzigARS, "gewerbe", ozgflow.StatusApproved,
			ozgflow.CaseApplicant{Name: "Anna Mueller", BusinessName: "Blumen Anna", Address: "Brühl 3, 04109 Leipzig"}),
		mk("33333333-3333-4333-8333-333333333333", "GEW-2026-000003", leipzigARS, "gewerbe-leitung", ozgflow.StatusInReview,
			ozgflow.CaseApplicant{Name: "Peter Müllner"}),
		mk("44444444-4444-4444-8444-444444444444", "GEW-2026-000001", "146120000000", "gewerbe", ozgflow.StatusInReview,
			ozgflow.CaseApplicant{Name: "Jürgen Müller"}),
	}
	if _, err := st.RestoreCases(context.Background(), cases, time.Time{}); err != nil {
		t.Fatal(err)
	}
}

const leipzigARS = "147130000000"

func TestSearchPageFindsTheAuthoritysCasesItMayOpen(t *testing.T) {
	s, st := storeServer(t)
	seedSearch(t, st)
	page := get(s, "/arbeitskorb/suche?q=M%C3%BCll", "dev-sb-leipzig")
	body := page.Body.String()
	if page.Code != http.StatusOK || !strings.Contains(body, "3 Vorgänge gefunden") ||
		!strings.Contains(body, "GEW-2026-000001") || !strings.Contains(body, "Café Müller") || !strings.Contains(body, "Müllner") ||
		strings.Contains(body, "44444444") {
		t.Fatalf("search as the team lead: %d\n%s", page.Code, body)
	}
	// sb-leipzig-2 does not work gewerbe-leitung: Müllner's case stays hidden.
	page = get(s, "/arbeitskorb/suche?q=M%C3%BCll", "dev-sb-leipzig-2")
	if body := page.Body.String(); !strings.Contains(body, "2 Vorgänge gefunden") || strings.Contains(body, "Müllner") {
		t.Errorf("search outside the team leads' queue:\n%s", body)
	}
	closed := get(s, "/arbeitskorb/suche?status=erledigt", "dev-sb-leipzig")
	body = closed.Body.String()
	if !strings.Contains(body, "<h1>Erledigte Vorgänge</h1>") || !strings.Contains(body, "1 Vorgang gefunden") ||
		!strings.Contains(body, "<strong data-decision>Bestätigt</strong>") || !strings.Contains(body, "22.11.2026") {
		t.Errorf("erledigt view:\n%s", body)
	}
	nav := get(s, "/arbeitskorb", "dev-sb-leipzig").Body.String()
	if !strings.Contains(nav, `href="/arbeitskorb/suche"`) || !strings.Contains(nav, `href="/arbeitskorb/suche?status=erledigt"`) {
		t.Error("the Arbeitskorb does not link the search and the erledigt view")
	}
	bad := get(s, "/arbeitskorb/suche?von=gestern&bis=2026-01-01&status=fertig", "dev-sb-leipzig")
	if body := bad.Body.String(); bad.Code != http.StatusBadRequest || !strings.Contains(body, "Eingegangen von: Bitte geben Sie ein Datum an") ||
		!strings.Contains(body, "Stand: Bitte wählen Sie offen, erledigt oder alle.") {
		t.Errorf("bad search: %d\n%s", bad.Code, body)
	}
}

func apiGet(s *Server, path, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

func TestCaseSearchAPI(t *testing.T) {
	s, st := storeServer(t)
	seedSearch(t, st)
	res := apiGet(s, "/api/v1/cases?q=mueller&status=closed&from=2026-11-20&to=2026-11-20", "dev-sb-leipzig")
	var got struct {
		Cases []struct {
			ID, CaseNumber, StatusText string
			Applicant                  ozgflow.CaseApplicant
			Decision                   struct{ Outcome, OutcomeText string }
			ClosedAt                   *time.Time
		}
		Total int
	}
	if err := json.Unmarshal(res.Body.Bytes(), &got); err != nil || res.Code != http.StatusOK {
		t.Fatalf("%d %s %v", res.Code, res.Body, err)
	}
	if got.Total != 1 || got.Cases[0].CaseNumber != "GEW-2026-000002" || got.Cases[0].Decision.OutcomeText != "Bestätigt" ||
		got.Cases[0].Applicant.Name != "Anna Mueller" || got.Cases[0].ClosedAt == nil {
		t.Errorf("found %+v", got)
	}
	for _, tc := range []struct{ path, pointer string }{
		{"/api/v1/cases?from=yesterday", "?from"},
		{"/api/v1/cases?from=2026-12-01&to=2026-11-01", "?to"},
		{"/api/v1/cases?status=erledigt", "?status"},
		{"/api/v1/cases?offset=20000", "?offset"},
		{"/api/v1/cases?q=" + strings.Repeat("x", 201), "?q"},
	} {
		res := apiGet(s, tc.path, "dev-sb-leipzig")
		if res.Code != http.StatusBadRequest || res.Header().Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(res.Body.String(), `"pointer":"`+tc.pointer+`"`) {
			t.Errorf("%s: %d %s %s", tc.path, res.Code, res.Header().Get("Content-Type"), res.Body)
		}
	}
	if res := apiGet(s, "/api/v1/cases?authority="+leipzigARS+"&q=GEW-2026-000001", "dev-admin"); res.Code != http.StatusOK ||
		!strings.Contains(res.Body.String(), `"total":1`) {
		t.Errorf("administrator: %d %s", res.Code, res.Body)
	}
	if res := apiGet(s, "/api/v1/cases", "dev-admin"); res.Code != http.StatusBadRequest {
		t.Errorf("administrator without an authority: %d", res.Code)
	}
}

func TestDueFollowUpLeadsTheArbeitskorbMarked(t *testing.T) {
	s, st := storeServer(t)
	seedQueue(t, st, 30)
	back := time.Date(2026, 12, 2, 23, 0, 0, 0, time.UTC)
	task := ozgflow.Task{ID: "55555555-5555-4555-8555-555555555555.review.1", CaseID: "55555555-5555-4555-8555-555555555555",
		Title: "Wiedervorgelegt", Authority: leipzigARS, Queue: "gewerbe", Service: "99050035001000", Status: ozgflow.TaskOpen,
		DueAt:    time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		FollowUp: &ozgflow.FollowUp{Date: "2026-12-03", At: back, By: "sb-leipzig", Note: "Register prüfen", DueSince: back}}
	if err := st.SeedTasks(context.Background(), []ozgflow.Task{task}); err != nil {
		t.Fatal(err)
	}
	body := get(s, "/arbeitskorb?queue=gewerbe", "dev-sb-leipzig").Body.String()
	first := strings.Index(body, `<tr data-task=`)
	if first < 0 || !strings.HasPrefix(body[first:], `<tr data-task="`+task.ID+`"`) {
		t.Fatalf("the task that came back is not first:\n%s", body)
	}
	if !strings.Contains(body, `data-followup="due">Wiedervorlage</strong> seit 03.12.2026: Register prüfen`) {
		t.Errorf("no mark:\n%s", body[first:first+1500])
	}
	res := apiGet(s, "/api/v1/tasks?queue=gewerbe&limit=2", "dev-sb-leipzig")
	if !strings.Contains(res.Body.String(), `"followUp":{"date":"2026-12-03","note":"Register prüfen","by":"sb-leipzig","due":true`) {
		t.Errorf("API: %s", res.Body)
	}
}
