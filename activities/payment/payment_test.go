package payment_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/activities/payment"
)

const secret = "webhook-secret"

// hooks records the webhooks the sandbox sends, verifying their signatures.
type hooks struct {
	mu     sync.Mutex
	events []payment.WebhookEvent
	bad    int
}

func (h *hooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := ozgflow.VerifyBody([]byte(secret), time.Now(), r.Header.Get(ozgflow.HeaderSignatureTimestamp),
		r.Header.Get(ozgflow.HeaderSignature), body); err != nil {
		h.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev payment.WebhookEvent
	_ = json.Unmarshal(body, &ev)
	h.events = append(h.events, ev)
	w.WriteHeader(http.StatusNoContent)
}

func (h *hooks) last() (payment.WebhookEvent, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.events) == 0 {
		return payment.WebhookEvent{}, h.bad
	}
	return h.events[len(h.events)-1], h.bad
}

type env struct {
	client  *payment.Client
	sandbox *payment.Sandbox
	server  *httptest.Server
	hooks   *hooks
}

func newEnv(t *testing.T, stateFile string) env {
	t.Helper()
	h := &hooks{}
	hookServer := httptest.NewServer(h)
	t.Cleanup(hookServer.Close)
	r := mux.NewRouter()
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	sb, err := payment.NewSandbox(payment.SandboxConfig{PublicURL: srv.URL, APIKey: "key", WebhookURL: hookServer.URL,
		WebhookSecret: []byte(secret), StateFile: stateFile})
	if err != nil {
		t.Fatal(err)
	}
	sb.Register(r)
	return env{client: payment.NewClient(srv.URL+"/sandbox/paymentprovider", "key", srv.Client()), sandbox: sb, server: srv, hooks: h}
}

var request = activities.PaymentRequest{RequestID: "case-1-1", CaseID: "case-1", Amount: 2600, Currency: "EUR",
	Purpose: "Gebühr Gewerbeanmeldung"}

func nonRetryable(err error, wantType string) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.NonRetryable() && appErr.Type() == wantType
}

func TestCreateIsIdempotentAndPagePays(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "")
	first, err := e.client.CreatePayment(ctx, request)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.client.CreatePayment(ctx, request)
	if err != nil || again.PaymentID != first.PaymentID || first.Status != ozgflow.PaymentInitial {
		t.Fatalf("create twice: %+v %+v %v", first, again, err)
	}
	page, err := http.Get(first.RedirectURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	for _, want := range []string{"26,00 EUR", "Gebühr Gewerbeanmeldung", `value="pay"`, `lang="de"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("page lacks %q", want)
		}
	}
	res, err := http.PostForm(first.RedirectURL, url.Values{"action": {"pay"}})
	if err != nil || res.StatusCode != http.StatusOK || res.Request.Method != http.MethodGet {
		t.Fatalf("pay: %v %v", res, err)
	}
	res.Body.Close()
	got, err := e.client.PaymentStatus(ctx, first.PaymentID)
	if err != nil || got.Status != ozgflow.PaymentPayed {
		t.Fatalf("status after pay: %+v %v", got, err)
	}
	ev, bad := e.hooks.last()
	if ev.PaymentID != first.PaymentID || ev.CaseID != "case-1" || ev.Status != ozgflow.PaymentPayed || bad != 0 {
		t.Errorf("webhook = %+v (bad signatures %d)", ev, bad)
	}
	refund, err := e.client.Refund(ctx, first.PaymentID)
	if err != nil || refund.Refund != ozgflow.RefundRefunded {
		t.Fatalf("refund: %+v %v", refund, err)
	}
	if again, err := e.client.Refund(ctx, first.PaymentID); err != nil || again.Refund != ozgflow.RefundRefunded {
		t.Errorf("second refund: %+v %v", again, err)
	}
}

func TestPageActions(t *testing.T) {
	tests := []struct {
		name, action string
		wantHTTP     int
		wantStatus   string
	}{
		{"fail", "fail", http.StatusOK, ozgflow.PaymentFailed},
		{"cancel", "cancel", http.StatusOK, ozgflow.PaymentCanceled},
		{"unknown action", "steal", http.StatusBadRequest, ozgflow.PaymentInitial},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "")
			p, _ := e.client.CreatePayment(context.Background(), request)
			res, err := http.PostForm(p.RedirectURL, url.Values{"action": {tt.action}})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.wantHTTP {
				t.Errorf("HTTP %d, want %d", res.StatusCode, tt.wantHTTP)
			}
			got, _ := e.client.PaymentStatus(context.Background(), p.PaymentID)
			if got.Status != tt.wantStatus {
				t.Errorf("status %s, want %s", got.Status, tt.wantStatus)
			}
		})
	}
}

func TestErrorsAreClassified(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "")
	if _, err := e.client.PaymentStatus(ctx, "pay_unknown"); !nonRetryable(err, "PaymentNotFound") {
		t.Errorf("unknown payment: %v", err)
	}
	p, _ := e.client.CreatePayment(ctx, request)
	if _, err := e.client.Refund(ctx, p.PaymentID); !nonRetryable(err, "PaymentRejected") {
		t.Errorf("refund of an unpaid payment: %v", err)
	}
	if _, err := e.client.CreatePayment(ctx, activities.PaymentRequest{RequestID: "x"}); !nonRetryable(err, "PaymentRejected") {
		t.Errorf("incomplete request: %v", err)
	}
	wrongKey := payment.NewClient(e.server.URL+"/sandbox/paymentprovider", "wrong", nil)
	if _, err := wrongKey.CreatePayment(ctx, request); !nonRetryable(err, "PaymentRejected") {
		t.Errorf("wrong API key: %v", err)
	}
	e.server.Close()
	_, err := e.client.PaymentStatus(ctx, p.PaymentID)
	var appErr *temporal.ApplicationError
	if err == nil || errors.As(err, &appErr) {
		t.Errorf("provider down must be retryable, got %v", err)
	}
	paid := func() { _ = e.sandbox.SetStatus(ctx, p.PaymentID, "pay") }
	paid()
	if err := e.sandbox.SetStatus(ctx, p.PaymentID, "fail"); err == nil {
		t.Error("a paid payment changed again")
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "payments.json")
	e := newEnv(t, file)
	p, err := e.client.CreatePayment(context.Background(), request)
	if err != nil {
		t.Fatal(err)
	}
	_ = e.sandbox.SetStatus(context.Background(), p.PaymentID, "pay")
	restarted := newEnv(t, file)
	got, err := restarted.client.PaymentStatus(context.Background(), p.PaymentID)
	if err != nil || got.Status != ozgflow.PaymentPayed {
		t.Fatalf("after restart: %+v %v", got, err)
	}
}
