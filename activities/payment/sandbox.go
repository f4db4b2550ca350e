package payment

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/activities/internal/sandbox"
)

// Paths the sandbox serves below the gateway's root router.
const (
	ProviderPath = "/sandbox/paymentprovider" // base URL of the provider API
	PagePath     = "/sandbox/payments/"       // payment page, followed by the payment ID
)

// SandboxConfig configures the sandbox provider.
type SandboxConfig struct {
	PublicURL     string       // base of the payment page links, e.g. http://localhost:8080
	APIKey        string       // bearer token the provider API expects
	WebhookURL    string       // where status changes are posted; empty sends none
	WebhookSecret []byte       // HMAC key of the webhook signature
	StateFile     string       // journal of the payments (JSON lines); empty keeps them in memory
	HTTPClient    *http.Client // sends the webhooks; nil means one with a 10 s timeout
	Logger        *slog.Logger // nil means slog.Default()
	// WebhookRetryDelay is the wait before the first background retry of a
	// failed webhook; it doubles with each further attempt. Zero means 1 s.
	WebhookRetryDelay time.Duration
}

// Errors of SetStatus; the payment page answers them with 404, 400 and 409.
var (
	ErrUnknownPayment = errors.New("unknown payment")
	ErrBadAction      = errors.New("unknown action, want pay, fail or cancel")
	ErrNotOpen        = errors.New("payment is no longer open")
)

// actions maps the payment page's buttons to the statuses they set.
var actions = map[string]string{
	"pay":    ozgflow.PaymentPayed,
	"fail":   ozgflow.PaymentFailed,
	"cancel": ozgflow.PaymentCanceled,
}

// record is one payment the sandbox holds; the state file is a map of them by
// payment ID.
type record struct {
	ID         string     `json:"id"`
	RequestID  string     `json:"requestId"`
	CaseID     string     `json:"caseId"`
	Amount     int64      `json:"amount"`
	Currency   string     `json:"currency"`
	Purpose    string     `json:"purpose"`
	Status     string     `json:"status"`
	Refund     string     `json:"refund,omitempty"`
	ReturnURL  string     `json:"returnUrl,omitempty"` // the applicant's status page
	CreatedAt  time.Time  `json:"createdAt"`
	UpdatedAt  time.Time  `json:"updatedAt"`
	RefundedAt *time.Time `json:"refundedAt,omitempty"`
}

// Sandbox is a payment provider for development and tests: the provider API
// that Client speaks, a payment page on which the applicant pays, fails or
// cancels, and signed webhooks on every change. It is safe for concurrent use.
type Sandbox struct {
	cfg SandboxConfig
	log *slog.Logger

	webhooks *sandbox.Webhooks // status changes, retried in the background

	mu        sync.Mutex
	payments  map[string]*record // by payment ID
	byRequest map[string]string  // request ID → payment ID
	journal   *sandbox.Journal   // every change of a payment, one line each
}

// NewSandbox returns a sandbox provider with the payments of cfg.StateFile,
// if that file exists.
func NewSandbox(cfg SandboxConfig) (*Sandbox, error) {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.WebhookRetryDelay <= 0 {
		cfg.WebhookRetryDelay = time.Second
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	s := &Sandbox{cfg: cfg, log: cfg.Logger.With("component", "payment-sandbox"),
		payments: map[string]*record{}, byRequest: map[string]string{}}
	s.webhooks = sandbox.NewWebhooks(sandbox.WebhookConfig{URL: cfg.WebhookURL, Secret: cfg.WebhookSecret,
		HTTPClient: cfg.HTTPClient, Logger: s.log, RetryDelay: cfg.WebhookRetryDelay})
	journal, err := sandbox.OpenJournal(cfg.StateFile, func(line []byte) error {
		var p record
		if err := json.Unmarshal(line, &p); err != nil {
			return err
		}
		if p.ID == "" {
			return fmt.Errorf("payment without ID")
		}
		s.payments[p.ID], s.byRequest[p.RequestID] = &p, p.ID
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("payment sandbox: %w", err)
	}
	s.journal = journal
	return s, nil
}

// Close stops the background retries of failed webhooks and waits for them to
// end. The sandbox keeps answering requests; webhooks that fail from now on
// are not retried.
func (s *Sandbox) Close() { s.webhooks.Close() }

// Register adds the provider API under /sandbox/paymentprovider and the
// payment page under /sandbox/payments/{paymentId} to the root router r.
func (s *Sandbox) Register(r *mux.Router) {
	api := r.PathPrefix(ProviderPath).Subrouter()
	api.HandleFunc("/payments", s.authorized(s.handleCreate)).Methods(http.MethodPost)
	api.HandleFunc("/payments/{id}", s.authorized(s.handleStatus)).Methods(http.MethodGet)
	api.HandleFunc("/payments/{id}/refund", s.authorized(s.handleRefund)).Methods(http.MethodPost)
	r.HandleFunc(PagePath+"{id}", s.handlePage).Methods(http.MethodGet)
	r.HandleFunc(PagePath+"{id}", s.handleAction).Methods(http.MethodPost)
}

// authorized admits requests that carry the configured API key.
func (s *Sandbox) authorized(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.APIKey)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="payment sandbox"`)
			sandbox.WriteError(w, http.StatusUnauthorized, "missing or invalid API key")
			return
		}
		h(w, r)
	}
}

// info is the provider's view of p.
func (s *Sandbox) info(p *record) activities.PaymentInfo {
	return activities.PaymentInfo{PaymentID: p.ID, Status: p.Status, Refund: p.Refund,
		RedirectURL: s.cfg.PublicURL + PagePath + p.ID}
}

// returnURL keeps an http(s) address to send the applicant back to, and
// nothing else.
func returnURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

// validate checks a payment request and fills in the default currency.
func validate(req *activities.PaymentRequest) error {
	var missing []string
	if strings.TrimSpace(req.RequestID) == "" {
		missing = append(missing, "requestId")
	}
	if strings.TrimSpace(req.CaseID) == "" {
		missing = append(missing, "caseId")
	}
	if strings.TrimSpace(req.Purpose) == "" {
		missing = append(missing, "purpose")
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	if req.Amount <= 0 {
		return errors.New("amount must be a positive number of cents")
	}
	if req.Currency == "" {
		req.Currency = "EUR"
	}
	if req.Currency != "EUR" {
		return fmt.Errorf("currency %q is not supported, only EUR", req.Currency)
	}
	return nil
}

func (s *Sandbox) handleCreate(w http.ResponseWriter, r *http.Request) {
	var req activities.PaymentRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		sandbox.WriteError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return
	}
	if err := validate(&req); err != nil {
		sandbox.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.byRequest[req.RequestID]; ok {
		p := s.payments[id]
		if p.CaseID != req.CaseID || p.Amount != req.Amount || p.Currency != req.Currency {
			sandbox.WriteError(w, http.StatusConflict, "requestId "+req.RequestID+" belongs to another payment")
			return
		}
		sandbox.WriteJSON(w, http.StatusOK, s.info(p))
		return
	}
	id, err := newID()
	if err != nil {
		sandbox.WriteError(w, http.StatusInternalServerError, "no payment ID")
		return
	}
	now := time.Now().UTC()
	p := &record{ID: id, RequestID: req.RequestID, CaseID: req.CaseID, Amount: req.Amount, Currency: req.Currency,
		Purpose: req.Purpose, Status: ozgflow.PaymentInitial, ReturnURL: returnURL(req.ReturnURL), CreatedAt: now, UpdatedAt: now}
	s.payments[id], s.byRequest[req.RequestID] = p, id
	if err := s.saveLocked(p); err != nil {
		delete(s.payments, id)
		delete(s.byRequest, req.RequestID)
		s.log.Error("Payment not saved", "caseId", req.CaseID, "error", err)
		sandbox.WriteError(w, http.StatusInternalServerError, "payment not saved")
		return
	}
	s.log.Info("Payment opened", "paymentId", id, "caseId", req.CaseID, "amount", req.Amount)
	sandbox.WriteJSON(w, http.StatusCreated, s.info(p))
}

func (s *Sandbox) handleStatus(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payments[mux.Vars(r)["id"]]
	if !ok {
		sandbox.WriteError(w, http.StatusNotFound, ErrUnknownPayment.Error())
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
		sandbox.WriteError(w, http.StatusNotFound, ErrUnknownPayment.Error())
		return
	case p.Status != ozgflow.PaymentPayed:
		s.mu.Unlock()
		sandbox.WriteError(w, http.StatusConflict, "payment "+p.ID+" is "+p.Status+", only a paid payment can be refunded")
		return
	case p.Refund == ozgflow.RefundRefunded:
		info := s.info(p)
		s.mu.Unlock()
		sandbox.WriteJSON(w, http.StatusOK, info)
		return
	}
	before := *p
	now := time.Now().UTC()
	p.Refund, p.UpdatedAt, p.RefundedAt = ozgflow.RefundRefunded, now, &now
	if err := s.saveLocked(p); err != nil {
		*p = before
		s.mu.Unlock()
		s.log.Error("Refund not saved", "paymentId", p.ID, "error", err)
		sandbox.WriteError(w, http.StatusInternalServerError, "refund not saved")
		return
	}
	info, ev := s.info(p), event(p)
	s.mu.Unlock()
	s.log.Info("Payment refunded", "paymentId", ev.PaymentID, "caseId", ev.CaseID)
	s.notify(ev)
	sandbox.WriteJSON(w, http.StatusOK, info)
}

// SetStatus performs an action of the payment page on an open payment: "pay",
// "fail" or "cancel". It saves the new status and then posts the webhook;
// a webhook that fails is retried in the background and does not fail the
// action. Errors are ErrUnknownPayment, ErrBadAction, ErrNotOpen or a
// failure to save the state.
func (s *Sandbox) SetStatus(paymentID, action string) error {
	s.mu.Lock()
	p, found := s.payments[paymentID]
	if !found {
		s.mu.Unlock()
		return fmt.Errorf("payment %s: %w", paymentID, ErrUnknownPayment)
	}
	status, ok := actions[action]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("payment %s: %w: %q", paymentID, ErrBadAction, action)
	}
	if p.Status != ozgflow.PaymentInitial {
		s.mu.Unlock()
		return fmt.Errorf("payment %s is %s: %w", paymentID, p.Status, ErrNotOpen)
	}
	before := *p
	p.Status, p.UpdatedAt = status, time.Now().UTC()
	if err := s.saveLocked(p); err != nil {
		*p = before
		s.mu.Unlock()
		return fmt.Errorf("payment %s: %w", paymentID, err)
	}
	ev := event(p)
	s.mu.Unlock()
	s.log.Info("Payment status changed", "paymentId", ev.PaymentID, "caseId", ev.CaseID, "status", ev.Status)
	s.notify(ev)
	return nil
}

// view is a copy of a payment for the page, taken under the lock.
func (s *Sandbox) view(paymentID string) (record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payments[paymentID]
	if !ok {
		return record{}, false
	}
	return *p, true
}

// saveLocked appends the payment as it is now to the journal; s.mu must be held.
func (s *Sandbox) saveLocked(p *record) error {
	if err := s.journal.Append(p); err != nil {
		return fmt.Errorf("save payment sandbox state: %w", err)
	}
	return nil
}

// newID makes a payment ID that cannot be guessed from another one.
func newID() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("payment ID: %w", err)
	}
	return "pay_" + hex.EncodeToString(b), nil
}
