package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// AccessTokens issues and checks the bearer tokens applicants use for their
// own case. A token is an HMAC of the case ID, so it needs no storage and
// survives the loss of Redis.
//
// A token names the key that made it: "at_<kid>_<mac>", kid being 8 hex
// characters derived from the key. The key ring holds the current secret,
// which issues, and previous ones, which still verify, so the secret can be
// changed without taking applicants' links away; a token dies with the
// removal of its key from the ring. Tokens from before key IDs,
// "at_<mac>", are checked against every key of the ring.
type AccessTokens struct {
	keys []accessKey // keys[0] issues; all verify
}

// accessKey is one key of the ring and its ID.
type accessKey struct {
	id  string
	key []byte
}

const (
	accessTokenPrefix = "at_"
	accessKeyIDLen    = 8
)

// accessMACLen is the length of a token's MAC, an unpadded base64url
// SHA-256 sum.
var accessMACLen = base64.RawURLEncoding.EncodedLen(sha256.Size)

// NewAccessTokens derives the token key from the gateway secret.
func NewAccessTokens(secret []byte) AccessTokens { return NewAccessTokenRing(secret) }

// NewAccessTokenRing derives the token keys from the current gateway secret,
// which issues tokens, and previous secrets (OZGFLOW_PREVIOUS_SECRETS),
// whose tokens stay valid.
func NewAccessTokenRing(current []byte, previous ...[]byte) AccessTokens {
	a := AccessTokens{keys: []accessKey{newAccessKey(current)}}
	for _, secret := range previous {
		k := newAccessKey(secret)
		if !a.has(k) {
			a.keys = append(a.keys, k)
		}
	}
	return a
}

func newAccessKey(secret []byte) accessKey {
	key := sha256.Sum256(append([]byte("ozgflow access token\x00"), secret...))
	// The ID is a hash of the key, not the key: a token shows which key
	// made it and nothing of the key.
	id := sha256.Sum256(append([]byte("ozgflow access token key id\x00"), key[:]...))
	return accessKey{id: hex.EncodeToString(id[:accessKeyIDLen/2]), key: key[:]}
}

func (a AccessTokens) has(k accessKey) bool {
	for _, have := range a.keys {
		if hmac.Equal(have.key, k.key) {
			return true
		}
	}
	return false
}

// mac is the token MAC of caseID under k.
func (k accessKey) mac(caseID string) string {
	mac := hmac.New(sha256.New, k.key)
	mac.Write([]byte(caseID))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// Issue returns the access token of a case, made with the current key.
func (a AccessTokens) Issue(caseID string) string {
	k := a.ring()[0]
	return accessTokenPrefix + k.id + "_" + k.mac(caseID)
}

// ring is the keys, the current one first; a zero AccessTokens has the key
// of an empty secret, as NewAccessTokens(nil).
func (a AccessTokens) ring() []accessKey {
	if len(a.keys) == 0 {
		return []accessKey{newAccessKey(nil)}
	}
	return a.keys
}

// Valid reports whether token is the access token of the case under a key
// of the ring: the key its ID names, or any key for a token without one.
func (a AccessTokens) Valid(caseID, token string) bool {
	rest, ok := strings.CutPrefix(token, accessTokenPrefix)
	if caseID == "" || !ok {
		return false
	}
	keys := a.ring()
	switch len(rest) {
	case accessMACLen: // from before key IDs
		for _, k := range keys {
			if hmac.Equal([]byte(k.mac(caseID)), []byte(rest)) {
				return true
			}
		}
	case accessKeyIDLen + 1 + accessMACLen:
		kid, mac := rest[:accessKeyIDLen], rest[accessKeyIDLen+1:]
		if rest[accessKeyIDLen] != '_' {
			return false
		}
		for _, k := range keys {
			// Two keys of one ring may share an ID, however unlikely:
			// each is tried.
			if k.id == kid && hmac.Equal([]byte(k.mac(caseID)), []byte(mac)) {
				return true
			}
		}
	}
	return false
}
