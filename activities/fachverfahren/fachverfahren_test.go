package fachverfahren_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/activities/fachverfahren"
)

var secret = []byte("shared-secret")

// newSimulator serves a simulator the way the gateway does.
func newSimulator(t *testing.T, stateFile string) (*fachverfahren.Simulator, *httptest.Server) {
	t.Helper()
	sim, err := fachverfahren.NewSimulator(fachverfahren.SimulatorConfig{Secret: secret, StateFile: stateFile,
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	sim.Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return sim, srv
}

func newClient(srv *httptest.Server, key []byte) *fachverfahren.Client {
	return fachverfahren.NewClient(fachverfahren.ClientConfig{DefaultURL: srv.URL + fachverfahren.Path, Secret: key,
		HTTPClient: srv.Client()})
}

func submission(caseID string) activities.Submission {
	return activities.Submission{CaseID: caseID, Service: "99050035001000", Authority: "147130000000",
		DefinitionID: "gewerbeanmeldung", DefinitionVersion: 1, Data: json.RawMessage(`{"gewerbe":"Bäckerei"}`),
		SubmittedAt: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func nonRetryable(err error, wantType string) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.NonRetryable() && appErr.Type() == wantType
}

func retryable(err error) bool {
	var appErr *temporal.ApplicationError
	return err != nil && (!errors.As(err, &appErr) || !appErr.NonRetryable())
}

var referencePattern = regexp.MustCompile(`^FV-\d{4}-(\d{6})$`)

func referenceNumber(t *testing.T, ref string) int {
	t.Helper()
	m := referencePattern.FindStringSubmatch(ref)
	if m == nil {
		t.Fatalf("reference %q does not look like FV-2026-000123", ref)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func TestDeliveryIsRecordedOncePerCaseAndKind(t *testing.T) {
	ctx := context.Background()
	sim, srv := newSimulator(t, "")
	c := newClient(srv, secret)
	first, err := c.Deliver(ctx, "gewerbe", "case", submission("c1"))
	if err != nil {
		t.Fatal(err)
	}
	if first.ReceivedAt.IsZero() {
		t.Errorf("receipt without a time: %+v", first)
	}
	again, err := c.Deliver(ctx, "gewerbe", "case", submission("c1"))
	if err != nil || again.Reference != first.Reference || !again.ReceivedAt.Equal(first.ReceivedAt) {
		t.Fatalf("redelivery = %+v, %v; want %+v", again, err, first)
	}
	archive, err := c.Deliver(ctx, "dms", "archive", submission("c1"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := c.Deliver(ctx, "gewerbe", "case", submission("c2"))
	if err != nil {
		t.Fatal(err)
	}
	n := referenceNumber(t, first.Reference)
	if referenceNumber(t, archive.Reference) != n+1 || referenceNumber(t, other.Reference) != n+2 {
		t.Errorf("references %s, %s, %s do not count up", first.Reference, archive.Reference, other.Reference)
	}
	got := sim.Received()
	if len(got) != 3 {
		t.Fatalf("received %d records, want 3: %+v", len(got), got)
	}
	tests := []struct {
		name                      string
		rec                       fachverfahren.Record
		caseID, kind, target, ref string
	}{
		{"case", got[0], "c1", "case", "gewerbe", first.Reference},
		{"archive", got[1], "c1", "archive", "dms", archive.Reference},
		{"other case", got[2], "c2", "case", "gewerbe", other.Reference},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.rec
			if r.CaseID != tt.caseID || r.Kind != tt.kind || r.Target != tt.target || r.Reference != tt.ref ||
				r.Submission.Service != "99050035001000" || string(r.Submission.Data) != `{"gewerbe":"Bäckerei"}` {
				t.Errorf("record = %+v", r)
			}
		})
	}
}

func TestConcurrentRedeliveriesAreRecordedOnce(t *testing.T) {
	sim, srv := newSimulator(t, filepath.Join(t.TempDir(), "fv.json"))
	c := newClient(srv, secret)
	refs := make([]string, 8)
	var wg sync.WaitGroup
	for i := range refs {
		wg.Go(func() {
			rec, err := c.Deliver(context.Background(), "gewerbe", "case", submission("c1"))
			if err != nil {
				t.Error(err)
			}
			refs[i] = rec.Reference
		})
	}
	wg.Wait()
	if n := len(sim.Received()); n != 1 {
		t.Errorf("%d records, want 1", n)
	}
	for _, ref := range refs[1:] {
		if ref != refs[0] {
			t.Errorf("references %v, want one", refs)
			break
		}
	}
}

func TestTargetsAreRouted(t *testing.T) {
	ctx := context.Background()
	defaultSim, defaultSrv := newSimulator(t, "")
	leipzigSim, leipzigSrv := newSimulator(t, "")
	c := fachverfahren.NewClient(fachverfahren.ClientConfig{
		DefaultURL: defaultSrv.URL + fachverfahren.Path,
		Targets:    map[string]string{"gewerbe-leipzig": leipzigSrv.URL + fachverfahren.Path + "/"},
		Secret:     secret,
	})
	tests := []struct {
		target string
		want   *fachverfahren.Simulator
	}{
		{"gewerbe-leipzig", leipzigSim},
		{"gewerbe-dresden", defaultSim},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			if _, err := c.Deliver(ctx, tt.target, "case", submission("c-"+tt.target)); err != nil {
				t.Fatal(err)
			}
			got := tt.want.Received()
			if len(got) != 1 || got[0].Target != tt.target {
				t.Errorf("the target's simulator received %+v", got)
			}
		})
	}
	noDefault := fachverfahren.NewClient(fachverfahren.ClientConfig{Secret: secret,
		Targets: map[string]string{"gewerbe-leipzig": leipzigSrv.URL + fachverfahren.Path}})
	if _, err := noDefault.Deliver(ctx, "nowhere", "case", submission("c1")); !nonRetryable(err, fachverfahren.ErrTypeUnknownTarget) {
		t.Errorf("deliver to an unknown target: %v, want non-retryable UnknownTarget", err)
	}
	if err := noDefault.Withdraw(ctx, "nowhere", "c1", ""); !nonRetryable(err, fachverfahren.ErrTypeUnknownTarget) {
		t.Errorf("withdraw from an unknown target: %v, want non-retryable UnknownTarget", err)
	}
}

func TestWithdrawal(t *testing.T) {
	ctx := context.Background()
	sim, srv := newSimulator(t, "")
	c := newClient(srv, secret)
	if _, err := c.Deliver(ctx, "gewerbe", "case", submission("c1")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Deliver(ctx, "gewerbe", "case", submission("c2")); err != nil {
		t.Fatal(err)
	}
	if err := c.Withdraw(ctx, "gewerbe", "c1", "Umzug nach Dresden"); err != nil {
		t.Fatal(err)
	}
	if err := c.Withdraw(ctx, "gewerbe", "c1", "zweimal"); err != nil {
		t.Errorf("withdrawing twice: %v", err)
	}
	if err := c.Withdraw(ctx, "gewerbe", "never-delivered", ""); err != nil {
		t.Errorf("withdrawing an undelivered case: %v, want success", err)
	}
	got := sim.Received()
	if !got[0].Withdrawn || got[0].WithdrawalReason != "Umzug nach Dresden" {
		t.Errorf("withdrawn case = %+v", got[0])
	}
	if got[1].Withdrawn {
		t.Errorf("another case was withdrawn too: %+v", got[1])
	}
}

// send posts body to the simulator, signed with key unless key is nil.
func send(t *testing.T, method, u string, key []byte, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != nil {
		now := time.Now()
		req.Header.Set(ozgflow.HeaderSignatureTimestamp, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(ozgflow.HeaderSignature, ozgflow.SignBody(key, now, []byte(body)))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var answer struct {
		Error string `json:"error"`
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 400 {
		if err := json.Unmarshal(b, &answer); err != nil || answer.Error == "" {
			t.Errorf("HTTP %d without a JSON error: %s", res.StatusCode, b)
		}
	}
	return res.StatusCode, answer.Error
}

func TestSimulatorRefuses(t *testing.T) {
	_, srv := newSimulator(t, "")
	if _, err := newClient(srv, secret).Deliver(context.Background(), "gewerbe", "case", submission("c1")); err != nil {
		t.Fatal(err)
	}
	cases := srv.URL + fachverfahren.Path + "/cases"
	tests := []struct {
		name string
		url  string
		key  []byte
		body string
		want int
	}{
		{"unsigned delivery", cases, nil, `{"kind":"case","submission":{"caseId":"c9"}}`, http.StatusUnauthorized},
		{"delivery signed with another key", cases, []byte("wrong"), `{"kind":"case","submission":{"caseId":"c9"}}`, http.StatusUnauthorized},
		{"malformed JSON", cases, secret, `{"kind":`, http.StatusBadRequest},
		{"no case ID", cases, secret, `{"kind":"case","submission":{}}`, http.StatusBadRequest},
		{"no kind", cases, secret, `{"submission":{"caseId":"c9"}}`, http.StatusBadRequest},
		{"unsigned withdrawal", cases + "/c1/withdrawal", nil, `{"reason":""}`, http.StatusUnauthorized},
		{"withdrawal of an unknown case", cases + "/c9/withdrawal", secret, `{"reason":""}`, http.StatusNotFound},
		{"malformed withdrawal", cases + "/c1/withdrawal", secret, `[`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, msg := send(t, http.MethodPost, tt.url, tt.key, tt.body); got != tt.want {
				t.Errorf("HTTP %d (%s), want %d", got, msg, tt.want)
			}
		})
	}
}

func TestIdempotencyKeyOfAnotherDeliveryConflicts(t *testing.T) {
	_, srv := newSimulator(t, "")
	body := `{"kind":"case","target":"gewerbe","submission":{"caseId":"c1"}}`
	post := func(key, body string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+fachverfahren.Path+"/cases", strings.NewReader(body))
		now := time.Now()
		req.Header.Set(fachverfahren.HeaderIdempotencyKey, key)
		req.Header.Set(ozgflow.HeaderSignatureTimestamp, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(ozgflow.HeaderSignature, ozgflow.SignBody(secret, now, []byte(body)))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	tests := []struct {
		name, key, body string
		want            int
	}{
		{"first delivery", "k1", body, http.StatusCreated},
		{"same key again", "k1", body, http.StatusOK},
		{"same key, other case", "k1", strings.Replace(body, "c1", "c2", 1), http.StatusConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := post(tt.key, tt.body); got != tt.want {
				t.Errorf("HTTP %d, want %d", got, tt.want)
			}
		})
	}
}

func TestBadSignatureIsFinal(t *testing.T) {
	_, srv := newSimulator(t, "")
	_, err := newClient(srv, []byte("wrong")).Deliver(context.Background(), "gewerbe", "case", submission("c1"))
	if !nonRetryable(err, fachverfahren.ErrTypeRejected) || !strings.Contains(err.Error(), "401") {
		t.Errorf("bad signature: %v, want non-retryable DeliveryRejected with 401", err)
	}
}

func TestOutage(t *testing.T) {
	ctx := context.Background()
	sim, srv := newSimulator(t, "")
	c := newClient(srv, secret)
	if _, err := c.Deliver(ctx, "gewerbe", "case", submission("c1")); err != nil {
		t.Fatal(err)
	}
	sim.SetDown(true)
	_, err := c.Deliver(ctx, "gewerbe", "case", submission("c2"))
	if !retryable(err) || !strings.Contains(err.Error(), "fachverfahren gewerbe: 503") ||
		!strings.Contains(err.Error(), "Fachverfahren nicht erreichbar") {
		t.Errorf("deliver during the outage: %v, want a retryable 503", err)
	}
	if err := c.Withdraw(ctx, "gewerbe", "c1", ""); !retryable(err) {
		t.Errorf("withdraw during the outage: %v, want a retryable error", err)
	}
	if len(sim.Received()) != 1 {
		t.Errorf("recorded during the outage: %+v", sim.Received())
	}
	sim.SetDown(false)
	if _, err := c.Deliver(ctx, "gewerbe", "case", submission("c2")); err != nil {
		t.Errorf("after recovery: %v", err)
	}
	if err := c.Withdraw(ctx, "gewerbe", "c1", ""); err != nil {
		t.Errorf("withdraw after recovery: %v", err)
	}
}

// outage calls GET or PUT /outage and returns the answer's down flag.
func outage(t *testing.T, srv *httptest.Server, method, body string) (int, bool) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+fachverfahren.Path+"/outage", strings.NewReader(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var answer struct {
		Down bool `json:"down"`
	}
	_ = json.NewDecoder(res.Body).Decode(&answer)
	return res.StatusCode, answer.Down
}

func TestOutageSwitchOverHTTP(t *testing.T) {
	sim, srv := newSimulator(t, "")
	tests := []struct {
		name, method, body string
		wantHTTP           int
		wantDown           bool
	}{
		{"initially up", http.MethodGet, "", http.StatusOK, false},
		{"switch on", http.MethodPut, `{"down": true}`, http.StatusOK, true},
		{"reads on", http.MethodGet, "", http.StatusOK, true},
		{"malformed switch", http.MethodPut, `{"down": "yes"}`, http.StatusBadRequest, false},
		{"switch without a value", http.MethodPut, `{}`, http.StatusBadRequest, false},
		{"still on", http.MethodGet, "", http.StatusOK, true},
		{"switch off", http.MethodPut, `{"down": false}`, http.StatusOK, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, down := outage(t, srv, tt.method, tt.body)
			if code != tt.wantHTTP || (code == http.StatusOK && down != tt.wantDown) {
				t.Errorf("HTTP %d down=%v, want %d down=%v", code, down, tt.wantHTTP, tt.wantDown)
			}
		})
	}
	if sim.Down() {
		t.Error("the simulator is still down")
	}
}

func TestReceivedOverHTTP(t *testing.T) {
	ctx := context.Background()
	_, srv := newSimulator(t, "")
	c := newClient(srv, secret)
	for _, id := range []string{"c1", "c2", "c1"} {
		if _, err := c.Deliver(ctx, "gewerbe", "case", submission(id)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Deliver(ctx, "dms", "archive", submission("c1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Withdraw(ctx, "gewerbe", "c2", "Versehen"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		query string
		want  []string // caseId/kind of the records in order
	}{
		{"all", "", []string{"c1/case", "c2/case", "c1/archive"}},
		{"one case", "?caseId=c1", []string{"c1/case", "c1/archive"}},
		{"unknown case", "?caseId=c9", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := http.Get(srv.URL + fachverfahren.Path + "/received" + tt.query)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var recs []map[string]any
			if err := json.NewDecoder(res.Body).Decode(&recs); err != nil || res.StatusCode != http.StatusOK || recs == nil {
				t.Fatalf("HTTP %d, %v, %v", res.StatusCode, recs, err)
			}
			got := []string{}
			for _, r := range recs {
				for _, field := range []string{"caseId", "kind", "target", "reference", "receivedAt", "submission",
					"withdrawn", "withdrawalReason"} {
					if _, ok := r[field]; !ok {
						t.Errorf("record lacks %q: %v", field, r)
					}
				}
				got = append(got, fmt.Sprint(r["caseId"], "/", r["kind"]))
				if r["caseId"] == "c2" && (r["withdrawn"] != true || r["withdrawalReason"] != "Versehen") {
					t.Errorf("withdrawn record = %v", r)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("records %v, want %v", got, tt.want)
			}
		})
	}
}

func TestClientClassifiesAnswers(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		status   int
		withdraw bool
		wantType string // non-retryable type; "ok" means success; empty means retryable
	}{
		{"accepted", http.StatusCreated, false, "ok"},
		{"bad request", http.StatusBadRequest, false, fachverfahren.ErrTypeRejected},
		{"unauthorized", http.StatusUnauthorized, false, fachverfahren.ErrTypeRejected},
		{"unknown endpoint", http.StatusNotFound, false, fachverfahren.ErrTypeRejected},
		{"unprocessable", http.StatusUnprocessableEntity, false, fachverfahren.ErrTypeRejected},
		{"request timeout", http.StatusRequestTimeout, false, ""},
		{"rate limited", http.StatusTooManyRequests, false, ""},
		{"server error", http.StatusInternalServerError, false, ""},
		{"bad gateway", http.StatusBadGateway, false, ""},
		{"withdrawal accepted", http.StatusNoContent, true, "ok"},
		{"withdrawal of a case never delivered", http.StatusNotFound, true, "ok"},
		{"withdrawal refused", http.StatusForbidden, true, fachverfahren.ErrTypeRejected},
		{"withdrawal during an outage", http.StatusServiceUnavailable, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotKey string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotKey = r.Header.Get(fachverfahren.HeaderIdempotencyKey)
				w.WriteHeader(tt.status)
				if tt.status != http.StatusNoContent {
					_, _ = io.WriteString(w, `{"reference":"FV-1","receivedAt":"2026-03-01T09:00:00Z","error":"simulated"}`)
				}
			}))
			defer srv.Close()
			c := fachverfahren.NewClient(fachverfahren.ClientConfig{DefaultURL: srv.URL, Secret: secret})
			var err error
			wantKey := "c1:case"
			if tt.withdraw {
				err = c.Withdraw(ctx, "gewerbe", "c1", "")
				wantKey = "c1:withdrawal"
			} else {
				_, err = c.Deliver(ctx, "gewerbe", "case", submission("c1"))
			}
			switch tt.wantType {
			case "ok":
				if err != nil {
					t.Errorf("err = %v, want success", err)
				}
			case "":
				if !retryable(err) || !strings.Contains(err.Error(), "fachverfahren gewerbe: "+strconv.Itoa(tt.status)) {
					t.Errorf("err = %v, want retryable and naming the target and status", err)
				}
			default:
				if !nonRetryable(err, tt.wantType) {
					t.Errorf("err = %v, want non-retryable %s", err, tt.wantType)
				}
			}
			if gotKey != wantKey {
				t.Errorf("Idempotency-Key %q, want %q", gotKey, wantKey)
			}
		})
	}
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	c := fachverfahren.NewClient(fachverfahren.ClientConfig{DefaultURL: down.URL, Secret: secret})
	if _, err := c.Deliver(ctx, "gewerbe", "case", submission("c1")); !retryable(err) || !strings.Contains(err.Error(), "gewerbe") {
		t.Errorf("unreachable target: %v, want a retryable error naming the target", err)
	}
}

func TestRecordsSurviveRestart(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "sandbox", "fachverfahren.json")
	_, srv := newSimulator(t, file)
	c := newClient(srv, secret)
	first, err := c.Deliver(ctx, "gewerbe", "case", submission("c1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Withdraw(ctx, "gewerbe", "c1", "Umzug"); err != nil {
		t.Fatal(err)
	}

	sim, srv2 := newSimulator(t, file)
	c2 := newClient(srv2, secret)
	again, err := c2.Deliver(ctx, "gewerbe", "case", submission("c1"))
	if err != nil || again.Reference != first.Reference {
		t.Errorf("redelivery after restart = %+v, %v; want reference %s", again, err, first.Reference)
	}
	next, err := c2.Deliver(ctx, "gewerbe", "case", submission("c2"))
	if err != nil || referenceNumber(t, next.Reference) != referenceNumber(t, first.Reference)+1 {
		t.Errorf("new delivery after restart = %+v, %v; want the next reference", next, err)
	}
	got := sim.Received()
	if len(got) != 2 || !got[0].Withdrawn || got[0].WithdrawalReason != "Umzug" {
		t.Errorf("records after restart = %+v", got)
	}
	entries, err := os.ReadDir(filepath.Dir(file))
	if err != nil || len(entries) != 1 {
		t.Errorf("state directory holds %v (%v), want only the state file", entries, err)
	}
}

// TestOlderRecordsAreListedWholeFromTheJournal keeps two whole records in
// memory and delivers five: every record is listed with its whole
// submission, callbacks still reach the older ones, and a redelivery of the
// first is still known, also after a restart.
func TestOlderRecordsAreListedWholeFromTheJournal(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "fachverfahren.jsonl")
	open := func() (*fachverfahren.Simulator, *fachverfahren.Client) {
		sim, err := fachverfahren.NewSimulator(fachverfahren.SimulatorConfig{Secret: secret, StateFile: file, KeptInMemory: 2,
			Callbacks: fachverfahren.CallbacksOff, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sim.Close() })
		r := mux.NewRouter()
		sim.Register(r)
		srv := httptest.NewServer(r)
		t.Cleanup(srv.Close)
		return sim, newClient(srv, secret)
	}
	sim, c := open()
	var first activities.Receipt
	for i := range 5 {
		sub := submission(fmt.Sprint("c", i))
		sub.Data = json.RawMessage(fmt.Sprintf(`{"gewerbe":"Bäckerei %d"}`, i))
		receipt, err := c.Deliver(ctx, "gewerbe", "case", sub)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = receipt
		}
	}
	if err := c.Withdraw(ctx, "gewerbe", "c0", "Umzug"); err != nil {
		t.Fatal(err)
	}
	check := func(sim *fachverfahren.Simulator, when string) {
		t.Helper()
		got := sim.Received()
		if len(got) != 5 {
			t.Fatalf("%s: %d records, want 5", when, len(got))
		}
		for i, rec := range got {
			want := fmt.Sprintf(`{"gewerbe":"Bäckerei %d"}`, i)
			if string(rec.Submission.Data) != want || rec.Submission.Authority != "147130000000" || rec.Submission.CaseID != rec.CaseID {
				t.Errorf("%s: record %d has submission %+v, want data %s", when, i, rec.Submission, want)
			}
		}
		if !got[0].Withdrawn || got[0].WithdrawalReason != "Umzug" {
			t.Errorf("%s: the withdrawal of the first record is lost: %+v", when, got[0])
		}
	}
	check(sim, "before a restart")
	sim.Close()
	sim, c = open()
	check(sim, "after a restart")
	if again, err := c.Deliver(ctx, "gewerbe", "case", submission("c0")); err != nil || again.Reference != first.Reference {
		t.Errorf("redelivery of the first after a restart = %+v, %v; want reference %s", again, err, first.Reference)
	}
}

func TestCorruptStateFileFailsTheStart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "fv.json")
	if err := os.WriteFile(file, []byte(`{"records": 1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := fachverfahren.NewSimulator(fachverfahren.SimulatorConfig{StateFile: file}); err == nil {
		t.Error("a corrupt state file was accepted")
	}
}

func TestDeliveryBodyIsSignedJSON(t *testing.T) {
	var got fachverfahren.Delivery
	var verr error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		verr = ozgflow.VerifyBody(secret, time.Now(), r.Header.Get(ozgflow.HeaderSignatureTimestamp),
			r.Header.Get(ozgflow.HeaderSignature), body)
		_ = json.NewDecoder(bytes.NewReader(body)).Decode(&got)
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"reference":"FV-2026-000001","receivedAt":"2026-03-01T09:00:00Z"}`)
	}))
	defer srv.Close()
	c := fachverfahren.NewClient(fachverfahren.ClientConfig{DefaultURL: srv.URL, Secret: secret})
	if _, err := c.Deliver(context.Background(), "gewerbe", "case", submission("c1")); err != nil {
		t.Fatal(err)
	}
	if verr != nil || got.Kind != "case" || got.Target != "gewerbe" || got.Submission.CaseID != "c1" {
		t.Errorf("body %+v, signature %v", got, verr)
	}
}
