package payment_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/activities/payment"
)

var (
	secret = []byte("webhook-secret")
	apiKey = "test-key"
)

// receiver is a webhook endpoint that verifies signatures and hands the
// events to the test. failFirst answers that many deliveries with 503.
type receiver struct {
	failFirst atomic.Int32
	events    chan payment.WebhookEvent
	mu        sync.Mutex
	bad       []string
}

func newReceiver(t *testing.T) (*receiver, *httptest.Server) {
	t.Helper()
	rc := &receiver{events: make(chan payment.WebhookEvent, 16)}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return rc, srv
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if rc.failFirst.Add(-1) >= 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	err := ozgflow.VerifyWebhook(secret, time.Now(), r.Header.Get(ozgflow.HeaderSignatureTimestamp),
		r.Header.Get(ozgflow.HeaderWebhookID), r.Header.Get(ozgflow.HeaderSignature), body)
	if err != nil {
		rc.mu.Lock()
		rc.bad = append(rc.bad, err.Error())
		rc.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev payment.WebhookEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rc.events <- ev
	w.WriteHeader(http.StatusNoContent)
}

// next waits for the next verified webhook.
func (rc *receiver) next(t *testing.T) payment.WebhookEvent {
	t.Helper()
	select {
	case ev := <-rc.events:
		return ev
	case <-time.After(5 * time.Second):
		rc.mu.Lock()
		defer rc.mu.Unlock()
		t.Fatalf("no webhook arrived (refused signatures: %v)", rc.bad)
		return payment.WebhookEvent{}
	}
}

type env struct {
	client   *payment.Client
	sandbox  *payment.Sandbox
	server   *httptest.Server
	receiver *receiver
}

// newEnv starts a sandbox behind a real HTTP server, with a client for it and
// a webhook receiver.
func newEnv(t *testing.T, stateFile string) env {
	t.Helper()
	rc, hookServer := newReceiver(t)
	return newEnvWithWebhook(t, stateFile, hookServer.URL, rc)
}

func newEnvWithWebhook(t *testing.T, stateFile, webhookURL string, rc *receiver) env {
	t.Helper()
	r := mux.NewRouter()
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	sb, err := payment.NewSandbox(payment.SandboxConfig{PublicURL: srv.URL, APIKey: apiKey, WebhookURL: webhookURL,
		WebhookSecret: secret, StateFile: stateFile, WebhookRetryDelay: 5 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	sb.Register(r)
	return env{client: payment.NewClient(srv.URL+payment.ProviderPath, apiKey, srv.Client()),
		sandbox: sb, server: srv, receiver: rc}
}

// noRedirects is an HTTP client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

func request(n int) activities.PaymentRequest {
	return activities.PaymentRequest{RequestID: fmt.Sprintf("case-1-%d", n), CaseID: "case-1", Amount: 2600,
		Currency: "EUR", Purpose: "Gebühr Gewerbeanmeldung"}
}

func create(t *testing.T, e env) activities.PaymentInfo {
	t.Helper()
	p, err := e.client.CreatePayment(context.Background(), request(1))
	if err != nil {
		t.Fatalf("create payment: %v", err)
	}
	return p
}

func getPage(t *testing.T, pageURL string) (int, string) {
	t.Helper()
	res, err := http.Get(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func postAction(t *testing.T, pageURL, action string) *http.Response {
	t.Helper()
	res, err := noRedirects.PostForm(pageURL, url.Values{"action": {action}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(strings.NewReader(string(b)))
	return res
}

// appError says whether err is a Temporal application error of the given
// type and retryability.
func appError(err error, wantType string) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.NonRetryable() && appErr.Type() == wantType
}

func retryable(err error) bool {
	var appErr *temporal.ApplicationError
	return err != nil && (!errors.As(err, &appErr) || !appErr.NonRetryable())
}

func TestCreatePaymentIsIdempotent(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "")
	first, err := e.client.CreatePayment(ctx, request(1))
	if err != nil {
		t.Fatal(err)
	}
	if first.Status != ozgflow.PaymentInitial || !strings.HasPrefix(first.PaymentID, "pay_") ||
		first.RedirectURL != e.server.URL+"/sandbox/payments/"+first.PaymentID {
		t.Errorf("created %+v", first)
	}
	again, err := e.client.CreatePayment(ctx, request(1))
	if err != nil || again != first {
		t.Errorf("create again = %+v, %v; want %+v", again, err, first)
	}
	other, err := e.client.CreatePayment(ctx, request(2))
	if err != nil || other.PaymentID == first.PaymentID {
		t.Errorf("another request ID = %+v, %v; want a new payment", other, err)
	}

	tests := []struct {
		name string
		body string
		want int
	}{
		{"new request", `{"requestId":"r-3","caseId":"case-3","amount":100,"purpose":"Gebühr"}`, http.StatusCreated},
		{"same request again", `{"requestId":"r-3","caseId":"case-3","amount":100,"purpose":"Gebühr"}`, http.StatusOK},
		{"request ID of another payment", `{"requestId":"r-3","caseId":"case-4","amount":100,"purpose":"Gebühr"}`, http.StatusConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _ := callAPI(t, e, http.MethodPost, "/payments", apiKey, tt.body)
			if status != tt.want {
				t.Errorf("HTTP %d, want %d", status, tt.want)
			}
		})
	}
}

func TestConcurrentCreatesOpenOnePayment(t *testing.T) {
	e := newEnv(t, filepath.Join(t.TempDir(), "payments.json"))
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			p, err := e.client.CreatePayment(context.Background(), request(1))
			if err != nil {
				t.Error(err)
			}
			ids[i] = p.PaymentID
		})
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("concurrent creates gave %v, want one payment", ids)
		}
	}
}

func TestPageActions(t *testing.T) {
	tests := []struct {
		action     string
		wantStatus string
		wantText   string
	}{
		{"pay", ozgflow.PaymentPayed, "Bezahlt"},
		{"fail", ozgflow.PaymentFailed, "Fehlgeschlagen"},
		{"cancel", ozgflow.PaymentCanceled, "Abgebrochen"},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			e := newEnv(t, "")
			p := create(t, e)

			code, body := getPage(t, p.RedirectURL)
			if code != http.StatusOK {
				t.Fatalf("page: HTTP %d", code)
			}
			for _, want := range []string{`<html lang="de">`, "<title>", "<main>", "<h1>", "26,00 EUR",
				"Gebühr Gewerbeanmeldung", "Offen", `method="post"`,
				`name="action" value="pay">Jetzt bezahlen<`, `name="action" value="fail">`, `name="action" value="cancel">`} {
				if !strings.Contains(body, want) {
					t.Errorf("open page lacks %q", want)
				}
			}

			res := postAction(t, p.RedirectURL, tt.action)
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/sandbox/payments/"+p.PaymentID {
				t.Fatalf("POST %s: HTTP %d to %q, want 303 to the page", tt.action, res.StatusCode, res.Header.Get("Location"))
			}
			ev := e.receiver.next(t)
			want := payment.WebhookEvent{PaymentID: p.PaymentID, RequestID: "case-1-1", CaseID: "case-1", Status: tt.wantStatus,
				Kassenzeichen: p.Kassenzeichen}
			if ev != want {
				t.Errorf("webhook = %+v, want %+v", ev, want)
			}
			got, err := e.client.PaymentStatus(context.Background(), p.PaymentID)
			if err != nil || got.Status != tt.wantStatus {
				t.Errorf("status = %+v, %v; want %s", got, err, tt.wantStatus)
			}

			code, body = getPage(t, p.RedirectURL)
			if code != http.StatusOK || !strings.Contains(body, tt.wantText) || strings.Contains(body, `value="pay"`) {
				t.Errorf("page after %s: HTTP %d, want status %q and no buttons:\n%s", tt.action, code, tt.wantText, body)
			}
			again := postAction(t, p.RedirectURL, "pay")
			b, _ := io.ReadAll(again.Body)
			if again.StatusCode != http.StatusConflict || !strings.Contains(string(b), "bereits abgeschlossen") {
				t.Errorf("second action: HTTP %d, want 409 with an explanation", again.StatusCode)
			}
		})
	}
}

// TestPageReturnsToTheStatusPage: a payment that names the applicant's
// status page sends the browser back there after paying, failing or
// cancelling, with a note of how it ended; the page links back too.
func TestPageReturnsToTheStatusPage(t *testing.T) {
	const status = "https://antrag.example/antraege/case-1"
	for action, note := range map[string]string{"pay": "bezahlt", "fail": "zahlung-fehlgeschlagen", "cancel": "zahlung-abgebrochen"} {
		t.Run(action, func(t *testing.T) {
			e := newEnv(t, "")
			// The activity names the status page of the case.
			payments := &activities.Payments{Provider: e.client, ReturnURL: func(caseID string) string {
				return "https://antrag.example/antraege/" + caseID
			}}
			p, err := payments.CreatePayment(context.Background(), request(1))
			if err != nil {
				t.Fatal(err)
			}
			_, body := getPage(t, p.RedirectURL)
			// The status page's address says it is the return from the payment.
			if !strings.Contains(body, `id="return-link" href="`+status+"?"+ozgflow.PaymentReturnQuery+`"`) || strings.Contains(body, "schließen") {
				t.Errorf("open page does not lead back:\n%s", body)
			}
			res := postAction(t, p.RedirectURL, action)
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != status+"?hinweis="+note+"&"+ozgflow.PaymentReturnQuery {
				t.Fatalf("POST %s: HTTP %d to %q, want 303 to the status page", action, res.StatusCode, res.Header.Get("Location"))
			}
			_, body = getPage(t, p.RedirectURL)
			if !strings.Contains(body, ">Zurück zu Ihrem Antrag<") || strings.Contains(body, "Fenster") {
				t.Errorf("finished page:\n%s", body)
			}
		})
	}
	// A return address that is no web address is not followed.
	e := newEnv(t, "")
	req := request(2)
	req.ReturnURL = "javascript:alert(1)"
	p, err := e.client.CreatePayment(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res := postAction(t, p.RedirectURL, "pay"); res.Header.Get("Location") != "/sandbox/payments/"+p.PaymentID {
		t.Errorf("with a bad return address: to %q", res.Header.Get("Location"))
	}
}

func TestPageRefusals(t *testing.T) {
	e := newEnv(t, "")
	p := create(t, e)
	done, err := e.client.CreatePayment(context.Background(), request(2))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sandbox.SetStatus(done.PaymentID, "pay"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, paymentID, action string
		want                            int
	}{
		{"page of an unknown payment", http.MethodGet, "pay_0000000000000000", "", http.StatusNotFound},
		{"action on an unknown payment", http.MethodPost, "pay_0000000000000000", "pay", http.StatusNotFound},
		{"unknown action", http.MethodPost, p.PaymentID, "steal", http.StatusBadRequest},
		{"no action", http.MethodPost, p.PaymentID, "", http.StatusBadRequest},
		{"payment already paid", http.MethodPost, done.PaymentID, "cancel", http.StatusConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pageURL := e.server.URL + "/sandbox/payments/" + tt.paymentID
			var res *http.Response
			if tt.method == http.MethodGet {
				code, body := getPage(t, pageURL)
				res = &http.Response{StatusCode: code, Body: io.NopCloser(strings.NewReader(body))}
			} else {
				res = postAction(t, pageURL, tt.action)
			}
			b, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.want || !strings.Contains(string(b), `role="alert"`) || !strings.Contains(string(b), `lang="de"`) {
				t.Errorf("HTTP %d, want %d with a readable message:\n%s", res.StatusCode, tt.want, b)
			}
		})
	}
	if got, _ := e.client.PaymentStatus(context.Background(), p.PaymentID); got.Status != ozgflow.PaymentInitial {
		t.Errorf("refused actions changed the payment to %s", got.Status)
	}
}

func TestSetStatusErrors(t *testing.T) {
	e := newEnv(t, "")
	p := create(t, e)
	if err := e.sandbox.SetStatus(p.PaymentID, "pay"); err != nil {
		t.Fatal(err)
	}
	e.receiver.next(t)
	tests := []struct {
		name, paymentID, action string
		want                    error
	}{
		{"unknown payment", "pay_nope", "pay", payment.ErrUnknownPayment},
		{"unknown action", p.PaymentID, "refund", payment.ErrBadAction},
		{"not open", p.PaymentID, "fail", payment.ErrNotOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := e.sandbox.SetStatus(tt.paymentID, tt.action); !errors.Is(err, tt.want) {
				t.Errorf("SetStatus = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRefund(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		action   string // page action before the refund; empty leaves it open
		wantErr  string // Temporal error type; empty means success
		wantHTTP int
	}{
		{"paid payment", "pay", "", http.StatusOK},
		{"open payment", "", payment.ErrTypeRejected, http.StatusConflict},
		{"failed payment", "fail", payment.ErrTypeRejected, http.StatusConflict},
		{"cancelled payment", "cancel", payment.ErrTypeRejected, http.StatusConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "")
			p := create(t, e)
			if tt.action != "" {
				if err := e.sandbox.SetStatus(p.PaymentID, tt.action); err != nil {
					t.Fatal(err)
				}
				e.receiver.next(t)
			}
			got, err := e.client.Refund(ctx, p.PaymentID)
			if tt.wantErr != "" {
				if !appError(err, tt.wantErr) {
					t.Errorf("refund = %v, want non-retryable %s", err, tt.wantErr)
				}
			} else if err != nil || got.Refund != ozgflow.RefundRefunded || got.Status != ozgflow.PaymentPayed {
				t.Errorf("refund = %+v, %v; want PAYED and REFUNDED", got, err)
			}
			status, _ := callAPI(t, e, http.MethodPost, "/payments/"+p.PaymentID+"/refund", apiKey, "")
			if status != tt.wantHTTP {
				t.Errorf("refund again: HTTP %d, want %d", status, tt.wantHTTP)
			}
			if tt.wantErr != "" {
				return
			}
			again, err := e.client.Refund(ctx, p.PaymentID)
			if err != nil || again != got {
				t.Errorf("refund twice = %+v, %v; want %+v", again, err, got)
			}
			if ev := e.receiver.next(t); ev.Refund != ozgflow.RefundRefunded || ev.Status != ozgflow.PaymentPayed {
				t.Errorf("refund webhook = %+v", ev)
			}
			if status, _ := e.client.PaymentStatus(ctx, p.PaymentID); status.Refund != ozgflow.RefundRefunded {
				t.Errorf("status after refund = %+v", status)
			}
			if _, body := getPage(t, p.RedirectURL); !strings.Contains(body, "erstattet") {
				t.Error("page does not show the refund")
			}
		})
	}
}

// callAPI sends a raw request to the provider API and returns the status and
// the decoded {"error": ...} message.
func callAPI(t *testing.T, e env, method, path, key, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.server.URL+payment.ProviderPath+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var answer struct {
		Error string `json:"error"`
	}
	if err := json.NewDecoder(res.Body).Decode(&answer); err != nil {
		t.Errorf("%s %s: answer is not JSON: %v", method, path, err)
	}
	if res.StatusCode >= 400 && answer.Error == "" {
		t.Errorf("%s %s: HTTP %d without an error message", method, path, res.StatusCode)
	}
	return res.StatusCode, answer.Error
}

func TestProviderAPIValidates(t *testing.T) {
	e := newEnv(t, "")
	tests := []struct {
		name, method, path, key, body string
		want                          int
	}{
		{"no API key", http.MethodPost, "/payments", "", `{}`, http.StatusUnauthorized},
		{"wrong API key", http.MethodGet, "/payments/pay_x", "wrong", "", http.StatusUnauthorized},
		{"malformed JSON", http.MethodPost, "/payments", apiKey, `{"requestId":`, http.StatusBadRequest},
		{"missing fields", http.MethodPost, "/payments", apiKey, `{"amount":100}`, http.StatusBadRequest},
		{"zero amount", http.MethodPost, "/payments", apiKey, `{"requestId":"r","caseId":"c","amount":0,"purpose":"p"}`, http.StatusBadRequest},
		{"foreign currency", http.MethodPost, "/payments", apiKey, `{"requestId":"r","caseId":"c","amount":5,"currency":"USD","purpose":"p"}`, http.StatusBadRequest},
		{"unknown payment", http.MethodGet, "/payments/pay_x", apiKey, "", http.StatusNotFound},
		{"refund of an unknown payment", http.MethodPost, "/payments/pay_x/refund", apiKey, "", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, msg := callAPI(t, e, tt.method, tt.path, tt.key, tt.body); got != tt.want {
				t.Errorf("HTTP %d (%s), want %d", got, msg, tt.want)
			}
		})
	}
}

func TestClientClassifiesErrors(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "")
	p := create(t, e)
	status := func(code int) *payment.Client {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(code)
			_, _ = io.WriteString(w, `{"error":"simulated"}`)
		}))
		t.Cleanup(srv.Close)
		return payment.NewClient(srv.URL, apiKey, nil)
	}
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	tests := []struct {
		name     string
		call     func() error
		wantType string // non-retryable type; empty means retryable
	}{
		{"unknown payment", func() error { _, err := e.client.PaymentStatus(ctx, "pay_unknown"); return err }, payment.ErrTypeNotFound},
		{"refund of an open payment", func() error { _, err := e.client.Refund(ctx, p.PaymentID); return err }, payment.ErrTypeRejected},
		{"refund of an unknown payment", func() error { _, err := e.client.Refund(ctx, "pay_unknown"); return err }, payment.ErrTypeRejected},
		{"incomplete request", func() error {
			_, err := e.client.CreatePayment(ctx, activities.PaymentRequest{RequestID: "x"})
			return err
		}, payment.ErrTypeRejected},
		{"wrong API key", func() error {
			_, err := payment.NewClient(e.server.URL+payment.ProviderPath, "wrong", nil).CreatePayment(ctx, request(1))
			return err
		}, payment.ErrTypeRejected},
		{"server error", func() error { _, err := status(http.StatusInternalServerError).PaymentStatus(ctx, "p"); return err }, ""},
		{"unavailable", func() error {
			_, err := status(http.StatusServiceUnavailable).CreatePayment(ctx, request(1))
			return err
		}, ""},
		{"rate limited", func() error { _, err := status(http.StatusTooManyRequests).Refund(ctx, "p"); return err }, ""},
		{"provider unreachable", func() error {
			_, err := payment.NewClient(down.URL, apiKey, nil).PaymentStatus(ctx, "p")
			return err
		}, ""},
		{"malformed answer", func() error { _, err := status(http.StatusOK).PaymentStatus(ctx, "p"); return err }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			switch {
			case tt.wantType != "" && !appError(err, tt.wantType):
				t.Errorf("err = %v, want non-retryable %s", err, tt.wantType)
			case tt.wantType == "" && !retryable(err):
				t.Errorf("err = %v, want a retryable error", err)
			}
		})
	}
}

func TestWebhookFailureDoesNotFailThePage(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	e := newEnvWithWebhook(t, "", down.URL, nil)
	p := create(t, e)
	if res := postAction(t, p.RedirectURL, "pay"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("pay with the webhook receiver down: HTTP %d, want 303", res.StatusCode)
	}
	if got, _ := e.client.PaymentStatus(context.Background(), p.PaymentID); got.Status != ozgflow.PaymentPayed {
		t.Errorf("status = %s, want PAYED", got.Status)
	}
}

func TestWebhookIsRetriedInTheBackground(t *testing.T) {
	e := newEnv(t, "")
	e.receiver.failFirst.Store(2)
	p := create(t, e)
	if res := postAction(t, p.RedirectURL, "fail"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("HTTP %d, want 303", res.StatusCode)
	}
	if ev := e.receiver.next(t); ev.PaymentID != p.PaymentID || ev.Status != ozgflow.PaymentFailed {
		t.Errorf("webhook after retries = %+v", ev)
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "sandbox", "payments.json")
	e := newEnv(t, file)
	paid := create(t, e)
	if err := e.sandbox.SetStatus(paid.PaymentID, "pay"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Refund(ctx, paid.PaymentID); err != nil {
		t.Fatal(err)
	}
	open, err := e.client.CreatePayment(ctx, request(2))
	if err != nil {
		t.Fatal(err)
	}

	restarted := newEnv(t, file)
	tests := []struct {
		name       string
		paymentID  string
		wantStatus string
		wantRefund string
	}{
		{"paid and refunded", paid.PaymentID, ozgflow.PaymentPayed, ozgflow.RefundRefunded},
		{"open", open.PaymentID, ozgflow.PaymentInitial, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := restarted.client.PaymentStatus(ctx, tt.paymentID)
			if err != nil || got.Status != tt.wantStatus || got.Refund != tt.wantRefund {
				t.Errorf("after restart = %+v, %v; want %s/%q", got, err, tt.wantStatus, tt.wantRefund)
			}
		})
	}
	again, err := restarted.client.CreatePayment(ctx, request(2))
	if err != nil || again.PaymentID != open.PaymentID {
		t.Errorf("create after restart = %+v, %v; want payment %s", again, err, open.PaymentID)
	}
	if err := restarted.sandbox.SetStatus(open.PaymentID, "pay"); err != nil {
		t.Errorf("pay after restart: %v", err)
	}
	entries, err := os.ReadDir(filepath.Dir(file))
	if err != nil || len(entries) != 1 {
		t.Errorf("state directory holds %v (%v), want only the state file", entries, err)
	}
}

func TestCorruptStateFileFailsTheStart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "payments.json")
	if err := os.WriteFile(file, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := payment.NewSandbox(payment.SandboxConfig{StateFile: file}); err == nil {
		t.Error("a corrupt state file was accepted")
	}
}

func TestCloseEndsPendingRetries(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	r := mux.NewRouter()
	srv := httptest.NewServer(r)
	defer srv.Close()
	sb, err := payment.NewSandbox(payment.SandboxConfig{PublicURL: srv.URL, APIKey: apiKey, WebhookURL: down.URL,
		WebhookSecret: secret, WebhookRetryDelay: time.Hour, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	sb.Register(r)
	p, err := payment.NewClient(srv.URL+payment.ProviderPath, apiKey, nil).CreatePayment(context.Background(), request(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.SetStatus(p.PaymentID, "pay"); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() {
		sb.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waits for a retry an hour away")
	}
}
