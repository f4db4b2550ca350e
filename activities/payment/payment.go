// Package payment is the e-payment adapter: an HTTP client for a payment
// provider speaking XBezahldienste-style states, and a sandbox provider with a
// payment page that runs in `ozgflow dev` and the tests.
package payment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/activities/internal/httperr"
)

// Error types of the non-retryable errors the client returns, so that the
// workflow can tell a refused payment from one the provider does not know.
const (
	ErrTypeRejected = "PaymentRejected"
	ErrTypeNotFound = "PaymentNotFound"
)

// maxAnswer bounds how much of a provider answer the client reads.
const maxAnswer = 1 << 20

// Client talks to a payment provider's REST API. It is safe for concurrent
// use. A call ends at its context's deadline: the worker bounds every
// attempt by the payment target's timeout (OZGFLOW_PAYMENT_TIMEOUT), and
// the HTTP client the worker hands it ends a call after the longest an
// attempt may take.
type Client struct {
	baseURL string
	apiKey  string
	hc      *http.Client
}

var _ activities.PaymentProvider = (*Client)(nil)

// NewClient returns a client for the provider API at baseURL, authenticating
// with apiKey as a bearer token; a nil hc means http.DefaultClient.
func NewClient(baseURL, apiKey string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{baseURL: strings.TrimSuffix(baseURL, "/"), apiKey: apiKey, hc: hc}
}

// CreatePayment opens a payment. The provider deduplicates by RequestID, so a
// retried activity gets the payment it opened before.
func (c *Client) CreatePayment(ctx context.Context, req activities.PaymentRequest) (activities.PaymentInfo, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return activities.PaymentInfo{}, fmt.Errorf("create payment for case %s: %w", req.CaseID, err)
	}
	info, err := c.do(ctx, http.MethodPost, "/payments", body, false)
	if err != nil {
		return info, fmt.Errorf("create payment for case %s: %w", req.CaseID, err)
	}
	return info, nil
}

// PaymentStatus asks where a payment stands; an unknown payment is a
// non-retryable error of type PaymentNotFound.
func (c *Client) PaymentStatus(ctx context.Context, paymentID string) (activities.PaymentInfo, error) {
	info, err := c.do(ctx, http.MethodGet, "/payments/"+url.PathEscape(paymentID), nil, true)
	if err != nil {
		return info, fmt.Errorf("status of payment %s: %w", paymentID, err)
	}
	return info, nil
}

// Refund pays a collected fee back. Refunding twice returns the refunded
// payment; refunding an unpaid one is refused.
func (c *Client) Refund(ctx context.Context, paymentID string) (activities.PaymentInfo, error) {
	info, err := c.do(ctx, http.MethodPost, "/payments/"+url.PathEscape(paymentID)+"/refund", nil, false)
	if err != nil {
		return info, fmt.Errorf("refund payment %s: %w", paymentID, err)
	}
	return info, nil
}

// errUnavailable marks answers that ask to come back later.
var errUnavailable = errors.New("provider unavailable")

// classify makes the error of a provider answer with an HTTP status of 300
// or more. A 4xx answer is final (non-retryable), except 408 and 429 which
// only ask to come back later; 5xx answers are plain errors that the
// activity's retry policy retries. notFound says whether a 404 means "no
// such payment".
func classify(status int, msg string, notFound bool) error {
	switch {
	case status >= 500, status == http.StatusRequestTimeout, status == http.StatusTooManyRequests:
		return fmt.Errorf("%s: %w", msg, errUnavailable)
	case status == http.StatusNotFound && notFound:
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeNotFound, nil)
	case status >= 400:
		return temporal.NewNonRetryableApplicationError(msg, ErrTypeRejected, nil)
	}
	return fmt.Errorf("payment provider: unexpected answer %d", status)
}

// do sends one request. A 4xx answer is final (non-retryable), except 408 and
// 429 which only ask to come back later; 5xx answers and network errors are
// plain errors that the activity's retry policy retries. notFound says whether
// a 404 means "no such payment".
func (c *Client) do(ctx context.Context, method, path string, body []byte, notFound bool) (activities.PaymentInfo, error) {
	var info activities.PaymentInfo
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, rd)
	if err != nil {
		return info, fmt.Errorf("payment provider: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return info, fmt.Errorf("payment provider: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return info, fmt.Errorf("payment provider: read answer: %w", err)
	}
	if res.StatusCode >= 300 {
		return info, classify(res.StatusCode, fmt.Sprintf("payment provider: %s: %s", res.Status, httperr.Text(b)), notFound)
	}
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusCreated {
		return info, fmt.Errorf("payment provider: unexpected answer %s", res.Status)
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("payment provider: malformed answer: %w", err)
	}
	if info.PaymentID == "" || info.Status == "" {
		return info, errors.New("payment provider: answer without paymentId or status")
	}
	return info, nil
}
