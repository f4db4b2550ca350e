package mail_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/activities/mail"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func startSink(t *testing.T, state string) *mail.Sink {
	t.Helper()
	s, err := mail.NewSink(mail.SinkConfig{Addr: "127.0.0.1:0", StateFile: state, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newMailer(t *testing.T, addr string) *mail.Mailer {
	t.Helper()
	m, err := mail.New(mail.Config{Addr: addr, From: "Stadt Leipzig – Bürgerservice <noreply@leipzig.example>"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// nonRetryable reports whether Temporal would give the activity up.
func nonRetryable(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.NonRetryable()
}

// TestMailerAndSinkOverSMTP is the contract of the SMTP mailer and the mail
// sink: what the one sends, the other receives as written, once.
func TestMailerAndSinkOverSMTP(t *testing.T) {
	ctx := context.Background()
	state := filepath.Join(t.TempDir(), "mail.jsonl")
	sink := startSink(t, state)
	m := newMailer(t, sink.Addr())
	notices := &activities.Notices{Mailer: m, StatusURL: func(caseID string) string {
		return "https://antrag.leipzig.example/antraege/" + caseID + "?token=at_x"
	}}

	req := activities.EmailRequest{
		NoticeID: "0b7c0a2e-1d5f-4c1e-9a53-3f3a2b1c4d5e-3",
		To:       "anna@example.org",
		Subject:  "Ihr Antrag auf Gewerbeanmeldung wurde geprüft – Entscheidung über Größe und Maße",
		Text: "Sehr geehrte Frau Muster,\n\nIhr Antrag ist bewilligt. Gebühr: 26,00 € (= bezahlt).\n" +
			".Diese Zeile beginnt mit einem Punkt.\n" + strings.Repeat("Eine lange Zeile ohne Umbruch, ", 6) + "Ende.",
		CaseNumber: "GEW-2026-000123",
	}
	if err := notices.Email(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := notices.Email(ctx, req); err != nil {
		t.Fatalf("a repeat is taken too: %v", err)
	}
	got := sink.Mails()
	if len(got) != 1 {
		t.Fatalf("sink holds %d mails, want 1: %+v", len(got), got)
	}
	mm := got[0]
	if mm.Subject != req.Subject {
		t.Errorf("subject = %q, want %q", mm.Subject, req.Subject)
	}
	// The notice, then the case number and the link to the status page of
	// the case the notice ID names.
	link := "https://antrag.leipzig.example/antraege/0b7c0a2e-1d5f-4c1e-9a53-3f3a2b1c4d5e?token=at_x"
	if want := activities.MailText(req, link); mm.Text != strings.TrimRight(want, "\n") && mm.Text != want {
		t.Errorf("text = %q\nwant %q", mm.Text, want)
	}
	if !strings.HasPrefix(mm.Text, req.Text) || !strings.Contains(mm.Text, "\nAntragsnummer: GEW-2026-000123\n") ||
		!strings.Contains(mm.Text, "\n"+link+"\n") {
		t.Errorf("text = %q: want the notice, the case number and the link", mm.Text)
	}
	if mm.MessageID != mail.MessageID(req.NoticeID, "noreply@leipzig.example") ||
		mm.MessageID != "<"+req.NoticeID+"@leipzig.example>" {
		t.Errorf("Message-ID = %q", mm.MessageID)
	}
	if mm.From != "noreply@leipzig.example" || len(mm.To) != 1 || mm.To[0] != "anna@example.org" || mm.Deliveries != 2 {
		t.Errorf("envelope = %+v", mm)
	}

	// An address the mail system refuses for good is not tried again.
	refused := req
	refused.NoticeID, refused.To = "n-4", "anna@example"+mail.RefusedDomain
	err := m.Send(ctx, refused)
	if !errors.Is(err, activities.ErrAddressRefused) {
		t.Errorf("refused recipient: %v", err)
	}
	if err := notices.Email(ctx, refused); !nonRetryable(err) {
		t.Errorf("the activity retries a refused address: %v", err)
	}
	for _, to := range []string{"", "keine adresse", "anna@example.org\r\nBcc: x@y"} {
		bad := req
		bad.To = to
		if err := notices.Email(ctx, bad); !nonRetryable(err) {
			t.Errorf("address %q: %v, want a non-retryable error", to, err)
		}
	}
	if len(sink.Mails()) != 1 {
		t.Errorf("refused mails reached the sink: %+v", sink.Mails())
	}

	// What arrived survives a restart of the sink.
	sink.Close()
	if got := startSink(t, state).Mails(); len(got) != 1 || got[0].Deliveries != 2 || got[0].Subject != req.Subject {
		t.Errorf("after restart: %+v", got)
	}
}

func TestMailerRetriesWhenTheServerIsAway(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	notices := &activities.Notices{Mailer: newMailer(t, addr)}
	err = notices.Email(context.Background(), activities.EmailRequest{NoticeID: "n-1", To: "anna@example.org", Subject: "x", Text: "y"})
	if err == nil || nonRetryable(err) || errors.Is(err, activities.ErrAddressRefused) {
		t.Errorf("server away: %v, want an error to retry", err)
	}
	if err := (&activities.Notices{}).Email(context.Background(), activities.EmailRequest{NoticeID: "n-1", To: "anna@example.org"}); !nonRetryable(err) {
		t.Errorf("no mailer configured: %v", err)
	}
}

func TestMailerConfiguration(t *testing.T) {
	for _, cfg := range []mail.Config{
		{Addr: "mail.example.org", From: "noreply@example.org"},
		{Addr: "mail.example.org:25", From: "not an address"},
	} {
		if _, err := mail.New(cfg); err == nil || !strings.Contains(err.Error(), "OZGFLOW_SMTP_") {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}

// TestSinkSpeaksSMTP drives the sink with raw commands, as any client might.
func TestSinkSpeaksSMTP(t *testing.T) {
	sink := startSink(t, "")
	c, err := textproto.Dial("tcp", sink.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	expect := func(cmd string, code int) {
		t.Helper()
		if cmd != "" {
			if err := c.PrintfLine("%s", cmd); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := c.ReadResponse(code); err != nil {
			t.Errorf("%q: %v, want %d", cmd, err, code)
		}
	}
	expect("", 220)
	expect("MAIL FROM:<a@example.org>", 503)
	expect("HELO client", 250)
	expect("RCPT TO:<b@example.org>", 503)
	expect("MAIL FROM:<a@example.org>", 250)
	expect("RCPT TO:<b@example.org>", 250)
	expect("RCPT TO:<c@nowhere.invalid>", 550)
	expect("FOO", 502)
	expect("DATA", 354)
	expect("Message-ID: <raw-1@example.org>\r\nSubject: Hallo\r\n\r\nZeile eins\r\n..Punkt\r\n.", 250)
	expect("NOOP", 250)
	expect("QUIT", 221)
	got := sink.Mails()
	if len(got) != 1 || got[0].MessageID != "<raw-1@example.org>" || got[0].Text != "Zeile eins\n.Punkt" || got[0].Subject != "Hallo" {
		t.Fatalf("mails = %+v", got)
	}

	r := mux.NewRouter()
	sink.Register(r)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, mail.SinkPath+"?to=b@example.org", nil))
	var list struct {
		Mails []mail.Received `json:"mails"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || len(list.Mails) != 1 {
		t.Errorf("GET %s: %d %s", mail.SinkPath, rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, mail.SinkPath, nil)
	req.Header.Set("Accept", "text/html")
	r.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), "<h2>Hallo</h2>") || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Errorf("page: %s", rec.Body)
	}
}

func TestSinkStopsWithOpenSessions(t *testing.T) {
	sink, err := mail.NewSink(mail.SinkConfig{Addr: "127.0.0.1:0", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", sink.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan struct{})
	go func() { sink.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waits for an idle session")
	}
}
