// Package fachverfahren is the delivery adapter: an HTTP client that hands
// cases to an authority's back-office software (JSON, HMAC-signed, one
// idempotency key per case and kind), and a simulator that records what it
// receives and can play an outage.
package fachverfahren

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
)

// ClientConfig says where targets live and how deliveries are signed.
type ClientConfig struct {
	DefaultURL string            // base URL for targets without their own
	Targets    map[string]string // target name → base URL
	Secret     []byte            // HMAC key shared with the receivers
	HTTPClient *http.Client
}

// Client delivers cases over HTTP.
type Client struct {
	cfg ClientConfig
}

var _ activities.Fachverfahren = (*Client)(nil)

// NewClient returns a delivery client.
func NewClient(cfg ClientConfig) *Client {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	return &Client{cfg: cfg}
}

// delivery is the body of POST {target}/cases.
type delivery struct {
	Kind       string                `json:"kind"`
	Target     string                `json:"target"`
	Submission activities.Submission `json:"submission"`
}

func (c *Client) baseURL(target string) (string, error) {
	u := c.cfg.Targets[target]
	if u == "" {
		u = c.cfg.DefaultURL
	}
	if u == "" {
		return "", temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("fachverfahren: no URL configured for target %q", target), "UnknownTarget", nil)
	}
	return strings.TrimSuffix(u, "/"), nil
}

// Deliver implements activities.Fachverfahren.
func (c *Client) Deliver(ctx context.Context, target, kind string, s activities.Submission) (activities.Receipt, error) {
	var receipt activities.Receipt
	base, err := c.baseURL(target)
	if err != nil {
		return receipt, err
	}
	body, err := json.Marshal(delivery{Kind: kind, Target: target, Submission: s})
	if err != nil {
		return receipt, err
	}
	b, err := c.post(ctx, target, base+"/cases", s.CaseID+":"+kind, body, false)
	if err != nil {
		return receipt, err
	}
	if err := json.Unmarshal(b, &receipt); err != nil {
		return receipt, fmt.Errorf("fachverfahren %s: bad receipt: %w", target, err)
	}
	return receipt, nil
}

// Withdraw implements activities.Fachverfahren. A target that never received
// the case (404) has nothing to withdraw, which counts as done.
func (c *Client) Withdraw(ctx context.Context, target, caseID, reason string) error {
	base, err := c.baseURL(target)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"reason": reason})
	_, err = c.post(ctx, target, base+"/cases/"+url.PathEscape(caseID)+"/withdrawal", caseID+":withdrawal", body, true)
	return err
}

// post sends a signed body. 4xx answers other than 408 and 429 are final;
// 5xx and network errors are retried by the activity's policy.
func (c *Client) post(ctx context.Context, target, u, idempotencyKey string, body []byte, notFoundOK bool) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", idempotencyKey)
	req.Header.Set(ozgflow.HeaderSignatureTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(ozgflow.HeaderSignature, ozgflow.SignBody(c.cfg.Secret, now, body))
	res, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fachverfahren %s: %w", target, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	switch {
	case res.StatusCode == http.StatusNotFound && notFoundOK:
		return nil, nil
	case res.StatusCode >= 500, res.StatusCode == http.StatusRequestTimeout, res.StatusCode == http.StatusTooManyRequests:
		return nil, fmt.Errorf("fachverfahren %s: %s %s", target, res.Status, strings.TrimSpace(string(b)))
	case res.StatusCode >= 400:
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("fachverfahren %s refused the delivery: %s %s", target, res.Status, strings.TrimSpace(string(b))),
			"DeliveryRejected", nil)
	}
	return b, nil
}
