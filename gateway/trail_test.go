package gateway

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/mock"
	"github.com/xuri/excelize/v2"
	"go.temporal.io/sdk/mocks"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
	"github.com/ozgflow/ozgflow/gateway/api"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/internal/recordstest"
	"github.com/ozgflow/ozgflow/internal/redistest"
	"github.com/ozgflow/ozgflow/metrics"
	"github.com/ozgflow/ozgflow/records"
	"github.com/ozgflow/ozgflow/test/access"
)

// TestEveryRouteDeclaresItsUseOfPersonalData walks the router: every route
// declares what it does with personal data (web.Auditor.Declare), and the
// action its entries carry is the one test/access declares for it. A route
// registered without a declaration fails here (and the gateway's start).
func TestEveryRouteDeclaresItsUseOfPersonalData(t *testing.T) {
	actions, err := access.Actions()
	if err != nil {
		t.Fatal(err)
	}
	for route, declared := range access.Refined {
		actions[route] = declared
	}
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	// With metrics, as `dev` and the gateway run, so /metrics is routed too.
	s := New(Config{Secret: testSecret, Records: recordstest.Open(t, "sqlite"), Metrics: metrics.New(), FITConnect: fitConnectConfig(t)}, nil, nil,
		casework.StaticDefinitions{Reg: reg}, DevTokens(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	seen := map[string]bool{}
	err = s.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		h := route.GetHandler()
		if h == nil {
			return nil // a room
		}
		tmpl, err := route.GetPathTemplate()
		if err != nil {
			return err
		}
		use, ok := web.DeclarationOf(h)
		methods, _ := route.GetMethods()
		if !ok {
			t.Errorf("%v %s does not declare its use of personal data (web.Auditor.Declare)", methods, tmpl)
			return nil
		}
		if len(methods) == 0 {
			if use.Audited() {
				t.Errorf("%s answers any method with an entry %q; the answer to a wrong method touches no personal data", tmpl, use.Action)
			}
			return nil
		}
		for _, m := range methods {
			key := m + " " + tmpl
			seen[key] = true
			want, ok := actions[key]
			switch {
			case !ok:
				t.Errorf("%s has no line in test/access's Trail: declare what it writes to the audit trail", key)
			case use.Action != want:
				t.Errorf("%s declares %q (%s), test/access's Trail %q", key, use.Action, use.Kind(), want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for key := range actions {
		if !seen[key] {
			t.Errorf("test/access's Trail declares %s, which the router does not have", key)
		}
	}
	if got := web.Undeclared(s.router); len(got) > 0 {
		t.Errorf("undeclared routes: %v", got)
	}
}

// trailServer is a server on Redis and a records database of its own,
// with the trail seeded by entries of three people over three days.
func trailServer(t *testing.T, tc *mocks.Client) (*Server, *records.DB, []records.Entry) {
	t.Helper()
	st := redistest.Store(t, "gwtrail:")
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	db := recordstest.Open(t, "sqlite")
	var temporal = tc
	if temporal == nil {
		temporal = &mocks.Client{}
	}
	s := New(Config{Secret: testSecret, Records: db, DemoSignIn: true}, temporal, st, casework.StaticDefinitions{Reg: reg}, DevTokens(),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	day := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for _, e := range []records.Entry{
		{At: day, Actor: "sb-leipzig", Role: "caseworker", Authority: "147130000000", CaseID: "case-a", Action: "case.read", Detail: "GET /x", Address: "192.0.2.1"},
		{At: day.Add(time.Hour), Actor: "applicant:case-a", Role: "applicant", CaseID: "case-a", Account: "amt24-anna", Action: "case.respond", Detail: "POST /y", Address: "192.0.2.2"},
		{At: day.AddDate(0, 0, 1), Actor: "sb-leipzig", Role: "caseworker", Authority: "147130000000", CaseID: "case-b", Action: "task.claim", Detail: "=HYPERLINK(\"x\")", Address: "192.0.2.1"},
		{At: day.AddDate(0, 0, 2), Actor: "admin", Role: "admin", CaseID: "case-b", Action: "case.read", Detail: "GET /x", Address: "192.0.2.3"},
	} {
		if err := db.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	seeded, err := db.Trail(context.Background(), records.TrailQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return s, db, seeded
}

func bearerGet(s *Server, target, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

// TestTrailExport: the data protection role exports the trail chosen by
// case, person and period as CSV, xlsx and JSON, with German headings; the
// export is itself an entry; nobody else exports; bad choices are refused
// with the parameter named.
func TestTrailExport(t *testing.T) {
	s, db, _ := trailServer(t, nil)

	// Per case, as CSV.
	rec := bearerGet(s, "/api/v1/trail?case=case-a&format=csv", "dev-datenschutz")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s\n%s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	rows, err := csv.NewReader(bytes.NewReader(rec.Body.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows[0], api.TrailColumns) || rows[0][1] != "Zeit" || rows[0][2] != "Wer" {
		t.Errorf("headings %v", rows[0])
	}
	if len(rows) != 3 || rows[1][5] != "case-a" || rows[2][5] != "case-a" || rows[2][2] != "applicant:case-a" || rows[2][6] != "amt24-anna" {
		t.Errorf("csv rows of case-a: %v", rows)
	}
	if rows[1][1] != "2026-11-02T10:00:00+01:00" {
		t.Errorf("time %q, want it in Europe/Berlin", rows[1][1])
	}

	// Per person, as xlsx.
	rec = bearerGet(s, "/api/v1/trail?actor=sb-leipzig&format=xlsx", "dev-datenschutz")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != web.XLSXType {
		t.Fatalf("xlsx: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	book, err := excelize.OpenReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	sheet, err := book.GetRows("Protokoll")
	if err != nil {
		t.Fatal(err)
	}
	if len(sheet) != 3 || sheet[0][7] != "Aktion" || sheet[1][2] != "sb-leipzig" || sheet[2][2] != "sb-leipzig" ||
		sheet[1][7] != "case.read" || sheet[2][7] != "task.claim" {
		t.Errorf("xlsx rows of sb-leipzig: %v", sheet)
	}

	// Per period, as JSON: 3 November in Berlin holds the claim only.
	rec = bearerGet(s, "/api/v1/trail?from=2026-11-03&to=2026-11-03", "dev-datenschutz")
	var doc struct{ Entries []records.Entry }
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("json: %d %v\n%s", rec.Code, err, rec.Body)
	}
	if len(doc.Entries) != 1 || doc.Entries[0].Action != "task.claim" {
		t.Errorf("3 November: %+v", doc.Entries)
	}
	// A period as RFC 3339 times, with the CSV's guard against formulas.
	rec = bearerGet(s, "/api/v1/trail?format=csv&from="+url.QueryEscape("2026-11-03T00:00:00Z")+"&to="+url.QueryEscape("2026-11-03T12:00:00Z"), "dev-datenschutz")
	rows, _ = csv.NewReader(bytes.NewReader(rec.Body.Bytes())).ReadAll()
	if len(rows) != 2 || rows[1][8] != `'=HYPERLINK("x")` {
		t.Errorf("RFC 3339 period: %v", rows)
	}

	// The exports are in the trail, by the data protection officer.
	exports, err := db.Trail(context.Background(), records.TrailQuery{Actor: "datenschutz"})
	if err != nil {
		t.Fatal(err)
	}
	if len(exports) != 4 || exports[0].Action != "trail.export" || exports[0].Role != "dataprotection" || exports[0].CaseID != "case-a" ||
		!strings.Contains(exports[1].Detail, "xlsx") {
		t.Errorf("the exports' entries: %+v", exports)
	}

	// Refusals: bad input names its parameter; others may not export.
	for _, tt := range []struct {
		query, token string
		status       int
		pointer      string
	}{
		{"from=gestern", "dev-datenschutz", http.StatusBadRequest, "?from"},
		{"to=2026-02-30", "dev-datenschutz", http.StatusBadRequest, "?to"},
		{"format=pdf", "dev-datenschutz", http.StatusBadRequest, "?format"},
		{"from=2026-11-05&to=2026-11-01", "dev-datenschutz", http.StatusBadRequest, "?to"},
		{"", "dev-admin", http.StatusForbidden, ""},
		{"", "dev-sb-leipzig", http.StatusForbidden, ""},
		{"", "dev-portal", http.StatusForbidden, ""},
		{"", "dev-fachverfahren", http.StatusForbidden, ""},
		{"", "", http.StatusUnauthorized, ""},
	} {
		rec := bearerGet(s, "/api/v1/trail?"+tt.query, tt.token)
		if rec.Code != tt.status || rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%q as %q: %d %s, want %d", tt.query, tt.token, rec.Code, rec.Header().Get("Content-Type"), tt.status)
			continue
		}
		if tt.pointer != "" && !strings.Contains(rec.Body.String(), `"pointer":"`+tt.pointer+`"`) {
			t.Errorf("%q: the problem does not point at %s: %s", tt.query, tt.pointer, rec.Body)
		}
	}
	after, _ := db.Trail(context.Background(), records.TrailQuery{Actor: "datenschutz"})
	if len(after) != len(exports) {
		t.Errorf("refused exports were recorded: %+v", after[len(exports):])
	}
}

// TestTrailPageLinksTheExport: the data protection role's page checks the
// choice and links to its CSV and xlsx export.
func TestTrailPageLinksTheExport(t *testing.T) {
	s, _, _ := trailServer(t, nil)
	rec := get(s, "/verwaltung/protokoll?case=case-a&from=2026-11-01&to=2026-11-30", "dev-datenschutz")
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, `href="/api/v1/trail?case=case-a&amp;format=csv&amp;from=2026-11-01&amp;to=2026-11-30"`) ||
		!strings.Contains(body, "format=xlsx") {
		t.Errorf("%d\n%s", rec.Code, body)
	}
	rec = get(s, "/verwaltung/protokoll?from=gestern", "dev-datenschutz")
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "?from") || strings.Contains(rec.Body.String(), "format=csv") {
		t.Errorf("a bad choice: %d\n%s", rec.Code, rec.Body)
	}
	if rec := get(s, "/verwaltung/protokoll", "dev-admin"); rec.Code != http.StatusForbidden {
		t.Errorf("an administrator: %d", rec.Code)
	}
}

// encodedInput is a query's answer holding what a case started with.
type encodedInput struct{ in definitions.CaseInput }

func (e encodedInput) HasValue() bool { return true }

func (e encodedInput) Get(v any) error {
	b, err := json.Marshal(e.in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// TestCasePageShowsTheTrail: the case worker sees on the case's page who
// read or changed it, when (Europe/Berlin), in which role, by which way and
// from where, in German;
// the reading is itself an entry, by the case worker, naming the case and
// its portal account.
func TestCasePageShowsTheTrail(t *testing.T) {
	tc := &mocks.Client{}
	tc.On("QueryWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(encodedInput{}, nil)
	s, db, _ := trailServer(t, tc)
	c := testCase(ozgflow.StatusInReview)
	c.ID = "4b0e2b57-6a1c-4a1e-9a39-3f4b1f7f2c11"
	if err := s.store.SaveCase(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 14, 5, 0, 0, time.UTC)
	if err := db.Append(context.Background(), records.Entry{At: at, Actor: "applicant:" + c.ID, Role: "applicant", CaseID: c.ID,
		Action: "case.respond", Detail: "POST /antraege/{id}/antwort", Address: "198.51.100.9"}); err != nil {
		t.Fatal(err)
	}
	rec := get(s, "/arbeitskorb/vorgaenge/"+c.ID, "dev-sb-leipzig")
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("%d\n%s", rec.Code, body)
	}
	i := strings.Index(body, `id="zugriffsprotokoll"`)
	if i < 0 {
		t.Fatalf("no trail on the page:\n%s", body)
	}
	// In German: who, in which role, what, by which way, from where.
	row := "<td>20.11.2026 15:05:00</td><td>Antragsteller/in</td><td>Antragsteller/in</td><td>Antwort gesendet</td><td>Antragsseite</td><td></td><td>198.51.100.9</td>"
	if !strings.Contains(body[i:], row) {
		t.Errorf("the trail lacks the answer's row %s:\n%s", row, body[i:])
	}
	reads, err := db.Trail(context.Background(), records.TrailQuery{CaseID: c.ID, Actor: "sb-leipzig"})
	if err != nil {
		t.Fatal(err)
	}
	if len(reads) != 1 || reads[0].Action != "case.read" || reads[0].Role != "caseworker" || reads[0].Account != "amt24-anna" {
		t.Errorf("the page's reading: %+v", reads)
	}

	// The API's trail of the case, for those who may see it.
	rec = bearerGet(s, "/api/v1/applications/"+c.ID+"/trail", "dev-admin")
	var doc struct {
		CaseID  string
		Entries []records.Entry
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || rec.Code != http.StatusOK || doc.CaseID != c.ID || len(doc.Entries) != 2 {
		t.Errorf("API trail: %d %v %+v", rec.Code, err, doc)
	}
	if rec := bearerGet(s, "/api/v1/applications/"+c.ID+"/trail", "dev-sb-dresden"); rec.Code != http.StatusNotFound {
		t.Errorf("a case worker of another authority: %d", rec.Code)
	}
	if rec := bearerGet(s, "/api/v1/applications/"+c.ID+"/trail", "dev-datenschutz"); rec.Code != http.StatusForbidden {
		t.Errorf("the data protection role reads no case: %d", rec.Code)
	}
}

// TestAuditedReadWithoutItsEntryIsWithheld: with the records database
// gone, a read of personal data is answered 503 and shows nothing of
// what it read; routes without personal data still answer.
func TestAuditedReadWithoutItsEntryIsWithheld(t *testing.T) {
	s, st := storeServer(t)
	seedQueue(t, st, 3)
	before := bearerGet(s, "/api/v1/tasks?queue=gewerbe", "dev-sb-leipzig")
	if before.Code != http.StatusOK || !strings.Contains(before.Body.String(), "Gewerbeanmeldung prüfen") {
		t.Fatalf("with the trail: %d\n%s", before.Code, before.Body)
	}
	if err := s.cfg.Records.Close(); err != nil {
		t.Fatal(err)
	}
	rec := bearerGet(s, "/api/v1/tasks?queue=gewerbe", "dev-sb-leipzig")
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Content-Type") != "application/problem+json" ||
		strings.Contains(rec.Body.String(), "Gewerbeanmeldung") {
		t.Errorf("API without the trail: %d %s\n%s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	page := get(s, "/arbeitskorb?queue=gewerbe", "dev-sb-leipzig")
	if page.Code != http.StatusServiceUnavailable || !strings.Contains(page.Body.String(), "Gerade nicht erreichbar") ||
		strings.Contains(page.Body.String(), "Gewerbeanmeldung prüfen") {
		t.Errorf("page without the trail: %d\n%s", page.Code, page.Body)
	}
	if rec := bearerGet(s, "/api/v1/queues", "dev-sb-leipzig"); rec.Code != http.StatusOK {
		t.Errorf("a route without personal data: %d", rec.Code)
	}
}

// TestSignInsAreInTheTrail: a sign-in, a refused one and a sign-out each
// leave their entry, with who, role and address.
func TestSignInsAreInTheTrail(t *testing.T) {
	s, db, seeded := trailServer(t, nil)
	binding := strings.Repeat("b", 40)
	signIn := func(token string) *httptest.ResponseRecorder {
		form := url.Values{"csrf": {formToken("signin csrf", binding)}, "token": {token}}
		req := httptest.NewRequest(http.MethodPost, "/anmelden", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "ozgflow_anmeldung", Value: binding})
		req.RemoteAddr = "203.0.113.5:1234"
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		return rec
	}
	if rec := signIn("nicht-bekannt"); rec.Code != http.StatusUnauthorized {
		t.Fatalf("unknown token: %d", rec.Code)
	}
	if rec := signIn("dev-portal"); rec.Code != http.StatusForbidden {
		t.Fatalf("a portal's token: %d", rec.Code)
	}
	rec := signIn("dev-datenschutz")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/verwaltung/protokoll" {
		t.Fatalf("sign-in: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	var session string
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == web.SessionCookie {
			session = ck.Value
		}
	}
	form := url.Values{"csrf": {formToken("csrf", session)}}
	req := httptest.NewRequest(http.MethodPost, "/abmelden", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: session})
	req.RemoteAddr = "203.0.113.5:1234"
	out := httptest.NewRecorder()
	s.Handler().ServeHTTP(out, req)
	if out.Code != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", out.Code)
	}
	entries, err := db.Trail(context.Background(), records.TrailQuery{After: seeded[len(seeded)-1].ID})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Action+" "+e.Actor+" "+e.Role+" "+e.Address)
	}
	want := []string{
		"signin.refused anonymous  203.0.113.5",
		"signin.refused portal-amt24 portal 203.0.113.5",
		"signin datenschutz dataprotection 203.0.113.5",
		"signout datenschutz dataprotection 203.0.113.5",
	}
	if !slices.Equal(got, want) {
		t.Errorf("entries\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTrailCannotBeChangedThroughAnyRoute: every route of the gateway, and
// the trail's own addresses, tried with every method that could change
// something by every kind of caller, leaves every entry of the trail as it
// was; requests only ever add entries. (The database itself refuses
// UPDATE, DELETE and TRUNCATE: records.TestTrailIsAppendOnly.)
func TestTrailCannotBeChangedThroughAnyRoute(t *testing.T) {
	s, db, seeded := trailServer(t, nil)
	caseID := "case-a"
	fill := strings.NewReplacer("{id}", caseID, "{caseId}", caseID, "{taskId}", caseID+".review.1", "{account}", "amt24-anna",
		"{noticeId}", caseID+"-1", "{version}", "1", "{action}", "uebernehmen")
	paths := map[string]bool{"/api/v1/trail": true, "/api/v1/applications/" + caseID + "/trail": true,
		"/api/v1/trail/1": true, "/verwaltung/protokoll": true}
	_ = s.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		if tmpl, err := route.GetPathTemplate(); err == nil && route.GetHandler() != nil {
			paths[fill.Replace(tmpl)] = true
		}
		return nil
	})
	callers := map[string][]func(*http.Request){
		"nobody": nil,
	}
	for _, token := range []string{"dev-datenschutz", "dev-admin", "dev-sb-leipzig", "dev-portal", "dev-fachverfahren"} {
		callers[token+" (bearer)"] = []func(*http.Request){func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }}
	}
	for _, token := range []string{"dev-datenschutz", "dev-admin", "dev-sb-leipzig"} {
		session := sessionOf(s, token)
		callers[token+" (session)"] = []func(*http.Request){func(r *http.Request) {
			r.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: session})
		}}
	}
	bodies := []string{`{}`, `{"id":1,"action":"nothing","actor":"x"}`, `[]`}
	tried := 0
	for path := range paths {
		for _, method := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodPost} {
			for name, presents := range callers {
				for _, body := range bodies {
					req := httptest.NewRequest(method, path, strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					for _, p := range presents {
						p(req)
					}
					rec := httptest.NewRecorder()
					s.Handler().ServeHTTP(rec, req)
					tried++
					if strings.Contains(path, "trail") || strings.Contains(path, "protokoll") {
						if rec.Code < 400 {
							t.Errorf("%s %s as %s: %d, want a refusal", method, path, name, rec.Code)
						}
					}
				}
			}
		}
	}
	after, err := db.Trail(context.Background(), records.TrailQuery{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) < len(seeded) || !reflect.DeepEqual(after[:len(seeded)], seeded) {
		t.Fatalf("the trail changed: before\n%+v\nafter\n%+v", seeded, after[:min(len(after), len(seeded))])
	}
	for i, e := range after {
		if e.ID <= 0 || (i > 0 && e.ID <= after[i-1].ID) {
			t.Errorf("entry %d out of order: %+v", i, e)
		}
	}
	t.Logf("%d requests on %d paths; %d entries before, %d after (appended only)", tried, len(paths), len(seeded), len(after))
}
