package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow/records"
	"github.com/ozgflow/ozgflow/test/access"
)

// The demo identities that play the callers of the access matrix; none and
// junk hold no identity, the applicants hold access tokens.
var accessTokens = map[string]string{
	"port": "dev-portal", "port2": "dev-portal-2",
	"sb": "dev-sb-leipzig", "sbX": "dev-sb-dresden", "sbQ": "dev-sb-leipzig-2", "admin": "dev-admin",
	"sys": "dev-fachverfahren-leipzig", "sysX": "dev-fachverfahren-dresden", "dp": "dev-datenschutz",
}

// staffCallers sign in to the staff pages.
var staffCallers = []string{"sb", "sbX", "sbQ", "admin", "dp"}

// accessActors are the callers as `dev`'s audit trail names them: subject
// and role (gateway.DevTokens); the applicants are named by their case.
var accessActors = map[string][2]string{
	"port": {"portal-amt24", "portal"}, "port2": {"portal-zwei", "portal"},
	"sb": {"sb-leipzig", "caseworker"}, "sbX": {"sb-dresden", "caseworker"}, "sbQ": {"sb-leipzig-2", "caseworker"},
	"admin": {"admin", "admin"}, "sys": {"fachverfahren-leipzig", "system"}, "sysX": {"fachverfahren-dresden", "system"},
	"dp": {"datenschutz", "dataprotection"},
}

// accessLast are the routes whose harmless body still ends something the
// other cells need: the case (withdrawn) and the staff sessions (signed
// out). They run last, in this order.
var accessLast = []string{
	"POST /api/v1/applications/{id}/withdraw",
	"POST /antraege/{id}/zurueckziehen",
	"POST /abmelden",
}

// withProvider are the answers of the sign-in routes, the same for every
// caller, on a gateway whose staff sign in at an identity provider (the
// matrix declares dev's, which signs in with the demo form): the demo form
// signs no one in, the provider's way starts for anyone, and a return that
// no sign-in started is refused.
var withProvider = map[string]access.Answer{
	"POST /anmelden":          "403",
	"GET /anmelden/oidc":      access.Admitted,
	"GET /anmelden/rueckkehr": "401",
}

// accessAuthorityRoutes list an authority's queues, tasks or figures; the
// matrix names Leipzig, which administrators must and case workers may.
var accessAuthorityRoutes = []string{
	"/api/v1/queues", "/api/v1/tasks", "/api/v1/tasks/export.xlsx",
	"/api/v1/reports/cases.xlsx", "/api/v1/reports/statistics.xlsx",
}

// leastPrivilege tries every caller of the access matrix (test/access) on
// every route of the gateway against a real case and holds each answer to
// the declared one; the log's last line says how many cells it tried.
func leastPrivilege(t *testing.T, st *Stack) {
	routes, err := access.Routes()
	if err != nil {
		t.Fatal(err)
	}
	slices.SortStableFunc(routes, func(a, b access.Route) int {
		return slices.Index(accessLast, a.String()) - slices.Index(accessLast, b.String())
	})
	actions, err := access.Actions()
	if err != nil {
		t.Fatal(err)
	}
	fx := st.accessFixture(t)
	trail := fx.trailCursor(t)
	cells, violations, entries := 0, 0, 0
	for _, r := range routes {
		for i, c := range access.Callers {
			cells++
			got := fx.try(t, r, c.Name)
			entries += trail.check(t, fx, r, c.Name, actions[r.String()], got)
			want := r.Want[i]
			if answer, ok := withProvider[r.String()]; ok && st.Tokens != nil {
				want = answer
			}
			if !want.Matches(got.Status, got.Location) {
				violations++
				excerpt := strings.Join(strings.Fields(got.Body), " ")
				if len(excerpt) > 300 {
					excerpt = excerpt[:300] + "…"
				}
				t.Errorf("%s as %s (%s): got %d %s, declared %s\n%s", r, c.Name, c.Who, got.Status, got.Location, want, excerpt)
			}
		}
	}
	t.Logf("access matrix: %d routes × %d callers = %d cells, %d violations", len(routes), len(access.Callers), cells, violations)
	if st.Records != nil {
		t.Logf("audit trail: %d entries, each of an admitted request of a route that reads or changes personal data", entries)
	}
}

// trailCursor follows the audit trail from its end, as the matrix's cells
// add to it.
type trailCursor struct {
	db    *records.DB
	after int64
}

func (fx *accessFixture) trailCursor(t *testing.T) *trailCursor {
	t.Helper()
	c := &trailCursor{db: fx.st.Records}
	if c.db != nil {
		c.added(t)
	}
	return c
}

// added returns the entries written since the last call.
func (c *trailCursor) added(t *testing.T) []records.Entry {
	t.Helper()
	var out []records.Entry
	for {
		page, err := c.db.Trail(context.Background(), records.TrailQuery{After: c.after, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page...)
		if len(page) > 0 {
			c.after = page[len(page)-1].ID
		}
		if len(page) < 1000 {
			return out
		}
	}
}

// check holds a cell to the audit trail: an admitted request (2xx, or a
// redirect other than to the sign-in page) of a route that reads or
// changes personal data wrote exactly one entry, with the route's action,
// the caller as actor and the case; any other request wrote none. It
// returns the number of entries the cell wrote.
func (c *trailCursor) check(t *testing.T, fx *accessFixture, r access.Route, caller, action string, got accessAnswer) int {
	t.Helper()
	if c.db == nil {
		return 0
	}
	var mine []records.Entry
	for _, e := range c.added(t) {
		// The route's own entries; a refused sign-in is an entry of its own.
		if e.Detail == r.String() || strings.HasPrefix(e.Detail, r.String()+"; ") {
			mine = append(mine, e)
		}
	}
	toSignIn := got.Status == http.StatusSeeOther && strings.HasPrefix(got.Location, "/anmelden") && !strings.Contains(got.Location, "hinweis=")
	admitted := got.Status >= 200 && got.Status < 400 && !toSignIn
	if action == "" || !admitted {
		if len(mine) > 0 {
			t.Errorf("%s as %s (%d): wrote %d entries to the audit trail, want none: %+v", r, caller, got.Status, len(mine), mine)
		}
		return 0
	}
	if len(mine) != 1 {
		t.Errorf("%s as %s (%d): wrote %d entries to the audit trail, want one %q: %+v", r, caller, got.Status, len(mine), action, mine)
		return len(mine)
	}
	e := mine[0]
	if e.Action != action {
		t.Errorf("%s as %s: entry %q, want %q", r, caller, e.Action, action)
	}
	if fx.st.Tokens == nil {
		want, ok := accessActors[caller]
		switch caller {
		case "appl":
			want, ok = [2]string{"applicant:" + fx.caseID, "applicant"}, true
		case "appl2":
			want, ok = [2]string{"applicant:" + fx.otherID, "applicant"}, true
		}
		if ok && (e.Actor != want[0] || e.Role != want[1]) {
			t.Errorf("%s as %s: entry by %s (%s), want %s (%s)", r, caller, e.Actor, e.Role, want[0], want[1])
		}
	}
	caseRoute := strings.Contains(r.Path, "{caseId}") || strings.Contains(r.Path, "{taskId}") ||
		(strings.Contains(r.Path, "{id}") && !strings.Contains(r.Path, "/portal-events/") && !strings.Contains(r.Path, "/zustellungen/") &&
			!strings.Contains(r.Path, "/definitions/") && !strings.Contains(r.Path, "/definitionen/"))
	switch {
	case caseRoute && e.CaseID != fx.caseID:
		t.Errorf("%s as %s: entry names case %q, want %q", r, caller, e.CaseID, fx.caseID)
	case r.String() == "POST /api/v1/applications" && e.CaseID == "":
		t.Errorf("%s as %s: the submission's entry names no case", r, caller)
	case strings.Contains(r.Path, "{account}") && e.Account != fx.account:
		t.Errorf("%s as %s: entry names account %q, want %q", r, caller, e.Account, fx.account)
	}
	if e.Address == "" || e.At.IsZero() {
		t.Errorf("%s as %s: entry without address or time: %+v", r, caller, e)
	}
	return 1
}

// accessFixture is what the matrix needs: the IDs that fill the routes'
// variables, how each caller presents itself, and the visitors' cookies and
// tokens of the two forms anyone may send.
type accessFixture struct {
	st                                         *Stack
	caseID, otherID, taskID, account, noticeID string
	definitionID                               string
	documentSHA                                string // a document submitted with the case
	callers                                    map[string]accessCaller
	verifyCookie, verifyCSRF                   string // the /pruefen form's visitor
	signInCookie, signInCSRF                   string // the sign-in form's visitor
}

// accessCaller is the credentials one caller brings to every request.
type accessCaller struct {
	bearer  string
	cookies map[string]string
	csrf    string // the form token of its own pages
}

// accessFixture submits and pays the case, hands its task to the team
// lead's queue, creates a definition of the matrix's own, and signs the
// staff in.
func (st *Stack) accessFixture(t *testing.T) *accessFixture {
	t.Helper()
	fx := &accessFixture{st: st, account: "amt24-matrix-" + randomHex(4)}
	document := SamplePDF("Anlage der Matrix")
	fx.documentSHA = sha256Hex(document)
	s := st.SubmitWithDocuments(t, gewerbeanmeldung(leipzig, fx.account), File{"anlage.pdf", document})
	other := st.submit(t, gewerbeanmeldung(leipzig, "amt24-matrix-other-"+randomHex(4)))
	pay(t, s.PaymentURL, "pay")
	fx.caseID, fx.otherID = s.ID, other.ID
	fx.taskID = st.openTask(t, s.ID, "dev-sb-leipzig", "gewerbe")["id"].(string)
	res := st.api(t, http.MethodPost, "/api/v1/tasks/"+fx.taskID+"/handover", "dev-sb-leipzig", map[string]any{"queue": "gewerbe-leitung"})
	if res.Status != http.StatusOK {
		t.Fatalf("handover to the team lead's queue: %d %s", res.Status, res.Body)
	}
	// The case shows itself as the cells expect it once the projections
	// caught up: delivered to Leipzig's Gewerbe system, its task out of
	// the colleague's queues.
	waitFor(t, "the case delivered and its task handed over", 20*time.Second, func() bool {
		return st.api(t, http.MethodGet, "/api/v1/applications/"+s.ID, "dev-fachverfahren-leipzig", nil).Status == http.StatusOK &&
			st.api(t, http.MethodGet, "/api/v1/applications/"+s.ID, "dev-sb-leipzig-2", nil).Status == http.StatusNotFound
	})
	waitFor(t, "a notice in the account's mailbox", 20*time.Second, func() bool {
		res := st.api(t, http.MethodGet, "/api/v1/accounts/"+fx.account+"/notices", "dev-portal", nil)
		if notices, _ := res.JSON(t)["notices"].([]any); len(notices) > 0 {
			fx.noticeID = notices[0].(map[string]any)["id"].(string)
		}
		return fx.noticeID != ""
	})

	fx.definitionID = "zugriffsmatrix-" + randomHex(4)
	res = st.api(t, http.MethodPost, "/api/v1/definitions", "dev-admin",
		map[string]any{"id": fx.definitionID, "extends": "lasttest-auto", "authority": dresden})
	if res.Status != http.StatusCreated {
		t.Fatalf("create the matrix's definition: %d %s", res.Status, res.Body)
	}

	fx.callers = map[string]accessCaller{
		"none": {},
		"junk": {bearer: "not-a-token", cookies: map[string]string{"ozgflow_session": "not-a-session", "ozgflow_antrag": "at_not-a-token"}},
	}
	for name, token := range accessTokens {
		fx.callers[name] = accessCaller{bearer: st.token(t, token), cookies: map[string]string{}}
	}
	for name, c := range map[string]Submitted{"appl": s, "appl2": other} {
		cookies := map[string]string{"ozgflow_antrag": c.Token}
		fx.callers[name] = accessCaller{bearer: c.Token, cookies: cookies,
			csrf: fx.formToken(t, "/antraege/"+c.ID+"/zurueckziehen", cookies)}
	}
	for _, name := range staffCallers {
		c := fx.callers[name]
		c.cookies["ozgflow_session"] = st.session(t, accessTokens[name])
		start := map[string]string{"admin": "/verwaltung", "dp": "/verwaltung/protokoll"}[name]
		if start == "" {
			start = "/arbeitskorb"
		}
		c.csrf = fx.formToken(t, start, c.cookies)
		fx.callers[name] = c
	}
	fx.verifyCookie, fx.verifyCSRF = fx.visitorForm(t, "/pruefen", "ozgflow_pruefen")
	if st.Tokens == nil {
		// With an identity provider the sign-in page has no form to send.
		fx.signInCookie, fx.signInCSRF = fx.visitorForm(t, "/anmelden", "ozgflow_anmeldung")
	}
	return fx
}

// formToken reads the form token off a page.
func (fx *accessFixture) formToken(t *testing.T, path string, cookies map[string]string) string {
	t.Helper()
	p := &page{t: t, base: fx.st.URL, cookies: cookies}
	res := p.get(path)
	m := csrfField.FindStringSubmatch(res.Body)
	if res.Status != http.StatusOK || m == nil {
		t.Fatalf("%s: %d without a form token", path, res.Status)
	}
	return m[1]
}

// visitorForm opens a form bound to a visitor's cookie and returns the
// cookie and the form's token.
func (fx *accessFixture) visitorForm(t *testing.T, path, cookie string) (string, string) {
	t.Helper()
	p := &page{t: t, base: fx.st.URL, cookies: map[string]string{}}
	res := p.get(path)
	m := csrfField.FindStringSubmatch(res.Body)
	if res.Status != http.StatusOK || m == nil || p.cookies[cookie] == "" {
		t.Fatalf("%s: %d without a form token or cookie %s", path, res.Status, cookie)
	}
	return p.cookies[cookie], m[1]
}

// path fills a route's variables: {id} is the case, except under the
// portal events and the definitions.
func (fx *accessFixture) path(r access.Route) string {
	id := fx.caseID
	switch {
	case strings.Contains(r.Path, "/portal-events/"), strings.Contains(r.Path, "/zustellungen/"):
		id = fx.noticeID // a portal event is a notice on its way
	case strings.Contains(r.Path, "/definitions/"), strings.Contains(r.Path, "/definitionen/"):
		id = fx.definitionID
	}
	p := strings.NewReplacer("{id}", id, "{caseId}", fx.caseID, "{taskId}", fx.taskID, "{account}", fx.account,
		"{noticeId}", fx.noticeID, "{version}", "1", "{action}", "uebernehmen", "{sha256}", fx.documentSHA,
		// FIT-Connect's: no caller of the matrix is a sender, so any will do.
		"{destinationId}", fx.caseID, "{keyId}", "k", "{submissionId}", fx.caseID, "{attachmentId}", "a").Replace(r.Path)
	if slices.Contains(accessAuthorityRoutes, r.Path) {
		p += "?authority=" + leipzig
	}
	return p
}

// accessBody is the harmless body of a request that changes something:
// {} for the API (a whole application where one is submitted), the form
// with its token for a page.
func (fx *accessFixture) body(r access.Route, c accessCaller, cookies map[string]string) (io.Reader, string) {
	if r.Method == http.MethodGet {
		return nil, ""
	}
	if strings.HasPrefix(r.Path, "/api/") {
		var v any = map[string]any{}
		if r.Path == "/api/v1/applications" {
			v = gewerbeanmeldung(leipzig, fx.account)
		}
		b, _ := json.Marshal(v)
		return bytes.NewReader(b), "application/json"
	}
	form := url.Values{"csrf": {c.csrf}}
	switch {
	case r.Path == "/pruefen":
		cookies["ozgflow_pruefen"], form["csrf"] = fx.verifyCookie, []string{fx.verifyCSRF}
	case r.Path == "/anmelden":
		// Each caller types the token it holds.
		cookies["ozgflow_anmeldung"], form["csrf"] = fx.signInCookie, []string{fx.signInCSRF}
		form.Set("token", c.bearer)
	}
	return strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
}

// accessAnswer is what a cell got.
type accessAnswer struct {
	Status         int
	Location, Body string
}

// try sends the route's request as the caller. A stream of server-sent
// events counts by its status; its body is not waited for.
func (fx *accessFixture) try(t *testing.T, r access.Route, name string) accessAnswer {
	t.Helper()
	c := fx.callers[name]
	cookies := map[string]string{}
	for k, v := range c.cookies {
		cookies[k] = v
	}
	body, contentType := fx.body(r, c, cookies)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, fx.st.URL+fx.path(r), body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for k, v := range cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	res, err := noRedirect.Do(forTest(req, t))
	if err != nil {
		t.Fatalf("%s as %s: %v", r, name, err)
	}
	defer res.Body.Close()
	got := accessAnswer{Status: res.StatusCode, Location: res.Header.Get("Location")}
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(res.Body)
		got.Body = string(b)
	}
	return got
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
