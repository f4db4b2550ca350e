package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ozgflow/ozgflow"
)

// Session is a signed-in staff member's session. Only its random ID travels
// in the cookie; everything else stays here.
type Session struct {
	ID       string           `json:"-"`
	Identity ozgflow.Identity `json:"identity"`
	// Via says how the person signed in: "oidc" or "demo".
	Via       string    `json:"via"`
	CreatedAt time.Time `json:"createdAt"`
	// IDToken is the provider's ID token, the hint for ending the session
	// at the provider on sign-out.
	IDToken string `json:"idToken,omitempty"`
}

// SessionTimeouts bound a session: Idle after the last request, Absolute
// after sign-in.
type SessionTimeouts struct {
	Idle     time.Duration
	Absolute time.Duration
}

// DefaultSessionTimeouts end a session after 30 idle minutes and at the
// latest after a working day.
var DefaultSessionTimeouts = SessionTimeouts{Idle: 30 * time.Minute, Absolute: 10 * time.Hour}

func (s *Store) sessionKey(id string) string { return s.prefix + "session:" + id }
func (s *Store) signInKey(state string) string {
	return s.prefix + "signin:" + state
}

// CreateSession stores a new session under a fresh random ID and returns it.
func (s *Store) CreateSession(ctx context.Context, sess Session, t SessionTimeouts) (Session, error) {
	id, err := randomID()
	if err != nil {
		return Session{}, err
	}
	sess.ID = id
	body, err := json.Marshal(sess)
	if err != nil {
		return Session{}, err
	}
	if err := s.rdb.Set(ctx, s.sessionKey(id), body, min(t.Idle, t.Absolute)).Err(); err != nil {
		return Session{}, fmt.Errorf("create session: %w", err)
	}
	return sess, nil
}

// Session returns a live session and extends its idle timeout, never past
// its absolute end. ok is false for an unknown or expired session.
func (s *Store) Session(ctx context.Context, id string, t SessionTimeouts, now time.Time) (sess Session, ok bool, err error) {
	if id == "" || len(id) > 64 {
		return Session{}, false, nil
	}
	body, err := s.rdb.Get(ctx, s.sessionKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Session{}, false, nil
	}
	if err != nil {
		return Session{}, false, fmt.Errorf("read session: %w", err)
	}
	if err := json.Unmarshal(body, &sess); err != nil {
		return Session{}, false, nil
	}
	sess.ID = id
	left := sess.CreatedAt.Add(t.Absolute).Sub(now)
	if left <= 0 {
		s.rdb.Del(ctx, s.sessionKey(id))
		return Session{}, false, nil
	}
	// PExpire: Expire counts whole seconds, so it would stretch the last
	// second before the absolute end and cut fractions off idle timeouts.
	if err := s.rdb.PExpire(ctx, s.sessionKey(id), min(t.Idle, left)).Err(); err != nil {
		return Session{}, false, fmt.Errorf("extend session: %w", err)
	}
	return sess, true, nil
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	return s.rdb.Del(ctx, s.sessionKey(id)).Err()
}

// SignInAttempt is what the gateway remembers between sending a person to
// the identity provider and their return: the PKCE verifier, the nonce
// and where they wanted to go.
type SignInAttempt struct {
	Verifier string `json:"verifier"`
	Nonce    string `json:"nonce"`
	Next     string `json:"next,omitempty"`
}

// SaveSignInAttempt keeps an attempt under its state for ttl.
func (s *Store) SaveSignInAttempt(ctx context.Context, state string, a SignInAttempt, ttl time.Duration) error {
	body, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return s.rdb.Set(ctx, s.signInKey(state), body, ttl).Err()
}

// TakeSignInAttempt returns the attempt of a state once; ok is false when
// it is unknown, expired or already taken.
func (s *Store) TakeSignInAttempt(ctx context.Context, state string) (a SignInAttempt, ok bool, err error) {
	if state == "" || len(state) > 128 {
		return a, false, nil
	}
	body, err := s.rdb.GetDel(ctx, s.signInKey(state)).Bytes()
	if errors.Is(err, redis.Nil) {
		return a, false, nil
	}
	if err != nil {
		return a, false, err
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return a, false, nil
	}
	return a, true, nil
}

// randomID returns 256 random bits, URL-safe.
func randomID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (s *Store) staffKey(authority string) string { return s.prefix + "staff:" + authority }

// staffMemory is how long a case worker who does not sign in again stays
// in the directory: someone whose role was taken away leaves it then.
const staffMemory = 90 * 24 * time.Hour

// rememberedCaseWorker is a directory entry: the identity of the last
// sign-in, and when it was.
type rememberedCaseWorker struct {
	Identity ozgflow.Identity `json:"identity"`
	SeenAt   time.Time        `json:"seenAt"`
}

// RememberCaseWorker keeps a case worker who signed in, so that colleagues
// can hand tasks over to them by name and see who holds a task; each
// sign-in renews the entry with the queues of that day.
func (s *Store) RememberCaseWorker(ctx context.Context, id ozgflow.Identity) error {
	if !id.Has(ozgflow.RoleCaseWorker) || id.Authority == "" {
		return nil
	}
	body, err := json.Marshal(rememberedCaseWorker{Identity: id, SeenAt: time.Now().UTC()})
	if err != nil {
		return err
	}
	return s.rdb.HSet(ctx, s.staffKey(id.Authority), id.Subject, body).Err()
}

// CaseWorkers implements ozgflow.Directory: the case workers of an
// authority who have signed in within staffMemory.
func (s *Store) CaseWorkers(ctx context.Context, authority string) []ozgflow.Identity {
	all, err := s.rdb.HGetAll(ctx, s.staffKey(authority)).Result()
	if err != nil {
		return nil
	}
	out := make([]ozgflow.Identity, 0, len(all))
	for subject, body := range all {
		var e rememberedCaseWorker
		if json.Unmarshal([]byte(body), &e) != nil {
			continue
		}
		if time.Since(e.SeenAt) > staffMemory {
			s.rdb.HDel(ctx, s.staffKey(authority), subject)
			continue
		}
		out = append(out, e.Identity)
	}
	return out
}
