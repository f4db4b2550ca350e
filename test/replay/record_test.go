package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/locale"
	"github.com/ozgflow/ozgflow/process"
	"github.com/ozgflow/ozgflow/test/e2e"
)

var record = flag.Bool("record", false,
	"drive one case per path through every published variant on an in-process ozgflow dev (needs Redis at REDIS_URL) and write their histories to test/testdata/histories")

// recording is one path through a published variant whose history is kept.
type recording struct {
	name       string // file name in historyDir without .json: <definition-id>[-<path>]
	definition string // ID of the published variant the case runs through
	status     string // final status the path ends in
	drive      func(t *testing.T, st *e2e.Stack) e2e.Submitted
}

// recordings cover every published variant and, beyond the main path of
// each, the paths that exercise other code of the workflow: a decision by
// rule, a withdrawal with refund, a failed payment that is retried.
var recordings = []recording{
	{"gewerbeanmeldung-leipzig", "gewerbeanmeldung-leipzig", "approved",
		func(t *testing.T, st *e2e.Stack) e2e.Submitted {
			return gewerbeWithInformationRequest(t, st, e2e.Leipzig, "dev-sb-leipzig")
		}},
	{"gewerbeanmeldung-dresden", "gewerbeanmeldung-dresden", "approved",
		func(t *testing.T, st *e2e.Stack) e2e.Submitted {
			return gewerbeWithInformationRequest(t, st, e2e.Dresden, "dev-sb-dresden")
		}},
	{"gewerbeanmeldung-leipzig-withdrawn", "gewerbeanmeldung-leipzig", "withdrawn", gewerbeWithdrawnAfterPayment},
	{"gewerbeanmeldung-leipzig-handover-four-eyes", "gewerbeanmeldung-leipzig", "rejected", gewerbeHandedOverAndApproved},
	{"gewerbeanmeldung-dresden-payment-retried", "gewerbeanmeldung-dresden", "approved", gewerbePaymentFailsAndIsRetried},
	{"gewerbeanmeldung-dresden-payment-returned", "gewerbeanmeldung-dresden", "approved", gewerbeReturnedBeforePaying},
	{"gewerbeanmeldung-dresden-follow-up", "gewerbeanmeldung-dresden", "approved", gewerbeWithFollowUps},
	{"anwohnerparkausweis-leipzig", "anwohnerparkausweis-leipzig", "rejected",
		func(t *testing.T, st *e2e.Stack) e2e.Submitted {
			return parkausweisRejectedInReview(t, st, e2e.Leipzig, "Plagwitz-Nord", "dev-sb-leipzig")
		}},
	{"anwohnerparkausweis-leipzig-rule", "anwohnerparkausweis-leipzig", "approved", parkausweisDecidedByRule},
	{"anwohnerparkausweis-dresden", "anwohnerparkausweis-dresden", "rejected",
		func(t *testing.T, st *e2e.Stack) e2e.Submitted {
			return parkausweisRejectedInReview(t, st, e2e.Dresden, "Löbtau-Süd", "dev-sb-dresden")
		}},
	{"hundesteuer-anmeldung-leipzig", "hundesteuer-anmeldung-leipzig", "approved",
		func(t *testing.T, st *e2e.Stack) e2e.Submitted { return st.Submit(t, e2e.Hundesteuer(e2e.Leipzig)) }},
	{"hundesteuer-anmeldung-dresden", "hundesteuer-anmeldung-dresden", "approved",
		func(t *testing.T, st *e2e.Stack) e2e.Submitted { return st.Submit(t, e2e.Hundesteuer(e2e.Dresden)) }},
	{"hundesteuer-anmeldung-dresden-signed", "hundesteuer-anmeldung-dresden", "approved", hundesteuerSignedByApplicant},
	{"gewerbeabmeldung-leipzig", "gewerbeabmeldung-leipzig", "approved",
		func(t *testing.T, st *e2e.Stack) e2e.Submitted {
			return st.Submit(t, e2e.Gewerbeabmeldung(e2e.Leipzig, "amt24-anna"))
		}},
	{"gewerbeanmeldung-dresden-callbacks", "gewerbeanmeldung-dresden", "approved", gewerbeWithProgressCallbacks},
	{"lasttest-auto-chemnitz", "lasttest-auto-chemnitz", "approved",
		func(t *testing.T, st *e2e.Stack) e2e.Submitted { return st.Submit(t, lasttest("lasttest-auto")) }},
	{"lasttest-pruefung-chemnitz", "lasttest-pruefung-chemnitz", "approved", lasttestDecidedByCaseWorker},
	{"lasttest-fitconnect-chemnitz-rejected-resent", "lasttest-fitconnect-chemnitz", "approved", lasttestFITConnectRejectedThenResent},
}

// TestRecordHistories records the histories the replay test replays. It is a
// maintainer action, run after a release of the workflow or the catalog:
//
//	go test ./test/replay -run TestRecordHistories -record -count=1
//
// Every case is driven over HTTP as applicants and case workers would, on an
// in-process `ozgflow dev` with Temporal in memory and the real Redis.
func TestRecordHistories(t *testing.T) {
	if !*record {
		t.Log("not recording; to record the histories anew run: " + recordCommand)
		return
	}
	want := map[string]bool{}
	for _, v := range publishedVariants(t) {
		want[v.id] = true
	}
	have := map[string]bool{}
	for _, r := range recordings {
		if !want[r.definition] {
			t.Fatalf("recording %s runs through %s, which the catalog does not publish", r.name, r.definition)
		}
		have[r.definition] = true
	}
	for id := range want {
		if !have[id] {
			t.Fatalf("published variant %s has no recording: add a path for it to recordings in record_test.go", id)
		}
	}

	d := startDev(t)
	st := &e2e.Stack{URL: d.URL, SandboxURL: d.URL, Temporal: d.Client, Namespace: namespace}
	var (
		mu        sync.Mutex
		histories = map[string]*historypb.History{}
	)
	start := time.Now()
	t.Run("cases", func(t *testing.T) {
		for _, r := range recordings {
			t.Run(r.name, func(t *testing.T) {
				t.Parallel()
				s := r.drive(t, st)
				c := st.WaitStatus(t, s, r.status)
				if def := c["definition"].(map[string]any); def["id"] != r.definition {
					t.Fatalf("case ran through %v, want %s", def["id"], r.definition)
				}
				h := closedHistory(t, st, s.ID)
				mu.Lock()
				histories[r.name] = h
				mu.Unlock()
			})
		}
	})
	if t.Failed() {
		t.Fatal("not all paths reached their final status; no history written")
	}
	t.Logf("drove %d cases in %v", len(histories), time.Since(start).Round(time.Millisecond))

	// A history the current code cannot replay would make the replay test
	// fail right away: the workflow itself is not deterministic.
	for _, name := range slices.Sorted(maps.Keys(histories)) {
		if err := newReplayer(t).ReplayWorkflowHistory(replayLogger(t), histories[name]); err != nil {
			t.Fatalf("history %s, just recorded, does not replay: the workflow code is not deterministic: %v", name, err)
		}
	}
	if err := os.MkdirAll(historyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range slices.Sorted(maps.Keys(histories)) {
		path := filepath.Join(historyDir, name+".json")
		if err := writeHistory(path, histories[name]); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d events)", path, len(histories[name].GetEvents()))
	}
}

const namespace = "ozgflow"

// startDev starts `ozgflow dev` in this process with Temporal in memory,
// against the Redis at REDIS_URL under a key prefix of its own.
func startDev(t *testing.T) *process.Dev {
	t.Helper()
	cfg := process.DefaultConfig()
	if v := os.Getenv("REDIS_URL"); v != "" {
		cfg.RedisURL = v
	}
	cfg.Addr, cfg.DataDir, cfg.Secret = "127.0.0.1:0", t.TempDir(), secret
	cfg.TemporalNamespace = namespace
	cfg.RedisPrefix = "replay:" + uuid.NewString() + ":"
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	d, err := process.StartDev(context.Background(), cfg, process.DevOptions{InMemory: true, RequireRedis: true}, logger)
	if err != nil {
		t.Fatalf("start ozgflow dev (recording needs Redis at REDIS_URL, default %s): %v", process.DefaultConfig().RedisURL, err)
	}
	t.Cleanup(d.Close)
	return d
}

// closedHistory waits until the case's workflow has ended and returns its
// whole history; a case that failed is of no use for replay.
func closedHistory(t *testing.T, st *e2e.Stack, caseID string) *historypb.History {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	wid := ozgflow.CaseWorkflowID(caseID)
	if err := st.Temporal.GetWorkflow(ctx, wid, "").Get(ctx, nil); err != nil {
		t.Fatalf("workflow of case %s did not complete: %v", caseID, err)
	}
	h := &historypb.History{}
	it := st.Temporal.GetWorkflowHistory(ctx, wid, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history of case %s: %v", caseID, err)
		}
		h.Events = append(h.Events, ev)
	}
	if n := len(h.Events); n == 0 || h.Events[n-1].GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED {
		t.Fatalf("history of case %s does not end with the workflow's completion", caseID)
	}
	return h
}

// writeHistory writes h as `temporal workflow show --output json` does,
// indented so that a new recording reads well in a diff.
func writeHistory(path string, h *historypb.History) error {
	raw, err := protojson.Marshal(h)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return fmt.Errorf("indent %s: %w", path, err)
	}
	buf.WriteByte('\n')
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Paths through the catalog, driven over HTTP.

// gewerbeWithInformationRequest: the applicant pays on the sandbox page; the
// case worker claims the review, asks for information, the applicant
// answers, the task comes back to the same case worker, who approves.
func gewerbeWithInformationRequest(t *testing.T, st *e2e.Stack, authority, worker string) e2e.Submitted {
	s := st.Submit(t, e2e.Gewerbeanmeldung(authority, "amt24-anna"))
	e2e.Pay(t, s.PaymentURL, "pay")
	first := waitTask(t, st, s.ID, worker, "queue=gewerbe", "")
	taskAction(t, st, worker, first, "claim", nil)
	taskAction(t, st, worker, first, "complete",
		map[string]any{"outcome": "request_information", "comment": "Bitte die Erlaubnis nach § 34c GewO nachreichen."})
	st.WaitStatus(t, s, "information_requested")
	expect(t, st, http.MethodPost, "/api/v1/applications/"+s.ID+"/responses", s.Token,
		map[string]any{"text": "Die Erlaubnis liegt bei."}, http.StatusOK)
	again := waitTask(t, st, s.ID, worker, "queue=gewerbe", first)
	taskAction(t, st, worker, again, "complete", map[string]any{"outcome": "approve", "comment": "Vollständig."})
	if authority == e2e.Leipzig { // four-eyes: a second case worker approves
		taskAction(t, st, worker+"-2", again, "approve", map[string]any{"approve": true})
	}
	return s
}

// gewerbeHandedOverAndApproved: the team lead claims the review and hands it
// to a colleague, who proposes a rejection; the team lead sends it back once,
// then approves the corrected proposal (four-eyes principle).
func gewerbeHandedOverAndApproved(t *testing.T, st *e2e.Stack) e2e.Submitted {
	s := st.Submit(t, e2e.Gewerbeanmeldung(e2e.Leipzig, "amt24-anna"))
	e2e.Pay(t, s.PaymentURL, "pay")
	task := waitTask(t, st, s.ID, "dev-sb-leipzig", "queue=gewerbe", "")
	taskAction(t, st, "dev-sb-leipzig", task, "claim", nil)
	taskAction(t, st, "dev-sb-leipzig", task, "handover", map[string]any{"to": "sb-leipzig-2", "note": "Bitte prüfen"})
	taskAction(t, st, "dev-sb-leipzig-2", task, "complete", map[string]any{"outcome": "reject", "comment": "Unvollständig"})
	taskAction(t, st, "dev-sb-leipzig", task, "approve", map[string]any{"approve": false, "comment": "Bitte begründen"})
	taskAction(t, st, "dev-sb-leipzig-2", task, "complete",
		map[string]any{"outcome": "reject", "comment": "Die angemeldete Tätigkeit ist erlaubnispflichtig."})
	taskAction(t, st, "dev-sb-leipzig", task, "approve", map[string]any{"approve": true})
	return s
}

// gewerbeWithFollowUps: the case worker sets a follow-up (Wiedervorlage),
// moves it to another day, clears it and sets one again, then approves:
// each timer waits and is cancelled.
func gewerbeWithFollowUps(t *testing.T, st *e2e.Stack) e2e.Submitted {
	s := st.Submit(t, e2e.Gewerbeanmeldung(e2e.Dresden, "amt24-anna"))
	e2e.Pay(t, s.PaymentURL, "pay")
	task := waitTask(t, st, s.ID, "dev-sb-dresden", "queue=gewerbe", "")
	taskAction(t, st, "dev-sb-dresden", task, "claim", nil)
	day := func(n int) string { return time.Now().In(locale.Berlin).AddDate(0, 0, n).Format("2006-01-02") }
	taskAction(t, st, "dev-sb-dresden", task, "follow-up", map[string]any{"date": day(7), "note": "Register abfragen"})
	taskAction(t, st, "dev-sb-dresden", task, "follow-up", map[string]any{"date": day(2), "note": "Register abfragen"})
	taskAction(t, st, "dev-sb-dresden", task, "follow-up", map[string]any{"date": ""})
	taskAction(t, st, "dev-sb-dresden", task, "follow-up", map[string]any{"date": day(3)})
	taskAction(t, st, "dev-sb-dresden", task, "complete", map[string]any{"outcome": "approve"})
	return s
}

// hundesteuerSignedByApplicant: the keeper of a listed dog signs the
// application on the signing sandbox's page.
func hundesteuerSignedByApplicant(t *testing.T, st *e2e.Stack) e2e.Submitted {
	s := st.Submit(t, e2e.DangerousDog(e2e.Dresden))
	c := st.WaitStatus(t, s, "awaiting_signature")
	e2e.Sign(t, c["signing"].(map[string]any)["redirectUrl"].(string), "sign")
	return s
}

// gewerbeWithdrawnAfterPayment: paid, in review, then withdrawn; the fee is
// refunded and the Fachverfahren told.
func gewerbeWithdrawnAfterPayment(t *testing.T, st *e2e.Stack) e2e.Submitted {
	s := st.Submit(t, e2e.Gewerbeanmeldung(e2e.Leipzig, "amt24-anna"))
	e2e.Pay(t, s.PaymentURL, "pay")
	waitTask(t, st, s.ID, "dev-sb-leipzig", "queue=gewerbe", "")
	expect(t, st, http.MethodPost, "/api/v1/applications/"+s.ID+"/withdraw", s.Token,
		map[string]any{"reason": "Umzug"}, http.StatusOK)
	e2e.WaitFor(t, "refund", 20*time.Second, func() bool {
		p, _ := st.Case(t, s.ID, s.Token)["payment"].(map[string]any)
		return p != nil && p["refund"] == "REFUNDED"
	})
	return s
}

// gewerbePaymentFailsAndIsRetried: the first payment fails on the sandbox
// page, the applicant opens a second one and pays; the case worker approves.
func gewerbePaymentFailsAndIsRetried(t *testing.T, st *e2e.Stack) e2e.Submitted {
	s := st.Submit(t, e2e.Gewerbeanmeldung(e2e.Dresden, "amt24-anna"))
	e2e.Pay(t, s.PaymentURL, "fail")
	e2e.WaitFor(t, "failed payment", 20*time.Second, func() bool {
		p, _ := st.Case(t, s.ID, s.Token)["payment"].(map[string]any)
		return p != nil && p["status"] == "FAILED"
	})
	res := expect(t, st, http.MethodPost, "/api/v1/applications/"+s.ID+"/payment", s.Token, nil, http.StatusOK)
	retry, _ := res.JSON(t)["redirectUrl"].(string)
	if retry == "" || retry == s.PaymentURL {
		t.Fatalf("retried payment = %s", res.Body)
	}
	e2e.Pay(t, retry, "pay")
	task := waitTask(t, st, s.ID, "dev-sb-dresden", "queue=gewerbe", "")
	taskAction(t, st, "dev-sb-dresden", task, "complete", map[string]any{"outcome": "approve"})
	return s
}

// gewerbeReturnedBeforePaying: the applicant comes back from the payment
// page without paying, which makes the case ask the provider
// (payment-returned), then pays.
func gewerbeReturnedBeforePaying(t *testing.T, st *e2e.Stack) e2e.Submitted {
	s := st.Submit(t, e2e.Gewerbeanmeldung(e2e.Dresden, "amt24-anna"))
	if res := st.ReturnFromPayment(t, s, ""); !strings.Contains(res.Body, `id="pay-link"`) {
		t.Fatalf("back without paying, the page does not ask to pay: %d", res.Status)
	}
	e2e.Pay(t, s.PaymentURL, "pay")
	task := waitTask(t, st, s.ID, "dev-sb-dresden", "queue=gewerbe", "")
	taskAction(t, st, "dev-sb-dresden", task, "complete", map[string]any{"outcome": "approve"})
	return s
}

// gewerbeWithProgressCallbacks: the Fachverfahren reports received and in
// review (the simulator, by hand) on a case a case worker decides, and a
// decision of its own is refused.
func gewerbeWithProgressCallbacks(t *testing.T, st *e2e.Stack) e2e.Submitted {
	s := st.Submit(t, e2e.Gewerbeanmeldung(e2e.Dresden, "amt24-anna"))
	e2e.Pay(t, s.PaymentURL, "pay")
	task := waitTask(t, st, s.ID, "dev-sb-dresden", "queue=gewerbe", "")
	ref := st.Case(t, s.ID, s.Token)["delivery"].(map[string]any)["reference"].(string)
	for _, cb := range []struct {
		event, outcome string
		want           int
	}{
		{ozgflow.CallbackReceived, "", http.StatusOK},
		{ozgflow.CallbackInReview, "", http.StatusOK},
		{ozgflow.CallbackDecided, ozgflow.OutcomeApprove, http.StatusBadGateway}, // 409: decided in ozgflow
	} {
		res := e2e.Call(t, st.SandboxURL, http.MethodPost, "/sandbox/fachverfahren/callbacks", "",
			map[string]any{"reference": ref, "event": cb.event, "outcome": cb.outcome})
		if res.Status != cb.want {
			t.Fatalf("callback %s: %d %s, want %d", cb.event, res.Status, res.Body, cb.want)
		}
	}
	taskAction(t, st, "dev-sb-dresden", task, "complete", map[string]any{"outcome": "approve"})
	return s
}

// lasttestFITConnectRejectedThenResent: the sandbox FIT-Connect destination
// rejects the first submission; an administrator resends the case, the
// destination accepts and the case goes on.
func lasttestFITConnectRejectedThenResent(t *testing.T, st *e2e.Stack) e2e.Submitted {
	if res := e2e.Call(t, st.SandboxURL, http.MethodPut, "/sandbox/fitconnect/reject", "", map[string]int{"next": 1}); res.Status != http.StatusOK {
		t.Fatalf("sandbox reject: %d %s", res.Status, res.Body)
	}
	s := st.Submit(t, lasttest("lasttest-fitconnect"))
	e2e.WaitFor(t, "rejected delivery", 30*time.Second, func() bool {
		d, _ := expect(t, st, http.MethodGet, "/api/v1/applications/"+s.ID, "dev-admin", nil, http.StatusOK).JSON(t)["delivery"].(map[string]any)
		return d != nil && d["state"] == "rejected"
	})
	expect(t, st, http.MethodPost, "/api/v1/cases/"+s.ID+"/delivery/resend", "dev-admin", nil, http.StatusOK)
	return s
}

// parkausweisRejectedInReview: a zone the office does not list goes to a case
// worker, who rejects it.
func parkausweisRejectedInReview(t *testing.T, st *e2e.Stack, authority, zone, worker string) e2e.Submitted {
	s := st.Submit(t, parkausweis(authority, zone))
	e2e.Pay(t, s.PaymentURL, "pay")
	task := waitTask(t, st, s.ID, worker, "queue=parken", "")
	taskAction(t, st, worker, task, "complete",
		map[string]any{"outcome": "reject", "comment": "Die Anschrift liegt in keinem Bewohnerparkgebiet."})
	return s
}

// parkausweisDecidedByRule: a listed zone and the applicant as holder are
// approved by the rule once paid.
func parkausweisDecidedByRule(t *testing.T, st *e2e.Stack) e2e.Submitted {
	s := st.Submit(t, parkausweis(e2e.Leipzig, "Südvorstadt"))
	e2e.Pay(t, s.PaymentURL, "pay")
	return s
}

// lasttestDecidedByCaseWorker: Chemnitz's case worker decides the task in
// queue lasttest.
func lasttestDecidedByCaseWorker(t *testing.T, st *e2e.Stack) e2e.Submitted {
	s := st.Submit(t, lasttest("lasttest-pruefung"))
	task := waitTask(t, st, s.ID, "dev-sb-chemnitz", "queue=lasttest", "")
	taskAction(t, st, "dev-sb-chemnitz", task, "complete", map[string]any{"outcome": "approve"})
	return s
}

// parkausweis is an application for a resident parking permit.
func parkausweis(authority, zone string) map[string]any {
	plate, street, plz, city := "L-AB 123", "Karl-Liebknecht-Straße", "04107", "Leipzig"
	if authority == e2e.Dresden {
		plate, street, plz, city = "DD-AB 123", "Kesselsdorfer Straße", "01159", "Dresden"
	}
	return map[string]any{
		"service": "anwohnerparkausweis", "authority": authority,
		"applicant": map[string]any{"name": "Ben Beispiel", "portalAccount": "amt24-ben"},
		"data": map[string]any{"kennzeichen": plate, "zone": zone, "halterIstAntragsteller": true,
			"anschrift": map[string]any{"strasse": street, "hausnummer": "10", "plz": plz, "ort": city}},
	}
}

// lasttest is an application for one of Chemnitz's load-test services.
func lasttest(service string) map[string]any {
	return map[string]any{
		"service": service, "authority": e2e.Chemnitz,
		"applicant": map[string]any{"name": "Lasttest", "portalAccount": "amt24-lasttest"},
		"data":      map[string]any{"betreff": "Aufzeichnung für den Replay-Test"},
	}
}

// waitTask waits until the case has an open task, other than except, in the
// task list the query selects (queue, and authority for administrators), as
// the case worker sees it, and returns the task's ID.
func waitTask(t *testing.T, st *e2e.Stack, caseID, token, query, except string) string {
	t.Helper()
	var id string
	e2e.WaitFor(t, "task of case "+caseID+" ("+query+")", 20*time.Second, func() bool {
		res := e2e.Call(t, st.URL, http.MethodGet, "/api/v1/tasks?"+query, token, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("list tasks: %d %s", res.Status, res.Body)
		}
		for _, x := range res.JSON(t)["tasks"].([]any) {
			task := x.(map[string]any)
			if task["caseId"] == caseID && task["id"] != except {
				id = task["id"].(string)
				return true
			}
		}
		return false
	})
	return id
}

// taskAction claims, releases or completes a task and expects success.
func taskAction(t *testing.T, st *e2e.Stack, token, taskID, action string, body any) {
	t.Helper()
	expect(t, st, http.MethodPost, "/api/v1/tasks/"+taskID+"/"+action, token, body, http.StatusOK)
}

// expect calls the gateway and fails unless it answers with status.
func expect(t *testing.T, st *e2e.Stack, method, path, token string, body any, status int) e2e.Response {
	t.Helper()
	res := e2e.Call(t, st.URL, method, path, token, body)
	if res.Status != status {
		t.Fatalf("%s %s: %d %s, want %d", method, path, res.Status, res.Body, status)
	}
	return res
}
