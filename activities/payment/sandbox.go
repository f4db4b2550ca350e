package payment

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/activities/internal/sandbox"
	"github.com/ozgflow/ozgflow/definitions"
)

// SandboxConfig configures the sandbox provider.
type SandboxConfig struct {
	PublicURL     string // base of the payment page links, e.g. http://localhost:8080
	APIKey        string // bearer token the provider API expects
	WebhookURL    string // where status changes are posted
	WebhookSecret []byte // HMAC key of the webhook signature
	StateFile     string // JSON file of the payments; empty keeps them in memory
	HTTPClient    *http.Client
	Logger        *slog.Logger
}

// WebhookEvent is the body of the webhook the sandbox posts on a status change.
type WebhookEvent struct {
	PaymentID string `json:"paymentId"`
	RequestID string `json:"requestId"`
	CaseID    string `json:"caseId"`
	Status    string `json:"status"`
	Refund    string `json:"refund,omitempty"`
}

// record is one payment the sandbox holds.
type record struct {
	ID        string    `json:"id"`
	RequestID string    `json:"requestId"`
	CaseID    string    `json:"caseId"`
	Amount    int64     `json:"amount"`
	Currency  string    `json:"currency"`
	Purpose   string    `json:"purpose"`
	Status    string    `json:"status"`
	Refund    string    `json:"refund,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Sandbox is a payment provider for development and tests: the provider API
// of Client, a payment page with pay/fail/cancel, and signed webhooks.
type Sandbox struct {
	cfg      SandboxConfig
	mu       sync.Mutex
	payments map[string]*record // by payment ID
}

// NewSandbox loads the sandbox's state, if any.
func NewSandbox(cfg SandboxConfig) (*Sandbox, error) {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Sandbox{cfg: cfg, payments: map[string]*record{}}
	if err := sandbox.Load(cfg.StateFile, &s.payments); err != nil {
		return nil, err
	}
	return s, nil
}

// Register adds the provider API under /sandbox/paymentprovider and the
// payment page under /sandbox/payments.
func (s *Sandbox) Register(r *mux.Router) {
	api := r.PathPrefix("/sandbox/paymentprovider").Subrouter()
	api.HandleFunc("/payments", s.authorized(s.handleCreate)).Methods(http.MethodPost)
	api.HandleFunc("/payments/{id}", s.authorized(s.handleStatus)).Methods(http.MethodGet)
	api.HandleFunc("/payments/{id}/refund", s.authorized(s.handleRefund)).Methods(http.MethodPost)
	r.HandleFunc("/sandbox/payments/{id}", s.handlePage).Methods(http.MethodGet)
	r.HandleFunc("/sandbox/payments/{id}", s.handleAction).Methods(http.MethodPost)
}

func (s *Sandbox) authorized(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+s.cfg.APIKey {
			sandbox.WriteError(w, http.StatusUnauthorized, "invalid API key")
			return
		}
		h(w, r)
	}
}

func (s *Sandbox) info(p *record) activities.PaymentInfo {
	return activities.PaymentInfo{PaymentID: p.ID, Status: p.Status, Refund: p.Refund,
		RedirectURL: strings.TrimSuffix(s.cfg.PublicURL, "/") + "/sandbox/payments/" + p.ID}
}

func (s *Sandbox) handleCreate(w http.ResponseWriter, r *http.Request) {
	var req activities.PaymentRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		sandbox.WriteError(w, http.StatusBadRequest, "malformed JSON")
		return
	}
	if req.RequestID == "" || req.CaseID == "" || req.Amount <= 0 || req.Purpose == "" {
		sandbox.WriteError(w, http.StatusBadRequest, "requestId, caseId, a positive amount and purpose are required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.payments {
		if p.RequestID == req.RequestID {
			sandbox.WriteJSON(w, http.StatusOK, s.info(p))
			return
		}
	}
	currency := req.Currency
	if currency == "" {
		currency = "EUR"
	}
	now := time.Now().UTC()
	p := &record{ID: newID(), RequestID: req.RequestID, CaseID: req.CaseID, Amount: req.Amount, Currency: currency,
		Purpose: req.Purpose, Status: ozgflow.PaymentInitial, CreatedAt: now, UpdatedAt: now}
	s.payments[p.ID] = p
	if err := s.saveLocked(); err != nil {
		delete(s.payments, p.ID)
		sandbox.WriteError(w, http.StatusInternalServerError, "state not saved")
		return
	}
	sandbox.WriteJSON(w, http.StatusCreated, s.info(p))
}

func (s *Sandbox) handleStatus(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payments[mux.Vars(r)["id"]]
	if !ok {
		sandbox.WriteError(w, http.StatusNotFound, "unknown payment")
		return
	}
	sandbox.WriteJSON(w, http.StatusOK, s.info(p))
}

func (s *Sandbox) handleRefund(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p, ok := s.payments[mux.Vars(r)["id"]]
	switch {
	case !ok:
		s.mu.Unlock()
		sandbox.WriteError(w, http.StatusNotFound, "unknown payment")
		return
	case p.Status != ozgflow.PaymentPayed:
		s.mu.Unlock()
		sandbox.WriteError(w, http.StatusConflict, "only a paid payment can be refunded")
		return
	}
	changed := p.Refund != ozgflow.RefundRefunded
	p.Refund, p.UpdatedAt = ozgflow.RefundRefunded, time.Now().UTC()
	err := s.saveLocked()
	info, ev := s.info(p), event(p)
	s.mu.Unlock()
	if err != nil {
		sandbox.WriteError(w, http.StatusInternalServerError, "state not saved")
		return
	}
	if changed {
		s.notify(r.Context(), ev)
	}
	sandbox.WriteJSON(w, http.StatusOK, info)
}

// SetStatus performs an action of the payment page: pay, fail or cancel.
func (s *Sandbox) SetStatus(ctx context.Context, paymentID, action string) error {
	status, ok := map[string]string{"pay": ozgflow.PaymentPayed, "fail": ozgflow.PaymentFailed,
		"cancel": ozgflow.PaymentCanceled}[action]
	if !ok {
		return errBadAction
	}
	s.mu.Lock()
	p, found := s.payments[paymentID]
	switch {
	case !found:
		s.mu.Unlock()
		return errUnknown
	case p.Status != ozgflow.PaymentInitial:
		s.mu.Unlock()
		return errNotOpen
	}
	p.Status, p.UpdatedAt = status, time.Now().UTC()
	err := s.saveLocked()
	ev := event(p)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.notify(ctx, ev)
	return nil
}

type sandboxError string

func (e sandboxError) Error() string { return string(e) }

const (
	errBadAction = sandboxError("Unbekannte Aktion: erlaubt sind pay, fail und cancel.")
	errUnknown   = sandboxError("Diese Zahlung ist unbekannt.")
	errNotOpen   = sandboxError("Diese Zahlung ist bereits abgeschlossen.")
)

func event(p *record) WebhookEvent {
	return WebhookEvent{PaymentID: p.ID, RequestID: p.RequestID, CaseID: p.CaseID, Status: p.Status, Refund: p.Refund}
}

func (s *Sandbox) saveLocked() error { return sandbox.Save(s.cfg.StateFile, s.payments) }

// notify posts the signed webhook. A failed delivery is retried in the
// background a few times; the case also polls, so a lost webhook only delays it.
func (s *Sandbox) notify(ctx context.Context, ev WebhookEvent) {
	if s.cfg.WebhookURL == "" {
		return
	}
	body, _ := json.Marshal(ev)
	if err := s.post(ctx, body); err == nil {
		return
	}
	go func() {
		delay := time.Second
		for attempt := 2; attempt <= 5; attempt++ {
			time.Sleep(delay)
			err := s.post(context.Background(), body)
			if err == nil {
				return
			}
			s.cfg.Logger.Warn("Payment webhook failed", "paymentId", ev.PaymentID, "attempt", attempt, "error", err)
			delay *= 2
		}
	}()
}

func (s *Sandbox) post(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	now := time.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(ozgflow.HeaderSignatureTimestamp, fmt.Sprint(now.Unix()))
	req.Header.Set(ozgflow.HeaderSignature, ozgflow.SignBody(s.cfg.WebhookSecret, now, body))
	res, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode >= 300 {
		return fmt.Errorf("webhook answered %s", res.Status)
	}
	return nil
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "pay_" + hex.EncodeToString(b)
}

// pageData fills the payment page.
type pageData struct {
	ID, Amount, Purpose, Status, Message string
	Open                                 bool
}

var statusText = map[string]string{
	ozgflow.PaymentInitial:  "Offen",
	ozgflow.PaymentPayed:    "Bezahlt",
	ozgflow.PaymentFailed:   "Fehlgeschlagen",
	ozgflow.PaymentCanceled: "Abgebrochen",
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="de">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Zahlung {{.ID}} – Bezahl-Sandbox</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
button{font-size:1rem;padding:.5rem 1rem;margin:.25rem .5rem .25rem 0}.msg{border-left:4px solid #a00;padding-left:.5rem}</style>
</head>
<body><main>
<h1>Bezahl-Sandbox</h1>
<p>Diese Seite simuliert einen Zahlungsanbieter. Es fließt kein Geld.</p>
<dl><dt>Betrag</dt><dd>{{.Amount}}</dd><dt>Verwendungszweck</dt><dd>{{.Purpose}}</dd>
<dt>Status</dt><dd id="status">{{.Status}}</dd></dl>
{{if .Message}}<p class="msg" role="alert">{{.Message}}</p>{{end}}
{{if .Open}}<form method="post">
<button type="submit" name="action" value="pay">Bezahlen</button>
<button type="submit" name="action" value="fail">Zahlung fehlschlagen lassen</button>
<button type="submit" name="action" value="cancel">Abbrechen</button>
</form>{{end}}
</main></body></html>`))

func (s *Sandbox) render(w http.ResponseWriter, status int, id, message string) {
	s.mu.Lock()
	p, ok := s.payments[id]
	var data pageData
	if ok {
		data = pageData{ID: p.ID, Amount: definitions.FormatAmount(p.Amount, p.Currency), Purpose: p.Purpose,
			Status: statusText[p.Status], Open: p.Status == ozgflow.PaymentInitial, Message: message}
		if p.Refund == ozgflow.RefundRefunded {
			data.Status += " (erstattet)"
		}
	}
	s.mu.Unlock()
	if !ok {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Zahlung nicht gefunden</title></head>`+
			`<body><main><h1>Zahlung nicht gefunden</h1><p>Diese Zahlung ist unbekannt.</p></main></body></html>`)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = page.Execute(w, data)
}

func (s *Sandbox) handlePage(w http.ResponseWriter, r *http.Request) {
	s.render(w, http.StatusOK, mux.Vars(r)["id"], "")
}

func (s *Sandbox) handleAction(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	err := s.SetStatus(r.Context(), id, r.PostFormValue("action"))
	switch err {
	case nil:
		http.Redirect(w, r, "/sandbox/payments/"+id, http.StatusSeeOther)
	case errUnknown:
		s.render(w, http.StatusNotFound, id, "")
	case errBadAction:
		s.render(w, http.StatusBadRequest, id, err.Error())
	case errNotOpen:
		s.render(w, http.StatusConflict, id, err.Error())
	default:
		s.render(w, http.StatusInternalServerError, id, "Der Zahlungsstatus konnte nicht gespeichert werden.")
	}
}
