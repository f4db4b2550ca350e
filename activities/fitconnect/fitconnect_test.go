package fitconnect_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	adapter "github.com/ozgflow/ozgflow/activities/fitconnect"
	"github.com/ozgflow/ozgflow/fitconnect"
	"github.com/ozgflow/ozgflow/internal/fitconnecttest"
)

const (
	destID = "62a529b5-a4c0-57b9-ac59-eb70885aacd1"
	leika  = "99990000000006"
	schema = "urn:ozgflow:schema:lasttest:1"
)

// memLedger is the records' ledger in memory.
type memLedger struct {
	mu   sync.Mutex
	sent map[string]ledgerEntry
}

type ledgerEntry struct {
	body      []byte
	submitted bool
}

func (l *memLedger) SentSubmission(_ context.Context, key string) ([]byte, bool, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.sent[key]
	return e.body, e.submitted, ok, nil
}

func (l *memLedger) KeepSentSubmission(_ context.Context, key string, submitted bool, body []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent[key] = ledgerEntry{body: body, submitted: submitted}
	return nil
}

type memDocuments map[string][]byte

func (d memDocuments) DocumentContent(_ context.Context, caseID, sha string) ([]byte, error) {
	b, ok := d[caseID+"/"+sha]
	if !ok {
		return nil, ozgflow.Errorf(ozgflow.ENOTFOUND, "No document %s in application %s.", sha, caseID)
	}
	return b, nil
}

type fixture struct {
	sandbox *adapter.Sandbox
	adapter *adapter.Adapter
	ledger  *memLedger
	srv     *httptest.Server
	// forge, if set, adds entries to every event log the sender reads.
	mu    sync.Mutex
	forge func(caseID string) []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	apiKey, keys := fitconnecttest.Keys(t)
	f := &fixture{ledger: &memLedger{sent: map[string]ledgerEntry{}}}
	r := mux.NewRouter()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		f.mu.Lock()
		forge := f.forge
		f.mu.Unlock()
		if forge == nil || req.Method != http.MethodGet || !strings.HasSuffix(req.URL.Path, "/events") {
			r.ServeHTTP(w, req)
			return
		}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		var log fitconnect.EventLog
		_ = json.Unmarshal(rec.Body.Bytes(), &log)
		caseID := strings.TrimSuffix(strings.TrimPrefix(req.URL.Path, adapter.SandboxPath+"/v1/cases/"), "/events")
		log.EventLog = append(log.EventLog, forge(caseID)...)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(log)
	}))
	t.Cleanup(f.srv.Close)
	base := f.srv.URL + adapter.SandboxPath
	sb, err := adapter.NewSandbox(adapter.SandboxConfig{BaseURL: base, ClientID: "ozgflow", ClientSecret: "sandbox-secret",
		Keys: keys, SigningKey: apiKey,
		Destinations: []adapter.SandboxDestination{{ID: destID, Services: map[string][]string{leika: {schema}}}}})
	if err != nil {
		t.Fatal(err)
	}
	sb.Register(r)
	f.sandbox = sb
	docs := memDocuments{"case-1/" + sha256hex("Bauplan"): []byte("Bauplan")}
	f.adapter = adapter.New([]adapter.Target{{Name: "fitconnect-chemnitz", TokenURL: base + "/token", APIURL: base + "/v1",
		ClientID: "ozgflow", ClientSecret: "sandbox-secret", DestinationID: destID, AnswerWithin: time.Hour}},
		docs, f.ledger, &http.Client{Timeout: 10 * time.Second})
	return f
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func submission() activities.Submission {
	return activities.Submission{
		CaseID: "case-1", CaseNumber: "LTF-2026-000001", Service: leika, Authority: "145110000000",
		DefinitionID: "lasttest-fitconnect-chemnitz", DefinitionVersion: 1, DataSchema: schema,
		Data:        json.RawMessage(`{"betreff":"Prüfung"}`),
		Attachments: []ozgflow.Attachment{{Name: "bauplan.txt", ContentType: "text/plain", SHA256: sha256hex("Bauplan")}},
		Payment:     &ozgflow.Payment{ID: "pay-1", Amount: 1250, Currency: "EUR", Status: ozgflow.PaymentPayed},
		SubmittedAt: time.Date(2026, 11, 26, 23, 30, 0, 0, time.UTC),
	}
}

func (f *fixture) outcome(t *testing.T, r activities.Receipt) activities.SubmissionOutcome {
	t.Helper()
	out, err := f.adapter.Outcome(context.Background(), "fitconnect-chemnitz", *r.Sent)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRejectedFirstAcceptedAfterResend is the delivery's contract: the
// sandbox destination decrypts and checks every hash, rejects the first
// submission as told, and accepts the resend; the adapter takes both
// answers only from events the destination signed.
func TestRejectedFirstAcceptedAfterResend(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.sandbox.RejectNext(1)

	first, err := f.adapter.Submit(ctx, "fitconnect-chemnitz", 1, submission())
	if err != nil {
		t.Fatal(err)
	}
	if first.Protocol != ozgflow.DeliveryFITConnect || first.Sent == nil || first.Reference != first.Sent.SubmissionID ||
		first.AnswerWithin != time.Hour {
		t.Fatalf("receipt = %+v", first)
	}
	out := f.outcome(t, first)
	if out.Outcome != activities.OutcomeRejected || len(out.Problems) != 1 || out.Problems[0].Type != fitconnect.RejectContentNotAccepted ||
		out.Problems[0].Title != "Inhalt nicht angenommen" {
		t.Fatalf("outcome = %+v, want the sandbox's rejection", out)
	}

	// The activity again (its answer was lost): nothing new is sent.
	again, err := f.adapter.Submit(ctx, "fitconnect-chemnitz", 1, submission())
	if err != nil || again.Reference != first.Reference {
		t.Fatalf("repeated round 1 = %+v, %v; want the first receipt", again, err)
	}
	if n := len(f.sandbox.Arrivals()); n != 1 {
		t.Fatalf("%d arrivals after a repeat, want 1", n)
	}

	second, err := f.adapter.Submit(ctx, "fitconnect-chemnitz", 2, submission())
	if err != nil {
		t.Fatal(err)
	}
	if second.Reference == first.Reference {
		t.Fatal("the resend reused the rejected submission")
	}
	if out := f.outcome(t, second); out.Outcome != activities.OutcomeAccepted || out.At.IsZero() {
		t.Fatalf("outcome of the resend = %+v", out)
	}

	arrivals := f.sandbox.Arrivals()
	if len(arrivals) != 2 || arrivals[0].Accepted || !arrivals[1].Accepted {
		t.Fatalf("arrivals = %+v", arrivals)
	}
	a := arrivals[1]
	if a.SubmissionID != second.Reference || a.DestinationID != destID || a.Service != fitconnect.ServiceURN(leika) ||
		a.SchemaURI != schema || a.SenderReference != "LTF-2026-000001" || a.ApplicationDate != "2026-11-27" || a.Payment != "BOOKED" {
		t.Errorf("arrival = %+v", a)
	}
	if string(a.Data) != `{"betreff":"Prüfung"}` {
		t.Errorf("data = %s", a.Data)
	}
	if len(a.Attachments) != 1 || a.Attachments[0].Filename != "bauplan.txt" || a.Attachments[0].Size != len("Bauplan") ||
		a.Attachments[0].SHA512 != fitconnect.SHA512([]byte("Bauplan")) {
		t.Errorf("attachments = %+v", a.Attachments)
	}
	if _, err := uuid.Parse(a.Attachments[0].ID); err != nil {
		t.Errorf("attachment ID %q is no UUID", a.Attachments[0].ID)
	}

	// The sandbox lists what it received by the case number.
	res, err := http.Get(f.srv.URL + adapter.SandboxPath + "/received?reference=LTF-2026-000001")
	if err != nil {
		t.Fatal(err)
	}
	var listed []adapter.Arrival
	if err := json.NewDecoder(res.Body).Decode(&listed); err != nil || len(listed) != 2 {
		t.Fatalf("received list = %+v, %v", listed, err)
	}
	res.Body.Close()
}

// TestForgedAcceptIsNotTaken: an accept in the event log that the
// destination did not sign (another key under its key ID) leaves the
// rejection standing.
func TestForgedAcceptIsNotTaken(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.sandbox.RejectNext(1)
	r, err := f.adapter.Submit(ctx, "fitconnect-chemnitz", 1, submission())
	if err != nil {
		t.Fatal(err)
	}
	apiKey, keys := fitconnecttest.Keys(t)
	f.mu.Lock()
	f.forge = func(caseID string) []string {
		tok, err := fitconnect.SignEvent(fitconnect.Event{ID: uuid.NewString(), Issuer: destID, SubmissionID: r.Reference, CaseID: caseID,
			Type: fitconnect.EventAccept, IssuedAt: time.Now()}, apiKey, fitconnect.KeyID(&keys.Signature.PublicKey))
		if err != nil {
			t.Error(err)
		}
		return []string{tok}
	}
	f.mu.Unlock()
	if out := f.outcome(t, r); out.Outcome != activities.OutcomeRejected {
		t.Fatalf("outcome = %+v: the forged accept was taken", out)
	}
	// Signed with the destination's key, the same event counts: the
	// check is the signature, not the position.
	f.mu.Lock()
	f.forge = func(caseID string) []string {
		tok, _ := fitconnect.SignEvent(fitconnect.Event{ID: uuid.NewString(), Issuer: destID, SubmissionID: r.Reference, CaseID: caseID,
			Type: fitconnect.EventAccept, IssuedAt: time.Now()}, keys.Signature, fitconnect.KeyID(&keys.Signature.PublicKey))
		return []string{tok}
	}
	f.mu.Unlock()
	if out := f.outcome(t, r); out.Outcome != activities.OutcomeAccepted {
		t.Fatalf("outcome = %+v with a genuinely signed accept", out)
	}
}

// TestAnnouncedButNotSubmittedIsSentAnew: an announced submission whose
// submit never came is not taken for sent, and its outcome is pending.
func TestAnnouncedButNotSubmittedIsSentAnew(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// An earlier attempt announced a submission and ended before the submit.
	c := fitconnect.NewClient(f.srv.URL+adapter.SandboxPath+"/token", f.srv.URL+adapter.SandboxPath+"/v1", "ozgflow", "sandbox-secret", nil)
	created, err := c.Create(ctx, fitconnect.CreateSubmission{DestinationID: destID, ServiceType: fitconnect.ServiceType{Identifier: fitconnect.ServiceURN(leika)}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(activities.SentSubmission{DestinationID: destID, SubmissionID: created.SubmissionID, CaseID: created.CaseID})
	_ = f.ledger.KeepSentSubmission(ctx, "case-1:fitconnect-chemnitz:1", false, body)
	if out := f.outcome(t, activities.Receipt{Sent: &activities.SentSubmission{DestinationID: destID, SubmissionID: created.SubmissionID,
		CaseID: created.CaseID}}); out.Outcome != activities.OutcomePending {
		t.Fatalf("outcome of an announced submission = %+v, want pending", out)
	}
	r, err := f.adapter.Submit(ctx, "fitconnect-chemnitz", 1, submission())
	if err != nil {
		t.Fatal(err)
	}
	if r.Reference == created.SubmissionID {
		t.Fatal("took the never submitted submission for sent")
	}
	if arr := f.sandbox.Arrivals(); len(arr) != 1 || arr[0].SubmissionID != r.Reference {
		t.Fatalf("arrivals = %+v", arr)
	}
}

// TestMissingDocumentIsFinal: an attachment the records do not hold will
// never arrive; the activity must not retry for ever.
func TestMissingDocumentIsFinal(t *testing.T) {
	f := newFixture(t)
	s := submission()
	s.Attachments[0].SHA256 = strings.Repeat("0", 64)
	_, err := f.adapter.Submit(context.Background(), "fitconnect-chemnitz", 1, s)
	if err == nil || !strings.Contains(err.Error(), "not in the records") {
		t.Fatalf("err = %v", err)
	}
	if n := len(f.sandbox.Arrivals()); n != 0 {
		t.Fatalf("%d arrivals", n)
	}
}

// TestSandboxRejectSetting: PUT /reject sets how many submissions the
// sandbox rejects; bad input is refused without changing it.
func TestSandboxRejectSetting(t *testing.T) {
	f := newFixture(t)
	put := func(body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPut, f.srv.URL+adapter.SandboxPath+"/reject", bytes.NewBufferString(body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, strings.TrimSpace(string(b))
	}
	if code, body := put(`{"next":2}`); code != http.StatusOK || body != `{"next":2}` {
		t.Fatalf("PUT = %d %s", code, body)
	}
	if code, _ := put(`{"next":-1}`); code != http.StatusBadRequest {
		t.Fatalf("PUT -1 = %d", code)
	}
	if code, _ := put(`nope`); code != http.StatusBadRequest {
		t.Fatalf("PUT nope = %d", code)
	}
}
