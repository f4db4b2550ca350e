package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/gateway/web"
)

// TestErrorPagesInGermanAndEnglish: refusals on staff and applicant pages
// answer a readable page in the request's language, with the security
// headers of every page; never Go's plain "404 page not found".
func TestErrorPagesInGermanAndEnglish(t *testing.T) {
	closed := testCase(ozgflow.StatusApproved)
	s, token := citizenServer(t, closed)
	dresden := testCase(ozgflow.StatusInReview)
	dresden.Authority = "146120000000"
	if err := s.store.SaveCase(context.Background(), dresden); err != nil {
		t.Fatal(err)
	}
	applicant := &http.Cookie{Name: web.ApplicantCookie, Value: token}
	tests := []struct {
		name, path, session string
		cookie              *http.Cookie
		status              int
		de, en              string
	}{
		{"staff: a case worker in the administration", "/verwaltung", "dev-sb-leipzig", nil, http.StatusForbidden,
			"Kein Zugriff", "No access"},
		{"staff: an administrator in the Arbeitskorb", "/arbeitskorb", "dev-admin", nil, http.StatusForbidden,
			"Kein Zugriff", "No access"},
		{"staff: a case of another authority", "/arbeitskorb/vorgaenge/" + dresden.ID, "dev-sb-leipzig", nil, http.StatusNotFound,
			"Nicht gefunden", "Not found"},
		{"applicant: no token", "/antraege/" + closed.ID, "", nil, http.StatusForbidden,
			"Kein Zugang zu diesem Antrag", "No access to this application"},
		{"applicant: no case number", "/antraege/nichts", "", nil, http.StatusNotFound,
			"Antrag nicht gefunden", "Application not found"},
		{"applicant: withdrawing a decided case", "/antraege/" + closed.ID + "/zurueckziehen", "", applicant, http.StatusConflict,
			"kann nicht mehr zurückgezogen werden", "can no longer be withdrawn"},
		{"an unknown page", "/nirgendwo", "", nil, http.StatusNotFound, "Seite nicht gefunden", "Page not found"},
	}
	for _, tt := range tests {
		for lang, want := range map[string]string{"de-DE,de;q=0.9": tt.de, "en-GB,en;q=0.9": tt.en} {
			t.Run(tt.name+" "+lang[:2], func(t *testing.T) {
				r := httptest.NewRequest(http.MethodGet, tt.path, nil)
				r.Header.Set("Accept-Language", lang)
				if tt.session != "" {
					r.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: sessionOf(s, tt.session)})
				}
				if tt.cookie != nil {
					r.AddCookie(tt.cookie)
				}
				rec := httptest.NewRecorder()
				s.Handler().ServeHTTP(rec, r)
				body := rec.Body.String()
				if rec.Code != tt.status || !strings.Contains(body, want) {
					t.Errorf("%d, want %d with %q:\n%s", rec.Code, tt.status, want, body)
				}
				if !strings.Contains(body, `<html lang="`+lang[:2]+`"`) || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
					t.Errorf("not a %s page: %s", lang[:2], rec.Header().Get("Content-Type"))
				}
				if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") ||
					rec.Header().Get("X-Content-Type-Options") != "nosniff" {
					t.Errorf("security headers missing: %v", rec.Header())
				}
			})
		}
	}
}

// TestUnknownAPIPathsAnswerProblems: under /api an unknown path, also one
// the router cleans to /api, answers a problem document, not a page.
func TestUnknownAPIPathsAnswerProblems(t *testing.T) {
	s := newTestServer(t)
	for _, path := range []string{"/api", "/api/v1/nothing", "/api/v2"} {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusNotFound || rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s", path, rec.Code, rec.Header().Get("Content-Type"))
		}
	}
}
