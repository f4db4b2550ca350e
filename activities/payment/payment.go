// Package payment is the e-payment adapter: an HTTP client for a payment
// provider speaking XBezahldienste-style states, and a sandbox provider with a
// payment page that runs in `ozgflow dev` and the tests.
package payment

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow/activities"
)

// Client talks to a payment provider's REST API.
type Client struct {
	baseURL string
	apiKey  string
	hc      *http.Client
}

var _ activities.PaymentProvider = (*Client)(nil)

// NewClient returns a client for the provider API at baseURL.
func NewClient(baseURL, apiKey string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{baseURL: strings.TrimSuffix(baseURL, "/"), apiKey: apiKey, hc: hc}
}

// CreatePayment implements activities.PaymentProvider.
func (c *Client) CreatePayment(ctx context.Context, req activities.PaymentRequest) (activities.PaymentInfo, error) {
	return c.do(ctx, http.MethodPost, "/payments", req, "PaymentRejected")
}

// PaymentStatus implements activities.PaymentProvider.
func (c *Client) PaymentStatus(ctx context.Context, paymentID string) (activities.PaymentInfo, error) {
	return c.do(ctx, http.MethodGet, "/payments/"+url.PathEscape(paymentID), nil, "PaymentNotFound")
}

// Refund implements activities.PaymentProvider.
func (c *Client) Refund(ctx context.Context, paymentID string) (activities.PaymentInfo, error) {
	return c.do(ctx, http.MethodPost, "/payments/"+url.PathEscape(paymentID)+"/refund", nil, "PaymentRejected")
}

// do sends one request. A 4xx answer is final (non-retryable, of the given
// type); 5xx and network errors are retried by the activity's policy.
func (c *Client) do(ctx context.Context, method, path string, body any, rejected string) (activities.PaymentInfo, error) {
	var info activities.PaymentInfo
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return info, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, rd)
	if err != nil {
		return info, err
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return info, fmt.Errorf("payment provider %s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	switch {
	case res.StatusCode >= 500:
		return info, fmt.Errorf("payment provider %s %s: %s", method, path, res.Status)
	case res.StatusCode == http.StatusNotFound && method == http.MethodGet:
		return info, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("payment provider: %s %s", res.Status, errorText(b)), "PaymentNotFound", nil)
	case res.StatusCode >= 400:
		return info, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("payment provider: %s %s", res.Status, errorText(b)), rejected, nil)
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("payment provider %s %s: bad answer: %w", method, path, err)
	}
	return info, nil
}

func errorText(b []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return e.Error
	}
	return strings.TrimSpace(string(b))
}
