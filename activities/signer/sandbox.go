package signer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/go-jose/go-jose/v4"
	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/activities/internal/sandbox"
)

// Path is where the sandbox serves its API below the gateway's root router;
// it is the base URL of a Client for the sandbox.
const Path = "/sandbox/signer"

// MaxPayload is the largest payload the sandbox seals.
const MaxPayload = 10 << 20

// ErrEmptyPayload is returned for an empty payload: there is nothing to seal.
var ErrEmptyPayload = errors.New("empty payload")

// Sandbox is a signer for development and tests with a P-256 key of its own.
// It seals like the real service and also satisfies activities.Signer
// directly. It is safe for concurrent use.
type Sandbox struct {
	key    jose.JSONWebKey // private
	signer jose.Signer
}

var _ activities.Signer = (*Sandbox)(nil)

// NewSandbox loads the private key from keyFile (a JWK), or makes one and
// writes it there, readable by the owner only, when the file is missing. An
// empty keyFile makes a key that lives as long as the sandbox.
func NewSandbox(keyFile string) (*Sandbox, error) {
	var key *ecdsa.PrivateKey
	if keyFile != "" {
		loaded, err := loadKey(keyFile)
		if err != nil {
			return nil, err
		}
		key = loaded
	}
	generated := key == nil
	if generated {
		var err error
		if key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return nil, fmt.Errorf("signer sandbox: generate key: %w", err)
		}
	}
	jwk := jose.JSONWebKey{Key: key, Algorithm: string(jose.ES256), Use: "sig"}
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("signer sandbox: key thumbprint: %w", err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	if generated && keyFile != "" {
		if err := writeKey(keyFile, jwk); err != nil {
			return nil, err
		}
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jwk}, nil)
	if err != nil {
		return nil, fmt.Errorf("signer sandbox: %w", err)
	}
	return &Sandbox{key: jwk, signer: sig}, nil
}

// loadKey reads a P-256 private key from a JWK file; a missing file gives nil.
func loadKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("signer sandbox: read key: %w", err)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(b); err != nil {
		return nil, fmt.Errorf("signer sandbox: key %s: %w", path, err)
	}
	key, ok := jwk.Key.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, fmt.Errorf("signer sandbox: key %s is not a P-256 private key", path)
	}
	return key, nil
}

// writeKey stores the private key through a temporary file and a rename, so
// that a crash never leaves half a key behind.
func writeKey(path string, jwk jose.JSONWebKey) error {
	b, err := jwk.MarshalJSON()
	if err != nil {
		return fmt.Errorf("signer sandbox: encode key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("signer sandbox: key directory: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("signer sandbox: write key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("signer sandbox: write key: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("signer sandbox: write key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("signer sandbox: write key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("signer sandbox: write key: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("signer sandbox: write key: %w", err)
	}
	return nil
}

// KeyID is the kid of the sandbox key: its RFC 7638 thumbprint, base64url.
func (s *Sandbox) KeyID() string { return s.key.KeyID }

// Seal signs payload as a compact JWS (ES256) whose header names the key.
func (s *Sandbox) Seal(_ context.Context, payload []byte) (activities.SealResult, error) {
	if len(payload) == 0 {
		return activities.SealResult{}, fmt.Errorf("seal: %w", ErrEmptyPayload)
	}
	obj, err := s.signer.Sign(payload)
	if err != nil {
		return activities.SealResult{}, fmt.Errorf("seal: %w", err)
	}
	compact, err := obj.CompactSerialize()
	if err != nil {
		return activities.SealResult{}, fmt.Errorf("seal: %w", err)
	}
	return activities.SealResult{JWS: compact, KeyID: s.key.KeyID}, nil
}

// JWKS returns the public key set that verifies the sandbox's seals.
func (s *Sandbox) JWKS() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{s.key.Public()}}
}

// Register adds POST /sandbox/signer/seal and GET /sandbox/signer/jwks to
// the root router r.
func (s *Sandbox) Register(r *mux.Router) {
	r.HandleFunc(Path+"/seal", s.handleSeal).Methods(http.MethodPost)
	r.HandleFunc(Path+"/jwks", s.handleJWKS).Methods(http.MethodGet)
}

func (s *Sandbox) handleSeal(w http.ResponseWriter, r *http.Request) {
	payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxPayload))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		sandbox.WriteError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("payload larger than %d bytes", MaxPayload))
		return
	case err != nil:
		sandbox.WriteError(w, http.StatusBadRequest, "payload not read")
		return
	}
	res, err := s.Seal(r.Context(), payload)
	switch {
	case errors.Is(err, ErrEmptyPayload):
		sandbox.WriteError(w, http.StatusBadRequest, "empty payload, nothing to seal")
	case err != nil:
		sandbox.WriteError(w, http.StatusInternalServerError, "seal failed")
	default:
		sandbox.WriteJSON(w, http.StatusOK, res)
	}
}

func (s *Sandbox) handleJWKS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	sandbox.WriteJSON(w, http.StatusOK, s.JWKS())
}
