package conformance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities/fachverfahren"
	"github.com/ozgflow/ozgflow/conformance"
)

var secret = []byte("conformance-secret-0123456789")

// The kit's timeout in these tests, and how long the slow fault takes:
// longer than that.
const (
	kitTimeout = 500 * time.Millisecond
	slow       = 800 * time.Millisecond
)

// simulator serves a Fachverfahren simulator with the faults, as dev does.
func simulator(t *testing.T, faults fachverfahren.Faults, mode fachverfahren.CallbackMode) string {
	t.Helper()
	sim, err := fachverfahren.NewSimulator(fachverfahren.SimulatorConfig{Secret: secret, Faults: faults, Callbacks: mode,
		CallbackDelay: 10 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	sim.Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(func() {
		srv.Close()
		sim.Close()
	})
	return srv.URL + fachverfahren.Path
}

func check(t *testing.T, target string) conformance.Report {
	t.Helper()
	report, err := conformance.Run(context.Background(), conformance.Config{Target: target, Secret: secret,
		Timeout: kitTimeout, CallbackWait: 15 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := report.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", text.String())
	return report
}

func TestTheSimulatorMeetsEveryRequirement(t *testing.T) {
	report := check(t, simulator(t, fachverfahren.Faults{}, ""))
	if !report.Passed || len(report.Failed()) != 0 {
		t.Fatalf("the simulator failed %v", report.Failed())
	}
	if len(report.Requirements) != 10 {
		t.Errorf("%d requirements, want 10", len(report.Requirements))
	}
	for _, res := range report.Requirements {
		if len(res.Evidence) == 0 || res.Title == "" {
			t.Errorf("%s without title or evidence", res.ID)
		}
	}
}

// TestEachFaultFailsItsRequirements breaks the simulator one way at a
// time, then every way at once (its broken mode), and holds the kit to
// failing exactly the requirements each breakage violates.
func TestEachFaultFailsItsRequirements(t *testing.T) {
	broken := fachverfahren.BrokenFaults
	broken.SlowAnswers = slow
	tests := []struct {
		name   string
		faults fachverfahren.Faults
		mode   fachverfahren.CallbackMode
		want   []string
	}{
		{"accepts bad signatures", fachverfahren.Faults{AcceptBadSignatures: true}, "",
			[]string{conformance.ReqSignatureChecked}},
		{"a repeated key makes a new delivery", fachverfahren.Faults{RepeatedKeyIsNew: true}, "",
			[]string{conformance.ReqIdempotent}},
		{"answers too slowly", fachverfahren.Faults{SlowAnswers: slow}, "",
			[]string{conformance.ReqTimely}},
		{"signs callbacks wrongly", fachverfahren.Faults{WrongCallbackSignatures: true}, "",
			[]string{conformance.ReqCallbacksSigned}},
		{"broken mode: all of them", broken, "",
			[]string{conformance.ReqSignatureChecked, conformance.ReqIdempotent, conformance.ReqTimely, conformance.ReqCallbacksSigned}},
		{"reports nothing back", fachverfahren.Faults{}, fachverfahren.CallbacksOff,
			[]string{conformance.ReqCallbacksSent, conformance.ReqCallbacksSigned, conformance.ReqCallbacksValid,
				conformance.ReqCallbacksRetried, conformance.ReqDecisionReported}},
		{"reports progress but no decision", fachverfahren.Faults{}, fachverfahren.CallbacksProgress,
			[]string{conformance.ReqDecisionReported}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wait := 15 * time.Second
			if slices.Contains(tt.want, conformance.ReqDecisionReported) {
				wait = 2 * time.Second // what does not come need not be waited for long
			}
			report, err := conformance.Run(context.Background(), conformance.Config{Target: simulator(t, tt.faults, tt.mode),
				Secret: secret, Timeout: kitTimeout, CallbackWait: wait})
			if err != nil {
				t.Fatal(err)
			}
			var text bytes.Buffer
			_ = report.WriteText(&text)
			if got := report.Failed(); !slices.Equal(got, tt.want) || report.Passed {
				t.Fatalf("failed %v, want exactly %v\n%s", got, tt.want, text.String())
			}
			for _, res := range report.Requirements {
				if !res.Passed && strings.Join(res.Evidence, "") == "nothing to show" {
					t.Errorf("%s failed without evidence", res.ID)
				}
			}
		})
	}
}

func TestReportAsTextAndJSON(t *testing.T) {
	report := check(t, simulator(t, fachverfahren.Faults{AcceptBadSignatures: true}, ""))
	var text bytes.Buffer
	if err := report.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"PASS  delivery-accepted", "FAIL  signature-checked",
		"delivery signed with another secret: 201 Created", "want 401 or 403",
		"9 of 10 requirements met; not met: signature-checked."} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Target       string `json:"target"`
		Passed       bool   `json:"passed"`
		Requirements []struct {
			ID       string   `json:"id"`
			Passed   bool     `json:"passed"`
			Evidence []string `json:"evidence"`
		} `json:"requirements"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("JSON report: %v\n%s", err, buf.String())
	}
	if doc.Passed || len(doc.Requirements) != 10 || doc.Requirements[1].ID != conformance.ReqSignatureChecked ||
		doc.Requirements[1].Passed || len(doc.Requirements[1].Evidence) != 3 || !strings.HasSuffix(doc.Target, fachverfahren.Path) {
		t.Errorf("JSON report = %s", buf.String())
	}
}

func TestAnUnreachableTargetFailsWithEvidence(t *testing.T) {
	srv := httptest.NewServer(nil)
	target := srv.URL
	srv.Close()
	report, err := conformance.Run(context.Background(), conformance.Config{Target: target, Secret: secret,
		Timeout: kitTimeout, CallbackWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if report.Passed || len(report.Failed()) != 10 {
		t.Fatalf("failed %v, want all", report.Failed())
	}
	if ev := report.Requirements[0].Evidence[0]; !strings.Contains(ev, "no answer") {
		t.Errorf("evidence %q", ev)
	}
}

func TestBadConfigurationIsAnError(t *testing.T) {
	for _, cfg := range []conformance.Config{{Target: "fv.example.de", Secret: secret}, {Target: "http://fv.example.de"}} {
		if _, err := conformance.Run(context.Background(), cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

// TestTheKitNeedsNoTemporalServer keeps the kit small enough for vendors:
// neither the Temporal server nor ozgflow's processes come with it.
func TestTheKitNeedsNoTemporalServer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/ozgflow/ozgflow/conformance").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "go.temporal.io/server") || dep == "github.com/ozgflow/ozgflow/process" ||
			dep == "github.com/ozgflow/ozgflow/devserver" {
			t.Errorf("the kit depends on %s", dep)
		}
	}
}

// sloppyVendor is an endpoint that gets deliveries right but reports back
// carelessly: the received callback names no reference of the case, the
// decision comes without its PDF.
func sloppyVendor(t *testing.T) string {
	t.Helper()
	var mu sync.Mutex
	refs := map[string]string{} // Idempotency-Key → reference
	report := func(url string, cbs ...ozgflow.CallbackRequest) {
		for _, cb := range cbs {
			body, _ := json.Marshal(cb)
			for attempt := 0; attempt < 5; attempt++ {
				now := time.Now()
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set(ozgflow.HeaderSignatureTimestamp, strconv.FormatInt(now.Unix(), 10))
				req.Header.Set(ozgflow.HeaderSignature, ozgflow.SignBody(secret, now, body))
				res, err := http.DefaultClient.Do(req)
				if err == nil {
					res.Body.Close()
					if res.StatusCode < 500 {
						break
					}
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := ozgflow.VerifyBody(secret, time.Now(), r.Header.Get(ozgflow.HeaderSignatureTimestamp),
			r.Header.Get(ozgflow.HeaderSignature), body); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/withdrawal") {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		var d fachverfahren.Delivery
		_ = json.Unmarshal(body, &d)
		key := r.Header.Get(fachverfahren.HeaderIdempotencyKey)
		mu.Lock()
		ref, seen := refs[key]
		if !seen {
			ref = "SV-" + strconv.Itoa(len(refs)+1)
			refs[key] = ref
		}
		mu.Unlock()
		if !seen && d.Submission.AwaitsDecision {
			go report(d.CallbackURL,
				ozgflow.CallbackRequest{ID: "r-" + ref, CaseID: d.Submission.CaseID, Reference: "SV-unknown", Event: "received"},
				ozgflow.CallbackRequest{ID: "d-" + ref, CaseID: d.Submission.CaseID, Reference: ref, Event: "decided", Outcome: "approve"})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"reference": ref, "receivedAt": time.Now().UTC()})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestCarelessCallbacksFailTheirRequirements(t *testing.T) {
	report, err := conformance.Run(context.Background(), conformance.Config{Target: sloppyVendor(t), Secret: secret,
		Timeout: kitTimeout, CallbackWait: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	_ = report.WriteText(&text)
	want := []string{conformance.ReqWithdrawal, conformance.ReqCallbacksValid, conformance.ReqDecisionReported}
	if got := report.Failed(); !slices.Equal(got, want) {
		t.Fatalf("failed %v, want %v\n%s", got, want, text.String())
	}
	for _, says := range []string{`reference "SV-unknown" is not the receipt's`, "no document",
		"withdrawal of case C: 404 Not Found"} {
		if !strings.Contains(text.String(), says) {
			t.Errorf("the report does not say %q:\n%s", says, text.String())
		}
	}
}
