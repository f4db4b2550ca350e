package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/internal/recordstest"
	"github.com/ozgflow/ozgflow/records"
)

const secretContent = "Erika Mustermann, Musterstraße 1"

// auditedRouter is a router whose routes read a case, create one, act on
// a task, stream, refuse and touch nothing, as the caseworker sb.
func auditedRouter(db *records.DB) *mux.Router {
	a := Auditor{Records: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	sb := ozgflow.Identity{Subject: "sb-leipzig", Role: ozgflow.RoleCaseWorker, Authority: "147130000000"}
	r := mux.NewRouter()
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			req.RemoteAddr = "192.0.2.7:4711"
			next.ServeHTTP(w, req.WithContext(ozgflow.NewContextWithIdentity(req.Context(), sb)))
		})
	})
	content := func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, secretContent) }
	r.Handle("/api/v1/applications/{id}", a.Declare(Reads("case.read"), content)).Methods(http.MethodGet)
	r.Handle("/seite/{caseId}", a.Declare(Reads("case.read"), content)).Methods(http.MethodGet)
	r.Handle("/api/v1/applications", a.Declare(Changes("case.submit"), func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Location", "/api/v1/applications/c-new")
		w.WriteHeader(http.StatusCreated)
	})).Methods(http.MethodPost)
	r.Handle("/api/v1/tasks/{taskId}/claim", a.Declare(Changes("task.claim"), content)).Methods(http.MethodPost)
	r.Handle("/api/v1/refused/{id}", a.Declare(Reads("case.read"), func(w http.ResponseWriter, _ *http.Request) {
		WriteProblem(w, NewProblem(ozgflow.Errorf(ozgflow.ENOTFOUND, "Application not found.")))
	})).Methods(http.MethodGet)
	r.Handle("/api/v1/webhook", a.Declare(Changes("webhook.payment").By(ozgflow.Identity{Subject: "payment-provider", Role: ozgflow.RoleProvider}),
		func(w http.ResponseWriter, req *http.Request) {
			NoteCase(req.Context(), "c-paid")
			w.WriteHeader(http.StatusNoContent)
		})).Methods(http.MethodPost)
	r.Handle("/stream/{id}", a.Declare(Reads("case.events").Streaming(), func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: "+secretContent+"\n\n")
	})).Methods(http.MethodGet)
	r.Handle("/healthz", a.Declare(NoPersonalData, content)).Methods(http.MethodGet)
	return r
}

func TestAuditedRoutesWriteOneEntryPerSuccess(t *testing.T) {
	db := recordstest.Open(t, "sqlite")
	router := auditedRouter(db)
	tests := []struct {
		name, method, path string
		status             int
		want               *records.Entry // nil: no entry
	}{
		{"a read of a case", http.MethodGet, "/api/v1/applications/c-1", http.StatusOK,
			&records.Entry{CaseID: "c-1", Action: "case.read", Detail: "GET /api/v1/applications/{id}"}},
		{"a page of a case", http.MethodGet, "/seite/c-2", http.StatusOK,
			&records.Entry{CaseID: "c-2", Action: "case.read", Detail: "GET /seite/{caseId}"}},
		{"a submission names the case it created", http.MethodPost, "/api/v1/applications", http.StatusCreated,
			&records.Entry{CaseID: "c-new", Action: "case.submit", Detail: "POST /api/v1/applications"}},
		{"a task's case", http.MethodPost, "/api/v1/tasks/c-3.review.1/claim", http.StatusOK,
			&records.Entry{CaseID: "c-3", Action: "task.claim", Detail: "POST /api/v1/tasks/{taskId}/claim; task c-3.review.1"}},
		{"a refusal writes nothing", http.MethodGet, "/api/v1/refused/c-4", http.StatusNotFound, nil},
		{"a stream", http.MethodGet, "/stream/c-5", http.StatusOK,
			&records.Entry{CaseID: "c-5", Action: "case.events", Detail: "GET /stream/{id}"}},
		{"no personal data, no entry", http.MethodGet, "/healthz", http.StatusOK, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, err := db.Trail(t.Context(), records.TrailQuery{Limit: 10000})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			router.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			var after int64
			if len(before) > 0 {
				after = before[len(before)-1].ID
			}
			added, err := db.Trail(t.Context(), records.TrailQuery{After: after})
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				if len(added) != 0 {
					t.Fatalf("entries written: %+v", added)
				}
				return
			}
			if len(added) != 1 {
				t.Fatalf("%d entries written, want 1: %+v", len(added), added)
			}
			got := added[0]
			if got.Actor != "sb-leipzig" || got.Role != "caseworker" || got.Authority != "147130000000" ||
				got.CaseID != tt.want.CaseID || got.Action != tt.want.Action || got.Detail != tt.want.Detail ||
				got.Address != "192.0.2.7" || got.At.IsZero() {
				t.Errorf("entry %+v, want case %q, action %q, detail %q by sb-leipzig from 192.0.2.7",
					got, tt.want.CaseID, tt.want.Action, tt.want.Detail)
			}
			if strings.Contains(got.Detail, "Mustermann") {
				t.Errorf("the entry holds what was read: %q", got.Detail)
			}
		})
	}
}

// TestWebhookEntriesNameTheSystem: a signed webhook carries no identity;
// its entry names the provider and the case its payload named.
func TestWebhookEntriesNameTheSystem(t *testing.T) {
	db := recordstest.Open(t, "sqlite")
	router := mux.NewRouter()
	a := Auditor{Records: db}
	router.Handle("/api/v1/webhook", a.Declare(Changes("webhook.payment").By(ozgflow.Identity{Subject: "payment-provider", Role: ozgflow.RoleProvider}),
		func(w http.ResponseWriter, req *http.Request) {
			NoteCase(req.Context(), "c-paid")
			w.WriteHeader(http.StatusNoContent)
		}))
	rec := httptest.NewRecorder()
	router.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/webhook", nil))
	entries, err := db.Trail(t.Context(), records.TrailQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusNoContent || len(entries) != 1 || entries[0].Actor != "payment-provider" ||
		entries[0].Role != "provider" || entries[0].CaseID != "c-paid" {
		t.Errorf("%d, entries %+v", rec.Code, entries)
	}
}

// TestAnAuditedAnswerWithoutItsEntryIsWithheld: when the trail cannot be
// written, an audited request is answered 503 (a problem document for the
// API, a page otherwise), and what the handler answered does not leave.
func TestAnAuditedAnswerWithoutItsEntryIsWithheld(t *testing.T) {
	db := recordstest.Open(t, "sqlite")
	router := auditedRouter(db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/applications/c-1", "/seite/c-1", "/stream/c-1"} {
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		body := rec.Body.String()
		if rec.Code != http.StatusServiceUnavailable || strings.Contains(body, "Mustermann") {
			t.Errorf("%s: %d\n%s", path, rec.Code, body)
		}
		wantType := "text/html"
		if strings.HasPrefix(path, "/api/") {
			wantType = "application/problem+json"
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, wantType) {
			t.Errorf("%s: Content-Type %q, want %s", path, ct, wantType)
		}
	}
	// A route without personal data does not need the trail.
	rec := httptest.NewRecorder()
	router.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("/healthz: %d", rec.Code)
	}
	// Nor does a refusal, which writes nothing.
	rec = httptest.NewRecorder()
	router.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/refused/c-1", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("refused: %d", rec.Code)
	}
}

// TestUndeclaredRoutesAreFound: a route registered without a declaration
// is named, a declared one is not.
func TestUndeclaredRoutesAreFound(t *testing.T) {
	r := mux.NewRouter()
	sub := r.PathPrefix("/api").Subrouter()
	sub.Handle("/declared", Auditor{}.Declare(Reads("case.read"), func(http.ResponseWriter, *http.Request) {})).Methods(http.MethodGet)
	sub.HandleFunc("/forgotten", func(http.ResponseWriter, *http.Request) {}).Methods(http.MethodGet, http.MethodPost)
	got := strings.Join(Undeclared(r), ", ")
	if got != "GET /api/forgotten, POST /api/forgotten" {
		t.Errorf("Undeclared = %q", got)
	}
}

func TestTrailQueryIsChecked(t *testing.T) {
	tests := []struct {
		query, pointers string
	}{
		{"case=c-1&from=2026-11-01&to=2026-11-30&format=csv", ""},
		{"actor=sb-leipzig&from=2026-11-01T08:00:00%2B01:00&format=xlsx", ""},
		{"from=gestern", "?from"},
		{"from=2026-11-30&to=2026-11-01", "?to"},
		{"to=2026-13-01&format=pdf", "?format ?to"},
		{"case=" + strings.Repeat("x", 300), "?case"},
	}
	for _, tt := range tests {
		q, _, err := TrailQueryOf(httptest.NewRequest(http.MethodGet, "/api/v1/trail?"+tt.query, nil))
		var got []string
		for _, f := range ozgflow.ErrorFields(err) {
			got = append(got, f.Pointer)
		}
		if strings.Join(got, " ") != tt.pointers {
			t.Errorf("%s: problems at %v, want %q", tt.query, got, tt.pointers)
		}
		if err != nil && ozgflow.ErrorCode(err) != ozgflow.EINVALID {
			t.Errorf("%s: code %s", tt.query, ozgflow.ErrorCode(err))
		}
		if tt.query == "case=c-1&from=2026-11-01&to=2026-11-30&format=csv" {
			// Dates count in Berlin: 1 November 00:00 CET is 23:00 UTC the day before; "to" includes the day.
			if q.From.Format("2006-01-02T15:04") != "2026-10-31T23:00" || q.To.Format("2006-01-02T15:04") != "2026-11-30T23:00" {
				t.Errorf("period %s – %s", q.From, q.To)
			}
		}
	}
}

// TestHeldAnswersKeepEarlierCookies: a cookie set before the route (the
// Identifier's ending of a session) and the route's own both leave.
func TestHeldAnswersKeepEarlierCookies(t *testing.T) {
	db := recordstest.Open(t, "sqlite")
	a := Auditor{Records: db}
	r := mux.NewRouter()
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "before", Value: "", MaxAge: -1})
			next.ServeHTTP(w, req)
		})
	})
	r.Handle("/x/{id}", a.Declare(Reads("case.read"), func(w http.ResponseWriter, _ *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "route", Value: "1"})
		w.WriteHeader(http.StatusOK)
	}))
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x/c-1", nil))
	var names []string
	for _, ck := range rec.Result().Cookies() {
		names = append(names, ck.Name)
	}
	if strings.Join(names, " ") != "before route" {
		t.Errorf("cookies %v, want before and route", names)
	}
}
