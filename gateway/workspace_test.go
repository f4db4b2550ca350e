package gateway

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/internal/recordstest"
	"github.com/ozgflow/ozgflow/internal/redistest"
	"github.com/ozgflow/ozgflow/store"
)

// storeServer is a server on the Redis that `make test` provides, with a
// store of its own prefix; it fails loudly when Redis is missing.
func storeServer(tb testing.TB) (*Server, *store.Store) {
	tb.Helper()
	st := redistest.Store(tb, "gwtest:")
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		tb.Fatal(err)
	}
	s := New(Config{Secret: testSecret, Records: recordstest.Open(tb, "sqlite")}, nil, st, casework.StaticDefinitions{Reg: reg}, DevTokens(),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	return s, st
}

// seedQueue puts n open tasks into Leipzig's gewerbe queue, due one minute
// apart, every tenth claimed by sb-leipzig-2.
func seedQueue(tb testing.TB, st *store.Store, n int) {
	tb.Helper()
	start := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	tasks := make([]ozgflow.Task, n)
	for i := range tasks {
		caseID := uuid.NewString()
		tasks[i] = ozgflow.Task{ID: ozgflow.TaskID(caseID, "review", 1), CaseID: caseID, StepID: "review",
			Title: "Gewerbeanmeldung prüfen", Authority: "147130000000", Queue: "gewerbe", Service: "99050035001000",
			Status: ozgflow.TaskOpen, Priority: i % 4, Outcomes: []string{"approve", "reject"},
			CreatedAt: start.Add(-24 * time.Hour), DueAt: start.Add(time.Duration(i) * time.Minute)}
		if i%10 == 0 {
			tasks[i].Status, tasks[i].Assignee = ozgflow.TaskClaimed, "sb-leipzig-2"
		}
	}
	if err := st.SeedTasks(context.Background(), tasks); err != nil {
		tb.Fatal(err)
	}
}

func get(s *Server, path, session string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: sessionOf(s, session)})
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

func TestInboxShowsOnlyTheCaseWorkersQueues(t *testing.T) {
	s, st := storeServer(t)
	seedQueue(t, st, 60)
	// A task in the team lead's queue, which sb-leipzig-2 does not work.
	lead := ozgflow.Task{ID: "lead.review.1", CaseID: "lead", Title: "Eskaliert", Authority: "147130000000",
		Queue: "gewerbe-leitung", Service: "99050035001000", Status: ozgflow.TaskOpen, Priority: 3, DueAt: time.Now()}
	if err := st.SeedTasks(context.Background(), []ozgflow.Task{lead}); err != nil {
		t.Fatal(err)
	}
	page := get(s, "/arbeitskorb?queue=gewerbe", "dev-sb-leipzig")
	body := page.Body.String()
	if page.Code != http.StatusOK || !strings.Contains(body, "60 Aufgaben im Arbeitskorb Gewerbeangelegenheiten, Seite 1 von 3") ||
		strings.Count(body, `<tr data-task=`) != 25 { // one page of the list
		t.Fatalf("team lead's inbox: %d\n%s", page.Code, body)
	}
	if !strings.Contains(body, "Gewerbe – Sachgebietsleitung") {
		t.Error("the team lead does not see the team lead's queue")
	}
	reminded := ozgflow.Task{ID: "due.review.1", CaseID: "due", Title: "Bald fällig", Authority: "147130000000", Queue: "gewerbe",
		Service: "99050035001000", Status: ozgflow.TaskClaimed, Assignee: "sb-leipzig-2", DueAt: time.Now().Add(time.Hour), RemindedAt: time.Now()}
	if err := st.SeedTasks(context.Background(), []ozgflow.Task{reminded}); err != nil {
		t.Fatal(err)
	}
	if body := get(s, "/arbeitskorb", "dev-sb-leipzig-2").Body.String(); !strings.Contains(body, "Erinnerungen") ||
		!strings.Contains(body, "Bald fällig – Vorgang due") {
		t.Errorf("the assignee's inbox does not show the reminder:\n%s", body)
	}
	if body := get(s, "/arbeitskorb", "dev-sb-leipzig").Body.String(); strings.Contains(body, "Bald fällig – Vorgang due") {
		t.Error("someone else's reminder shows")
	}
	mine := get(s, "/arbeitskorb?queue=gewerbe&status=mine", "dev-sb-leipzig-2").Body.String()
	if !strings.Contains(mine, "7 Aufgaben im Arbeitskorb Gewerbeangelegenheiten") {
		t.Errorf("claimed by sb-leipzig-2:\n%s", mine)
	}
	colleague := get(s, "/arbeitskorb", "dev-sb-leipzig-2").Body.String()
	if strings.Contains(colleague, "gewerbe-leitung") || strings.Contains(colleague, "Sachgebietsleitung") || strings.Contains(colleague, "lead.review.1") {
		t.Error("a case worker sees a queue they do not work")
	}
	if res := get(s, "/arbeitskorb?queue=gewerbe-leitung", "dev-sb-leipzig-2"); res.Code != http.StatusNotFound {
		t.Errorf("foreign queue by URL: %d, want 404", res.Code)
	}
	if res := get(s, "/arbeitskorb?queue=gewerbe", "dev-sb-dresden"); strings.Contains(res.Body.String(), "data-task=") {
		t.Error("Dresden sees Leipzig's tasks")
	}
	if res := get(s, "/arbeitskorb", "dev-admin"); res.Code != http.StatusForbidden {
		t.Errorf("administrator's inbox: %d, want 403", res.Code)
	}
	if res := get(s, "/arbeitskorb", ""); res.Code != http.StatusSeeOther {
		t.Errorf("without session: %d, want a redirect to the sign-in", res.Code)
	}
}

func TestWorkspaceFormsCheckCSRF(t *testing.T) {
	s, _ := storeServer(t)
	for _, path := range []string{"/arbeitskorb/sammelaktion", "/arbeitskorb/aufgaben/x.review.1/uebernehmen"} {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader("csrf=forged&action=claim&ids=x.review.1"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: sessionOf(s, "dev-sb-leipzig")})
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "Formular ist nicht mehr gültig") {
			t.Errorf("%s with a forged token: %d", path, rec.Code)
		}
	}
}

// BenchmarkInboxFirstPage100k renders the first page of a queue holding
// 100,000 open tasks, as the case worker's browser asks for it, and reports
// the 99th percentile. Target: under 50 ms.
func BenchmarkInboxFirstPage100k(b *testing.B) {
	s, st := storeServer(b)
	seedQueue(b, st, 100_000)
	for _, bc := range []struct{ name, path string }{
		{"page", "/arbeitskorb?queue=gewerbe"},
		{"page-by-priority", "/arbeitskorb?queue=gewerbe&sort=priority"},
		{"page-open", "/arbeitskorb?queue=gewerbe&status=open"},
		{"api", "/api/v1/tasks?queue=gewerbe&limit=25"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			durations := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				var res *httptest.ResponseRecorder
				if strings.HasPrefix(bc.path, "/api/") {
					req := httptest.NewRequest(http.MethodGet, bc.path, nil)
					req.Header.Set("Authorization", "Bearer dev-sb-leipzig")
					res = httptest.NewRecorder()
					s.Handler().ServeHTTP(res, req)
				} else {
					res = get(s, bc.path, "dev-sb-leipzig")
				}
				durations = append(durations, time.Since(start))
				if res.Code != http.StatusOK {
					b.Fatalf("%s: %d", bc.path, res.Code)
				}
			}
			reportPercentiles(b, durations)
		})
	}
}

func reportPercentiles(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	at := func(p float64) float64 {
		return float64(d[min(len(d)-1, int(float64(len(d))*p))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

func TestWorkspaceEventsStreamChangesOfVisibleCases(t *testing.T) {
	s, st := storeServer(t)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/arbeitskorb/ereignisse", nil)
	req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: sessionOf(s, "dev-sb-leipzig-2")})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); res.StatusCode != http.StatusOK || ct != "text/event-stream" {
		t.Fatalf("events: %d %s", res.StatusCode, ct)
	}
	lines := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := res.Body.Read(buf)
			for _, l := range strings.Split(string(buf[:n]), "\n") {
				lines <- l
			}
			if err != nil {
				close(lines)
				return
			}
		}
	}()
	save := func(id, queue string) {
		c := ozgflow.Case{ID: id, Revision: 1, Authority: "147130000000", Status: ozgflow.StatusInReview, Timeline: []ozgflow.Notice{},
			Tasks: []ozgflow.Task{{ID: id + ".review.1", CaseID: id, Authority: "147130000000", Queue: queue, Status: ozgflow.TaskOpen}}}
		if err := st.SaveCase(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	save("hidden", "gewerbe-leitung") // a queue sb-leipzig-2 does not work
	save("visible", "gewerbe")
	deadline := time.After(5 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("stream ended")
			}
			if strings.Contains(l, "hidden") {
				t.Fatalf("event of a case in a foreign queue: %q", l)
			}
			if l == "data: visible" {
				return
			}
		case <-deadline:
			t.Fatal("no event within 5 s")
		}
	}
}
