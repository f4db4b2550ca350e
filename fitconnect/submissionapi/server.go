// Package submissionapi serves the sending side of the FIT-Connect
// Submission API: an OAuth 2 client-credentials token endpoint, the
// destinations and their keys, announcing a submission, uploading its
// attachments, submitting it, and the case's event log of Security Event
// Tokens. It knows nothing of what a destination does with a submission:
// it hands the decrypted, hash-checked submission to a Receiver and records
// an accept or reject event by its answer. ozgflow's intake and the
// delivery adapter's sandbox destination both serve it.
package submissionapi

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow/fitconnect"
)

// Bounds of what the server accepts; anything beyond is refused with a
// problem document, never taken into memory whole.
const (
	// MaxAttachments is how many attachments one submission may announce.
	MaxAttachments = 20
	// MaxAttachmentBytes bounds one uploaded attachment as sent (JWE).
	MaxAttachmentBytes = 8 << 20
	// MaxTotalAttachmentBytes bounds the attachments of one submission
	// together, as sent.
	MaxTotalAttachmentBytes = 32 << 20
	// MaxSubmitBytes bounds the body of a submit (metadata and data).
	MaxSubmitBytes = 8 << 20
	// maxSmallBody bounds the other JSON bodies.
	maxSmallBody = 64 << 10
)

// DefaultTTL is how long the server keeps a submission, its attachments and
// its case's event log after the last change.
const DefaultTTL = 30 * 24 * time.Hour

// Keys are a destination's private keys: the one senders encrypt to
// (published with key_ops wrapKey) and the one its accept and reject events
// are signed with (published with key_ops verify).
type Keys struct {
	Encryption *rsa.PrivateKey
	Signature  *rsa.PrivateKey
}

// Destinations tells the server which destinations exist. Destination
// returns what a destination publishes (its ID, status, services and
// schemas; the server fills in the encryption key's ID) and false for an
// unknown ID.
type Destinations interface {
	Destination(ctx context.Context, id string) (fitconnect.Destination, bool, error)
}

// Config is what a Server needs.
type Config struct {
	// Issuer names the Submission API in the events it signs itself
	// (create, submit): its base URL, e.g. https://ozgflow.example/fit-connect.
	Issuer string
	// Clients are the senders' client IDs and secrets.
	Clients map[string]string
	// TokenSecret signs the access tokens (at least 16 bytes); tokens stay
	// valid across restarts as long as it does not change.
	TokenSecret []byte
	// TokenLifetime is how long an access token is valid; zero is 30 minutes.
	TokenLifetime time.Duration
	// SigningKey signs the API's own events; its public key is served at
	// /.well-known/jwks.json.
	SigningKey *rsa.PrivateKey
	// Keys are the destinations' keys (every destination of this server
	// shares them).
	Keys Keys
	// Destinations lists the destinations.
	Destinations Destinations
	// Store keeps submissions in progress and the event logs.
	Store Store
	// Receiver takes the submissions.
	Receiver Receiver
	// NoteCase, if set, is told the case a request touched (for an audit
	// trail).
	NoteCase func(ctx context.Context, caseID string)
	// Logger logs failures; never personal data.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Server serves the Submission API. Its routes are relative to the API's
// base: /token, /.well-known/jwks.json and /v1/….
type Server struct {
	cfg                    Config
	encKid, sigKid, apiKid string
}

// New checks the configuration and returns a server.
func New(cfg Config) (*Server, error) {
	switch {
	case len(cfg.TokenSecret) < 16:
		return nil, errors.New("submission api: the token secret must have at least 16 bytes")
	case cfg.SigningKey == nil || cfg.Keys.Encryption == nil || cfg.Keys.Signature == nil:
		return nil, errors.New("submission api: the signing key and the destinations' keys are required")
	case cfg.Destinations == nil || cfg.Store == nil || cfg.Receiver == nil:
		return nil, errors.New("submission api: destinations, store and receiver are required")
	}
	if cfg.TokenLifetime <= 0 {
		cfg.TokenLifetime = 30 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.NoteCase == nil {
		cfg.NoteCase = func(context.Context, string) {}
	}
	return &Server{cfg: cfg, encKid: fitconnect.KeyID(&cfg.Keys.Encryption.PublicKey),
		sigKid: fitconnect.KeyID(&cfg.Keys.Signature.PublicKey), apiKid: fitconnect.KeyID(&cfg.SigningKey.PublicKey)}, nil
}

// Use says what a route does, so that a host can declare it (an audit
// trail): Action names it; Changes says it changes what a case holds;
// Personal says it reads or changes personal data.
type Use struct {
	Action   string
	Changes  bool
	Personal bool
}

// Route is one route of the Submission API, relative to its base.
type Route struct {
	Method, Path string
	// Open routes take no access token (the token endpoint, the API's
	// public keys); all others need one, and their handler expects the
	// caller's client in the context (WithClient): the host authenticates,
	// the handlers do not.
	Open    bool
	Use     Use
	Handler http.HandlerFunc
}

// Routes lists the API's routes, for a host that registers them itself.
func (s *Server) Routes() []Route {
	return []Route{
		{http.MethodPost, "/token", true, Use{Action: "fitconnect.token"}, s.handleToken},
		{http.MethodGet, "/.well-known/jwks.json", true, Use{Action: "fitconnect.jwks"}, s.handleJWKS},
		{http.MethodGet, "/v1/destinations/{destinationId}", false, Use{Action: "fitconnect.destination"}, s.handleDestination},
		{http.MethodGet, "/v1/destinations/{destinationId}/keys/{keyId}", false, Use{Action: "fitconnect.key"}, s.handleKey},
		{http.MethodPost, "/v1/submissions", false, Use{Action: "fitconnect.create", Changes: true, Personal: true}, s.handleCreate},
		{http.MethodPut, "/v1/submissions/{submissionId}/attachments/{attachmentId}", false,
			Use{Action: "fitconnect.attachment", Changes: true, Personal: true}, s.handleAttachment},
		{http.MethodPut, "/v1/submissions/{submissionId}", false, Use{Action: "fitconnect.submit", Changes: true, Personal: true}, s.handleSubmit},
		{http.MethodGet, "/v1/submissions/{submissionId}", false, Use{Action: "fitconnect.status", Personal: true}, s.handleStatus},
		{http.MethodGet, "/v1/cases/{caseId}/events", false, Use{Action: "fitconnect.events", Personal: true}, s.handleEvents},
	}
}

// Handler returns the API as one handler with its routes under prefix
// (e.g. "/fit-connect"), for a host without a router and identity
// middleware of its own (the sandbox destination, tests): it checks the
// access tokens itself. A host that authenticates registers Routes.
func (s *Server) Handler(prefix string) http.Handler {
	r := mux.NewRouter()
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		WriteProblem(w, http.StatusNotFound, fitconnect.Problem{Type: "about:blank", Title: "Not Found"})
	})
	for _, rt := range s.Routes() {
		h := rt.Handler
		if !rt.Open {
			h = s.authed(h)
		}
		r.Handle(prefix+rt.Path, h).Methods(rt.Method)
	}
	return r
}

type clientKey struct{}

// ClientFrom returns the sender a request's token belongs to.
func ClientFrom(ctx context.Context) string {
	c, _ := ctx.Value(clientKey{}).(string)
	return c
}

// WithClient notes the authenticated sender of a request, for a host that
// authenticates it before a route of Routes runs.
func WithClient(ctx context.Context, client string) context.Context {
	return context.WithValue(ctx, clientKey{}, client)
}

// authed lets through requests with a valid access token, noting its
// client in the context; others get 401 with FIT-Connect's problem. Only
// Handler uses it: a host with identity middleware authenticates once.
func (s *Server) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		client, valid := s.Authenticate(strings.TrimSpace(tok))
		if !ok || !valid {
			w.Header().Set("WWW-Authenticate", `Bearer realm="fit-connect"`)
			WriteProblem(w, http.StatusUnauthorized, fitconnect.Problem{Type: fitconnect.ProblemUnauthorized, Title: "Unauthorized",
				Detail: "A valid access token of the token endpoint is required."})
			return
		}
		h(w, r.WithContext(WithClient(r.Context(), client)))
	}
}

// WriteProblem answers with a FIT-Connect problem document.
func WriteProblem(w http.ResponseWriter, status int, p fitconnect.Problem) {
	p.Status = status
	if p.Title == "" {
		p.Title = http.StatusText(status)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// unavailable answers a failure of the store or the receiver: the sender
// may try again.
func (s *Server) unavailable(w http.ResponseWriter, what string, err error) {
	s.cfg.Logger.Error("FIT-Connect submission API: "+what, "error", err)
	w.Header().Set("Retry-After", "10")
	WriteProblem(w, http.StatusServiceUnavailable, fitconnect.Problem{Type: fitconnect.ProblemPrefix + "service-unavailable",
		Title: "Service Unavailable", Detail: "The submission cannot be taken just now; please repeat the request later."})
}
