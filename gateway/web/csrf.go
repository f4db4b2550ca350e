package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// CSRF binds forms to what identifies their reader: every form carries the
// token derived from the session (or the applicant's access token), and a
// post whose token does not match is refused.
type CSRF struct{ Secret []byte }

// Token is the form token of a session; purpose separates the families of
// pages.
func (c CSRF) Token(purpose, session string) string {
	mac := hmac.New(sha256.New, c.Secret)
	mac.Write([]byte(purpose + "\x00" + session))
	return hex.EncodeToString(mac.Sum(nil))
}

// Valid reports whether a posted token belongs to the session.
func (c CSRF) Valid(purpose, session, posted string) bool {
	return posted != "" && hmac.Equal([]byte(posted), []byte(c.Token(purpose, session)))
}
