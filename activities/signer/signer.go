// Package signer is the seal and signature adapter: an HTTP client for a
// signing service that seals payloads as JWS (ES256 on P-256) and lets
// applicants sign their applications, a sandbox signer with a key and a
// signing page of its own, and Verify, with which anyone can check a seal
// against the published keys (JWKS).
package signer

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

	"github.com/go-jose/go-jose/v4"
	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/activities/internal/httperr"
)

// ErrTypeRejected is the type of the non-retryable error the client returns
// when the signing service refuses a payload (a 4xx answer).
const ErrTypeRejected = "SealRejected"

// ErrTypeSignatureRejected is the type of the non-retryable error the client
// returns when the signing service refuses an applicant's signature request
// or does not know a session (a 4xx answer).
const ErrTypeSignatureRejected = "SignatureRejected"

// maxAnswer bounds how much of a signer answer the client reads.
const maxAnswer = 1 << 20

// Client talks to a signing service. It is safe for concurrent use.
type Client struct {
	baseURL string
	hc      *http.Client
}

var (
	_ activities.Signer          = (*Client)(nil)
	_ activities.ApplicantSigner = (*Client)(nil)
)

// NewClient returns a client for the signer API at baseURL; a nil hc means
// http.DefaultClient.
func NewClient(baseURL string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{baseURL: strings.TrimSuffix(baseURL, "/"), hc: hc}
}

// Seal has the service sign payload and returns the compact JWS. A refusal is
// a non-retryable error of type SealRejected; an unreachable or failing
// service gives a plain error, which the activity retries.
func (c *Client) Seal(ctx context.Context, payload []byte) (activities.SealResult, error) {
	var res activities.SealResult
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+"/seal", bytes.NewReader(payload))
	if err != nil {
		return res, fmt.Errorf("signer seal: %w", err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	if err := c.do(req, ErrTypeRejected, &res); err != nil {
		return res, fmt.Errorf("signer seal: %w", err)
	}
	if res.JWS == "" || res.KeyID == "" {
		return res, errors.New("signer seal: answer without jws or keyId")
	}
	return res, nil
}

// Keys fetches the service's public keys, against which Verify checks seals.
func (c *Client) Keys(ctx context.Context) (jose.JSONWebKeySet, error) {
	var keys jose.JSONWebKeySet
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+"/jwks", nil)
	if err != nil {
		return keys, fmt.Errorf("signer keys: %w", err)
	}
	if err := c.do(req, ErrTypeRejected, &keys); err != nil {
		return keys, fmt.Errorf("signer keys: %w", err)
	}
	for _, k := range keys.Keys {
		if !k.IsPublic() {
			return jose.JSONWebKeySet{}, fmt.Errorf("signer keys: key %q is not a public key", k.KeyID)
		}
	}
	return keys, nil
}

// StartSignature opens a session in which the applicant signs req.Payload
// and returns where the applicant signs; the same RequestID returns the same
// session. A refusal is a non-retryable error of type SignatureRejected.
func (c *Client) StartSignature(ctx context.Context, sr activities.SignatureRequest) (activities.SignatureSession, error) {
	var res activities.SignatureSession
	body, err := json.Marshal(sr)
	if err != nil {
		return res, fmt.Errorf("start signature: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+"/signatures", bytes.NewReader(body))
	if err != nil {
		return res, fmt.Errorf("start signature: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if err := c.do(req, ErrTypeSignatureRejected, &res); err != nil {
		return res, fmt.Errorf("start signature of case %s: %w", sr.CaseID, err)
	}
	return res, checkSession(res)
}

// SignatureStatus asks where a signature stands; once signed, the answer
// carries the JWS. An unknown session is a non-retryable error.
func (c *Client) SignatureStatus(ctx context.Context, sessionID string) (activities.SignatureSession, error) {
	var res activities.SignatureSession
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+"/signatures/"+url.PathEscape(sessionID), nil)
	if err != nil {
		return res, fmt.Errorf("signature status: %w", err)
	}
	if err := c.do(req, ErrTypeSignatureRejected, &res); err != nil {
		return res, fmt.Errorf("signature status of %s: %w", sessionID, err)
	}
	return res, checkSession(res)
}

// checkSession refuses an answer the case could not work with.
func checkSession(s activities.SignatureSession) error {
	switch {
	case s.ID == "" || s.Status == "":
		return errors.New("signing service answered without session ID or status")
	case s.Status != ozgflow.SignaturePending && s.Status != ozgflow.SignatureSigned && s.Status != ozgflow.SignatureDeclined:
		return fmt.Errorf("signing service answered with unknown status %q", s.Status)
	case s.Status == ozgflow.SignatureSigned && s.JWS == "":
		return errors.New("signing service reports a signature without the JWS")
	}
	return nil
}

// do sends req and decodes a 200 or 201 answer into v. A 4xx answer other
// than 408 and 429 is final, a non-retryable error of type errType;
// everything else may succeed on a retry.
func (c *Client) do(req *http.Request, errType string, v any) error {
	req.Header.Set("Accept", "application/json")
	res, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	switch {
	case res.StatusCode == http.StatusOK || res.StatusCode == http.StatusCreated:
	case res.StatusCode >= 400 && res.StatusCode < 500 &&
		res.StatusCode != http.StatusRequestTimeout && res.StatusCode != http.StatusTooManyRequests:
		return temporal.NewNonRetryableApplicationError(res.Status+": "+httperr.Text(b), errType, nil)
	default:
		return fmt.Errorf("%s: %s", res.Status, httperr.Text(b))
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("malformed answer: %w", err)
	}
	return nil
}

// Verify checks a compact JWS sealed with ES256 against a key set, choosing
// the key by the JWS's kid, and returns the signed payload. Any other
// algorithm, an unknown kid or a signature that does not match is an error.
func Verify(compactJWS string, keys jose.JSONWebKeySet) ([]byte, error) {
	obj, err := jose.ParseSignedCompact(strings.TrimSpace(compactJWS), []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, fmt.Errorf("verify seal: not an ES256 JWS: %w", err)
	}
	if len(obj.Signatures) != 1 {
		return nil, errors.New("verify seal: want exactly one signature")
	}
	h := obj.Signatures[0].Protected
	if h.Algorithm != string(jose.ES256) {
		return nil, fmt.Errorf("verify seal: algorithm %q refused, want ES256", h.Algorithm)
	}
	if h.KeyID == "" {
		return nil, errors.New("verify seal: the JWS names no key (kid)")
	}
	found := keys.Key(h.KeyID)
	if len(found) == 0 {
		return nil, fmt.Errorf("verify seal: unknown key %q", h.KeyID)
	}
	var lastErr error
	for _, k := range found {
		pub := k.Public()
		if !pub.Valid() {
			lastErr = fmt.Errorf("key %q is not a valid public key", h.KeyID)
			continue
		}
		payload, err := obj.Verify(pub)
		if err == nil {
			return payload, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("verify seal: signature does not verify: %w", lastErr)
}
