package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/ozgflow/ozgflow"
)

// WebhookConfig says where a sandbox posts its webhooks and how it signs them.
type WebhookConfig struct {
	URL        string       // where events are posted; empty sends none
	Secret     []byte       // HMAC key (ozgflow.SignWebhook)
	HTTPClient *http.Client // nil means one with a 10 s timeout
	Logger     *slog.Logger // nil means slog.Default()
	// RetryDelay is the wait before the first background retry of a failed
	// webhook; it doubles with each further attempt. Zero means 1 s.
	RetryDelay time.Duration
}

// webhookRetries is how many times a failed webhook is tried again in the
// background before the sandbox gives up; the workflow's polling covers it.
const webhookRetries = 4

// webhookTimeout bounds one webhook delivery.
const webhookTimeout = 10 * time.Second

// errPermanent marks a webhook answer that retrying cannot change.
var errPermanent = errors.New("receiver refused the webhook")

// Webhooks posts signed JSON events the way the real services do: at once,
// and when that fails, a few more times in the background with growing
// delays. A webhook that fails never fails the caller. It is safe for
// concurrent use.
type Webhooks struct {
	cfg     WebhookConfig
	stop    context.Context
	cancel  context.CancelFunc
	retries sync.WaitGroup
	mu      sync.Mutex
	closed  bool
}

// NewWebhooks returns a sender for cfg.
func NewWebhooks(cfg WebhookConfig) *Webhooks {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: webhookTimeout}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = time.Second
	}
	w := &Webhooks{cfg: cfg}
	w.stop, w.cancel = context.WithCancel(context.Background())
	return w
}

// Send posts body under a new webhook ID (ozgflow.HeaderWebhookID), signed
// with ozgflow.SignWebhook in the headers ozgflow.HeaderSignature and
// ozgflow.HeaderSignatureTimestamp; every retry keeps the ID, so a receiver
// that got an earlier attempt drops the repeat. logAttrs name the event in
// the logs (IDs only, never personal data).
func (w *Webhooks) Send(body []byte, logAttrs ...any) {
	if w.cfg.URL == "" {
		return
	}
	id := NewWebhookID()
	logAttrs = append(logAttrs, "webhookId", id)
	err := w.send(context.Background(), id, body)
	switch {
	case err == nil:
		return
	case errors.Is(err, errPermanent):
		w.cfg.Logger.Warn("Webhook refused", append(logAttrs, "error", err)...)
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.cfg.Logger.Warn("Webhook failed", append(logAttrs, "error", err)...)
		return
	}
	w.cfg.Logger.Warn("Webhook failed, retrying in the background", append(logAttrs, "error", err)...)
	w.retries.Go(func() { w.retry(id, body, logAttrs) })
}

// Close stops the background retries and waits for them to end.
func (w *Webhooks) Close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.cancel()
	w.retries.Wait()
}

func (w *Webhooks) retry(id string, body []byte, logAttrs []any) {
	delay := w.cfg.RetryDelay
	for attempt := 1; attempt <= webhookRetries; attempt++ {
		timer := time.NewTimer(delay)
		select {
		case <-w.stop.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		err := w.send(w.stop, id, body)
		if w.stop.Err() != nil {
			return
		}
		if err == nil {
			w.cfg.Logger.Info("Webhook delivered on retry", append(logAttrs, "attempt", attempt)...)
			return
		}
		if errors.Is(err, errPermanent) || attempt == webhookRetries {
			w.cfg.Logger.Error("Webhook given up; the case learns the status by polling",
				append(logAttrs, "attempts", attempt+1, "error", err)...)
			return
		}
		delay *= 2
	}
}

// NewWebhookID returns a new webhook ID: "wh_" and 26 random base32
// characters, an ozgflow.ValidWebhookID.
func NewWebhookID() string { return "wh_" + rand.Text() }

// send delivers one signed webhook. A 4xx answer other than 408 and 429 is
// permanent; everything else that is not 2xx may succeed later.
func (w *Webhooks) send(ctx context.Context, id string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %w", errPermanent, err)
	}
	now := time.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(ozgflow.HeaderWebhookID, id)
	req.Header.Set(ozgflow.HeaderSignatureTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(ozgflow.HeaderSignature, ozgflow.SignWebhook(w.cfg.Secret, now, id, body))
	res, err := w.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("post webhook: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
	switch {
	case res.StatusCode < 300:
		return nil
	case res.StatusCode >= 400 && res.StatusCode < 500 &&
		res.StatusCode != http.StatusRequestTimeout && res.StatusCode != http.StatusTooManyRequests:
		return fmt.Errorf("%w: %s", errPermanent, res.Status)
	default:
		return fmt.Errorf("webhook answered %s", res.Status)
	}
}
