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
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

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
// directly; and it lets applicants sign their applications on a page of
// its own (signatures.go). It is safe for concurrent use.
type Sandbox struct {
	key    jose.JSONWebKey // private
	signer jose.Signer

	cfg      SandboxConfig
	log      *slog.Logger
	sigSign  jose.Signer // the applicant's signatures, typ SignatureType
	webhooks *sandbox.Webhooks

	mu        sync.Mutex
	sessions  map[string]*session // by session ID
	byRequest map[string]string   // request ID → session ID
	journal   *sandbox.Journal    // every change of a session, one line each
}

var _ activities.Signer = (*Sandbox)(nil)

// SandboxConfig configures the sandbox signer.
type SandboxConfig struct {
	// KeyFile holds the private key (a JWK); missing, a key is made and
	// written there, readable by the owner only. Empty makes a key that
	// lives as long as the sandbox.
	KeyFile string
	// PublicURL is the base of the signing page links handed to
	// applicants, e.g. http://localhost:8080.
	PublicURL string
	// ReturnURL is the base of the applicant's status pages
	// (/antraege/{caseId}) the signing page sends the browser back to;
	// empty keeps the path alone, for a sandbox on the gateway's host.
	ReturnURL string
	// WebhookURL is where decisions are posted, signed with WebhookSecret
	// (ozgflow.SignWebhook); empty sends none, and cases learn them by polling.
	WebhookURL    string
	WebhookSecret []byte
	// WebhookRetryDelay is the wait before the first background retry of a
	// failed webhook; it doubles with each further attempt. Zero means 1 s.
	WebhookRetryDelay time.Duration
	// StateFile is the journal of the signature sessions (JSON lines);
	// empty keeps them in memory.
	StateFile  string
	HTTPClient *http.Client // sends the webhooks; nil means one with a 10 s timeout
	Logger     *slog.Logger // nil means slog.Default()
}

// NewSandbox returns a sandbox signer with the key of cfg.KeyFile and the
// signature sessions of cfg.StateFile.
func NewSandbox(cfg SandboxConfig) (*Sandbox, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	cfg.ReturnURL = strings.TrimSuffix(cfg.ReturnURL, "/")
	keyFile := cfg.KeyFile
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
	sigSign, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jwk},
		(&jose.SignerOptions{}).WithType(SignatureType))
	if err != nil {
		return nil, fmt.Errorf("signer sandbox: %w", err)
	}
	log := cfg.Logger.With("component", "signer-sandbox")
	s := &Sandbox{key: jwk, signer: sig, sigSign: sigSign, cfg: cfg, log: log,
		webhooks: sandbox.NewWebhooks(sandbox.WebhookConfig{URL: cfg.WebhookURL, Secret: cfg.WebhookSecret,
			HTTPClient: cfg.HTTPClient, Logger: log, RetryDelay: cfg.WebhookRetryDelay}),
		sessions: map[string]*session{}, byRequest: map[string]string{}}
	if s.journal, err = sandbox.OpenJournal(cfg.StateFile, s.replay); err != nil {
		return nil, fmt.Errorf("signer sandbox: %w", err)
	}
	return s, nil
}

// Close stops the background retries of failed webhooks and closes the
// journal; the seal keeps working.
func (s *Sandbox) Close() {
	s.webhooks.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.journal.Close()
	s.journal = &sandbox.Journal{}
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

// Register adds the signer API under /sandbox/signer (seal, jwks,
// signatures) and the applicant's signing page under /sandbox/signatur/{id}
// to the root router r.
func (s *Sandbox) Register(r *mux.Router) {
	r.HandleFunc(Path+"/seal", s.handleSeal).Methods(http.MethodPost)
	r.HandleFunc(Path+"/jwks", s.handleJWKS).Methods(http.MethodGet)
	r.HandleFunc(Path+"/signatures", s.handleStartSignature).Methods(http.MethodPost)
	r.HandleFunc(Path+"/signatures/{id}", s.handleSignatureStatus).Methods(http.MethodGet)
	r.HandleFunc(SignaturePagePath+"{id}", s.handleSignaturePage).Methods(http.MethodGet)
	r.HandleFunc(SignaturePagePath+"{id}", s.handleSignatureAction).Methods(http.MethodPost)
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
