// Package fachverfahren is the delivery adapter: an HTTP client that hands
// cases to an authority's back-office software (JSON, HMAC-signed, one
// idempotency key per case and kind, with the address where the back
// office reports back), and a simulator that records what it receives,
// reports back with signed callbacks like a real back office, can play an
// outage and, for the conformance kit's tests, can be broken on purpose.
package fachverfahren

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
	"github.com/ozgflow/ozgflow/activities/internal/httperr"
)

// Error types of the non-retryable errors the client returns.
const (
	ErrTypeRejected      = "DeliveryRejected" // the target refused the request (4xx)
	ErrTypeUnknownTarget = "UnknownTarget"    // no URL is configured for the target
)

// HeaderIdempotencyKey carries "<caseId>:<kind>", by which a receiver
// records a case delivered twice only once.
const HeaderIdempotencyKey = "Idempotency-Key"

// maxAnswer bounds how much of a target's answer the client reads.
const maxAnswer = 1 << 20

// ClientConfig says where targets live and how deliveries are signed.
type ClientConfig struct {
	DefaultURL string            // base URL for targets without their own; empty means none
	Targets    map[string]string // target name → base URL, overriding DefaultURL
	Secret     []byte            // HMAC key shared with the receivers
	// CallbackURL is where receivers report back (the gateway's
	// POST /api/v1/fachverfahren/callbacks); every delivery carries it.
	// Empty: deliveries name none.
	CallbackURL string
	HTTPClient  *http.Client // nil means http.DefaultClient
}

// Client delivers cases over HTTP. It is safe for concurrent use.
type Client struct {
	cfg ClientConfig
}

var _ activities.Fachverfahren = (*Client)(nil)

// NewClient returns a delivery client.
func NewClient(cfg ClientConfig) *Client {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	targets := make(map[string]string, len(cfg.Targets))
	for name, u := range cfg.Targets {
		targets[name] = u
	}
	cfg.Targets = targets
	return &Client{cfg: cfg}
}

// Delivery is the body of POST {target}/cases.
type Delivery struct {
	Kind   string `json:"kind"`
	Target string `json:"target"`
	// CallbackURL is where the receiver reports back on the case
	// (ozgflow.CallbackRequest, signed with the delivery secret).
	CallbackURL string                `json:"callbackUrl,omitempty"`
	Submission  activities.Submission `json:"submission"`
}

// Withdrawal is the body of POST {target}/cases/{caseId}/withdrawal.
type Withdrawal struct {
	Reason string `json:"reason"`
}

// baseURL is where target lives; an unconfigured target is a final error.
func (c *Client) baseURL(target string) (string, error) {
	u := c.cfg.Targets[target]
	if u == "" {
		u = c.cfg.DefaultURL
	}
	if u == "" {
		return "", temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("fachverfahren %s: no URL configured for this target", target), ErrTypeUnknownTarget, nil)
	}
	return strings.TrimSuffix(u, "/"), nil
}

// Deliver hands a case of some kind ("case", "archive") to target and returns
// its receipt. The target records a case and kind once, however often it is
// delivered.
func (c *Client) Deliver(ctx context.Context, target, kind string, s activities.Submission) (activities.Receipt, error) {
	var receipt activities.Receipt
	base, err := c.baseURL(target)
	if err != nil {
		return receipt, err
	}
	body, err := json.Marshal(Delivery{Kind: kind, Target: target, CallbackURL: c.cfg.CallbackURL, Submission: s})
	if err != nil {
		return receipt, fmt.Errorf("fachverfahren %s: encode case %s: %w", target, s.CaseID, err)
	}
	b, err := c.post(ctx, target, base+"/cases", s.CaseID+":"+kind, body, false)
	if err != nil {
		return receipt, err
	}
	if err := json.Unmarshal(b, &receipt); err != nil {
		return receipt, fmt.Errorf("fachverfahren %s: malformed receipt: %w", target, err)
	}
	if receipt.Reference == "" {
		return receipt, fmt.Errorf("fachverfahren %s: receipt without a reference", target)
	}
	return receipt, nil
}

// Withdraw tells target that the applicant withdrew the case. A target that
// never received the case (404) has nothing to withdraw, which counts as done.
func (c *Client) Withdraw(ctx context.Context, target, caseID, reason string) error {
	base, err := c.baseURL(target)
	if err != nil {
		return err
	}
	body, err := json.Marshal(Withdrawal{Reason: reason})
	if err != nil {
		return fmt.Errorf("fachverfahren %s: encode withdrawal: %w", target, err)
	}
	_, err = c.post(ctx, target, base+"/cases/"+url.PathEscape(caseID)+"/withdrawal", caseID+":withdrawal", body, true)
	return err
}

// post sends a signed body and returns a 2xx answer's body. 4xx answers
// other than 408 and 429 are final; 5xx answers and network errors are plain
// errors, which the activity's retry policy retries.
func (c *Client) post(ctx context.Context, target, u, idempotencyKey string, body []byte, notFoundOK bool) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("fachverfahren %s: %w", target, err)
	}
	now := time.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set(HeaderIdempotencyKey, idempotencyKey)
	req.Header.Set(ozgflow.HeaderSignatureTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(ozgflow.HeaderSignature, ozgflow.SignBody(c.cfg.Secret, now, body))
	res, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fachverfahren %s: %w", target, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("fachverfahren %s: read answer: %w", target, err)
	}
	msg := fmt.Sprintf("fachverfahren %s: %s", target, res.Status)
	if text := httperr.Text(b); text != "" && res.StatusCode >= 300 {
		msg += ": " + text
	}
	switch {
	case res.StatusCode == http.StatusNotFound && notFoundOK:
		return nil, nil
	case res.StatusCode >= 200 && res.StatusCode < 300:
		return b, nil
	case res.StatusCode >= 400 && res.StatusCode < 500 &&
		res.StatusCode != http.StatusRequestTimeout && res.StatusCode != http.StatusTooManyRequests:
		return nil, temporal.NewNonRetryableApplicationError(msg, ErrTypeRejected, nil)
	default:
		return nil, errors.New(msg)
	}
}

// AnswerTimeout is how long a back office may take to answer a delivery
// or withdrawal, as the conformance kit holds it by default: well within
// the 30 s after which ozgflow gives up an attempt and tries again.
const AnswerTimeout = 10 * time.Second
