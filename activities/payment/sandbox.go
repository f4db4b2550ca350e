package payment

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
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
	// NoWebhooks starts the sandbox with its webhooks off (see SetWebhooks).
	NoWebhooks bool
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
	ID        string `json:"id"`
	RequestID string `json:"requestId"`
	CaseID    string `json:"caseId"`
	Amount    int64  `json:"amount"`
	Currency  string `json:"currency"`
	Purpose   string `json:"purpose"`
	// Items are the lines of the request with their booking data.
	Items         []ozgflow.PaymentItem `json:"items,omitempty"`
	Kassenzeichen string                `json:"kassenzeichen,omitempty"`
	Status        string                `json:"status"`
	Refund        string                `json:"refund,omitempty"`
	ReturnURL     string                `json:"returnUrl,omitempty"` // the applicant's status page
	CreatedAt     time.Time             `json:"createdAt"`
	UpdatedAt     time.Time             `json:"updatedAt"`
	RefundedAt    *time.Time            `json:"refundedAt,omitempty"`
}

var _ activities.PaymentProvider = (*Sandbox)(nil)

// Sandbox is a payment provider for development and tests: the provider API
// that Client speaks, a payment page on which the applicant pays, fails or
// cancels, and signed webhooks on every change. It is safe for concurrent use.
type Sandbox struct {
	cfg SandboxConfig
	log *slog.Logger

	webhooks    *sandbox.Webhooks // status changes, retried in the background
	webhooksOff *sandbox.Outage   // SetWebhooks(false): changes are not posted

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
	s.webhooksOff = sandbox.NewOutage("Payment webhook", s.log)
	s.webhooksOff.SetDown(cfg.NoWebhooks)
	return s, nil
}

// Close stops the background retries of failed webhooks and waits for them to
// end. The sandbox keeps answering requests; webhooks that fail from now on
// are not retried.
func (s *Sandbox) Close() { s.webhooks.Close() }

// Register adds the provider API under /sandbox/paymentprovider, the
// payment page under /sandbox/payments/{paymentId} and the webhooks'
// switch (GET or PUT /sandbox/paymentprovider/webhooks/outage with
// {"down": true}, see SetWebhooks) to the root router r.
func (s *Sandbox) Register(r *mux.Router) {
	r.Handle(ProviderPath+"/webhooks/outage", s.webhooksOff).Methods(http.MethodGet, http.MethodPut)
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
		Kassenzeichen: p.Kassenzeichen, RedirectURL: s.cfg.PublicURL + PagePath + p.ID}
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

// apiError is a refusal of the provider API: its HTTP status and message.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

// maxItems bounds the lines of one payment request.
const maxItems = 100

// validate checks a payment request after XBezahldienste: who asks, for
// what (purpose and lines, each with a description, a positive price and a
// quantity, together the amount) and in which currency. It fills in the
// default currency and, for a request without lines, one line of the amount
// under the purpose.
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
	if len(req.Items) == 0 {
		req.Items = []ozgflow.PaymentItem{{ID: "1", Description: req.Purpose, Amount: req.Amount, Quantity: 1}}
	}
	if len(req.Items) > maxItems {
		return fmt.Errorf("items: at most %d lines", maxItems)
	}
	var sum int64
	for i := range req.Items {
		it := &req.Items[i]
		if it.Quantity == 0 {
			it.Quantity = 1
		}
		switch {
		case strings.TrimSpace(it.Description) == "":
			return fmt.Errorf("items[%d].description: missing", i)
		case it.Amount <= 0 || it.Amount > 100_000_000:
			return fmt.Errorf("items[%d].amount: must be a positive number of cents up to 100000000", i)
		case it.Quantity < 0 || it.Quantity > 9999:
			return fmt.Errorf("items[%d].quantity: must be between 1 and 9999", i)
		}
		for key, value := range it.BookingData {
			if strings.TrimSpace(key) == "" || strings.TrimSpace(value) == "" || len(value) > 250 {
				return fmt.Errorf("items[%d].bookingData: %q needs a name and a value of at most 250 characters", i, key)
			}
		}
		sum += it.Total()
	}
	if sum != req.Amount {
		return fmt.Errorf("items add up to %d cents, amount is %d", sum, req.Amount)
	}
	return nil
}

// CreatePayment opens a payment, as POST /payments does: a request whose
// requestId the sandbox knows returns that payment. It makes the sandbox a
// PaymentProvider in-process, with the errors Client returns.
func (s *Sandbox) CreatePayment(_ context.Context, req activities.PaymentRequest) (activities.PaymentInfo, error) {
	info, _, err := s.create(req)
	return info, activityError(err, false)
}

// PaymentStatus is GET /payments/{id} in-process.
func (s *Sandbox) PaymentStatus(_ context.Context, paymentID string) (activities.PaymentInfo, error) {
	info, err := s.status(paymentID)
	return info, activityError(err, true)
}

// Refund is POST /payments/{id}/refund in-process.
func (s *Sandbox) Refund(_ context.Context, paymentID string) (activities.PaymentInfo, error) {
	info, err := s.refund(paymentID)
	return info, activityError(err, false)
}

// activityError turns a refusal of the API into the error Client makes of
// the same answer.
func activityError(err error, notFound bool) error {
	var ae *apiError
	if errors.As(err, &ae) {
		return classify(ae.status, "payment provider: "+http.StatusText(ae.status)+": "+ae.msg, notFound)
	}
	return err
}

// create opens a payment; created says whether it is new.
func (s *Sandbox) create(req activities.PaymentRequest) (info activities.PaymentInfo, created bool, err error) {
	if err := validate(&req); err != nil {
		return info, false, &apiError{http.StatusBadRequest, err.Error()}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.byRequest[req.RequestID]; ok {
		p := s.payments[id]
		if p.CaseID != req.CaseID || p.Amount != req.Amount || p.Currency != req.Currency {
			return info, false, &apiError{http.StatusConflict, "requestId " + req.RequestID + " belongs to another payment"}
		}
		return s.info(p), false, nil
	}
	id, err := newID()
	if err != nil {
		return info, false, &apiError{http.StatusInternalServerError, "no payment ID"}
	}
	kz, err := newKassenzeichen()
	if err != nil {
		return info, false, &apiError{http.StatusInternalServerError, "no Kassenzeichen"}
	}
	now := time.Now().UTC()
	p := &record{ID: id, RequestID: req.RequestID, CaseID: req.CaseID, Amount: req.Amount, Currency: req.Currency,
		Purpose: req.Purpose, Items: req.Items, Kassenzeichen: kz, Status: ozgflow.PaymentInitial,
		ReturnURL: returnURL(req.ReturnURL), CreatedAt: now, UpdatedAt: now}
	s.payments[id], s.byRequest[req.RequestID] = p, id
	if err := s.saveLocked(p); err != nil {
		delete(s.payments, id)
		delete(s.byRequest, req.RequestID)
		s.log.Error("Payment not saved", "caseId", req.CaseID, "error", err)
		return info, false, &apiError{http.StatusInternalServerError, "payment not saved"}
	}
	s.log.Info("Payment opened", "paymentId", id, "caseId", req.CaseID, "amount", req.Amount, "items", len(req.Items))
	return s.info(p), true, nil
}

func (s *Sandbox) status(paymentID string) (activities.PaymentInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payments[paymentID]
	if !ok {
		return activities.PaymentInfo{}, &apiError{http.StatusNotFound, ErrUnknownPayment.Error()}
	}
	return s.info(p), nil
}

func (s *Sandbox) refund(paymentID string) (activities.PaymentInfo, error) {
	s.mu.Lock()
	p, ok := s.payments[paymentID]
	switch {
	case !ok:
		s.mu.Unlock()
		return activities.PaymentInfo{}, &apiError{http.StatusNotFound, ErrUnknownPayment.Error()}
	case p.Status != ozgflow.PaymentPayed:
		s.mu.Unlock()
		return activities.PaymentInfo{}, &apiError{http.StatusConflict, "payment " + p.ID + " is " + p.Status + ", only a paid payment can be refunded"}
	case p.Refund == ozgflow.RefundRefunded:
		info := s.info(p)
		s.mu.Unlock()
		return info, nil
	}
	before := *p
	now := time.Now().UTC()
	p.Refund, p.UpdatedAt, p.RefundedAt = ozgflow.RefundRefunded, now, &now
	if err := s.saveLocked(p); err != nil {
		*p = before
		s.mu.Unlock()
		s.log.Error("Refund not saved", "paymentId", p.ID, "error", err)
		return activities.PaymentInfo{}, &apiError{http.StatusInternalServerError, "refund not saved"}
	}
	info, ev := s.info(p), event(p)
	s.mu.Unlock()
	s.log.Info("Payment refunded", "paymentId", ev.PaymentID, "caseId", ev.CaseID, "kassenzeichen", ev.Kassenzeichen)
	s.notify(ev)
	return info, nil
}

// writeAnswer answers an API request with info, or with the refusal err.
func writeAnswer(w http.ResponseWriter, ok int, info activities.PaymentInfo, err error) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		sandbox.WriteError(w, ae.status, ae.msg)
	case err != nil:
		sandbox.WriteError(w, http.StatusInternalServerError, err.Error())
	default:
		sandbox.WriteJSON(w, ok, info)
	}
}

func (s *Sandbox) handleCreate(w http.ResponseWriter, r *http.Request) {
	var req activities.PaymentRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		sandbox.WriteError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return
	}
	info, created, err := s.create(req)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeAnswer(w, status, info, err)
}

func (s *Sandbox) handleStatus(w http.ResponseWriter, r *http.Request) {
	info, err := s.status(mux.Vars(r)["id"])
	writeAnswer(w, http.StatusOK, info, err)
}

func (s *Sandbox) handleRefund(w http.ResponseWriter, r *http.Request) {
	info, err := s.refund(mux.Vars(r)["id"])
	writeAnswer(w, http.StatusOK, info, err)
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

// newKassenzeichen issues a cash office reference: the year and eight
// random digits, as a Kassenzeichen is a number people copy onto a
// transfer.
func newKassenzeichen() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(100_000_000))
	if err != nil {
		return "", fmt.Errorf("Kassenzeichen: %w", err)
	}
	return fmt.Sprintf("%04d%08d", time.Now().Year(), n.Int64()), nil
}

// newID makes a payment ID that cannot be guessed from another one.
func newID() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("payment ID: %w", err)
	}
	return "pay_" + hex.EncodeToString(b), nil
}
