package gateway

import (
	"bytes"
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
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/mocks"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/internal/recordstest"
	"github.com/ozgflow/ozgflow/internal/redistest"
	"github.com/ozgflow/ozgflow/store"
)

var (
	paymentHookSecret   = []byte("payment-webhook-secret-0123")
	signatureHookSecret = []byte("signature-webhook-secret-0123")
)

// webhookKind is one kind of signed webhook: where it goes, what it carries
// and the signal it becomes.
type webhookKind struct {
	name, path string
	secret     []byte
	body       func(caseID string) []byte
	signal     string
	event      any
}

var webhookKinds = []webhookKind{
	{"payment", "/api/v1/webhooks/payments", paymentHookSecret,
		func(caseID string) []byte {
			return []byte(`{"paymentId":"pay_1","requestId":"` + caseID + `-1","caseId":"` + caseID + `","status":"PAYED","refund":"","kassenzeichen":"202612345678"}`)
		},
		ozgflow.SignalPayment, ozgflow.PaymentEvent{PaymentID: "pay_1", Status: ozgflow.PaymentPayed, Kassenzeichen: "202612345678"}},
	{"signature", "/api/v1/webhooks/signatures", signatureHookSecret,
		func(caseID string) []byte {
			return []byte(`{"caseId":"` + caseID + `","sessionId":"sig_1","status":"SIGNED"}`)
		},
		ozgflow.SignalSignature, ozgflow.SignatureEvent{SessionID: "sig_1", Status: ozgflow.SignatureSigned}},
}

// delivery is one webhook request as a sender makes it.
type delivery struct {
	id, timestamp, signature string
	body                     []byte
}

// signed is a delivery of body under id at ts, signed with secret as the
// sandboxes sign (ozgflow.SignWebhook).
func signed(secret []byte, ts time.Time, id string, body []byte) delivery {
	return delivery{id: id, timestamp: strconv.FormatInt(ts.Unix(), 10), signature: ozgflow.SignWebhook(secret, ts, id, body), body: body}
}

func (d delivery) post(s *Server, path string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(d.body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range map[string]string{ozgflow.HeaderWebhookID: d.id, ozgflow.HeaderSignatureTimestamp: d.timestamp,
		ozgflow.HeaderSignature: d.signature} {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

// webhookServer is a gateway on st whose Temporal answers signals with
// the errors of signalErrs in turn, then nil.
func webhookServer(t *testing.T, st *store.Store, secrets bool, signalErrs ...error) (*Server, *mocks.Client) {
	t.Helper()
	tc := &mocks.Client{}
	call := tc.On("SignalWorkflow", mock.Anything, mock.Anything, "", mock.Anything, mock.Anything)
	n := 0
	call.RunFn = func(mock.Arguments) {
		call.ReturnArguments = mock.Arguments{nil}
		if n < len(signalErrs) {
			call.ReturnArguments = mock.Arguments{signalErrs[n]}
		}
		n++
	}
	cfg := Config{Secret: testSecret, Records: recordstest.Open(t, "sqlite")}
	if secrets {
		cfg.PaymentWebhookSecret, cfg.SignatureWebhookSecret = paymentHookSecret, signatureHookSecret
	}
	return New(cfg, tc, st, nil, DevTokens(), slog.New(slog.NewTextHandler(io.Discard, nil))), tc
}

// signals lists the signals the case got, as "<signal> <event>".
func signals(tc *mocks.Client, caseID string) []string {
	var out []string
	for _, c := range tc.Calls {
		if c.Method == "SignalWorkflow" && c.Arguments.String(1) == ozgflow.CaseWorkflowID(caseID) {
			ev, _ := json.Marshal(c.Arguments.Get(4))
			out = append(out, c.Arguments.String(3)+" "+string(ev))
		}
	}
	return out
}

func wantSignal(kind webhookKind) string {
	ev, _ := json.Marshal(kind.event)
	return kind.signal + " " + string(ev)
}

func TestWebhooksAreSignedOverTheirID(t *testing.T) {
	now := time.Now()
	for _, kind := range webhookKinds {
		t.Run(kind.name, func(t *testing.T) {
			caseID := uuid.NewString()
			body := kind.body(caseID)
			legacy := delivery{timestamp: strconv.FormatInt(now.Unix(), 10), signature: ozgflow.SignBody(kind.secret, now, body), body: body}
			swapped := signed(kind.secret, now, "wh_first", body)
			swapped.id = "wh_second"
			tests := []struct {
				name       string
				unset      bool // the gateway has no secret for the kind
				d          delivery
				signalErr  error
				want       int
				wantDetail string
			}{
				{"signed with its ID", false, signed(kind.secret, now, "wh_"+uuid.NewString(), body), nil, http.StatusNoContent, ""},
				{"unknown case", false, signed(kind.secret, now, "wh_"+uuid.NewString(), body),
					serviceerror.NewNotFound("workflow not found"), http.StatusNotFound, ""},
				{"wrong secret", false, signed([]byte("guess"), now, "wh_1", body), nil, http.StatusUnauthorized, "signature"},
				{"stale", false, signed(kind.secret, now.Add(-time.Hour), "wh_1", body), nil, http.StatusUnauthorized, "timestamp"},
				{"no secret configured", true, signed(kind.secret, now, "wh_1", body), nil, http.StatusUnauthorized, "not configured"},
				{"unsigned", false, delivery{id: "wh_1", body: body}, nil, http.StatusUnauthorized, "timestamp"},
				{"unsigned without an ID", false, delivery{body: body}, nil, http.StatusUnauthorized, "timestamp"},
				{"ID swapped", false, swapped, nil, http.StatusUnauthorized, "does not match"},
				{"signed without an ID", false, legacy, nil, http.StatusBadRequest, ozgflow.HeaderWebhookID},
				{"legacy signature with an ID", false, delivery{id: "wh_1", timestamp: legacy.timestamp, signature: legacy.signature, body: body},
					nil, http.StatusUnauthorized, "does not match"},
				{"ID with a dot", false, signed(kind.secret, now, "wh.1", body), nil, http.StatusBadRequest, ozgflow.HeaderWebhookID},
				{"ID too long", false, signed(kind.secret, now, strings.Repeat("a", ozgflow.WebhookIDMaxLen+1), body), nil,
					http.StatusBadRequest, ozgflow.HeaderWebhookID},
				{"fields missing", false, signed(kind.secret, now, "wh_1", []byte(`{"caseId":"`+caseID+`"}`)), nil,
					http.StatusBadRequest, "needs"},
				{"no JSON", false, signed(kind.secret, now, "wh_1", []byte(`caseId=`+caseID)), nil, http.StatusBadRequest, "needs"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					var errs []error
					if tt.signalErr != nil {
						errs = append(errs, tt.signalErr)
					}
					s, tc := webhookServer(t, redistest.Store(t, "gwhook:"), !tt.unset, errs...)
					rec := tt.d.post(s, kind.path)
					if rec.Code != tt.want {
						t.Fatalf("HTTP %d %s, want %d", rec.Code, rec.Body.String(), tt.want)
					}
					if rec.Code >= 400 {
						if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
							t.Errorf("content type %q, want a problem", ct)
						}
						if !strings.Contains(rec.Body.String(), tt.wantDetail) {
							t.Errorf("problem %s does not say %q", rec.Body.String(), tt.wantDetail)
						}
					}
					got := signals(tc, caseID)
					wantSignalled := tt.want == http.StatusNoContent || tt.signalErr != nil
					if wantSignalled && (len(got) != 1 || got[0] != wantSignal(kind)) {
						t.Errorf("signals %q, want one %q", got, wantSignal(kind))
					}
					if !wantSignalled && len(got) > 0 {
						t.Errorf("signals %q, want none", got)
					}
				})
			}
		})
	}
}

func TestReplayedWebhooksHaveNoEffect(t *testing.T) {
	for _, kind := range webhookKinds {
		t.Run(kind.name, func(t *testing.T) {
			s, tc := webhookServer(t, redistest.Store(t, "gwhook:"), true)
			caseID := uuid.NewString()
			now := time.Now()
			first := signed(kind.secret, now, "wh_"+uuid.NewString(), kind.body(caseID))
			for i, tt := range []struct {
				name        string
				d           delivery
				wantSignals int
			}{
				{"first delivery", first, 1},
				{"the same request again", first, 1},
				{"a retry: same ID, signed anew a minute later", signed(kind.secret, now.Add(time.Minute), first.id, first.body), 1},
				{"the next event, same body, new ID", signed(kind.secret, now, "wh_"+uuid.NewString(), first.body), 2},
			} {
				rec := tt.d.post(s, kind.path)
				if rec.Code != http.StatusNoContent {
					t.Fatalf("%d. %s: HTTP %d %s, want 204", i+1, tt.name, rec.Code, rec.Body.String())
				}
				if got := signals(tc, caseID); len(got) != tt.wantSignals {
					t.Fatalf("%d. %s: the case got %d signals, want %d", i+1, tt.name, len(got), tt.wantSignals)
				}
			}
		})
	}
}

func TestWebhookWhoseSignalFailedIsTakenOnRetry(t *testing.T) {
	for _, kind := range webhookKinds {
		t.Run(kind.name, func(t *testing.T) {
			s, tc := webhookServer(t, redistest.Store(t, "gwhook:"), true, serviceerror.NewUnavailable("history down"))
			caseID := uuid.NewString()
			d := signed(kind.secret, time.Now(), "wh_"+uuid.NewString(), kind.body(caseID))
			if rec := d.post(s, kind.path); rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("signal failed: HTTP %d %s, want 503", rec.Code, rec.Body.String())
			}
			if rec := d.post(s, kind.path); rec.Code != http.StatusNoContent {
				t.Fatalf("retry: HTTP %d %s, want 204", rec.Code, rec.Body.String())
			}
			if got := signals(tc, caseID); len(got) != 2 {
				t.Errorf("signals %q, want the failed one and the retry", got)
			}
			if rec := d.post(s, kind.path); rec.Code != http.StatusNoContent || len(signals(tc, caseID)) != 2 {
				t.Errorf("replay after the retry: HTTP %d, %d signals; want 204 and no further signal",
					rec.Code, len(signals(tc, caseID)))
			}
		})
	}
}

func TestWebhooksWithoutRedisAnswer503AndSignalNothing(t *testing.T) {
	down := store.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond}))
	t.Cleanup(func() { down.Close() })
	for _, kind := range webhookKinds {
		t.Run(kind.name, func(t *testing.T) {
			s, tc := webhookServer(t, down, true)
			caseID := uuid.NewString()
			rec := signed(kind.secret, time.Now(), "wh_"+uuid.NewString(), kind.body(caseID)).post(s, kind.path)
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("HTTP %d %s %s, want a 503 problem", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
			}
			if got := signals(tc, caseID); len(got) != 0 {
				t.Errorf("signals %q without knowing whether the webhook came before, want none", got)
			}
		})
	}
}
