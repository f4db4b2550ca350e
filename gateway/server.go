// Package gateway is ozgflow's HTTP face. It establishes who makes each
// request, once (web.Identifier), and hands it to one of three rooms, each
// grouped by audience: the JSON API under /api/v1 (gateway/api), the staff
// pages (gateway/staff) and the applicant's pages (gateway/citizen). All
// three call the case service (casework); none calls another's handlers.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/gorilla/mux"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/gateway/api"
	"github.com/ozgflow/ozgflow/gateway/citizen"
	"github.com/ozgflow/ozgflow/gateway/idp"
	"github.com/ozgflow/ozgflow/gateway/intake"
	"github.com/ozgflow/ozgflow/gateway/staff"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/internal/health"
	"github.com/ozgflow/ozgflow/locale"
	"github.com/ozgflow/ozgflow/metrics"
	"github.com/ozgflow/ozgflow/records"
	"github.com/ozgflow/ozgflow/store"
)

// Config is what a Server needs besides its clients.
type Config struct {
	// Addr to listen on, e.g. ":8080"; ":0" picks a free port.
	Addr string
	// Namespace of the case workflows in Temporal.
	Namespace string
	// Secret derives the applicants' access tokens and the forms' tokens.
	Secret []byte
	// PreviousSecrets are former values of Secret whose access tokens stay
	// valid (OZGFLOW_PREVIOUS_SECRETS); new tokens come from Secret.
	PreviousSecrets [][]byte
	// PaymentWebhookSecret verifies the payment provider's webhooks.
	PaymentWebhookSecret []byte
	// SignatureWebhookSecret verifies the signing service's webhooks; empty
	// refuses them all.
	SignatureWebhookSecret []byte
	// FachverfahrenSecret verifies the Fachverfahren's callbacks (it signs
	// the deliveries too); empty refuses them all.
	FachverfahrenSecret []byte
	// Keys returns the public keys that verify receipts (JWKS).
	Keys func(ctx context.Context) (jose.JSONWebKeySet, error)
	// Metrics, if set, counts requests and is served at /metrics.
	Metrics *metrics.Metrics
	// Catalog, if set, holds the versioned definitions administrators manage.
	Catalog *casework.Catalog
	// DemoSignIn offers the demo identities on the sign-in page (dev only).
	DemoSignIn bool
	// Provider, if set, is the identity provider staff sign in at.
	Provider *idp.Provider
	// PublicURL is the gateway's address as browsers see it; https makes
	// the cookies Secure.
	PublicURL string
	// Sessions bound staff sessions; zero means store.DefaultSessionTimeouts.
	Sessions store.SessionTimeouts
	// HTTPS says that people reach the gateway over https (the public URL's
	// scheme), so that answers send Strict-Transport-Security.
	HTTPS bool
	// Records is ozgflow's database of documents, audit trail, read marks
	// and closed cases.
	Records *records.DB
	// Limits are the rate limits, counted in the store's Redis; the zero
	// Limits limit nothing.
	Limits web.Limits
	// Installation is the ID the projections in Redis carry once they are
	// complete; until then /readyz says "rebuilding". Empty skips the check.
	Installation string
	// Codec decrypts payloads at the codec endpoint (api.CodecEndpoint),
	// where administrators see in the Temporal Web UI what cases carry:
	// the workers' codec. Nil answers 503 there.
	Codec converter.PayloadCodec
	// CodecOrigins are the origins of Temporal Web UIs whose browsers call
	// the codec endpoint with an administrator's session, e.g. dev's
	// http://localhost:8233 (OZGFLOW_WEB_UI_ORIGINS).
	CodecOrigins []string
	// FITConnect, if set, serves the FIT-Connect Submission API under
	// /fit-connect for online services (gateway/intake).
	FITConnect *intake.Config
	// Destinations are the FIT-Connect destinations (the catalog's
	// fitconnect.yaml).
	Destinations []definitions.FITConnectDestination
}

// Server owns the router, the rooms and the case service they share.
type Server struct {
	cfg      Config
	temporal client.Client
	store    *store.Store
	cases    *casework.Service
	receipts *casework.Receipts
	tokens   web.AccessTokens
	rooms    *web.Rooms
	limiter  *web.Limiter
	audit    web.Auditor
	logger   *slog.Logger
	router   *mux.Router
	// ahead's routes are tried before the gateway's own for paths under
	// aheadPrefix (Ahead).
	ahead       *mux.Router
	aheadPrefix string
	handler     http.Handler
	http        *http.Server
	listener    net.Listener
	drain       drainState
}

// New builds a server and registers its routes. defs gives the published
// definitions; with cfg.Catalog set it is usually that catalog. auth turns
// tokens into identities; if it also lists case workers
// (ozgflow.Directory), tasks can be handed over to them by name.
func New(cfg Config, tc client.Client, st *store.Store, defs casework.Definitions, auth web.Authenticator, logger *slog.Logger) *Server {
	if cfg.Namespace == "" {
		cfg.Namespace = ozgflow.Namespace
	}
	if cfg.Records == nil {
		panic("gateway: no records database; documents and the audit trail live there")
	}
	cases := &casework.Service{Temporal: tc, Store: st, Records: cfg.Records, Defs: defs, Catalog: cfg.Catalog, Namespace: cfg.Namespace,
		Destinations: cfg.Destinations, Logger: logger, Now: time.Now}
	var fit *intake.Intake
	if cfg.FITConnect != nil {
		var err error
		if fit, err = intake.New(cases, *cfg.FITConnect, logger); err != nil {
			panic("gateway: " + err.Error())
		}
		// The online services' tokens identify them in every room; only
		// theirs admits them.
		auth = web.Authenticators{auth, fit}
	}
	var dirs ozgflow.Directories
	if demo, ok := web.StaticTokensOf(auth); ok {
		dirs = append(dirs, demo)
	}
	if st != nil {
		dirs = append(dirs, st) // case workers who signed in at the provider
	}
	cases.Directory = dirs
	sessions := web.Sessions{Store: st, Timeouts: cfg.Sessions, Secure: cfg.HTTPS || strings.HasPrefix(cfg.PublicURL, "https://"),
		Now: time.Now}
	s := &Server{cfg: cfg, temporal: tc, store: st, cases: cases, tokens: web.NewAccessTokenRing(cfg.Secret, cfg.PreviousSecrets...),
		rooms: web.NewRooms(), logger: logger, router: mux.NewRouter(),
		audit: web.Auditor{Records: cfg.Records, Logger: logger, Now: time.Now}}
	s.router.NotFoundHandler = http.HandlerFunc(s.notFound)
	s.router.MethodNotAllowedHandler = web.MethodNotAllowed
	if st != nil {
		s.limiter = web.NewLimiter(st.Client(), cfg.Limits, logger)
	}
	s.router.Use(s.recoverPanics, s.logRequests, s.limiter.Gate,
		web.Identifier{Auth: auth, Tokens: s.tokens, Sessions: sessions}.Middleware, s.limiter.Middleware)
	webUIs := web.Shared{Path: api.CodecEndpoint + "/", Origins: cfg.CodecOrigins,
		Methods: []string{http.MethodPost}, Headers: api.CodecHeaders}
	s.handler = s.admit(web.SecureHeaders(cfg.HTTPS)(web.CrossOrigin(logger, webUIs)(http.HandlerFunc(s.route))))
	s.registerHealthRoutes()
	s.receipts = &casework.Receipts{Cases: cases, Keys: cfg.Keys, PublicURL: cfg.PublicURL}
	api.New(cases, s.receipts, s.tokens, api.WebhookSecrets{Payment: cfg.PaymentWebhookSecret, Signature: cfg.SignatureWebhookSecret,
		Fachverfahren: cfg.FachverfahrenSecret},
		logger).DecodeWith(cfg.Codec).Register(s.router, s.rooms)
	opts := staff.Options{Sessions: sessions, Provider: cfg.Provider, PublicURL: strings.TrimSuffix(cfg.PublicURL, "/")}
	if tokens, ok := web.StaticTokensOf(auth); ok && cfg.DemoSignIn {
		opts.Demo = tokens
	}
	staff.New(cases, opts, cfg.Secret, logger).Register(s.router, s.rooms)
	citizen.New(cases, s.receipts, s.tokens, cfg.Secret, logger).Register(s.router, s.rooms)
	if fit != nil {
		fit.Register(s.router, s.rooms)
	}
	s.answerWrongMethods()
	s.limiter.Cover(s.router, s.rooms)
	if undeclared := web.Undeclared(s.router); len(undeclared) > 0 {
		// A route that does not say what it does with personal data could
		// read it without a trace: such a gateway does not start.
		panic("gateway: routes without a declared use of personal data (web.Auditor.Declare): " + strings.Join(undeclared, ", "))
	}
	return s
}

// answerWrongMethods adds, after every route, a route for the same path and
// any method that answers 405, so a known path never looks unknown.
func (s *Server) answerWrongMethods() {
	var paths []string
	seen := map[string]bool{}
	_ = s.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		_, noMethods := route.GetMethods()
		if tmpl, err := route.GetPathTemplate(); err == nil && noMethods == nil && !seen[tmpl] {
			seen[tmpl] = true
			paths = append(paths, tmpl)
		}
		return nil
	})
	anyone := s.rooms.Open(s.router, "", web.Audience{Name: "anyone (wrong method)", Roles: []ozgflow.Role{ozgflow.RoleAnonymous}})
	for _, p := range paths {
		anyone.Path(p).Handler(s.audit.Declare(web.NoPersonalData, web.MethodNotAllowed))
	}
}

// notFound answers an unknown path: a problem document under /api (where
// the router's redirect of an unclean API path lands, too), a readable page
// in German or English elsewhere.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.answerRefusal(w, r, ozgflow.Errorf(ozgflow.ENOTFOUND, "No such resource."), http.StatusNotFound, "error.notfound.page")
}

// answerRefusal answers a request the gateway itself refuses: with err as
// a problem document under /api, elsewhere with the page whose texts are
// page+".title", ".text" and ".help", in the request's language.
func (s *Server) answerRefusal(w http.ResponseWriter, r *http.Request, err error, status int, page string) {
	if web.IsAPI(r) {
		web.WriteProblem(w, web.NewProblem(err))
		return
	}
	l := locale.FromRequest(r)
	web.Renderer{Logger: s.logger}.Error(w, status, web.ErrorPage{Lang: string(l),
		Title: l.Text(false, page+".title"), Text: l.Text(false, page+".text"), Help: l.Text(false, page+".help")})
}

// Ahead serves the requests under prefix that router knows before the
// gateway's own routes, which a request would otherwise pass one by one:
// in dev the sandboxes, which share the listener. Their requests go through
// the same admission, headers and cross-origin protection, the gateway's
// panic recovery and request log, but enter none of its rooms: the gateway
// neither identifies their callers nor limits them, as it would not if they
// ran apart. A path under prefix that router does not know goes on to the
// gateway. No route of the gateway's may lie under prefix, and router may
// not answer unknown paths itself. Call it before Serve.
func (s *Server) Ahead(prefix string, router *mux.Router) {
	if router.NotFoundHandler != nil {
		panic("gateway: a router served ahead answers unknown paths itself")
	}
	_ = s.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		if tmpl, err := route.GetPathTemplate(); err == nil && strings.HasPrefix(tmpl, prefix) {
			panic("gateway: the route " + tmpl + " lies under " + prefix + ", which is served ahead")
		}
		return nil
	})
	router.Use(s.recoverPanics, s.logRequests)
	if router.MethodNotAllowedHandler == nil {
		router.MethodNotAllowedHandler = web.MethodNotAllowed
	}
	router.NotFoundHandler = s.router
	s.aheadPrefix, s.ahead = prefix, router
}

// route hands a request under the prefix Ahead named to its router, which
// passes what it does not know on to the gateway's, and every other to the
// gateway's router.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	if s.ahead != nil && strings.HasPrefix(r.URL.Path, s.aheadPrefix) {
		s.ahead.ServeHTTP(w, r)
		return
	}
	s.router.ServeHTTP(w, r)
}

// Handler returns the HTTP handler of the server: the router behind the
// headers every answer carries and the cross-origin protection.
func (s *Server) Handler() http.Handler { return s.handler }

// Open starts listening on the configured address and serving in the background.
func (s *Server) Open() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	s.Serve(ln)
	return nil
}

// Serve serves on a listener the caller opened, in the background.
func (s *Server) Serve(ln net.Listener) {
	s.listener = ln
	s.http = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("HTTP server stopped", "error", err)
		}
	}()
}

// Addr is the address the server listens on, valid after Open.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Close stops the server, giving running requests a few seconds.
func (s *Server) Close() error {
	if s.http == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.http.Shutdown(ctx)
}

func (s *Server) registerHealthRoutes() {
	ops := s.rooms.Open(s.router, "", web.Audience{Name: "anyone (operations)", Roles: []ozgflow.Role{ozgflow.RoleAnonymous}})
	ops.Handle("/healthz", s.audit.Declare(web.NoPersonalData, health.Live)).Methods(http.MethodGet)
	checks := health.Checks{
		"temporal": func(ctx context.Context) error {
			_, err := s.temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		},
		"redis":   s.store.Ping,
		"records": s.cfg.Records.Ping,
	}
	if s.cfg.Installation != "" {
		checks["projections"] = func(ctx context.Context) error { return s.store.Ready(ctx, s.cfg.Installation) }
	}
	ops.Handle("/readyz", s.audit.Declare(web.NoPersonalData, checks.ServeHTTP)).Methods(http.MethodGet)
	if s.cfg.Metrics != nil {
		ops.Handle("/metrics", s.audit.Declare(web.NoPersonalData, s.cfg.Metrics.Handler().ServeHTTP)).Methods(http.MethodGet)
	}
}

// recoverPanics turns a panicking handler into a 500 problem.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				web.Errors{Logger: s.logger}.Write(w, r, fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// Flush lets server-sent events through the recorder.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// logRequests logs method, route template, status and duration; never bodies,
// query strings or tokens, which may carry personal data.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		route := "unmatched" // never the raw path: it would make unbounded label values
		if cur := mux.CurrentRoute(r); cur != nil {
			if tmpl, err := cur.GetPathTemplate(); err == nil {
				route = tmpl
			}
		}
		elapsed := time.Since(start)
		if s.cfg.Metrics != nil {
			s.cfg.Metrics.ObserveRequest(route, r.Method, rec.status, elapsed)
		}
		s.logger.Debug("HTTP request", "method", r.Method, "route", route, "status", rec.status, "duration", elapsed)
	})
}
