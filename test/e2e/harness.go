// Package e2e is the end-to-end suite: scenarios that drive a running ozgflow
// over HTTP only, so the same suite runs against `dev` in one process and
// against separate gateway, worker and sandbox processes on an external
// Temporal server.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/ozgflow/ozgflow/records"
)

// Stack is a running ozgflow the suite talks to.
type Stack struct {
	URL        string        // the gateway
	SandboxURL string        // the sandboxes (the gateway itself in dev)
	Temporal   client.Client // for counting cases; payloads are not read
	Namespace  string
	// Tokens turns the demo identities the scenarios name ("dev-portal",
	// "dev-sb-leipzig", …) into the bearer tokens they present to this
	// stack, and passes anything else on (an applicant's access token).
	// nil passes every name on: `dev` takes them as demo tokens.
	Tokens func(t testing.TB, name string) string
	// StaffSignIn signs a demo identity in at the staff pages and returns
	// the session cookie's value; nil signs in with the demo form (SignIn).
	StaffSignIn func(t testing.TB, name string) string
	// Records, if set, is the stack's records database: the access matrix
	// then checks the audit trail of every cell.
	Records *records.DB
	// FachverfahrenSecret, if set, is the stack's delivery secret, with
	// which the callback scenario signs callbacks as a Fachverfahren does.
	FachverfahrenSecret []byte
}

// token is the bearer token of a demo identity, or name itself.
func (st *Stack) token(t testing.TB, name string) string {
	t.Helper()
	if st.Tokens == nil {
		return name
	}
	return st.Tokens(t, name)
}

// session signs a demo identity in at the staff pages and returns the
// session cookie's value.
func (st *Stack) session(t testing.TB, name string) string {
	t.Helper()
	if st.StaffSignIn == nil {
		return SignIn(t, st.URL, name)
	}
	return st.StaffSignIn(t, name)
}

// InDev reports whether the stack has what exists only in `dev` (DevOnly),
// that is, whether it runs dev's demo identities. A scenario that needs
// such a thing runs that part only then; elsewhere it says so in the log.
func (st *Stack) InDev(t testing.TB, name string) bool {
	t.Helper()
	if st.Tokens == nil {
		return true
	}
	t.Logf("not run against this stack: it needs %s, which exists only in dev", DevOnly[name])
	return false
}

// Scenario is one end-to-end test.
type Scenario struct {
	Name string
	Run  func(t *testing.T, st *Stack)
}

// Scenarios lists the whole suite.
var Scenarios = []Scenario{
	{"GewerbeanmeldungFromSubmitToApproval", gewerbeanmeldungFromSubmitToApproval},
	{"AccessToCases", accessToCases},
	{"HundesteuerIsDeliveredAndApprovedWithoutFee", hundesteuerIsDeliveredAndApprovedWithoutFee},
	{"ApplicantSignsThenTheCaseGoesOn", applicantSignsThenTheCaseGoesOn},
	{"EmailNoticesReachTheApplicant", emailNoticesReachTheApplicant},
	{"ApplicantKnowsTheCaseByItsNumber", applicantKnowsTheCaseByItsNumber},
	{"CasesCountTheirNumbers", casesCountTheirNumbers},
	{"ParkingPermitDecidedByRule", parkingPermitDecidedByRule},
	{"FailedPaymentIsRetried", failedPaymentIsRetried},
	{"InformationRequestRoundTrip", informationRequestRoundTrip},
	{"CompletingATaskSomeoneElseHoldsIsAConflict", completingATaskSomeoneElseHoldsIsAConflict},
	{"WithdrawalRefundsRemovesTaskAndTellsFachverfahren", withdrawalRefundsRemovesTaskAndTellsFachverfahren},
	{"DeliveryOutageIsShownAndRecovers", deliveryOutageIsShownAndRecovers},
	{"IdempotencyKey", idempotencyKey},
	{"BadSubmissionsGetProblemsAndNoCase", badSubmissionsGetProblemsAndNoCase},
	{"BadRequestsToOtherEndpoints", badRequestsToOtherEndpoints},
	{"OversizedTaskActionsAreRefused", oversizedTaskActionsAreRefused},
	{"CaseReport", caseReport},
	{"ConcurrentClaimsHaveOneWinner", concurrentClaimsHaveOneWinner},
	{"DecisionOnAWithdrawnCaseIsRefused", decisionOnAWithdrawnCaseIsRefused},
	{"QueuesAreIsolated", queuesAreIsolated},
	{"ConflictOnAStaffPageSaysWhy", conflictOnAStaffPageSaysWhy},
	{"BulkClaimAndExport", bulkClaimAndExport},
	{"FollowUpAndCaseSearch", followUpAndCaseSearch},
	{"CaseWorkersWorkspace", caseWorkersWorkspace},
	{"ReturningADecisionNeedsAReason", returningADecisionNeedsAReason},
	{"AnswersWithDocuments", answersWithDocuments},
	{"DocumentsWithTheApplication", documentsWithTheApplication},
	{"MailboxReadUnreadAndPaging", mailboxReadUnreadAndPaging},
	{"ErasureAndAccessOnRequest", erasureAndAccessOnRequest},
	{"StatusPagesWithTokenAndCookie", statusPagesWithTokenAndCookie},
	{"PortalDeliveryThroughAnOutage", portalDeliveryThroughAnOutage},
	{"CaseDecidedByTheFachverfahren", caseDecidedByTheFachverfahren},
	{"FachverfahrenCallbacks", fachverfahrenCallbacks},
	{"FITConnectIntake", fitConnectIntake},
	{"AtTheDoor", atTheDoor},
	// Renders every kind of page, workbook and mail; after the scenarios
	// above, so that their cases and mails are looked at too.
	{"NoEnglishStatusWordsOrUTCTimes", noEnglishStatusWordsOrUTCTimes},
	// These change definitions; they come last and touch no variant the
	// scenarios above rely on.
	{"DefinitionLifecycle", definitionLifecycle},
	{"DefinitionsExcelRoundTrip", definitionsExcelRoundTrip},
	// Tries every caller on every route; it creates a definition of its own.
	{"LeastPrivilege", leastPrivilege},
}

// RunAll runs every scenario as a subtest.
func RunAll(t *testing.T, st *Stack) {
	for _, sc := range Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			if _, devOnly := DevOnly[sc.Name]; devOnly && !st.InDev(t, sc.Name) {
				return
			}
			sc.Run(t, st)
		})
	}
}

// Authorities of the catalog.
const (
	Leipzig  = "147130000000"
	Dresden  = "146120000000"
	Chemnitz = "145110000000"
	leipzig  = Leipzig
	dresden  = Dresden
	chemnitz = Chemnitz
)

// Response is what an HTTP call returned.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as an object, failing the test otherwise.
func (r Response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object (%d): %s", r.Status, r.Body)
	}
	return m
}

// Call sends a request; body may be nil, []byte, url.Values or any JSON value.
// A path without scheme is relative to base. Answers of the API are held to
// its document (contract.go).
func Call(t *testing.T, base, method, path, token string, body any, header ...string) Response {
	t.Helper()
	var rd io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case url.Values:
		rd, contentType = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	target := path
	if !strings.HasPrefix(path, "http") {
		target = base + path
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := suiteClient.Do(forTest(req, t))
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

func call(t *testing.T, base, method, path, token string, body any, header ...string) Response {
	t.Helper()
	return Call(t, base, method, path, token, body, header...)
}

// api calls the gateway as the demo identity token names (Tokens), or
// with token itself.
func (st *Stack) api(t *testing.T, method, path, token string, body any, header ...string) Response {
	t.Helper()
	return Call(t, st.URL, method, path, st.token(t, token), body, header...)
}

// WaitFor polls cond until it holds or the deadline passes.
func WaitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	WaitFor(t, what, timeout, cond)
}

// Submitted is a case as its submitter sees it.
type Submitted struct {
	ID, Token, PaymentURL string
	Body                  map[string]any
}

type submitted = Submitted

// Gewerbeanmeldung is a valid application of the catalog's first service.
func Gewerbeanmeldung(authority, account string) map[string]any {
	return map[string]any{
		"service": "99050035001000", "authority": authority,
		"applicant": map[string]any{"name": "Anna Muster", "email": "anna@example.org", "portalAccount": account},
		"data": map[string]any{
			"betrieb":   map[string]any{"name": "Café Anna", "taetigkeit": "Betrieb eines Cafés", "beginn": "2026-12-01", "rechtsform": "einzelunternehmen"},
			"anschrift": map[string]any{"strasse": "Markt", "hausnummer": "1", "plz": "04109", "ort": "Leipzig"},
		},
	}
}

// Parkausweis is an application for a resident parking permit in Leipzig.
func Parkausweis(zone string, account string) map[string]any {
	return map[string]any{
		"service": "anwohnerparkausweis", "authority": leipzig,
		"applicant": map[string]any{"name": "Ben Beispiel", "portalAccount": account},
		"data": map[string]any{"kennzeichen": "L-AB 123", "zone": zone, "halterIstAntragsteller": true,
			"anschrift": map[string]any{"strasse": "Karl-Liebknecht-Straße", "hausnummer": "10", "plz": "04107", "ort": "Leipzig"}},
	}
}

// Hundesteuer is a dog tax registration: no fee, no review.
func Hundesteuer(authority string) map[string]any {
	return map[string]any{
		"service": "hundesteuer-anmeldung", "authority": authority,
		"applicant": map[string]any{"name": "Clara Hundt", "portalAccount": "amt24-clara"},
		"data": map[string]any{"hund": map[string]any{"name": "Bello", "rasse": "Dackel", "geburtsdatum": "2024-03-01"},
			"haltungSeit": "2026-10-01",
			"anschrift":   map[string]any{"strasse": "Prager Straße", "hausnummer": "3", "plz": "01069", "ort": "Dresden"}},
	}
}

var (
	gewerbeanmeldung = Gewerbeanmeldung
	parkausweis      = Parkausweis
	hundesteuer      = Hundesteuer
)

// Submit posts an application as the demo portal and expects 201.
func (st *Stack) Submit(t *testing.T, body map[string]any, header ...string) Submitted {
	t.Helper()
	res := st.api(t, http.MethodPost, "/api/v1/applications", "dev-portal", body, header...)
	if res.Status != http.StatusCreated {
		t.Fatalf("submit: %d %s", res.Status, res.Body)
	}
	m := res.JSON(t)
	s := Submitted{ID: m["id"].(string), Token: m["accessToken"].(string), Body: m}
	if loc := res.Header.Get("Location"); loc != "/api/v1/applications/"+s.ID {
		t.Errorf("Location = %q", loc)
	}
	if p, ok := m["payment"].(map[string]any); ok {
		s.PaymentURL, _ = p["redirectUrl"].(string)
	}
	return s
}

func (st *Stack) submit(t *testing.T, body map[string]any, header ...string) Submitted {
	t.Helper()
	return st.Submit(t, body, header...)
}

// Case reads a case with the given token.
func (st *Stack) Case(t *testing.T, id, token string) map[string]any {
	t.Helper()
	res := st.api(t, http.MethodGet, "/api/v1/applications/"+id, token, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("get case: %d %s", res.Status, res.Body)
	}
	return res.JSON(t)
}

func (st *Stack) caseOf(t *testing.T, id, token string) map[string]any {
	t.Helper()
	return st.Case(t, id, token)
}

// WaitStatus waits until the case has the status and returns it.
func (st *Stack) WaitStatus(t *testing.T, s Submitted, status string) map[string]any {
	t.Helper()
	var last map[string]any
	WaitFor(t, "status "+status, 20*time.Second, func() bool {
		last = st.Case(t, s.ID, s.Token)
		return last["status"] == status
	})
	return last
}

func (st *Stack) waitStatus(t *testing.T, s Submitted, status string) map[string]any {
	t.Helper()
	return st.WaitStatus(t, s, status)
}

// Pay acts on the payment sandbox's page like the applicant would; the
// page sends the browser back to the case's status page, with a note of
// how the payment ended, and returns that address.
func Pay(t *testing.T, paymentURL, action string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, paymentURL, strings.NewReader(url.Values{"action": {action}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := noRedirect.Do(forTest(req, t))
	if err != nil {
		t.Fatalf("payment page %s: %v", action, err)
	}
	defer res.Body.Close()
	back := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(back, "/antraege/") || !strings.Contains(back, "?hinweis=") {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("payment page %s: %d to %q, want 303 to the status page: %s", action, res.StatusCode, back, b)
	}
	return back
}

func pay(t *testing.T, paymentURL, action string) string {
	t.Helper()
	return Pay(t, paymentURL, action)
}

// OpenTask waits for the open task of a case in a queue, as a case worker sees it.
func (st *Stack) OpenTask(t *testing.T, caseID, token, queue string) map[string]any {
	t.Helper()
	var found map[string]any
	WaitFor(t, "task of case "+caseID+" in queue "+queue, 20*time.Second, func() bool {
		res := st.api(t, http.MethodGet, "/api/v1/tasks?queue="+queue, token, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("list tasks: %d %s", res.Status, res.Body)
		}
		for _, x := range res.JSON(t)["tasks"].([]any) {
			if task := x.(map[string]any); task["caseId"] == caseID {
				found = task
				return true
			}
		}
		return false
	})
	return found
}

func (st *Stack) openTask(t *testing.T, caseID, token, queue string) map[string]any {
	t.Helper()
	return st.OpenTask(t, caseID, token, queue)
}

func statusesOf(c map[string]any) []string {
	var out []string
	for _, n := range c["timeline"].([]any) {
		s := n.(map[string]any)["status"].(string)
		if len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return out
}

func (st *Stack) receivedBy(t *testing.T, caseID string) []map[string]any {
	t.Helper()
	res := Call(t, st.SandboxURL, http.MethodGet, "/sandbox/fachverfahren/received?caseId="+caseID, "", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("simulator: %d %s", res.Status, res.Body)
	}
	var recs []map[string]any
	if err := json.Unmarshal(res.Body, &recs); err != nil {
		t.Fatal(err)
	}
	return recs
}

// setDown switches the Fachverfahren simulator's outage over its HTTP API.
func (st *Stack) setDown(t *testing.T, down bool) {
	t.Helper()
	res := Call(t, st.SandboxURL, http.MethodPut, "/sandbox/fachverfahren/outage", "", map[string]bool{"down": down})
	if res.Status != http.StatusOK {
		t.Fatalf("outage switch: %d %s", res.Status, res.Body)
	}
}

// CountCases asks Temporal how many case workflows match a visibility query.
func (st *Stack) CountCases(t *testing.T, query string) int64 {
	t.Helper()
	res, err := st.Temporal.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{
		Namespace: st.Namespace, Query: query})
	if err != nil {
		t.Fatalf("count cases: %v", err)
	}
	return res.Count
}

func (st *Stack) countCases(t *testing.T) int64 {
	t.Helper()
	return st.CountCases(t, "WorkflowType = 'CaseWorkflow'")
}

// signInCSRF finds the sign-in form's token.
var signInCSRF = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// SignIn signs in at base's sign-in page with a demo identity's token, as a
// browser does (the form, its token and cookie), and returns the value of
// the staff session cookie.
func SignIn(t testing.TB, base, token string) string {
	t.Helper()
	res, err := http.Get(base + "/anmelden")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := signInCSRF.FindSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("sign-in page: %d without a form token", res.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/anmelden", strings.NewReader(url.Values{"csrf": {string(m[1])}, "token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range res.Cookies() {
		req.AddCookie(ck)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signedIn, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	signedIn.Body.Close()
	for _, ck := range signedIn.Cookies() {
		if ck.Name == "ozgflow_session" && ck.Value != "" {
			return ck.Value
		}
	}
	t.Fatalf("signing in as %s: %d without a session", token, signedIn.StatusCode)
	return ""
}
