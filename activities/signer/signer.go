// Package signer is the seal adapter: an HTTP client for a signing service
// that seals payloads as JWS (ES256), and a sandbox signer with its own key.
// Anyone can verify a seal with the published keys (JWKS).
package signer

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-jose/go-jose/v4"
	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/activities/internal/sandbox"
)

// Client talks to a signing service.
type Client struct {
	baseURL string
	hc      *http.Client
}

var _ activities.Signer = (*Client)(nil)

// NewClient returns a client for the signer API at baseURL.
func NewClient(baseURL string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{baseURL: strings.TrimSuffix(baseURL, "/"), hc: hc}
}

// Seal implements activities.Signer.
func (c *Client) Seal(ctx context.Context, payload []byte) (activities.SealResult, error) {
	var res activities.SealResult
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+"/seal", bytes.NewReader(payload))
	if err != nil {
		return res, err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	if err := c.do(req, &res); err != nil {
		return res, fmt.Errorf("signer seal: %w", err)
	}
	return res, nil
}

// Keys fetches the signer's public keys.
func (c *Client) Keys(ctx context.Context) (jose.JSONWebKeySet, error) {
	var keys jose.JSONWebKeySet
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.baseURL+"/jwks", nil)
	if err != nil {
		return keys, err
	}
	if err := c.do(req, &keys); err != nil {
		return keys, fmt.Errorf("signer keys: %w", err)
	}
	return keys, nil
}

func (c *Client) do(req *http.Request, v any) error {
	res, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", res.Status, strings.TrimSpace(string(b)))
	}
	return json.Unmarshal(b, v)
}

// Sandbox is a signer for development and tests with a P-256 key of its own.
type Sandbox struct {
	key jose.JSONWebKey
}

var _ activities.Signer = (*Sandbox)(nil)

// NewSandbox loads the private key from keyFile (a JWK), creating the file
// when it is missing; an empty keyFile makes a key that lives in memory.
func NewSandbox(keyFile string) (*Sandbox, error) {
	if keyFile != "" {
		if b, err := os.ReadFile(keyFile); err == nil {
			var k jose.JSONWebKey
			if err := k.UnmarshalJSON(b); err != nil {
				return nil, fmt.Errorf("signer key %s: %w", keyFile, err)
			}
			if _, ok := k.Key.(*ecdsa.PrivateKey); !ok {
				return nil, fmt.Errorf("signer key %s: not an ECDSA private key", keyFile)
			}
			return &Sandbox{key: k}, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("signer key: %w", err)
		}
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	k := jose.JSONWebKey{Key: priv, Algorithm: string(jose.ES256), Use: "sig"}
	thumb, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, err
	}
	k.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	if keyFile != "" {
		b, err := k.MarshalJSON()
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(keyFile), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(keyFile, b, 0o600); err != nil {
			return nil, fmt.Errorf("write signer key: %w", err)
		}
	}
	return &Sandbox{key: k}, nil
}

// Seal signs payload as a compact JWS with the sandbox key.
func (s *Sandbox) Seal(_ context.Context, payload []byte) (activities.SealResult, error) {
	if len(payload) == 0 {
		return activities.SealResult{}, errors.New("empty payload")
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: s.key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", s.key.KeyID))
	if err != nil {
		return activities.SealResult{}, err
	}
	obj, err := sig.Sign(payload)
	if err != nil {
		return activities.SealResult{}, err
	}
	compact, err := obj.CompactSerialize()
	if err != nil {
		return activities.SealResult{}, err
	}
	return activities.SealResult{JWS: compact, KeyID: s.key.KeyID}, nil
}

// JWKS returns the public key set.
func (s *Sandbox) JWKS() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{s.key.Public()}}
}

// Register adds POST /sandbox/signer/seal and GET /sandbox/signer/jwks.
func (s *Sandbox) Register(r *mux.Router) {
	r.HandleFunc("/sandbox/signer/seal", func(w http.ResponseWriter, r *http.Request) {
		payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 11<<20))
		if err != nil {
			sandbox.WriteError(w, http.StatusRequestEntityTooLarge, "payload too large")
			return
		}
		res, err := s.Seal(r.Context(), payload)
		if err != nil {
			sandbox.WriteError(w, http.StatusBadRequest, err.Error())
			return
		}
		sandbox.WriteJSON(w, http.StatusOK, res)
	}).Methods(http.MethodPost)
	r.HandleFunc("/sandbox/signer/jwks", func(w http.ResponseWriter, r *http.Request) {
		sandbox.WriteJSON(w, http.StatusOK, s.JWKS())
	}).Methods(http.MethodGet)
}

// Verify checks a compact ES256 JWS against a key set, choosing the key by its
// kid, and returns the signed payload.
func Verify(compact string, keys jose.JSONWebKeySet) ([]byte, error) {
	obj, err := jose.ParseSigned(strings.TrimSpace(compact), []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, fmt.Errorf("not a valid JWS: %w", err)
	}
	if len(obj.Signatures) != 1 {
		return nil, errors.New("expected exactly one signature")
	}
	kid := obj.Signatures[0].Header.KeyID
	found := keys.Key(kid)
	if len(found) == 0 {
		return nil, fmt.Errorf("unknown key %q", kid)
	}
	payload, err := obj.Verify(found[0])
	if err != nil {
		return nil, fmt.Errorf("signature does not verify: %w", err)
	}
	return payload, nil
}
