package signer_test

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

	"github.com/go-jose/go-jose/v4"
	"github.com/gorilla/mux"
	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/activities/signer"
	"github.com/ozgflow/ozgflow/receipt"
)

// webhookReceiver records the signature webhooks whose HMAC verifies.
type webhookReceiver struct {
	secret []byte
	mu     sync.Mutex
	events []signer.SignatureEvent
	forged int
}

func (wr *webhookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	wr.mu.Lock()
	defer wr.mu.Unlock()
	if err := ozgflow.VerifyWebhook(wr.secret, time.Now(), r.Header.Get(ozgflow.HeaderSignatureTimestamp),
		r.Header.Get(ozgflow.HeaderWebhookID), r.Header.Get(ozgflow.HeaderSignature), body); err != nil {
		wr.forged++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var ev signer.SignatureEvent
	_ = json.Unmarshal(body, &ev)
	wr.events = append(wr.events, ev)
	w.WriteHeader(http.StatusNoContent)
}

func (wr *webhookReceiver) received() []signer.SignatureEvent {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	return append([]signer.SignatureEvent(nil), wr.events...)
}

// signingSetup is a sandbox served over HTTP, a client for it and the
// receiver of its webhooks, if it sends any.
type signingSetup struct {
	sb       *signer.Sandbox
	client   *signer.Client
	url      string
	receiver *webhookReceiver
	browser  *http.Client // does not follow redirects
}

func newSigning(t *testing.T, stateFile, keyFile string) signingSetup {
	t.Helper()
	receiver := &webhookReceiver{}
	r := mux.NewRouter()
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	sb, err := signer.NewSandbox(signer.SandboxConfig{KeyFile: keyFile, PublicURL: srv.URL + "/",
		ReturnURL: "https://portal.example/", StateFile: stateFile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	sb.Register(r)
	return signingSetup{sb: sb, client: signer.NewClient(srv.URL+signer.Path, srv.Client()), url: srv.URL,
		receiver: receiver, browser: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}}
}

// newSigningWithWebhook is a sandbox that posts its decisions to the receiver.
func newSigningWithWebhook(t *testing.T) signingSetup {
	t.Helper()
	receiver := &webhookReceiver{secret: []byte("signature-webhook-secret")}
	hook := httptest.NewServer(receiver)
	t.Cleanup(hook.Close)
	r := mux.NewRouter()
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	sb, err := signer.NewSandbox(signer.SandboxConfig{PublicURL: srv.URL, ReturnURL: "https://portal.example",
		WebhookURL: hook.URL, WebhookSecret: receiver.secret, WebhookRetryDelay: 10 * time.Millisecond,
		StateFile: filepath.Join(t.TempDir(), "signatures.jsonl")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	sb.Register(r)
	return signingSetup{sb: sb, client: signer.NewClient(srv.URL+signer.Path, srv.Client()), url: srv.URL,
		receiver: receiver, browser: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}}
}

// decide presses a button of the signing page.
func (s signingSetup) decide(t *testing.T, sessionID, action string) *http.Response {
	t.Helper()
	res, err := s.browser.PostForm(s.url+signer.SignaturePagePath+sessionID, url.Values{"action": {action}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func (s signingSetup) page(t *testing.T, sessionID string) (int, string) {
	t.Helper()
	res, err := http.Get(s.url + signer.SignaturePagePath + sessionID)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func sealRequest(caseID string) activities.SealRequest {
	return activities.SealRequest{CaseID: caseID, DefinitionID: "gewerbeanmeldung-leipzig", DefinitionVersion: 1,
		SubmittedAt: time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC),
		Application: ozgflow.Application{Service: "99050035001000", Authority: "147130000000",
			Data:        json.RawMessage(`{"betrieb":{"name":"Café Anna","beginn":"2026-12-01"}}`),
			Attachments: []ozgflow.Attachment{{Name: "Ausweis.pdf", SHA256: strings.Repeat("c", 64)}}}}
}

func nonRetryable(err error, errType string) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.NonRetryable() && appErr.Type() == errType
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestApplicantSignsThroughTheSandbox(t *testing.T) {
	ctx := context.Background()
	s := newSigningWithWebhook(t)
	seals := &activities.Seals{Applicant: s.client}
	req := sealRequest("c0ffee00-0000-4000-8000-000000000001")

	session, err := seals.StartSignature(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if session.Status != ozgflow.SignaturePending || session.RedirectURL != s.url+signer.SignaturePagePath+session.ID {
		t.Fatalf("session = %+v", session)
	}
	again, err := seals.StartSignature(ctx, req)
	if err != nil || again.ID != session.ID {
		t.Errorf("starting again gave %+v, %v; want the same session", again, err)
	}
	other := req
	other.Application.Data = json.RawMessage(`{"betrieb":{"name":"Anderer Name"}}`)
	if _, err := seals.StartSignature(ctx, other); !nonRetryable(err, signer.ErrTypeSignatureRejected) {
		t.Errorf("the same request ID for other data: %v, want a non-retryable refusal", err)
	}

	status, html := s.page(t, session.ID)
	for _, want := range []string{`<html lang="de">`, "<h1>", ">Signieren</button>", ">Ablehnen</button>",
		req.CaseID, "Café Anna", "betrieb – beginn", "01.12.2026", "Ausweis.pdf", "20.11.2026, 10:30 Uhr"} {
		if !strings.Contains(html, want) {
			t.Errorf("the signing page (HTTP %d) does not show %q", status, want)
		}
	}

	res := s.decide(t, session.ID, "sign")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "https://portal.example/antraege/"+req.CaseID {
		t.Errorf("signing answered %d to %q, want 303 to the status page", res.StatusCode, res.Header.Get("Location"))
	}
	waitFor(t, "the webhook", func() bool { return len(s.receiver.received()) == 1 })
	if ev := s.receiver.received()[0]; ev != (signer.SignatureEvent{CaseID: req.CaseID, SessionID: session.ID, Status: ozgflow.SignatureSigned}) {
		t.Errorf("webhook = %+v", ev)
	}

	signed, err := seals.SignatureStatus(ctx, session.ID)
	if err != nil || signed.Status != ozgflow.SignatureSigned || signed.KeyID != s.sb.KeyID() {
		t.Fatalf("status after signing = %+v, %v", signed, err)
	}
	payload, err := signer.Verify(signed.JWS, s.sb.JWKS())
	want, _ := activities.ReceiptPayload(req)
	if err != nil || string(payload) != string(want) {
		t.Errorf("the signature covers %q (%v), want the receipt payload %q", payload, err, want)
	}
	obj, _ := jose.ParseSignedCompact(signed.JWS, []jose.SignatureAlgorithm{jose.ES256})
	if typ := obj.Signatures[0].Protected.ExtraHeaders[jose.HeaderType]; typ != signer.SignatureType {
		t.Errorf("typ = %v, want %s", typ, signer.SignatureType)
	}
	// The receipt check does not take the applicant's signature for a seal.
	if signer.SignatureType != receipt.ApplicantSignatureType {
		t.Errorf("signer.SignatureType %q and receipt.ApplicantSignatureType %q differ", signer.SignatureType, receipt.ApplicantSignatureType)
	}
	if res := receipt.VerifyJWS(signed.JWS, s.sb.JWKS()); res.Verdict != receipt.Unknown || res.Reason != receipt.ReasonNotASeal {
		t.Errorf("checked as a receipt: %s (%s)", res.Verdict, res.Reason)
	}

	if res := s.decide(t, session.ID, "decline"); res.StatusCode != http.StatusConflict {
		t.Errorf("deciding twice answered %d, want 409", res.StatusCode)
	}
	if status, html := s.page(t, session.ID); status != http.StatusOK || !strings.Contains(html, "Sie haben Ihren Antrag signiert") ||
		strings.Contains(html, ">Signieren</button>") {
		t.Errorf("the page of a signed session (HTTP %d) still offers to sign", status)
	}
}

func TestApplicantDeclines(t *testing.T) {
	ctx := context.Background()
	s := newSigningWithWebhook(t)
	session, err := s.client.StartSignature(ctx, activities.SignatureRequest{RequestID: "c2-signature", CaseID: "c2", Payload: []byte(`{"caseId":"c2"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if res := s.decide(t, session.ID, "shrug"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown action answered %d, want 400", res.StatusCode)
	}
	if res := s.decide(t, session.ID, "decline"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("declining answered %d, want 303", res.StatusCode)
	}
	got, err := s.client.SignatureStatus(ctx, session.ID)
	if err != nil || got.Status != ozgflow.SignatureDeclined || got.JWS != "" {
		t.Errorf("status after declining = %+v, %v", got, err)
	}
	waitFor(t, "the webhook", func() bool { return len(s.receiver.received()) == 1 })
	if ev := s.receiver.received()[0]; ev.Status != ozgflow.SignatureDeclined || ev.CaseID != "c2" {
		t.Errorf("webhook = %+v", ev)
	}
}

func TestSignatureRequestsRefused(t *testing.T) {
	ctx := context.Background()
	s := newSigning(t, "", "")
	tests := []struct {
		name string
		req  activities.SignatureRequest
	}{
		{"no request ID", activities.SignatureRequest{CaseID: "c", Payload: []byte("x")}},
		{"no case", activities.SignatureRequest{RequestID: "r", Payload: []byte("x")}},
		{"nothing to sign", activities.SignatureRequest{RequestID: "r", CaseID: "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.client.StartSignature(ctx, tt.req); !nonRetryable(err, signer.ErrTypeSignatureRejected) {
				t.Errorf("err = %v, want a non-retryable refusal", err)
			}
		})
	}
	if _, err := s.client.SignatureStatus(ctx, "sig_unknown"); !nonRetryable(err, signer.ErrTypeSignatureRejected) {
		t.Errorf("status of an unknown session: %v, want a non-retryable error", err)
	}
	if status, _ := s.page(t, "sig_unknown"); status != http.StatusNotFound {
		t.Errorf("page of an unknown session: %d, want 404", status)
	}
	if res := s.decide(t, "sig_unknown", "sign"); res.StatusCode != http.StatusNotFound {
		t.Errorf("signing an unknown session: %d, want 404", res.StatusCode)
	}
}

func TestSignatureClientRejectsBadAnswers(t *testing.T) {
	answering := func(body string) *signer.Client {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, body)
		}))
		t.Cleanup(srv.Close)
		return signer.NewClient(srv.URL, nil)
	}
	for name, body := range map[string]string{
		"no ID":              `{"status":"PENDING"}`,
		"unknown status":     `{"id":"s","status":"MAYBE"}`,
		"signed without JWS": `{"id":"s","status":"SIGNED"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := answering(body).SignatureStatus(context.Background(), "s"); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestSignatureSessionsSurviveARestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	state, key := filepath.Join(dir, "signatures.jsonl"), filepath.Join(dir, "key.json")
	first := newSigning(t, state, key)
	req := activities.SignatureRequest{RequestID: "c3-signature", CaseID: "c3", Payload: []byte(`{"caseId":"c3"}`)}
	session, err := first.client.StartSignature(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	first.decide(t, session.ID, "sign")
	signed, err := first.client.SignatureStatus(ctx, session.ID)
	if err != nil || signed.Status != ozgflow.SignatureSigned {
		t.Fatalf("signed = %+v, %v", signed, err)
	}
	first.sb.Close()

	second := newSigning(t, state, key)
	got, err := second.client.SignatureStatus(ctx, session.ID)
	if err != nil || got.Status != ozgflow.SignatureSigned || got.JWS != signed.JWS {
		t.Errorf("after a restart: %+v, %v; want the signed session", got, err)
	}
	again, err := second.client.StartSignature(ctx, req)
	if err != nil || again.ID != session.ID {
		t.Errorf("starting again after a restart: %+v, %v; want session %s", again, err, session.ID)
	}
}
