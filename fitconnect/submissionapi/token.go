package submissionapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ozgflow/ozgflow/fitconnect"
)

// tokenPrefix starts every access token the server issues.
const tokenPrefix = "fc1."

// TokenScope is the scope the token endpoint grants: sending submissions.
const TokenScope = "send:submissions"

// handleToken is the OAuth 2 client-credentials grant (RFC 6749 4.4): the
// client's ID and secret in the form or by HTTP Basic.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxSmallBody)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "only client_credentials is supported")
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if !s.validClient(id, secret) {
		w.Header().Set("WWW-Authenticate", `Basic realm="fit-connect"`)
		oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
		return
	}
	life := s.cfg.TokenLifetime
	writeJSON(w, http.StatusOK, fitconnect.Token{AccessToken: s.issue(id, s.cfg.Now().Add(life)), TokenType: "Bearer",
		ExpiresIn: int(life / time.Second), Scope: TokenScope})
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// validClient compares the secret in constant time; an unknown client
// costs the same as a wrong secret.
func (s *Server) validClient(id, secret string) bool {
	want, known := s.cfg.Clients[id]
	if !known || id == "" {
		want = "\x00unknown client\x00"
	}
	return subtle.ConstantTimeCompare([]byte(secret), []byte(want)) == 1 && known && secret != ""
}

// issue makes an access token of client valid until exp: the client and the
// expiry, and an HMAC over both.
func (s *Server) issue(client string, exp time.Time) string {
	body := base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(exp.Unix(), 10) + "\x00" + client))
	return tokenPrefix + body + "." + s.mac(body)
}

func (s *Server) mac(body string) string {
	m := hmac.New(sha256.New, s.cfg.TokenSecret)
	m.Write([]byte("fit-connect token\x00" + body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Authenticate returns the client of a valid, unexpired access token whose
// client is still configured.
func (s *Server) Authenticate(token string) (client string, ok bool) {
	rest, found := strings.CutPrefix(token, tokenPrefix)
	if !found {
		return "", false
	}
	body, mac, found := strings.Cut(rest, ".")
	if !found || !hmac.Equal([]byte(mac), []byte(s.mac(body))) {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return "", false
	}
	expS, client, found := strings.Cut(string(raw), "\x00")
	exp, err := strconv.ParseInt(expS, 10, 64)
	if !found || err != nil || !s.cfg.Now().Before(time.Unix(exp, 0)) {
		return "", false
	}
	if _, known := s.cfg.Clients[client]; !known {
		return "", false
	}
	return client, true
}

// handleJWKS publishes the key the API signs its own events with.
func (s *Server) handleJWKS(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"keys": []fitconnect.PublicJWK{fitconnect.SigningJWK(s.cfg.SigningKey, s.apiKid)}})
}
