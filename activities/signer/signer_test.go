package signer_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/gorilla/mux"
	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/activities/signer"
)

// newServer serves sb the way the gateway does and returns a client for it.
func newServer(t *testing.T, sb *signer.Sandbox) (*signer.Client, *httptest.Server) {
	t.Helper()
	r := mux.NewRouter()
	sb.Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return signer.NewClient(srv.URL+signer.Path, srv.Client()), srv
}

func newSandbox(t *testing.T, keyFile string) *signer.Sandbox {
	t.Helper()
	sb, err := signer.NewSandbox(signer.SandboxConfig{KeyFile: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	return sb
}

func TestSealVerifiesWithPublishedKeys(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t, "")
	client, _ := newServer(t, sb)
	keys, err := client.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.Keys) != 1 || !keys.Keys[0].IsPublic() || keys.Keys[0].KeyID != sb.KeyID() ||
		keys.Keys[0].Algorithm != "ES256" || keys.Keys[0].Use != "sig" {
		t.Fatalf("published keys = %+v", keys)
	}
	tests := []struct {
		name   string
		signer activities.Signer
	}{
		{"client against the sandbox API", client},
		{"sandbox in process", sb},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := []byte(`{"caseId":"c1","data":{"a":1}}`)
			res, err := tt.signer.Seal(ctx, payload)
			if err != nil {
				t.Fatal(err)
			}
			if res.KeyID != sb.KeyID() || strings.Count(res.JWS, ".") != 2 {
				t.Errorf("seal = %+v", res)
			}
			got, err := signer.Verify(res.JWS, keys)
			if err != nil || string(got) != string(payload) {
				t.Errorf("Verify = %q, %v; want the payload", got, err)
			}
		})
	}
}

func TestKeyIDIsTheThumbprint(t *testing.T) {
	sb := newSandbox(t, "")
	key := sb.JWKS().Keys[0]
	thumb, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if want := base64.RawURLEncoding.EncodeToString(thumb); sb.KeyID() != want {
		t.Errorf("kid = %s, want the RFC 7638 thumbprint %s", sb.KeyID(), want)
	}
}

func TestJWKSHoldsNoPrivateKey(t *testing.T) {
	_, srv := newServer(t, newSandbox(t, ""))
	res, err := http.Get(srv.URL + signer.Path + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.NewDecoder(res.Body).Decode(&raw); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("JWKS: HTTP %d, %v", res.StatusCode, err)
	}
	if len(raw.Keys) != 1 || raw.Keys[0]["kty"] != "EC" || raw.Keys[0]["crv"] != "P-256" {
		t.Errorf("JWKS = %v", raw.Keys)
	}
	if _, ok := raw.Keys[0]["d"]; ok {
		t.Error("the JWKS publishes the private key")
	}
}

// sign makes a compact JWS with any algorithm and key, naming kid.
func sign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, payload string) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVerifyRefuses(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t, "")
	keys := sb.JWKS()
	res, err := sb.Seal(ctx, []byte(`{"caseId":"c1"}`))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(res.JWS, ".")
	otherPayload := base64.RawURLEncoding.EncodeToString([]byte(`{"caseId":"c2"}`))
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[0] ^= 0xff
	flipped := base64.RawURLEncoding.EncodeToString(sig)

	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	foreign, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	noKid := func() string {
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: foreign}, nil)
		obj, _ := s.Sign([]byte("x"))
		out, _ := obj.CompactSerialize()
		return out
	}()

	tests := []struct {
		name string
		jws  string
		keys jose.JSONWebKeySet
	}{
		{"tampered payload", parts[0] + "." + otherPayload + "." + parts[2], keys},
		{"tampered signature", parts[0] + "." + parts[1] + "." + flipped, keys},
		{"someone else's keys", res.JWS, newSandbox(t, "").JWKS()},
		{"no keys", res.JWS, jose.JSONWebKeySet{}},
		{"foreign key claiming our kid", sign(t, jose.ES256, foreign, sb.KeyID(), `{"caseId":"c1"}`), keys},
		{"HS256 with our kid", sign(t, jose.HS256, []byte("0123456789abcdef0123456789abcdef"), sb.KeyID(), "x"), keys},
		{"ES384 with our kid", sign(t, jose.ES384, p384, sb.KeyID(), "x"), keys},
		{"RS256 with our kid", sign(t, jose.RS256, rsaKey, sb.KeyID(), "x"), keys},
		{"unsigned", base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"`+sb.KeyID()+`"}`)) + "." + parts[1] + ".", keys},
		{"no kid", noKid, keys},
		{"not a JWS", "hello", keys},
		{"empty", "", keys},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if payload, err := signer.Verify(tt.jws, tt.keys); err == nil {
				t.Errorf("verified %q", payload)
			}
		})
	}
}

func TestEmptyPayloadIsRefused(t *testing.T) {
	ctx := context.Background()
	sb := newSandbox(t, "")
	client, srv := newServer(t, sb)
	if _, err := sb.Seal(ctx, nil); !errors.Is(err, signer.ErrEmptyPayload) {
		t.Errorf("sandbox: %v, want ErrEmptyPayload", err)
	}
	_, err := client.Seal(ctx, nil)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() || appErr.Type() != signer.ErrTypeRejected {
		t.Errorf("client: %v, want non-retryable %s", err, signer.ErrTypeRejected)
	}
	res, err := http.Post(srv.URL+signer.Path+"/seal", "application/octet-stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var answer struct {
		Error string `json:"error"`
	}
	if err := json.NewDecoder(res.Body).Decode(&answer); err != nil || res.StatusCode != http.StatusBadRequest || answer.Error == "" {
		t.Errorf("HTTP %d %+v %v, want 400 with an error message", res.StatusCode, answer, err)
	}
}

func TestClientClassifiesErrors(t *testing.T) {
	ctx := context.Background()
	answering := func(code int, body string) *signer.Client {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(code)
			_, _ = io.WriteString(w, body)
		}))
		t.Cleanup(srv.Close)
		return signer.NewClient(srv.URL, nil)
	}
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	tests := []struct {
		name      string
		client    *signer.Client
		wantFinal bool
	}{
		{"refused", answering(http.StatusUnprocessableEntity, `{"error":"no"}`), true},
		{"service error", answering(http.StatusInternalServerError, `{"error":"hsm"}`), false},
		{"unavailable", answering(http.StatusServiceUnavailable, ""), false},
		{"rate limited", answering(http.StatusTooManyRequests, ""), false},
		{"malformed answer", answering(http.StatusOK, "<html>"), false},
		{"answer without a seal", answering(http.StatusOK, "{}"), false},
		{"unreachable", signer.NewClient(down.URL, nil), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.Seal(ctx, []byte("x"))
			var appErr *temporal.ApplicationError
			final := errors.As(err, &appErr) && appErr.NonRetryable()
			if err == nil || final != tt.wantFinal {
				t.Errorf("err = %v, want non-retryable %v", err, tt.wantFinal)
			}
		})
	}
	if _, err := signer.NewClient(down.URL, nil).Keys(ctx); err == nil {
		t.Error("keys from an unreachable service")
	}
}

func TestConcurrentSeals(t *testing.T) {
	sb := newSandbox(t, "")
	client, _ := newServer(t, sb)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			res, err := client.Seal(context.Background(), []byte("payload"))
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := signer.Verify(res.JWS, sb.JWKS()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func TestKeyPersistsAcrossRestarts(t *testing.T) {
	file := filepath.Join(t.TempDir(), "data", "signer-key.json")
	first := newSandbox(t, file)
	info, err := os.Stat(file)
	if err != nil {
		t.Fatalf("key file not written: %v", err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %v, want 0600", perm)
	}
	res, err := first.Seal(context.Background(), []byte("sealed before the restart"))
	if err != nil {
		t.Fatal(err)
	}
	second := newSandbox(t, file)
	if second.KeyID() != first.KeyID() {
		t.Errorf("kid after restart %s, want %s", second.KeyID(), first.KeyID())
	}
	client, _ := newServer(t, second)
	keys, err := client.Keys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := signer.Verify(res.JWS, keys); err != nil || string(got) != "sealed before the restart" {
		t.Errorf("seal from before the restart: %q, %v", got, err)
	}
	if other := newSandbox(t, ""); other.KeyID() == first.KeyID() {
		t.Error("an ephemeral sandbox reused the stored key")
	}
}

func TestBadKeyFileFailsTheStart(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaJWK, _ := jose.JSONWebKey{Key: rsaKey}.MarshalJSON()
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384JWK, _ := jose.JSONWebKey{Key: p384}.MarshalJSON()
	public, _ := newSandbox(t, "").JWKS().Keys[0].MarshalJSON()
	tests := []struct {
		name    string
		content []byte
	}{
		{"not JSON", []byte("-----BEGIN")},
		{"RSA key", rsaJWK},
		{"P-384 key", p384JWK},
		{"public key only", public},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "key.json")
			if err := os.WriteFile(file, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := signer.NewSandbox(signer.SandboxConfig{KeyFile: file}); err == nil {
				t.Error("accepted")
			}
		})
	}
}
