package web

import (
	"net/url"
	"strings"
	"testing"
)

const tokenCase = "0b6b5a3e-8d7c-4f1a-9e2b-3c4d5e6f7a8b"

var (
	oldSecret = []byte("old-secret-0123456789abcdef")
	newSecret = []byte("new-secret-0123456789abcdef")
)

func TestAccessTokenNamesItsKey(t *testing.T) {
	tok := NewAccessTokens(newSecret).Issue(tokenCase)
	rest, ok := strings.CutPrefix(tok, "at_")
	if !ok {
		t.Fatalf("token %q lacks the at_ prefix", tok)
	}
	kid, _, _ := strings.Cut(rest, "_")
	if want := newAccessKey(newSecret).id; kid != want || len(kid) != 8 {
		t.Errorf("token %q names key %q, want the current key's 8-character ID %q", tok, kid, want)
	}
	if url.QueryEscape(tok) != tok {
		t.Errorf("token %q is not URL-safe", tok)
	}
	if newAccessKey(newSecret).id == newAccessKey(oldSecret).id {
		t.Error("two secrets give one key ID")
	}
}

func TestAccessTokensSurviveRotation(t *testing.T) {
	before := NewAccessTokens(oldSecret).Issue(tokenCase)
	tests := []struct {
		name  string
		ring  AccessTokens
		valid bool
	}{
		{"before the change", NewAccessTokens(oldSecret), true},
		{"old secret kept as a previous one", NewAccessTokenRing(newSecret, oldSecret), true},
		{"among several previous ones", NewAccessTokenRing(newSecret, []byte("older-secret-0123456789"), oldSecret), true},
		{"old secret removed", NewAccessTokenRing(newSecret), false},
		{"another ring", NewAccessTokenRing([]byte("other-secret-0123456789"), []byte("older-secret-0123456789")), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ring.Valid(tokenCase, before); got != tt.valid {
				t.Errorf("token issued under the old secret valid = %v, want %v", got, tt.valid)
			}
		})
	}
	ring := NewAccessTokenRing(newSecret, oldSecret)
	after := ring.Issue(tokenCase)
	if after == before || after != NewAccessTokens(newSecret).Issue(tokenCase) {
		t.Errorf("the ring issues %q, want the current secret's token, not the previous one's %q", after, before)
	}
	if !ring.Valid(tokenCase, after) || !NewAccessTokens(newSecret).Valid(tokenCase, after) {
		t.Error("a token of the current secret is not valid")
	}
	if NewAccessTokens(oldSecret).Valid(tokenCase, after) {
		t.Error("a token of the new secret is valid under the old one alone")
	}
}

func TestAccessTokensFromBeforeKeyIDs(t *testing.T) {
	// Issued for tokenCase under oldSecret by the gateway before tokens
	// named their key.
	const legacy = "at_tomRaSE-1gHaQQuUFLcb0cSXUfVU_LNr-jImfNVeLPw"
	tests := []struct {
		name  string
		ring  AccessTokens
		valid bool
	}{
		{"its secret is the current one", NewAccessTokens(oldSecret), true},
		{"its secret is a previous one", NewAccessTokenRing(newSecret, []byte("older-secret-0123456789"), oldSecret), true},
		{"its secret is gone", NewAccessTokenRing(newSecret, []byte("older-secret-0123456789")), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ring.Valid(tokenCase, legacy); got != tt.valid {
				t.Errorf("valid = %v, want %v", got, tt.valid)
			}
			if tt.ring.Valid("another-case", legacy) {
				t.Error("valid for another case")
			}
		})
	}
}

func TestTamperedAccessTokens(t *testing.T) {
	ring := NewAccessTokenRing(newSecret, oldSecret)
	good := ring.Issue(tokenCase)
	kid, mac := good[3:11], good[12:]
	oldKid := newAccessKey(oldSecret).id
	flip := func(s string, i int) string {
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	tests := []struct{ name, caseID, token string }{
		{"another case", "another-case", good},
		{"no case", "", good},
		{"MAC changed", tokenCase, "at_" + kid + "_" + flip(mac, 5)},
		{"MAC cut short", tokenCase, good[:len(good)-1]},
		{"MAC longer", tokenCase, good + "A"},
		{"named the previous key", tokenCase, "at_" + oldKid + "_" + mac},
		{"unknown key", tokenCase, "at_00000000_" + mac},
		{"other separator", tokenCase, "at_" + kid + "-" + mac},
		{"without prefix", tokenCase, strings.TrimPrefix(good, "at_")},
		{"other prefix", tokenCase, "xt_" + good[3:]},
		{"key ID without MAC", tokenCase, "at_" + kid + "_"},
		{"empty", tokenCase, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ring.Valid(tt.caseID, tt.token) {
				t.Errorf("token %q valid for case %q", tt.token, tt.caseID)
			}
		})
	}
	if !ring.Valid(tokenCase, good) {
		t.Error("the untouched token is not valid")
	}
}
