package web

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/store"
)

// Sessions keeps staff sessions server-side (store.Session) and hands the
// browser only their random ID, in an HttpOnly, SameSite cookie that is
// Secure whenever the public address is https.
type Sessions struct {
	Store    *store.Store
	Timeouts store.SessionTimeouts
	// Secure marks the cookie Secure (the public URL is https).
	Secure bool
	Now    func() time.Time
}

// Identity returns whom a session ID identifies; ok is false for an
// unknown or expired session.
func (s Sessions) Identity(ctx context.Context, id string) (ozgflow.Identity, bool) {
	if s.Store == nil {
		return ozgflow.Identity{}, false
	}
	sess, ok, err := s.Store.Session(ctx, id, s.timeouts(), s.now())
	if err != nil || !ok {
		return ozgflow.Identity{}, false
	}
	return sess.Identity, true
}

// Start opens a session for sess.Identity and sets its cookie.
func (s Sessions) Start(ctx context.Context, w http.ResponseWriter, sess store.Session) (store.Session, error) {
	sess.CreatedAt = s.now()
	sess, err := s.Store.CreateSession(ctx, sess, s.timeouts())
	if err != nil {
		return sess, err
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: sess.ID, Path: "/", HttpOnly: true, Secure: s.Secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(s.timeouts().Absolute.Seconds())})
	return sess, nil
}

// End deletes the request's session and clears its cookie; it returns the
// session that ended, if there was one.
func (s Sessions) End(ctx context.Context, w http.ResponseWriter, r *http.Request) (store.Session, bool) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.Secure,
		SameSite: http.SameSiteLaxMode})
	id := SessionToken(r)
	if s.Store == nil {
		return store.Session{}, false
	}
	sess, ok, err := s.Store.Session(ctx, id, s.timeouts(), s.now())
	if err != nil || !ok {
		return store.Session{}, false
	}
	_ = s.Store.DeleteSession(ctx, id)
	return sess, true
}

func (s Sessions) timeouts() store.SessionTimeouts {
	if s.Timeouts.Idle == 0 || s.Timeouts.Absolute == 0 {
		return store.DefaultSessionTimeouts
	}
	return s.Timeouts
}

func (s Sessions) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

type clientAddressKey struct{}

// ClientAddress is the address a request came from, for records of who
// did what from where: as the Limiter reads it (behind trusted proxies,
// the client they name), else the peer's.
func ClientAddress(r *http.Request) string {
	if a, ok := r.Context().Value(clientAddressKey{}).(string); ok && a != "" {
		return a
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
