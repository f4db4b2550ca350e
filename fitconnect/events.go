package fitconnect

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Event is one entry of a submission's event log: who says what happened to
// which submission of which case, and when.
type Event struct {
	ID           string // jti
	Issuer       string // the Submission API's URL, or the destination ID for accept and reject
	SubmissionID string
	CaseID       string
	Type         string // EventCreate, EventAccept, …
	IssuedAt     time.Time
	Payload      EventPayload
}

// EventPayload is what accept and reject events carry.
type EventPayload struct {
	Problems           []Problem           `json:"problems,omitempty"`
	AuthenticationTags *AuthenticationTags `json:"authenticationTags,omitempty"`
}

// AuthenticationTags are the JWE authentication tags of the parts a
// destination received, so the sender knows which version was accepted.
type AuthenticationTags struct {
	Metadata    string            `json:"metadata,omitempty"`
	Data        string            `json:"data,omitempty"`
	Attachments map[string]string `json:"attachments,omitempty"`
}

// setClaims is the JSON of a Security Event Token.
type setClaims struct {
	Issuer   string                  `json:"iss"`
	IssuedAt int64                   `json:"iat"`
	ID       string                  `json:"jti"`
	Subject  string                  `json:"sub"`
	Txn      string                  `json:"txn"`
	Events   map[string]EventPayload `json:"events"`
}

// SETType is the JOSE "typ" of a Security Event Token.
const SETType = "secevent+jwt"

// SignEvent signs e as a Security Event Token with PS512 under kid.
func SignEvent(e Event, key *rsa.PrivateKey, kid string) (string, error) {
	claims := setClaims{
		Issuer: e.Issuer, IssuedAt: e.IssuedAt.Unix(), ID: e.ID,
		Subject: "submission:" + e.SubmissionID, Txn: "case:" + e.CaseID,
		Events: map[string]EventPayload{e.Type: e.Payload},
	}
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	opts := (&jose.SignerOptions{}).WithType(SETType)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: SignatureAlg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
	if err != nil {
		return "", fmt.Errorf("event signer: %w", err)
	}
	obj, err := signer.Sign(body)
	if err != nil {
		return "", fmt.Errorf("sign event: %w", err)
	}
	return obj.CompactSerialize()
}

// KeyFunc finds the public key that verifies a SET of issuer under kid.
type KeyFunc func(issuer, kid string) (*rsa.PublicKey, error)

// ErrBadEvent says an event's signature or shape is wrong.
var ErrBadEvent = errors.New("invalid security event token")

// PeekEvent reads a SET without checking its signature: for a sender
// looking at the state of its own submission, never to take an accept or
// reject (use VerifyEvent).
func PeekEvent(token string) (Event, error) {
	obj, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{SignatureAlg})
	if err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrBadEvent, err)
	}
	var claims setClaims
	if err := json.Unmarshal(obj.UnsafePayloadWithoutVerification(), &claims); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrBadEvent, err)
	}
	return claims.event()
}

// event is the Event the claims describe; they must name one event type.
func (claims setClaims) event() (Event, error) {
	if len(claims.Events) != 1 {
		return Event{}, fmt.Errorf("%w: %d event types, want one", ErrBadEvent, len(claims.Events))
	}
	e := Event{ID: claims.ID, Issuer: claims.Issuer, IssuedAt: time.Unix(claims.IssuedAt, 0).UTC()}
	e.SubmissionID, _ = strings.CutPrefix(claims.Subject, "submission:")
	e.CaseID, _ = strings.CutPrefix(claims.Txn, "case:")
	for t, p := range claims.Events {
		e.Type, e.Payload = t, p
	}
	return e, nil
}

// VerifyEvent checks a SET's PS512 signature with the key keys returns for
// its issuer and kid, and reads it. An event must name exactly one event type.
func VerifyEvent(token string, keys KeyFunc) (Event, error) {
	obj, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{SignatureAlg})
	if err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrBadEvent, err)
	}
	if len(obj.Signatures) != 1 {
		return Event{}, fmt.Errorf("%w: want one signature", ErrBadEvent)
	}
	h := obj.Signatures[0].Header
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != SETType {
		return Event{}, fmt.Errorf("%w: typ %q, want %s", ErrBadEvent, typ, SETType)
	}
	var claims setClaims
	if err := json.Unmarshal(obj.UnsafePayloadWithoutVerification(), &claims); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrBadEvent, err)
	}
	pub, err := keys(claims.Issuer, h.KeyID)
	if err != nil {
		return Event{}, fmt.Errorf("%w: key %s of %s: %v", ErrBadEvent, h.KeyID, claims.Issuer, err)
	}
	if _, err := obj.Verify(pub); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrBadEvent, err)
	}
	return claims.event()
}
