package payment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/ozgflow/ozgflow"
)

// WebhookEvent is the body the sandbox posts to the webhook URL after a
// payment changed, signed with ozgflow.SignBody in the headers
// ozgflow.HeaderSignature and ozgflow.HeaderSignatureTimestamp.
type WebhookEvent struct {
	PaymentID string `json:"paymentId"`
	RequestID string `json:"requestId"`
	CaseID    string `json:"caseId"`
	Status    string `json:"status"` // ozgflow.PaymentPayed, PaymentFailed, …
	Refund    string `json:"refund"` // ozgflow.RefundRefunded once refunded, else empty
}

// webhookRetries is how many times a failed webhook is tried again in the
// background before the sandbox gives up; the workflow's polling covers it.
const webhookRetries = 4

// webhookTimeout bounds one webhook delivery.
const webhookTimeout = 10 * time.Second

// errPermanent marks a webhook answer that retrying cannot change.
var errPermanent = errors.New("receiver refused the webhook")

func event(p *record) WebhookEvent {
	return WebhookEvent{PaymentID: p.ID, RequestID: p.RequestID, CaseID: p.CaseID, Status: p.Status, Refund: p.Refund}
}

// notify posts ev to the webhook URL. A failed delivery never fails the
// caller: it is retried in the background with growing delays and logged.
func (s *Sandbox) notify(ev WebhookEvent) {
	if s.cfg.WebhookURL == "" {
		return
	}
	body, err := json.Marshal(ev)
	if err != nil {
		s.log.Error("Payment webhook not encoded", "paymentId", ev.PaymentID, "error", err)
		return
	}
	err = s.send(context.Background(), body)
	switch {
	case err == nil:
		return
	case errors.Is(err, errPermanent):
		s.log.Warn("Payment webhook refused", "paymentId", ev.PaymentID, "status", ev.Status, "error", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		s.log.Warn("Payment webhook failed", "paymentId", ev.PaymentID, "status", ev.Status, "error", err)
		return
	}
	s.log.Warn("Payment webhook failed, retrying in the background", "paymentId", ev.PaymentID,
		"status", ev.Status, "error", err)
	s.retries.Go(func() { s.retry(ev, body) })
}

// retry tries a failed webhook again a few times with exponential backoff,
// until it gets through or the sandbox is closed.
func (s *Sandbox) retry(ev WebhookEvent, body []byte) {
	delay := s.cfg.WebhookRetryDelay
	for attempt := 1; attempt <= webhookRetries; attempt++ {
		timer := time.NewTimer(delay)
		select {
		case <-s.stop.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		err := s.send(s.stop, body)
		if s.stop.Err() != nil {
			return
		}
		if err == nil {
			s.log.Info("Payment webhook delivered on retry", "paymentId", ev.PaymentID, "attempt", attempt)
			return
		}
		if errors.Is(err, errPermanent) || attempt == webhookRetries {
			s.log.Error("Payment webhook given up; the case learns the status by polling",
				"paymentId", ev.PaymentID, "status", ev.Status, "attempts", attempt+1, "error", err)
			return
		}
		delay *= 2
	}
}

// send delivers one signed webhook. A 4xx answer other than 408 and 429 is
// permanent; everything else that is not 2xx may succeed later.
func (s *Sandbox) send(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %w", errPermanent, err)
	}
	now := time.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(ozgflow.HeaderSignatureTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(ozgflow.HeaderSignature, ozgflow.SignBody(s.cfg.WebhookSecret, now, body))
	res, err := s.cfg.HTTPClient.Do(req)
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
