package gateway

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/internal/recordstest"
	"github.com/ozgflow/ozgflow/internal/redistest"
)

// TestEachRoomTakesItsOwnCredentials: identity is established once, but a
// room counts only the credentials it accepts: access tokens in the address
// and the applicant's cookie open the applicant's pages and the receipt's
// download, not the rest of the API; staff pages take only the session.
func TestEachRoomTakesItsOwnCredentials(t *testing.T) {
	c := testCase(ozgflow.StatusInReview)
	s, token := citizenServer(t, c)
	link := "?token=" + url.QueryEscape(token)
	applicant := &http.Cookie{Name: web.ApplicantCookie, Value: token}
	tests := []struct {
		name, method, path, bearer string
		cookies                    []*http.Cookie
		want                       int
	}{
		{"the case by the token in the address", http.MethodGet, "/api/v1/applications/" + c.ID + link, "", nil, http.StatusUnauthorized},
		{"the case by the applicant's cookie", http.MethodGet, "/api/v1/applications/" + c.ID, "", []*http.Cookie{applicant}, http.StatusUnauthorized},
		{"the case by the access token", http.MethodGet, "/api/v1/applications/" + c.ID, token, nil, http.StatusOK},
		{"the case for a portal client", http.MethodGet, "/api/v1/applications/" + c.ID, "dev-portal", nil, http.StatusNotFound},
		{"the case for a case worker of another authority", http.MethodGet, "/api/v1/applications/" + c.ID, "dev-sb-dresden", nil, http.StatusNotFound},
		{"the case for the staff session", http.MethodGet, "/api/v1/applications/" + c.ID, "",
			[]*http.Cookie{{Name: web.SessionCookie, Value: sessionOf(s, "dev-sb-leipzig")}}, http.StatusOK},
		{"a change by the staff session", http.MethodPost, "/api/v1/tasks/bulk", "",
			[]*http.Cookie{{Name: web.SessionCookie, Value: sessionOf(s, "dev-sb-leipzig")}}, http.StatusUnauthorized},
		{"the status page by the applicant's cookie", http.MethodGet, "/antraege/" + c.ID, "", []*http.Cookie{applicant}, http.StatusOK},
		{"the status page by a bearer token", http.MethodGet, "/antraege/" + c.ID, token, nil, http.StatusForbidden},
		{"the Arbeitskorb with a stray link token", http.MethodGet, "/arbeitskorb?token=at_x", "",
			[]*http.Cookie{{Name: web.SessionCookie, Value: sessionOf(s, "dev-sb-leipzig")}}, http.StatusOK},
		{"the Arbeitskorb by a bearer token", http.MethodGet, "/arbeitskorb", "dev-sb-leipzig", nil, http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.bearer != "" {
				r.Header.Set("Authorization", "Bearer "+tt.bearer)
			}
			for _, ck := range tt.cookies {
				r.AddCookie(ck)
			}
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, r)
			if rec.Code != tt.want {
				t.Errorf("%s %s: %d, want %d", tt.method, tt.path, rec.Code, tt.want)
			}
		})
	}
}

// TestMultipartFormsCheckCSRF: a multipart body does not skip the form
// token on the applicant's plain forms (withdraw, payment).
func TestMultipartFormsCheckCSRF(t *testing.T) {
	c := testCase(ozgflow.StatusAwaitingPayment)
	s, token := citizenServer(t, c)
	for _, path := range []string{"/antraege/" + c.ID + "/zurueckziehen", "/antraege/" + c.ID + "/zahlung"} {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("reason", "ohne Formularschlüssel")
		_ = mw.Close()
		r := httptest.NewRequest(http.MethodPost, path, &body)
		r.Header.Set("Content-Type", mw.FormDataContentType())
		r.AddCookie(&http.Cookie{Name: web.ApplicantCookie, Value: token})
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, r)
		if rec.Code != http.StatusForbidden {
			t.Errorf("%s without a token: %d, want 403", path, rec.Code)
		}
	}
}

// TestAnAdministratingCaseWorkerWorksOnlyTheirQueues: a case worker who
// also administers sees every task of the authority, but claims only in
// the queues they work; anywhere else the task is not theirs (404).
func TestAnAdministratingCaseWorkerWorksOnlyTheirQueues(t *testing.T) {
	st := redistest.Store(t, "gwboth:")
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	both := ozgflow.Identity{Subject: "both", Name: "Beide", Role: ozgflow.RoleCaseWorker, Authority: "147130000000",
		Queues: []string{"parken"}, Roles: []ozgflow.Role{ozgflow.RoleAdmin}}
	s := New(Config{Secret: testSecret, Records: recordstest.Open(t, "sqlite")}, nil, st, casework.StaticDefinitions{Reg: reg}, web.StaticTokens{"both": both},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	c := testCase(ozgflow.StatusInReview)
	task := ozgflow.Task{ID: ozgflow.TaskID(c.ID, "review", 1), CaseID: c.ID, StepID: "review", Authority: c.Authority,
		Queue: "gewerbe-leitung", Status: ozgflow.TaskOpen, Outcomes: []string{"approve", "reject"}}
	c.Tasks = []ozgflow.Task{task}
	if err := st.SaveCase(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	serve := func(method, path string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, nil)
		r.Header.Set("Authorization", "Bearer both")
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, r)
		return rec
	}
	if rec := serve(http.MethodGet, "/api/v1/applications/"+c.ID); rec.Code != http.StatusOK {
		t.Errorf("reading the case as administrator: %d", rec.Code)
	}
	if rec := serve(http.MethodPost, "/api/v1/tasks/"+task.ID+"/claim"); rec.Code != http.StatusNotFound {
		t.Errorf("claiming outside the own queues: %d %s, want 404", rec.Code, rec.Body.String())
	}
}
