package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/store"
)

// seedOutbox files two notices of a case; the first is given up as
// undeliverable, the second waits for its next attempt.
func seedOutbox(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	c := ozgflow.Case{ID: "c1", Revision: 1, Authority: "147130000000", Service: "99050035001000", Status: ozgflow.StatusReceived,
		PortalAccount: "amt24-anna", SubmittedAt: at, Timeline: []ozgflow.Notice{
			{ID: "c1-1", CaseID: "c1", Status: ozgflow.StatusReceived, Title: "Antrag eingegangen", Text: "geheim", At: at},
			{ID: "c1-2", CaseID: "c1", Status: ozgflow.StatusReceived, Title: "Zahlung", Text: "geheim", At: at}}}
	if err := st.SaveCase(ctx, c); err != nil {
		t.Fatal(err)
	}
	events, _, err := st.ClaimPortalEvents(ctx, time.Now(), time.Minute, 10, "test")
	if err != nil || len(events) != 2 {
		t.Fatalf("claimed %d: %v", len(events), err)
	}
	if err := st.PortalEventUndeliverable(ctx, "c1-1", "test", time.Now(), "post event c1-1: portal answered 503"); err != nil {
		t.Fatal(err)
	}
	if err := st.RetryPortalEventAt(ctx, "c1-2", "test", time.Now().Add(time.Minute), "portal answered 503"); err != nil {
		t.Fatal(err)
	}
}

func apiCall(s *Server, method, path, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

// portalEvent and portalEvents are the answers of the outbox API as a
// client reads them.
type (
	portalEvent struct {
		ID            string     `json:"id"`
		PortalAccount string     `json:"portalAccount"`
		State         string     `json:"state"`
		Attempts      int        `json:"attempts"`
		LastError     string     `json:"lastError"`
		NextAttemptAt *time.Time `json:"nextAttemptAt"`
		FailedAt      *time.Time `json:"failedAt"`
	}
	portalEvents struct {
		State  string        `json:"state"`
		Events []portalEvent `json:"events"`
		Total  int64         `json:"total"`
	}
)

func TestPortalEventsAPI(t *testing.T) {
	s, st := storeServer(t)
	seedOutbox(t, st)

	var page portalEvents
	rec := apiCall(s, http.MethodGet, "/api/v1/portal-events", "dev-admin")
	if err := json.Unmarshal(rec.Body.Bytes(), &page); rec.Code != http.StatusOK || err != nil {
		t.Fatalf("GET failed events: %d %s", rec.Code, rec.Body)
	}
	if page.State != "failed" || page.Total != 1 || page.Events[0].ID != "c1-1" || page.Events[0].Attempts != 1 ||
		page.Events[0].PortalAccount != "amt24-anna" || !strings.Contains(page.Events[0].LastError, "503") || page.Events[0].FailedAt == nil {
		t.Errorf("failed = %+v", page)
	}
	if strings.Contains(rec.Body.String(), "geheim") {
		t.Error("the API shows the notice's text")
	}
	rec = apiCall(s, http.MethodGet, "/api/v1/portal-events?state=pending", "dev-admin")
	page = portalEvents{}
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || page.Total != 1 || page.Events[0].ID != "c1-2" || page.Events[0].NextAttemptAt == nil {
		t.Errorf("pending: %d %s", rec.Code, rec.Body)
	}
	for _, tt := range []struct {
		name, method, path, token string
		want                      int
	}{
		{"unknown state", http.MethodGet, "/api/v1/portal-events?state=lost", "dev-admin", http.StatusBadRequest},
		{"case worker", http.MethodGet, "/api/v1/portal-events", "dev-sb-leipzig", http.StatusForbidden},
		{"portal client resends", http.MethodPost, "/api/v1/portal-events/c1-1/resend", "dev-portal", http.StatusForbidden},
		{"no token", http.MethodGet, "/api/v1/portal-events", "", http.StatusUnauthorized},
		{"unknown event", http.MethodPost, "/api/v1/portal-events/nope/resend", "dev-admin", http.StatusNotFound},
	} {
		if rec := apiCall(s, tt.method, tt.path, tt.token); rec.Code != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, rec.Code, rec.Body, tt.want)
		}
	}

	rec = apiCall(s, http.MethodPost, "/api/v1/portal-events/c1-1/resend", "dev-admin")
	var resent portalEvent
	if err := json.Unmarshal(rec.Body.Bytes(), &resent); rec.Code != http.StatusAccepted || err != nil ||
		resent.State != "pending" || resent.Attempts != 0 || resent.FailedAt != nil {
		t.Errorf("resend: %d %s", rec.Code, rec.Body)
	}
	if pending, failed, _ := st.PortalEventCounts(context.Background()); pending != 2 || failed != 0 {
		t.Errorf("after resend %d pending, %d failed", pending, failed)
	}
}

func TestDeliveriesPage(t *testing.T) {
	s, st := storeServer(t)
	seedOutbox(t, st)

	rec := get(s, "/verwaltung/zustellungen", "dev-admin")
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, "<code>c1-1</code>") || strings.Contains(body, "<code>c1-2</code>") ||
		!strings.Contains(body, `action="/verwaltung/zustellungen/c1-1/erneut"`) ||
		!strings.Contains(body, `name="csrf" value="`+formToken("csrf", sessionOf(s, "dev-admin"))+`"`) || !strings.Contains(body, "1 Mitteilungen warten") {
		t.Fatalf("page: %d\n%s", rec.Code, body)
	}
	if rec := get(s, "/verwaltung/zustellungen", "dev-sb-leipzig"); rec.Code != http.StatusForbidden {
		t.Errorf("case worker: %d", rec.Code)
	}

	post := func(csrf string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/verwaltung/zustellungen/c1-1/erneut", strings.NewReader(url.Values{"csrf": {csrf}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: sessionOf(s, "dev-admin")})
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		return rec
	}
	if rec := post("forged"); rec.Code != http.StatusForbidden {
		t.Errorf("forged form: %d", rec.Code)
	}
	if _, failed, _ := st.PortalEventCounts(context.Background()); failed != 1 {
		t.Fatal("a forged form resent the event")
	}
	rec = post(formToken("csrf", sessionOf(s, "dev-admin")))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/verwaltung/zustellungen?erneut=c1-1" {
		t.Fatalf("resend: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	body = get(s, rec.Header().Get("Location"), "dev-admin").Body.String()
	if !strings.Contains(body, "Die Mitteilung c1-1 wird erneut zugestellt.") || strings.Contains(body, "<code>c1-1</code>") {
		t.Errorf("after resend:\n%s", body)
	}
}
