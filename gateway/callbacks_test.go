package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"
	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/internal/recordstest"
	"github.com/ozgflow/ozgflow/internal/redistest"
	"github.com/ozgflow/ozgflow/records"
	"github.com/ozgflow/ozgflow/store"
)

var callbackSecret = []byte("fachverfahren-secret-0123")

// callbackGateway is a gateway whose Temporal answers the callback updates
// with the errors of updateErrs in turn, then takes them; the case caseID
// is in its store, delivered under the reference FV-1.
type callbackGateway struct {
	s       *Server
	tc      *mocks.Client
	records *records.DB
	caseID  string
}

func newCallbackGateway(t *testing.T, st *store.Store, secret []byte, updateErrs ...error) *callbackGateway {
	t.Helper()
	tc := &mocks.Client{}
	n := 0
	call := tc.On("UpdateWorkflow", mock.Anything, mock.Anything)
	call.RunFn = func(mock.Arguments) {
		handle := &mocks.WorkflowUpdateHandle{}
		handle.On("Get", mock.Anything, mock.Anything).Return(nil)
		call.ReturnArguments = mock.Arguments{handle, nil}
		if n < len(updateErrs) {
			call.ReturnArguments = mock.Arguments{nil, updateErrs[n]}
		}
		n++
	}
	recs := recordstest.Open(t, "sqlite")
	s := New(Config{Secret: testSecret, Records: recs, FachverfahrenSecret: secret}, tc, st, nil, DevTokens(),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	g := &callbackGateway{s: s, tc: tc, records: recs, caseID: uuid.NewString()}
	if err := st.SaveCase(context.Background(), ozgflow.Case{ID: g.caseID, Revision: 1, Service: "99990000000005",
		Authority: "147130000000", Status: ozgflow.StatusForwarded, StageKind: "wait-external",
		Delivery: &ozgflow.Delivery{Target: "gewerbe-leipzig", Reference: "FV-1"}}); err != nil {
		t.Fatal(err)
	}
	return g
}

// callbacks lists the callbacks the gateway passed to cases, each update ID
// once: the engine runs the update of one ID once per case, as the case takes
// each callback ID once.
func (g *callbackGateway) callbacks() []ozgflow.Callback {
	var out []ozgflow.Callback
	seen := map[string]bool{}
	for _, c := range g.tc.Calls {
		if c.Method != "UpdateWorkflow" {
			continue
		}
		opts := c.Arguments.Get(1).(client.UpdateWorkflowOptions)
		cb := opts.Args[0].(ozgflow.Callback)
		if opts.UpdateName != ozgflow.UpdateCallback || opts.WorkflowID != ozgflow.CaseWorkflowID(cb.CaseID) ||
			opts.UpdateID != "callback-"+cb.ID {
			panic("unexpected update " + opts.UpdateName + " " + opts.UpdateID)
		}
		if seen[opts.UpdateID] {
			continue
		}
		seen[opts.UpdateID] = true
		out = append(out, cb)
	}
	return out
}

// signedCallback is a callback's request, signed with secret at ts.
type signedCallback struct {
	timestamp, signature string
	body                 []byte
}

func signCallback(secret []byte, ts time.Time, body []byte) signedCallback {
	return signedCallback{timestamp: strconv.FormatInt(ts.Unix(), 10), signature: ozgflow.SignBody(secret, ts, body), body: body}
}

func (c signedCallback) post(s *Server) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, ozgflow.CallbackPath, bytes.NewReader(c.body))
	req.Header.Set("Content-Type", "application/json")
	if c.timestamp != "" {
		req.Header.Set(ozgflow.HeaderSignatureTimestamp, c.timestamp)
	}
	if c.signature != "" {
		req.Header.Set(ozgflow.HeaderSignature, c.signature)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

func callbackBody(t *testing.T, req ozgflow.CallbackRequest) []byte {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var pdf = []byte("%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n")

func TestCallbackSignatures(t *testing.T) {
	now := time.Now()
	st := redistest.Store(t, "gcallback:")
	tests := []struct {
		name       string
		secret     []byte // the gateway's; nil: none configured
		sign       func(body []byte) signedCallback
		want       int
		wantDetail string
	}{
		{"good signature", callbackSecret, func(b []byte) signedCallback { return signCallback(callbackSecret, now, b) },
			http.StatusNoContent, ""},
		{"signed a minute ago", callbackSecret, func(b []byte) signedCallback {
			return signCallback(callbackSecret, now.Add(-time.Minute), b)
		}, http.StatusNoContent, ""},
		{"bad signature: another secret", callbackSecret, func(b []byte) signedCallback {
			return signCallback([]byte("guessed-secret"), now, b)
		}, http.StatusUnauthorized, "does not match"},
		{"bad signature: the body changed after signing", callbackSecret, func(b []byte) signedCallback {
			c := signCallback(callbackSecret, now, b)
			c.body = bytes.Replace(b, []byte(`"received"`), []byte(`"in_review"`), 1)
			return c
		}, http.StatusUnauthorized, "does not match"},
		{"timestamp older than 5 minutes", callbackSecret, func(b []byte) signedCallback {
			return signCallback(callbackSecret, now.Add(-5*time.Minute-time.Second), b)
		}, http.StatusUnauthorized, "timestamp too far from now"},
		{"timestamp from the future", callbackSecret, func(b []byte) signedCallback {
			return signCallback(callbackSecret, now.Add(6*time.Minute), b)
		}, http.StatusUnauthorized, "timestamp too far from now"},
		{"unsigned", callbackSecret, func(b []byte) signedCallback { return signedCallback{body: b} },
			http.StatusUnauthorized, "timestamp"},
		{"no secret configured", nil, func(b []byte) signedCallback { return signCallback(callbackSecret, now, b) },
			http.StatusUnauthorized, "not configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newCallbackGateway(t, st, tt.secret)
			body := callbackBody(t, ozgflow.CallbackRequest{ID: "cb-" + uuid.NewString(), CaseID: g.caseID, Reference: "FV-1",
				Event: ozgflow.CallbackReceived})
			rec := tt.sign(body).post(g.s)
			if rec.Code != tt.want {
				t.Fatalf("HTTP %d %s, want %d", rec.Code, rec.Body.String(), tt.want)
			}
			if rec.Code >= 400 && (rec.Header().Get("Content-Type") != "application/problem+json" ||
				!strings.Contains(rec.Body.String(), tt.wantDetail)) {
				t.Errorf("answer %s %s, want a problem saying %q", rec.Header().Get("Content-Type"), rec.Body.String(), tt.wantDetail)
			}
			got := g.callbacks()
			if tt.want == http.StatusNoContent &&
				(len(got) != 1 || got[0].CaseID != g.caseID || got[0].Reference != "FV-1" || got[0].Event != ozgflow.CallbackReceived) {
				t.Errorf("callbacks passed %+v, want the one", got)
			}
			if tt.want != http.StatusNoContent && len(got) != 0 {
				t.Errorf("callbacks passed %+v, want none", got)
			}
		})
	}
}

func TestReplayedCallbacksHaveNoEffect(t *testing.T) {
	g := newCallbackGateway(t, redistest.Store(t, "gcallback:"), callbackSecret)
	now := time.Now()
	body := callbackBody(t, ozgflow.CallbackRequest{ID: "cb-" + uuid.NewString(), CaseID: g.caseID, Reference: "FV-1",
		Event: ozgflow.CallbackInReview})
	first := signCallback(callbackSecret, now, body)
	for i, tt := range []struct {
		name string
		c    signedCallback
		want int // callbacks passed to the case by then
	}{
		{"first", first, 1},
		{"the same request replayed", first, 1},
		{"replayed once more", first, 1},
		{"a retry, signed anew", signCallback(callbackSecret, now.Add(time.Minute), body), 1},
		{"the next callback", signCallback(callbackSecret, now, callbackBody(t, ozgflow.CallbackRequest{ID: "cb-" + uuid.NewString(),
			CaseID: g.caseID, Reference: "FV-1", Event: ozgflow.CallbackReceived})), 2},
	} {
		rec := tt.c.post(g.s)
		if rec.Code != http.StatusNoContent {
			t.Fatalf("%d. %s: HTTP %d %s, want 204", i+1, tt.name, rec.Code, rec.Body.String())
		}
		if got := len(g.callbacks()); got != tt.want {
			t.Fatalf("%d. %s: %d callbacks passed to the case, want %d", i+1, tt.name, got, tt.want)
		}
	}
}

// TestARepeatDuringTheFirstAttemptIsNotTakenForDone: a callback repeated
// while its first attempt still waits for the case (the ID is remembered,
// no answer yet) goes to the case too; when the case cannot take it now,
// the repeat says so instead of answering 204 for a callback not taken.
func TestARepeatDuringTheFirstAttemptIsNotTakenForDone(t *testing.T) {
	st := redistest.Store(t, "gcallback:")
	notYet := temporal.NewApplicationError("The delivery is not confirmed yet.", ozgflow.EUNAVAILABLE)
	g := newCallbackGateway(t, st, callbackSecret, notYet)
	req := ozgflow.CallbackRequest{ID: "cb-" + uuid.NewString(), CaseID: g.caseID, Reference: "FV-1", Event: ozgflow.CallbackInReview}
	if first, err := st.FirstSeen(context.Background(), "fachverfahren-callback", req.CaseID+":"+req.ID, time.Minute); err != nil || !first {
		t.Fatalf("the first attempt's mark: %v, %v", first, err)
	}
	rec := signCallback(callbackSecret, time.Now(), callbackBody(t, req)).post(g.s)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("repeat while the case cannot take it: HTTP %d %s, want 503 with Retry-After", rec.Code, rec.Body.String())
	}
	if rec := signCallback(callbackSecret, time.Now(), callbackBody(t, req)).post(g.s); rec.Code != http.StatusNoContent {
		t.Fatalf("repeat once the case takes it: HTTP %d %s, want 204", rec.Code, rec.Body.String())
	}
	if got := g.callbacks(); len(got) != 1 {
		t.Errorf("callbacks taken %+v, want the one", got)
	}
}

func TestCallbackFieldsAndRefusals(t *testing.T) {
	now := time.Now()
	st := redistest.Store(t, "gcallback:")
	conflict := temporal.NewApplicationError("Case is decided in ozgflow, not by the Fachverfahren.", ozgflow.ECONFLICT)
	notYet := temporal.NewApplicationError("The delivery is not confirmed yet.", ozgflow.EUNAVAILABLE)
	tests := []struct {
		name      string
		req       func(caseID string) ozgflow.CallbackRequest
		raw       []byte
		updateErr error
		want      int
		wantSays  string
	}{
		{"no JSON", nil, []byte(`event=received`), nil, http.StatusBadRequest, ""},
		{"fields missing", func(string) ozgflow.CallbackRequest { return ozgflow.CallbackRequest{Event: "received"} }, nil, nil,
			http.StatusUnprocessableEntity, "/caseId"},
		{"unknown event", func(id string) ozgflow.CallbackRequest {
			return ozgflow.CallbackRequest{ID: "cb-1", CaseID: id, Reference: "FV-1", Event: "archived"}
		}, nil, nil, http.StatusUnprocessableEntity, "/event"},
		{"an ID with a dot", func(id string) ozgflow.CallbackRequest {
			return ozgflow.CallbackRequest{ID: "cb.1", CaseID: id, Reference: "FV-1", Event: "received"}
		}, nil, nil, http.StatusUnprocessableEntity, "/id"},
		{"a decision without outcome", func(id string) ozgflow.CallbackRequest {
			return ozgflow.CallbackRequest{ID: "cb-1", CaseID: id, Reference: "FV-1", Event: "decided"}
		}, nil, nil, http.StatusUnprocessableEntity, "/outcome"},
		{"a document that is no PDF", func(id string) ozgflow.CallbackRequest {
			return ozgflow.CallbackRequest{ID: "cb-1", CaseID: id, Reference: "FV-1", Event: "decided", Outcome: "approve",
				Document: &ozgflow.CallbackDocument{Name: "Bescheid.pdf", ContentType: "application/pdf", Content: []byte("<html>")}}
		}, nil, nil, http.StatusUnprocessableEntity, "/document/content"},
		{"unknown case", func(string) ozgflow.CallbackRequest {
			return ozgflow.CallbackRequest{ID: "cb-1", CaseID: "not-a-case", Reference: "FV-1", Event: "received"}
		}, nil, nil, http.StatusNotFound, "not found"},
		{"the case refuses", func(id string) ozgflow.CallbackRequest {
			return ozgflow.CallbackRequest{ID: "cb-1", CaseID: id, Reference: "FV-1", Event: "decided", Outcome: "approve"}
		}, nil, conflict, http.StatusConflict, "not by the Fachverfahren"},
		{"the delivery is not confirmed yet", func(id string) ozgflow.CallbackRequest {
			return ozgflow.CallbackRequest{ID: "cb-1", CaseID: id, Reference: "FV-1", Event: "received"}
		}, nil, notYet, http.StatusServiceUnavailable, "not confirmed yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errs []error
			if tt.updateErr != nil {
				errs = append(errs, tt.updateErr)
			}
			g := newCallbackGateway(t, st, callbackSecret, errs...)
			body := tt.raw
			if tt.req != nil {
				req := tt.req(g.caseID)
				if req.ID != "" && req.ID != "cb.1" {
					req.ID += "-" + uuid.NewString()
				}
				body = callbackBody(t, req)
			}
			rec := signCallback(callbackSecret, now, body).post(g.s)
			if rec.Code != tt.want || rec.Header().Get("Content-Type") != "application/problem+json" ||
				!strings.Contains(rec.Body.String(), tt.wantSays) {
				t.Fatalf("HTTP %d %s %s, want a %d problem saying %q", rec.Code, rec.Header().Get("Content-Type"),
					rec.Body.String(), tt.want, tt.wantSays)
			}
			if tt.want == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			// A refused callback is taken when it comes again and the case takes it.
			if tt.updateErr != nil {
				if again := signCallback(callbackSecret, now, body).post(g.s); again.Code != http.StatusNoContent {
					t.Errorf("the refused callback again: HTTP %d %s, want 204", again.Code, again.Body.String())
				}
			}
		})
	}
}

func TestDecisionDocumentIsKeptWithTheCase(t *testing.T) {
	g := newCallbackGateway(t, redistest.Store(t, "gcallback:"), callbackSecret)
	body := callbackBody(t, ozgflow.CallbackRequest{ID: "cb-" + uuid.NewString(), CaseID: g.caseID, Reference: "FV-1",
		Event: ozgflow.CallbackDecided, Outcome: ozgflow.OutcomeApprove, Comment: "Bestätigt.",
		Document: &ozgflow.CallbackDocument{Name: "Bescheid-FV-1.pdf", ContentType: "application/pdf", Content: pdf}})
	if rec := signCallback(callbackSecret, time.Now(), body).post(g.s); rec.Code != http.StatusNoContent {
		t.Fatalf("HTTP %d %s", rec.Code, rec.Body.String())
	}
	got := g.callbacks()
	if len(got) != 1 || got[0].Document == nil || got[0].Document.SHA256 != records.SumSHA256(pdf) ||
		got[0].Document.Name != "Bescheid-FV-1.pdf" || got[0].Outcome != ozgflow.OutcomeApprove {
		t.Fatalf("callbacks %+v", got)
	}
	doc, err := g.records.Document(context.Background(), g.caseID, records.SumSHA256(pdf))
	if err != nil || doc.Kind != records.KindDecision || !bytes.Equal(doc.Data, pdf) || doc.ContentType != "application/pdf" {
		t.Fatalf("kept document %+v, %v", doc, err)
	}

	// A decision the case refuses leaves no document behind.
	refusing := newCallbackGateway(t, redistest.Store(t, "gcallback:"), callbackSecret,
		temporal.NewApplicationError("Case is already decided (approve).", ozgflow.ECONFLICT))
	body = callbackBody(t, ozgflow.CallbackRequest{ID: "cb-" + uuid.NewString(), CaseID: refusing.caseID, Reference: "FV-1",
		Event: ozgflow.CallbackDecided, Outcome: ozgflow.OutcomeReject,
		Document: &ozgflow.CallbackDocument{Name: "Bescheid.pdf", ContentType: "application/pdf", Content: pdf}})
	if rec := signCallback(callbackSecret, time.Now(), body).post(refusing.s); rec.Code != http.StatusConflict {
		t.Fatalf("HTTP %d %s, want 409", rec.Code, rec.Body.String())
	}
	if docs, err := refusing.records.Documents(context.Background(), refusing.caseID); err != nil || len(docs) != 0 {
		t.Errorf("documents of the refused decision: %+v, %v", docs, err)
	}
}

func TestCallbacksWithoutRedisAnswer503(t *testing.T) {
	down := store.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond}))
	t.Cleanup(func() { down.Close() })
	tc := &mocks.Client{}
	s := New(Config{Secret: testSecret, Records: recordstest.Open(t, "sqlite"), FachverfahrenSecret: callbackSecret}, tc, down,
		nil, DevTokens(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	body := callbackBody(t, ozgflow.CallbackRequest{ID: "cb-1", CaseID: uuid.NewString(), Reference: "FV-1", Event: "received"})
	rec := signCallback(callbackSecret, time.Now(), body).post(s)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("HTTP %d %s, want 503 with Retry-After", rec.Code, rec.Body.String())
	}
	tc.AssertNotCalled(t, "UpdateWorkflow", mock.Anything, mock.Anything)
}
