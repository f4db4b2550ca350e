package fachverfahren_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/activities/fachverfahren"
)

// gateway is a callback receiver that checks signatures as ozgflow's
// gateway does and answers the first attempts with the statuses of answers.
type gateway struct {
	srv     *httptest.Server
	mu      sync.Mutex
	got     []ozgflow.CallbackRequest
	bad     int // callbacks with a signature that does not verify
	answers []int
}

func newGateway(t *testing.T, answers ...int) *gateway {
	t.Helper()
	g := &gateway{answers: answers}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		g.mu.Lock()
		defer g.mu.Unlock()
		if err := ozgflow.VerifyBody(secret, time.Now(), r.Header.Get(ozgflow.HeaderSignatureTimestamp),
			r.Header.Get(ozgflow.HeaderSignature), body); err != nil {
			g.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var cb ozgflow.CallbackRequest
		if err := json.Unmarshal(body, &cb); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		g.got = append(g.got, cb)
		status := http.StatusNoContent
		if len(g.answers) > 0 {
			status, g.answers = g.answers[0], g.answers[1:]
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gateway) callbacks() ([]ozgflow.CallbackRequest, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]ozgflow.CallbackRequest(nil), g.got...), g.bad
}

// reportingSimulator serves a simulator that reports back quickly.
func reportingSimulator(t *testing.T, cfg fachverfahren.SimulatorConfig) (*fachverfahren.Simulator, *httptest.Server) {
	t.Helper()
	cfg.Secret = secret
	if cfg.CallbackDelay == 0 {
		cfg.CallbackDelay = 5 * time.Millisecond
	}
	cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	sim, err := fachverfahren.NewSimulator(cfg)
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
	return sim, srv
}

// awaiting is a submission whose Fachverfahren decides.
func awaiting(caseID string) activities.Submission {
	s := submission(caseID)
	s.AwaitsDecision = true
	return s
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func events(cbs []ozgflow.CallbackRequest) string {
	var out []string
	for _, cb := range cbs {
		out = append(out, cb.Event)
	}
	return strings.Join(out, ",")
}

func TestSimulatorReportsBackOnADeliveryThatAwaitsItsDecision(t *testing.T) {
	g := newGateway(t, http.StatusServiceUnavailable) // the first attempt finds the gateway restarting
	sim, srv := reportingSimulator(t, fachverfahren.SimulatorConfig{})
	c := fachverfahren.NewClient(fachverfahren.ClientConfig{DefaultURL: srv.URL + fachverfahren.Path, Secret: secret,
		CallbackURL: g.srv.URL + ozgflow.CallbackPath})
	receipt, err := c.Deliver(context.Background(), "gewerbe", "case", awaiting("c1"))
	if err != nil {
		t.Fatal(err)
	}
	// A case decided in ozgflow hears nothing from the simulator.
	if _, err := c.Deliver(context.Background(), "gewerbe", "case", submission("c2")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the decision", func() bool { cbs, _ := g.callbacks(); return len(cbs) == 4 })
	cbs, bad := g.callbacks()
	if bad != 0 || events(cbs) != "received,received,in_review,decided" {
		t.Fatalf("callbacks %s, %d badly signed", events(cbs), bad)
	}
	if cbs[0].ID != cbs[1].ID || cbs[1].ID == cbs[2].ID || cbs[2].ID == cbs[3].ID {
		t.Errorf("IDs %s %s %s %s: a retry keeps its callback's, each callback has its own", cbs[0].ID, cbs[1].ID, cbs[2].ID, cbs[3].ID)
	}
	for _, cb := range cbs {
		if cb.CaseID != "c1" || cb.Reference != receipt.Reference || !ozgflow.ValidWebhookID(cb.ID) || cb.At.IsZero() {
			t.Errorf("callback %+v", cb)
		}
	}
	d := cbs[3]
	if d.Outcome != ozgflow.OutcomeApprove || d.Document == nil || d.Document.ContentType != "application/pdf" ||
		!bytes.HasPrefix(d.Document.Content, []byte("%PDF-1.4")) || !bytes.Contains(d.Document.Content, []byte(receipt.Reference)) ||
		!strings.HasSuffix(string(d.Document.Content), "%%EOF\n") {
		t.Errorf("decision %+v", d)
	}
	waitFor(t, "the records", func() bool { return len(sim.Received()[0].Callbacks) == 3 })
	rec := sim.Received()[0]
	if rec.CallbackURL != g.srv.URL+ozgflow.CallbackPath || rec.Callbacks[0].Attempts != 2 ||
		rec.Callbacks[0].Status != http.StatusNoContent || rec.Callbacks[2].Outcome != ozgflow.OutcomeApprove {
		t.Errorf("record %+v", rec)
	}
	if other := sim.Received()[1]; len(other.Callbacks) != 0 {
		t.Errorf("callbacks on a case decided in ozgflow: %+v", other.Callbacks)
	}
}

func TestSimulatorCallbackModes(t *testing.T) {
	tests := []struct {
		mode     fachverfahren.CallbackMode
		awaiting string // events on a delivery that awaits the decision
		other    string // on one that does not
	}{
		{fachverfahren.CallbacksOff, "", ""},
		{fachverfahren.CallbacksProgress, "received,in_review", ""},
		{fachverfahren.CallbacksDecisions, "received,in_review,decided", ""},
		{fachverfahren.CallbacksAll, "received,in_review,decided", "received,in_review"},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			g := newGateway(t)
			_, srv := reportingSimulator(t, fachverfahren.SimulatorConfig{Callbacks: tt.mode})
			c := fachverfahren.NewClient(fachverfahren.ClientConfig{DefaultURL: srv.URL + fachverfahren.Path, Secret: secret,
				CallbackURL: g.srv.URL})
			for _, s := range []activities.Submission{awaiting("c1"), submission("c2")} {
				if _, err := c.Deliver(context.Background(), "gewerbe", "case", s); err != nil {
					t.Fatal(err)
				}
			}
			want := 0
			for _, e := range strings.Split(tt.awaiting+","+tt.other, ",") {
				if e != "" {
					want++
				}
			}
			if want > 0 {
				waitFor(t, "the callbacks", func() bool { cbs, _ := g.callbacks(); return len(cbs) >= want })
			}
			time.Sleep(100 * time.Millisecond) // nothing more comes
			cbs, _ := g.callbacks()
			var got = map[string][]ozgflow.CallbackRequest{}
			for _, cb := range cbs {
				got[cb.CaseID] = append(got[cb.CaseID], cb)
			}
			if events(got["c1"]) != tt.awaiting || events(got["c2"]) != tt.other {
				t.Errorf("c1: %q, c2: %q; want %q and %q", events(got["c1"]), events(got["c2"]), tt.awaiting, tt.other)
			}
		})
	}
}

func TestSimulatorReportsByHand(t *testing.T) {
	g := newGateway(t)
	sim, srv := reportingSimulator(t, fachverfahren.SimulatorConfig{Callbacks: fachverfahren.CallbacksOff})
	c := fachverfahren.NewClient(fachverfahren.ClientConfig{DefaultURL: srv.URL + fachverfahren.Path, Secret: secret,
		CallbackURL: g.srv.URL})
	receipt, err := c.Deliver(context.Background(), "gewerbe", "case", awaiting("c1"))
	if err != nil {
		t.Fatal(err)
	}
	post := func(body string) (int, fachverfahren.SentCallback) {
		res, err := http.Post(srv.URL+fachverfahren.Path+"/callbacks", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var sent fachverfahren.SentCallback
		_ = json.NewDecoder(res.Body).Decode(&sent)
		return res.StatusCode, sent
	}
	status, sent := post(`{"reference":"` + receipt.Reference + `","event":"decided","outcome":"reject","comment":"Unvollständig."}`)
	if status != http.StatusOK || sent.Status != http.StatusNoContent || sent.Outcome != ozgflow.OutcomeReject {
		t.Fatalf("HTTP %d %+v", status, sent)
	}
	cbs, _ := g.callbacks()
	if len(cbs) != 1 || cbs[0].Comment != "Unvollständig." || cbs[0].Document == nil ||
		!bytes.Contains(cbs[0].Document.Content, []byte("abgelehnt")) {
		t.Errorf("callbacks %+v", cbs)
	}
	for _, tt := range []struct {
		body string
		want int
	}{
		{`{"reference":"FV-0-1","event":"received"}`, http.StatusNotFound},
		{`{"reference":"` + receipt.Reference + `","event":"archived"}`, http.StatusBadRequest},
		{`{"reference":"` + receipt.Reference + `","event":"decided","outcome":"maybe"}`, http.StatusBadRequest},
		{`{`, http.StatusBadRequest},
	} {
		if status, _ := post(tt.body); status != tt.want {
			t.Errorf("%s: HTTP %d, want %d", tt.body, status, tt.want)
		}
	}
	// A callback the receiver refuses is answered 502 with what it said.
	refusing := newGateway(t, http.StatusConflict)
	c2 := fachverfahren.NewClient(fachverfahren.ClientConfig{DefaultURL: srv.URL + fachverfahren.Path, Secret: secret,
		CallbackURL: refusing.srv.URL})
	other, err := c2.Deliver(context.Background(), "gewerbe", "case", awaiting("c2"))
	if err != nil {
		t.Fatal(err)
	}
	if status, sent := post(`{"reference":"` + other.Reference + `","event":"in_review"}`); status != http.StatusBadGateway ||
		sent.Status != http.StatusConflict || sent.Attempts != 1 {
		t.Errorf("refused: HTTP %d %+v, want 502 after one attempt", status, sent)
	}
	if n := len(sim.Received()[1].Callbacks); n != 1 {
		t.Errorf("%d callbacks recorded on the refused delivery, want 1", n)
	}
}

func TestSimulatorResumesItsCallbacksAfterARestart(t *testing.T) {
	g := newGateway(t)
	state := filepath.Join(t.TempDir(), "fv.jsonl")
	// The first simulator takes the delivery and stops before reporting.
	sim, srv := reportingSimulator(t, fachverfahren.SimulatorConfig{StateFile: state, CallbackDelay: time.Hour})
	c := fachverfahren.NewClient(fachverfahren.ClientConfig{DefaultURL: srv.URL + fachverfahren.Path, Secret: secret,
		CallbackURL: g.srv.URL})
	if _, err := c.Deliver(context.Background(), "gewerbe", "case", awaiting("c1")); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() { sim.Close(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for the pending callbacks")
	}
	srv.Close()
	reportingSimulator(t, fachverfahren.SimulatorConfig{StateFile: state})
	waitFor(t, "the callbacks after the restart", func() bool { cbs, _ := g.callbacks(); return len(cbs) == 3 })
	if cbs, _ := g.callbacks(); events(cbs) != "received,in_review,decided" {
		t.Errorf("callbacks %s", events(cbs))
	}
}

func TestSimulatorStopsReportingOnAWithdrawnCase(t *testing.T) {
	g := newGateway(t)
	_, srv := reportingSimulator(t, fachverfahren.SimulatorConfig{CallbackDelay: 200 * time.Millisecond})
	c := fachverfahren.NewClient(fachverfahren.ClientConfig{DefaultURL: srv.URL + fachverfahren.Path, Secret: secret,
		CallbackURL: g.srv.URL})
	if _, err := c.Deliver(context.Background(), "gewerbe", "case", awaiting("c1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Withdraw(context.Background(), "gewerbe", "c1", "Umzug"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(800 * time.Millisecond)
	if cbs, _ := g.callbacks(); len(cbs) > 1 || strings.Contains(events(cbs), "decided") {
		t.Errorf("callbacks on a withdrawn case: %s", events(cbs))
	}
}

func TestSimulatorFaults(t *testing.T) {
	ctx := context.Background()
	t.Run("bad signatures taken", func(t *testing.T) {
		sim, srv := reportingSimulator(t, fachverfahren.SimulatorConfig{Faults: fachverfahren.Faults{AcceptBadSignatures: true}})
		if _, err := newClient(srv, []byte("wrong")).Deliver(ctx, "gewerbe", "case", submission("c1")); err != nil {
			t.Fatalf("a wrong signature: %v, want taken", err)
		}
		if len(sim.Received()) != 1 {
			t.Error("not recorded")
		}
	})
	t.Run("a repeated key makes a new delivery", func(t *testing.T) {
		sim, srv := reportingSimulator(t, fachverfahren.SimulatorConfig{Faults: fachverfahren.Faults{RepeatedKeyIsNew: true}})
		c := newClient(srv, secret)
		a, _ := c.Deliver(ctx, "gewerbe", "case", submission("c1"))
		b, _ := c.Deliver(ctx, "gewerbe", "case", submission("c1"))
		if a.Reference == b.Reference || len(sim.Received()) != 2 {
			t.Errorf("references %s and %s, %d records", a.Reference, b.Reference, len(sim.Received()))
		}
	})
	t.Run("slow answers", func(t *testing.T) {
		_, srv := reportingSimulator(t, fachverfahren.SimulatorConfig{Faults: fachverfahren.Faults{SlowAnswers: 300 * time.Millisecond}})
		start := time.Now()
		if _, err := newClient(srv, secret).Deliver(ctx, "gewerbe", "case", submission("c1")); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < 300*time.Millisecond {
			t.Errorf("answered in %s", took)
		}
	})
	t.Run("callbacks signed wrongly", func(t *testing.T) {
		g := newGateway(t)
		_, srv := reportingSimulator(t, fachverfahren.SimulatorConfig{Faults: fachverfahren.Faults{WrongCallbackSignatures: true}})
		c := fachverfahren.NewClient(fachverfahren.ClientConfig{DefaultURL: srv.URL + fachverfahren.Path, Secret: secret,
			CallbackURL: g.srv.URL})
		if _, err := c.Deliver(ctx, "gewerbe", "case", awaiting("c1")); err != nil {
			t.Fatal(err)
		}
		// Every event is tried, each refused once: 401 is final.
		waitFor(t, "the refused callbacks", func() bool { _, bad := g.callbacks(); return bad == 3 })
	})
}

func TestParseFaultsAndModes(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want fachverfahren.Faults
	}{
		{"", fachverfahren.Faults{}},
		{"broken", fachverfahren.BrokenFaults},
		{"bad-signatures, slow", fachverfahren.Faults{AcceptBadSignatures: true, SlowAnswers: fachverfahren.SlowAnswer}},
		{"repeated-key,callback-signatures", fachverfahren.Faults{RepeatedKeyIsNew: true, WrongCallbackSignatures: true}},
	} {
		if got, err := fachverfahren.ParseFaults(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseFaults(%q) = %+v, %v", tt.in, got, err)
		}
	}
	if _, err := fachverfahren.ParseFaults("lazy"); err == nil {
		t.Error("an unknown fault is taken")
	}
	if m, err := fachverfahren.ParseCallbackMode(""); err != nil || m != fachverfahren.CallbacksDecisions {
		t.Errorf("default mode %q, %v", m, err)
	}
	if _, err := fachverfahren.ParseCallbackMode("sometimes"); err == nil {
		t.Error("an unknown mode is taken")
	}
	if fachverfahren.SlowAnswer <= fachverfahren.AnswerTimeout {
		t.Errorf("the slow fault (%s) answers within the kit's timeout (%s)", fachverfahren.SlowAnswer, fachverfahren.AnswerTimeout)
	}
}

// TestDecisionPDFIsWellFormed checks what a reader needs: the cross-reference
// table points at each object, startxref at the table, umlauts in WinAnsi.
func TestDecisionPDFIsWellFormed(t *testing.T) {
	pdf := fachverfahren.DecisionPDF("FV-2026-000001", "c1", "99990000000005", ozgflow.OutcomeReject,
		"Die Anschrift (Markt 1) ist unbekannt.", time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	s := string(pdf)
	xref := strings.LastIndex(s, "\nxref\n") + 1
	var start int
	if _, err := fmt.Sscanf(s[strings.LastIndex(s, "startxref\n"):], "startxref\n%d", &start); err != nil || start != xref {
		t.Fatalf("startxref %d, the table is at %d (%v)", start, xref, err)
	}
	lines := strings.Split(s[xref:], "\n")
	var n int
	if _, err := fmt.Sscanf(lines[1], "0 %d", &n); err != nil || n != 7 {
		t.Fatalf("xref header %q", lines[1])
	}
	for i := 1; i < n; i++ {
		var off int
		if _, err := fmt.Sscanf(lines[2+i], "%010d 00000 n", &off); err != nil || !strings.HasPrefix(s[off:], fmt.Sprintf("%d 0 obj\n", i)) {
			t.Errorf("object %d: xref entry %q does not point at it", i, lines[2+i])
		}
	}
	for _, want := range []string{`Begr\374ndung: Die Anschrift \(Markt 1\) ist unbekannt.`, "Ihr Antrag wird abgelehnt.",
		"Datum: 24.11.2026 10:00", "/Title (Bescheid FV-2026-000001)"} {
		if !strings.Contains(s, want) {
			t.Errorf("the PDF lacks %q", want)
		}
	}
}
