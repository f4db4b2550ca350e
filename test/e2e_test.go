// Package test holds the end-to-end tests: the real embedded Temporal server,
// a real Redis, the real gateway and the sandboxes, driven over HTTP.
package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/ozgflow/ozgflow/app"
)

const (
	leipzig  = "147130000000"
	dresden  = "146120000000"
	chemnitz = "145110000000"
)

// stack is the shared `dev` instance of this test binary.
var stack *app.Dev

func TestMain(m *testing.M) {
	d, err := startStack(os.TempDir(), true, "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "end-to-end tests could not start ozgflow dev (they need Redis: `make test` starts one):", err)
		os.Exit(1)
	}
	stack = d
	code := m.Run()
	d.Close()
	os.Exit(code)
}

// startStack starts `dev` on a free port against the Redis at REDIS_URL,
// with its own key prefix so parallel test binaries do not meet.
func startStack(dataDir string, inMemory bool, addr string) (*app.Dev, error) {
	cfg := devConfig(dataDir, addr)
	cfg.RedisPrefix = "e2e:" + uuid.NewString() + ":"
	return app.StartDev(context.Background(), cfg, app.DevOptions{InMemory: inMemory, RequireRedis: true}, testLogger())
}

// devConfig is the configuration of a test instance of `dev`.
func devConfig(dataDir, addr string) app.Config {
	cfg := app.DefaultConfig()
	if v := os.Getenv("REDIS_URL"); v != "" {
		cfg.RedisURL = v
	}
	cfg.Addr, cfg.DataDir, cfg.Secret = addr, dataDir, "e2e-secret-0123456789abcdef"
	return cfg
}

// startDev starts `dev` as a newcomer would: the embedded Redis is allowed.
func startDev(cfg app.Config, inMemory bool) (*app.Dev, error) {
	return app.StartDev(context.Background(), cfg, app.DevOptions{InMemory: inMemory}, testLogger())
}

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// response is what an API call returned.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object (%d): %s", r.status, r.body)
	}
	return m
}

// call sends a request to the stack; body may be nil, []byte or any JSON value.
func call(t *testing.T, base, method, path, token string, body any, header ...string) response {
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
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func api(t *testing.T, method, path, token string, body any, header ...string) response {
	t.Helper()
	return call(t, stack.URL, method, path, token, body, header...)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// submitted is a case as the submitter sees it.
type submitted struct {
	ID, Token, PaymentURL string
	Body                  map[string]any
}

func gewerbeanmeldung(authority, account string) map[string]any {
	return map[string]any{
		"service": "99050035001000", "authority": authority,
		"applicant": map[string]any{"name": "Anna Muster", "email": "anna@example.org", "portalAccount": account},
		"data": map[string]any{
			"betrieb":   map[string]any{"name": "Café Anna", "taetigkeit": "Betrieb eines Cafés", "beginn": "2026-12-01", "rechtsform": "einzelunternehmen"},
			"anschrift": map[string]any{"strasse": "Markt", "hausnummer": "1", "plz": "04109", "ort": "Leipzig"},
		},
	}
}

func parkausweis(zone string, account string) map[string]any {
	return map[string]any{
		"service": "anwohnerparkausweis", "authority": leipzig,
		"applicant": map[string]any{"name": "Ben Beispiel", "portalAccount": account},
		"data": map[string]any{"kennzeichen": "L-AB 123", "zone": zone, "halterIstAntragsteller": true,
			"anschrift": map[string]any{"strasse": "Karl-Liebknecht-Straße", "hausnummer": "10", "plz": "04107", "ort": "Leipzig"}},
	}
}

func hundesteuer(authority string) map[string]any {
	return map[string]any{
		"service": "hundesteuer-anmeldung", "authority": authority,
		"applicant": map[string]any{"name": "Clara Hundt", "portalAccount": "amt24-clara"},
		"data": map[string]any{"hund": map[string]any{"name": "Bello", "rasse": "Dackel", "geburtsdatum": "2024-03-01"},
			"haltungSeit": "2026-10-01",
			"anschrift":   map[string]any{"strasse": "Prager Straße", "hausnummer": "3", "plz": "01069", "ort": "Dresden"}},
	}
}

func submit(t *testing.T, body map[string]any, header ...string) submitted {
	t.Helper()
	return submitTo(t, stack, body, header...)
}

func submitTo(t *testing.T, d *app.Dev, body map[string]any, header ...string) submitted {
	t.Helper()
	res := call(t, d.URL, http.MethodPost, "/api/v1/applications", "dev-portal", body, header...)
	if res.status != http.StatusCreated {
		t.Fatalf("submit: %d %s", res.status, res.body)
	}
	m := res.json(t)
	s := submitted{ID: m["id"].(string), Token: m["accessToken"].(string), Body: m}
	if loc := res.header.Get("Location"); loc != "/api/v1/applications/"+s.ID {
		t.Errorf("Location = %q", loc)
	}
	if p, ok := m["payment"].(map[string]any); ok {
		s.PaymentURL, _ = p["redirectUrl"].(string)
	}
	return s
}

// caseOf reads a case with the given token.
func caseOf(t *testing.T, id, token string) map[string]any {
	t.Helper()
	return caseAt(t, stack, id, token)
}

func caseAt(t *testing.T, d *app.Dev, id, token string) map[string]any {
	t.Helper()
	res := call(t, d.URL, http.MethodGet, "/api/v1/applications/"+id, token, nil)
	if res.status != http.StatusOK {
		t.Fatalf("get case: %d %s", res.status, res.body)
	}
	return res.json(t)
}

// waitStatus waits until the case has the status.
func waitStatus(t *testing.T, s submitted, status string) map[string]any {
	t.Helper()
	return waitStatusAt(t, stack, s, status)
}

func waitStatusAt(t *testing.T, d *app.Dev, s submitted, status string) map[string]any {
	t.Helper()
	var last map[string]any
	waitFor(t, "status "+status, 20*time.Second, func() bool {
		last = caseAt(t, d, s.ID, s.Token)
		return last["status"] == status
	})
	return last
}

// payAt pays through the sandbox page.
func payAt(t *testing.T, paymentURL string) {
	t.Helper()
	pay(t, paymentURL, "pay")
}

// waitForTask waits for the open task of a case in the Leipzig gewerbe queue.
func waitForTask(t *testing.T, d *app.Dev, caseID string, taskID *string) {
	t.Helper()
	waitFor(t, "task of "+caseID, 20*time.Second, func() bool {
		res := call(t, d.URL, http.MethodGet, "/api/v1/tasks?queue=gewerbe", "dev-sb-leipzig", nil)
		for _, x := range res.json(t)["tasks"].([]any) {
			if task := x.(map[string]any); task["caseId"] == caseID {
				*taskID = task["id"].(string)
				return true
			}
		}
		return false
	})
}

// pay acts on the payment sandbox's page like the applicant would.
func pay(t *testing.T, paymentURL, action string) {
	t.Helper()
	res := call(t, "", http.MethodPost, paymentURL, "", url.Values{"action": {action}})
	if res.status != http.StatusOK {
		t.Fatalf("payment page %s: %d %s", action, res.status, res.body)
	}
}

// openTask returns the case's open task as a case worker of its authority sees it.
func openTask(t *testing.T, caseID, token, queue string) map[string]any {
	t.Helper()
	var found map[string]any
	waitFor(t, "task of case "+caseID+" in queue "+queue, 20*time.Second, func() bool {
		res := api(t, http.MethodGet, "/api/v1/tasks?queue="+queue, token, nil)
		if res.status != http.StatusOK {
			t.Fatalf("list tasks: %d %s", res.status, res.body)
		}
		for _, x := range res.json(t)["tasks"].([]any) {
			if task := x.(map[string]any); task["caseId"] == caseID {
				found = task
				return true
			}
		}
		return false
	})
	return found
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

func receivedBy(t *testing.T, caseID string) []map[string]any {
	t.Helper()
	res := api(t, http.MethodGet, "/sandbox/fachverfahren/received?caseId="+caseID, "", nil)
	if res.status != http.StatusOK {
		t.Fatalf("simulator: %d %s", res.status, res.body)
	}
	var recs []map[string]any
	if err := json.Unmarshal(res.body, &recs); err != nil {
		t.Fatal(err)
	}
	return recs
}

func urlValues(action string) url.Values { return url.Values{"action": {action}} }

func countRequest() *workflowservice.CountWorkflowExecutionsRequest {
	return countQuery("WorkflowType = 'CaseWorkflow'")
}

func countQuery(q string) *workflowservice.CountWorkflowExecutionsRequest {
	return &workflowservice.CountWorkflowExecutionsRequest{Namespace: "ozgflow", Query: q}
}
