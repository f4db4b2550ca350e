package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// AccessTokens issues and checks the bearer tokens applicants use for their
// own case. A token is an HMAC of the case ID, so it needs no storage and
// survives the loss of Redis.
type AccessTokens struct{ secret []byte }

// NewAccessTokens derives the token key from the gateway secret.
func NewAccessTokens(secret []byte) AccessTokens {
	key := sha256.Sum256(append([]byte("ozgflow access token\x00"), secret...))
	return AccessTokens{secret: key[:]}
}

// Issue returns the access token of a case.
func (a AccessTokens) Issue(caseID string) string {
	mac := hmac.New(sha256.New, a.secret)
	mac.Write([]byte(caseID))
	return "at_" + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// Valid reports whether token is the access token of the case.
func (a AccessTokens) Valid(caseID, token string) bool {
	return caseID != "" && hmac.Equal([]byte(a.Issue(caseID)), []byte(token))
}
