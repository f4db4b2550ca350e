package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/internal/recordstest"
	"github.com/ozgflow/ozgflow/internal/redistest"
	"github.com/ozgflow/ozgflow/store"
)

// The rest of the door: rate limits, the headers of every answer, forms
// that only this site can send, and no access token in links.

// doorServer is a server on Redis with cfg (its secret is the tests') and
// tc as Temporal client (nil for none); its limits count under a prefix of
// their own.
func doorServer(t *testing.T, cfg Config, tc client.Client) (*Server, *store.Store) {
	t.Helper()
	st := redistest.Store(t, "gwdoor:")
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Secret, cfg.DemoSignIn = testSecret, true
	if cfg.Records == nil {
		cfg.Records = recordstest.Open(t, "sqlite")
	}
	cfg.Limits.Prefix = "gwdoor:" + uuid.NewString() + ":"
	return New(cfg, tc, st, casework.StaticDefinitions{Reg: reg}, DevTokens(), slog.New(slog.NewTextHandler(io.Discard, nil))), st
}

// doorRequest describes one request of these tests.
type doorRequest struct {
	method, target string
	from           string // the peer's address, host:port
	bearer         string
	cookies        []*http.Cookie
	header         map[string]string
	body           string
	contentType    string
}

func (s *Server) serve(q doorRequest) *httptest.ResponseRecorder {
	var body io.Reader
	if q.body != "" {
		body = strings.NewReader(q.body)
	}
	r := httptest.NewRequest(q.method, q.target, body)
	if q.from != "" {
		r.RemoteAddr = q.from
	}
	if q.bearer != "" {
		r.Header.Set("Authorization", "Bearer "+q.bearer)
	}
	if q.contentType != "" {
		r.Header.Set("Content-Type", q.contentType)
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	for _, c := range q.cookies {
		r.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, r)
	return rec
}

// assertTooMany checks a 429 answer: Retry-After in whole seconds, a
// problem document under /api, a page in lang elsewhere.
func assertTooMany(t *testing.T, rec *httptest.ResponseRecorder, api bool, text string) {
	t.Helper()
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("HTTP %d, want 429: %s", rec.Code, rec.Body.String())
	}
	if secs, err := strconv.Atoi(rec.Header().Get("Retry-After")); err != nil || secs < 1 || secs > 3600 {
		t.Errorf("Retry-After %q, want whole seconds", rec.Header().Get("Retry-After"))
	}
	if api {
		var p web.Problem
		if rec.Header().Get("Content-Type") != "application/problem+json" || json.Unmarshal(rec.Body.Bytes(), &p) != nil ||
			p.Status != http.StatusTooManyRequests || p.Type == "" || p.Title != "Too Many Requests" || p.Detail == "" {
			t.Errorf("not a problem document: %s %s", rec.Header().Get("Content-Type"), rec.Body.String())
		}
		return
	}
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") || !strings.Contains(rec.Body.String(), text) {
		t.Errorf("not the page saying %q: %s", text, rec.Body.String())
	}
}

func TestSubmitIsLimitedPerClientAndPerAddress(t *testing.T) {
	s, _ := doorServer(t, Config{Limits: web.Limits{Submit: web.Rate{N: 2, Per: time.Minute}}}, nil)
	submit := func(token, from string) *httptest.ResponseRecorder {
		return s.serve(doorRequest{method: http.MethodPost, target: "/api/v1/applications", from: from, bearer: token,
			body: "{}", contentType: "application/json"})
	}
	for i := range 2 {
		if rec := submit("dev-portal", "192.0.2.1:1000"); rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("submit %d within the limit: %d %s", i+1, rec.Code, rec.Body.String())
		}
	}
	assertTooMany(t, submit("dev-portal", "192.0.2.1:1000"), true, "")
	t.Run("the same client from another address", func(t *testing.T) {
		assertTooMany(t, submit("dev-portal", "192.0.2.2:1000"), true, "")
	})
	t.Run("another client from the same address", func(t *testing.T) {
		assertTooMany(t, submit("dev-portal-2", "192.0.2.1:1001"), true, "")
	})
	t.Run("another client from another address", func(t *testing.T) {
		if rec := submit("dev-portal-2", "192.0.2.3:1000"); rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("HTTP %d, want the submit to pass", rec.Code)
		}
	})
}

func TestLimitsSwitchedOff(t *testing.T) {
	for _, setting := range []string{"off", "0"} {
		rate, err := web.ParseRate(setting)
		if err != nil || !rate.Off() {
			t.Fatalf("%q: %v %v", setting, rate, err)
		}
		s, _ := doorServer(t, Config{Limits: web.Limits{Submit: rate, TokenFailures: rate, ReceiptCheck: rate}}, nil)
		for i := range 30 {
			rec := s.serve(doorRequest{method: http.MethodPost, target: "/api/v1/applications", bearer: "dev-portal",
				body: "{}", contentType: "application/json"})
			wrong := s.serve(doorRequest{method: http.MethodGet, target: "/api/v1/queues", bearer: "wrong"})
			if rec.Code == http.StatusTooManyRequests || wrong.Code == http.StatusTooManyRequests {
				t.Fatalf("%s: request %d refused", setting, i+1)
			}
		}
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want web.Rate
		bad  bool
	}{
		{"60/m", web.Rate{N: 60, Per: time.Minute}, false},
		{"10/s", web.Rate{N: 10, Per: time.Second}, false},
		{" 1000/H ", web.Rate{N: 1000, Per: time.Hour}, false},
		{"off", web.Rate{}, false},
		{"0", web.Rate{}, false},
		{"60", web.Rate{}, true},
		{"60/d", web.Rate{}, true},
		{"-1/m", web.Rate{}, true},
		{"many/m", web.Rate{}, true},
	}
	for _, tt := range tests {
		got, err := web.ParseRate(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParseRate(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestRefusedTokensAreLimitedPerAddress(t *testing.T) {
	s, _ := doorServer(t, Config{Limits: web.Limits{TokenFailures: web.Rate{N: 3, Per: time.Minute}}}, nil)
	const attacker, colleague = "198.51.100.7:4000", "198.51.100.8:4000"
	for i := range 3 {
		if rec := s.serve(doorRequest{method: http.MethodGet, target: "/api/v1/queues", from: attacker, bearer: "guess-" + strconv.Itoa(i)}); rec.Code != http.StatusUnauthorized {
			t.Fatalf("wrong token %d: %d", i+1, rec.Code)
		}
	}
	assertTooMany(t, s.serve(doorRequest{method: http.MethodGet, target: "/api/v1/queues", from: attacker, bearer: "guess-4"}), true, "")
	t.Run("even the right token from that address waits", func(t *testing.T) {
		assertTooMany(t, s.serve(doorRequest{method: http.MethodGet, target: "/api/v1/queues", from: attacker, bearer: "dev-sb-leipzig"}), true, "")
	})
	t.Run("a wrong access token in a link counts too", func(t *testing.T) {
		assertTooMany(t, s.serve(doorRequest{method: http.MethodGet, target: "/antraege/" + uuid.NewString() + "?token=at_guess",
			from: attacker}), false, "Zu viele Anfragen")
	})
	t.Run("pages answer in German", func(t *testing.T) {
		assertTooMany(t, s.serve(doorRequest{method: http.MethodGet, target: "/arbeitskorb", from: attacker,
			cookies: []*http.Cookie{{Name: web.SessionCookie, Value: sessionOf(s, "dev-sb-leipzig")}}}), false, "Bitte warten Sie")
	})
	t.Run("another address is not concerned", func(t *testing.T) {
		if rec := s.serve(doorRequest{method: http.MethodGet, target: "/api/v1/queues", from: colleague, bearer: "dev-sb-leipzig"}); rec.Code != http.StatusOK {
			t.Errorf("HTTP %d %s", rec.Code, rec.Body.String())
		}
	})
	t.Run("requests without credentials are not concerned", func(t *testing.T) {
		if rec := s.serve(doorRequest{method: http.MethodGet, target: "/pruefen", from: attacker}); rec.Code != http.StatusOK {
			t.Errorf("HTTP %d", rec.Code)
		}
	})
}

func TestSignInIsLimitedPerAddress(t *testing.T) {
	s, _ := doorServer(t, Config{Limits: web.Limits{SignIn: web.Rate{N: 2, Per: time.Minute}}}, nil)
	signIn := func(from string) *httptest.ResponseRecorder {
		form := url.Values{"token": {"falsch"}, "csrf": {formToken("signin csrf", signInBinding)}}
		return s.serve(doorRequest{method: http.MethodPost, target: "/anmelden", from: from, body: form.Encode(),
			contentType: "application/x-www-form-urlencoded", cookies: credentialsFor(s, "/anmelden", "")})
	}
	for i := range 2 {
		if rec := signIn("192.0.2.50:1"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("sign-in %d: %d", i+1, rec.Code)
		}
	}
	assertTooMany(t, signIn("192.0.2.50:1"), false, "Zu viele Anfragen")
	if rec := signIn("192.0.2.51:1"); rec.Code != http.StatusUnauthorized {
		t.Errorf("another address: %d", rec.Code)
	}
	if rec := s.serve(doorRequest{method: http.MethodGet, target: "/anmelden", from: "192.0.2.50:1"}); rec.Code != http.StatusOK {
		t.Errorf("the sign-in page itself: %d", rec.Code)
	}
}

// TestLimitByRoom: a room (or any handler) can be limited as a whole, for
// routes LimitedRoutes does not name.
func TestLimitByRoom(t *testing.T) {
	st := redistest.Store(t, "gwdoor:")
	l := web.NewLimiter(st.Client(), web.Limits{SignIn: web.Rate{N: 1, Per: time.Minute}, Prefix: "gwdoor:" + uuid.NewString() + ":"},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	room := mux.NewRouter()
	room.Use(l.Limit(web.LimitSignIn))
	room.HandleFunc("/anmelden/oidc", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusFound) })
	get := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		room.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/anmelden/oidc", nil))
		return rec
	}
	if rec := get(); rec.Code != http.StatusFound {
		t.Fatalf("first: %d", rec.Code)
	}
	assertTooMany(t, get(), false, "Zu viele Anfragen")
}

// TestRoutesOutsideTheRoomsAreNotLimited: what `dev` serves ahead of the
// gateway (the sandboxes) checks its own credentials; they neither count
// nor are refused.
func TestRoutesOutsideTheRoomsAreNotLimited(t *testing.T) {
	s, _ := doorServer(t, Config{Limits: web.Limits{TokenFailures: web.Rate{N: 1, Per: time.Minute}}}, nil)
	sandboxes := mux.NewRouter()
	sandboxes.HandleFunc("/sandbox/paymentprovider/payments", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	}).Methods(http.MethodPost)
	s.Ahead("/sandbox/", sandboxes)
	for i := range 5 {
		rec := s.serve(doorRequest{method: http.MethodPost, target: "/sandbox/paymentprovider/payments", bearer: "sandbox-key"})
		if rec.Code != http.StatusCreated {
			t.Fatalf("sandbox call %d: %d", i+1, rec.Code)
		}
	}
	if rec := s.serve(doorRequest{method: http.MethodGet, target: "/api/v1/queues", bearer: "dev-sb-leipzig"}); rec.Code != http.StatusOK {
		t.Errorf("the gateway after the sandbox calls: %d", rec.Code)
	}
}

// TestRoutesAheadPassTheDoorway: routes served ahead of the gateway's get
// its headers, a known path with another method 405, and a path they do
// not know goes on to the gateway, which answers it as ever.
func TestRoutesAheadPassTheDoorway(t *testing.T) {
	s, _ := doorServer(t, Config{}, nil)
	sandboxes := mux.NewRouter()
	sandboxes.HandleFunc("/sandbox/portal/events", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}).Methods(http.MethodPost)
	sandboxes.HandleFunc("/sandbox/portal/panic", func(http.ResponseWriter, *http.Request) { panic("sandbox") })
	s.Ahead("/sandbox/", sandboxes)
	rec := s.serve(doorRequest{method: http.MethodPost, target: "/sandbox/portal/events"})
	if rec.Code != http.StatusAccepted || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("ahead: %d, headers %v", rec.Code, rec.Header())
	}
	if rec := s.serve(doorRequest{method: http.MethodGet, target: "/sandbox/portal/events"}); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("wrong method ahead: %d, want 405", rec.Code)
	}
	if rec := s.serve(doorRequest{method: http.MethodGet, target: "/sandbox/portal/panic"}); rec.Code != http.StatusInternalServerError {
		t.Errorf("a panic ahead: %d, want 500 from the gateway's recovery", rec.Code)
	}
	rec = s.serve(doorRequest{method: http.MethodGet, target: "/sandbox/unknown", header: map[string]string{"Accept-Language": "de"}})
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "<html") {
		t.Errorf("unknown path: %d %q, want the gateway's page", rec.Code, rec.Body.String())
	}
	if rec := s.serve(doorRequest{method: http.MethodGet, target: "/healthz"}); rec.Code != http.StatusOK {
		t.Errorf("the gateway behind: %d", rec.Code)
	}
}

// TestNothingAheadShadowsTheGateway: a prefix served ahead may hold none of
// the gateway's routes, and a router that answers every path may not be
// served ahead, or the gateway would never see its requests.
func TestNothingAheadShadowsTheGateway(t *testing.T) {
	s, _ := doorServer(t, Config{}, nil)
	catchAll := mux.NewRouter()
	catchAll.NotFoundHandler = http.NotFoundHandler()
	for name, ahead := range map[string]func(){
		"a gateway route under the prefix": func() { s.Ahead("/api/v1/", mux.NewRouter()) },
		"a router answering every path":    func() { s.Ahead("/sandbox/", catchAll) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("served ahead")
				}
			}()
			ahead()
		})
	}
}

func TestReceiptCheckIsLimited(t *testing.T) {
	s, _ := doorServer(t, Config{Limits: web.Limits{ReceiptCheck: web.Rate{N: 2, Per: time.Minute}}}, nil)
	check := func(from, lang string) *httptest.ResponseRecorder {
		return s.serve(doorRequest{method: http.MethodPost, target: "/pruefen", from: from, body: "text=x",
			contentType: "application/x-www-form-urlencoded", header: map[string]string{"Accept-Language": lang}})
	}
	verify := func(from string) *httptest.ResponseRecorder {
		return s.serve(doorRequest{method: http.MethodPost, target: "/api/v1/receipts/verify", from: from, body: "x", contentType: "text/plain"})
	}
	for i := range 2 {
		if rec := check("203.0.113.1:1", "de"); rec.Code == http.StatusTooManyRequests {
			t.Fatalf("check %d refused", i+1)
		}
	}
	assertTooMany(t, check("203.0.113.1:1", "de-DE,de;q=0.9"), false, "Zu viele Anfragen")
	assertTooMany(t, check("203.0.113.1:1", "en-GB,en;q=0.9"), false, "Too many requests")
	if rec := check("203.0.113.2:1", "de"); rec.Code == http.StatusTooManyRequests {
		t.Error("another address refused")
	}
	for range 2 {
		verify("203.0.113.3:1")
	}
	assertTooMany(t, verify("203.0.113.3:1"), true, "")
}

func TestLimiterAddressHonoursOnlyTrustedProxies(t *testing.T) {
	proxies, err := web.ParseTrustedProxies("10.0.0.0/8, 192.0.2.10")
	if err != nil {
		t.Fatal(err)
	}
	l := web.NewLimiter(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), web.Limits{TrustedProxies: proxies}, slog.Default())
	tests := []struct {
		name, remote, forwarded, want string
	}{
		{"no proxy", "203.0.113.5:1234", "", "203.0.113.5"},
		{"a header from an untrusted peer is ignored", "203.0.113.5:1234", "198.51.100.1", "203.0.113.5"},
		{"a trusted proxy names the client", "10.1.2.3:1234", "198.51.100.1", "198.51.100.1"},
		{"the last untrusted hop counts, not what the client wrote", "192.0.2.10:80", "1.1.1.1, 198.51.100.1, 10.0.0.9", "198.51.100.1"},
		{"only proxies: the first of them", "10.1.2.3:1234", "10.0.0.9", "10.0.0.9"},
		{"a broken header: the peer", "10.1.2.3:1234", "nonsense", "10.1.2.3"},
		{"IPv6", "[2001:db8::1]:443", "", "2001:db8::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			if tt.forwarded != "" {
				r.Header.Set("X-Forwarded-For", tt.forwarded)
			}
			if got := l.Address(r); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	if _, err := web.ParseTrustedProxies("10.0.0.0/33"); err == nil {
		t.Error("a broken network was accepted")
	}
}

func TestClientsBehindATrustedProxyAreCountedApart(t *testing.T) {
	proxies, _ := web.ParseTrustedProxies("10.0.0.1")
	s, _ := doorServer(t, Config{Limits: web.Limits{ReceiptCheck: web.Rate{N: 1, Per: time.Minute}, TrustedProxies: proxies}}, nil)
	verify := func(client string) int {
		return s.serve(doorRequest{method: http.MethodPost, target: "/api/v1/receipts/verify", from: "10.0.0.1:5000", body: "x",
			contentType: "text/plain", header: map[string]string{"X-Forwarded-For": client}}).Code
	}
	if verify("198.51.100.1") == http.StatusTooManyRequests || verify("198.51.100.2") == http.StatusTooManyRequests {
		t.Error("the proxy's clients share one limit")
	}
	if verify("198.51.100.1") != http.StatusTooManyRequests {
		t.Error("the second check of one client behind the proxy passed")
	}
}

// TestLimitsFailOpen: without Redis the limits let requests through; a
// limit is a brake, never the reason for a 5xx.
func TestLimitsFailOpen(t *testing.T) {
	var logs bytes.Buffer
	l := web.NewLimiter(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1}),
		web.Limits{Submit: web.Rate{N: 1, Per: time.Minute}}, slog.New(slog.NewTextHandler(&logs, nil)))
	for range 3 {
		ok, _, err := l.Allow(context.Background(), web.LimitSubmit, "ip:192.0.2.1")
		if !ok || err == nil {
			t.Fatalf("Allow without Redis = %v, %v; want allowed with the error", ok, err)
		}
	}
	if n := strings.Count(logs.String(), "level=WARN msg=\"Rate limits not checked"); n != 1 {
		t.Errorf("%d warnings, want one:\n%s", n, logs.String())
	}
	reg, _ := definitions.LoadCatalog(catalog.FS)
	st := store.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1}))
	s := New(Config{Secret: testSecret, Records: recordstest.Open(t, "sqlite"), Limits: web.Limits{Submit: web.Rate{N: 1, Per: time.Minute},
		TokenFailures: web.Rate{N: 1, Per: time.Minute}}}, nil, st, casework.StaticDefinitions{Reg: reg}, DevTokens(),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	for i := range 3 {
		rec := s.serve(doorRequest{method: http.MethodPost, target: "/api/v1/applications", bearer: "dev-portal", body: "{}", contentType: "application/json"})
		wrong := s.serve(doorRequest{method: http.MethodGet, target: "/api/v1/openapi.yaml", bearer: "wrong"})
		if rec.Code != http.StatusUnprocessableEntity || wrong.Code != http.StatusOK {
			t.Fatalf("request %d without Redis: %d and %d", i+1, rec.Code, wrong.Code)
		}
	}
}

// pageRoutes walks the router for the routes of the staff's and the
// applicant's pages with method, as (template, example path) pairs.
func pageRoutes(t *testing.T, s *Server, method, caseID string) map[string]string {
	t.Helper()
	vars := strings.NewReplacer("{id}", caseID, "{caseId}", caseID, "{version}", "1", "{taskId}", ozgflow.TaskID(caseID, "review", 1),
		"{action}", "uebernehmen")
	out := map[string]string{}
	_ = s.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tmpl, err := route.GetPathTemplate()
		methods, merr := route.GetMethods()
		if err != nil || merr != nil || route.GetHandler() == nil {
			return nil
		}
		for _, prefix := range []string{"/api/", "/healthz", "/readyz", "/metrics"} {
			if strings.HasPrefix(tmpl, prefix) {
				return nil
			}
		}
		for _, m := range methods {
			if m == method {
				path := vars.Replace(tmpl)
				if strings.HasPrefix(tmpl, "/verwaltung/definitionen/") {
					path = strings.Replace(path, caseID, "gewerbeanmeldung", 1)
				}
				out[tmpl] = path
			}
		}
		return nil
	})
	return out
}

// credentialsFor are the cookies that open a page: the applicant's for
// /antraege, a case worker's session for /arbeitskorb, an administrator's
// for /verwaltung and /abmelden.
func credentialsFor(s *Server, path, applicantToken string) []*http.Cookie {
	switch {
	case strings.HasPrefix(path, "/antraege/"):
		return []*http.Cookie{{Name: web.ApplicantCookie, Value: applicantToken}}
	case strings.HasPrefix(path, "/arbeitskorb"):
		return []*http.Cookie{{Name: web.SessionCookie, Value: sessionOf(s, "dev-sb-leipzig")}}
	case strings.HasPrefix(path, "/verwaltung"), strings.HasPrefix(path, "/abmelden"):
		return []*http.Cookie{{Name: web.SessionCookie, Value: sessionOf(s, "dev-admin")}}
	case path == "/anmelden":
		return []*http.Cookie{{Name: "ozgflow_anmeldung", Value: signInBinding}}
	}
	return nil
}

// signInBinding is the value of the sign-in form's cookie in these tests.
var signInBinding = strings.Repeat("cd", 16)

var scriptNonce = regexp.MustCompile(`<script[^>]*>`)

// assertPageHeaders checks the headers every page carries.
func assertPageHeaders(t *testing.T, rec *httptest.ResponseRecorder, https bool) {
	t.Helper()
	h := rec.Header()
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'nonce-", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %s", csp, want)
		}
	}
	_, nonce, _ := strings.Cut(csp, "'nonce-")
	nonce, _, _ = strings.Cut(nonce, "'")
	for _, tag := range scriptNonce.FindAllString(rec.Body.String(), -1) {
		if !strings.Contains(html.UnescapeString(tag), `nonce="`+nonce+`"`) {
			t.Errorf("script %s without the page's nonce %s", tag, nonce)
		}
	}
	for name, want := range map[string]string{
		"Content-Type": "text/html; charset=utf-8", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
		"Cache-Control": "no-store", "X-Frame-Options": "DENY",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if got := h.Get("Strict-Transport-Security"); (got != "") != https {
		t.Errorf("Strict-Transport-Security %q with https %v", got, https)
	}
}

// TestEveryPageSendsTheSecurityHeaders walks every page of the staff and
// the applicants, as its audience opens it, and the refusals.
func TestEveryPageSendsTheSecurityHeaders(t *testing.T) {
	for _, https := range []bool{false, true} {
		s, st := doorServer(t, Config{HTTPS: https}, temporalOffline())
		c := testCase(ozgflow.StatusInReview)
		if err := st.SaveCase(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		token := s.tokens.Issue(c.ID)
		routes := pageRoutes(t, s, http.MethodGet, c.ID)
		for _, want := range []string{"/anmelden", "/pruefen", "/antraege/{id}", "/antraege/{id}/zurueckziehen", "/arbeitskorb",
			"/arbeitskorb/vorgaenge/{caseId}", "/verwaltung", "/verwaltung/zustellungen", "/verwaltung/definitionen/{id}/versionen/{version}"} {
			if _, ok := routes[want]; !ok {
				t.Fatalf("the walk missed %s: %v", want, routes)
			}
		}
		for tmpl, path := range routes {
			if strings.HasSuffix(tmpl, "/ereignisse") {
				continue // event streams, no pages
			}
			t.Run(strconv.FormatBool(https)+" "+tmpl, func(t *testing.T) {
				rec := s.serve(doorRequest{method: http.MethodGet, target: path, cookies: credentialsFor(s, path, token)})
				if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
					t.Fatalf("HTTP %d", rec.Code)
				}
				assertPageHeaders(t, rec, https)
			})
		}
		t.Run(strconv.FormatBool(https)+" refusals and unknown pages", func(t *testing.T) {
			for _, q := range []doorRequest{
				{method: http.MethodGet, target: "/antraege/" + c.ID},
				{method: http.MethodGet, target: "/verwaltung", cookies: credentialsFor(s, "/arbeitskorb", "")},
				{method: http.MethodGet, target: "/nirgendwo"},
			} {
				rec := s.serve(q)
				if rec.Code < 400 {
					t.Errorf("%s: %d", q.target, rec.Code)
				}
				assertPageHeaders(t, rec, https)
			}
		})
	}
}

// TestEveryAnswerIsNotSniffed: the API's answers, documents and problems
// too carry nosniff and no referrer.
func TestEveryAnswerIsNotSniffed(t *testing.T) {
	s, st := doorServer(t, Config{HTTPS: true}, nil)
	sealed := testCase(ozgflow.StatusInReview)
	sealed.Seal = newSealingKey(t).seal(t, sealed, `{}`)
	if err := st.SaveCase(context.Background(), sealed); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		q           doorRequest
		status      int
		contentType string
	}{
		{doorRequest{method: http.MethodGet, target: "/api/v1/openapi.yaml"}, http.StatusOK, "application/yaml"},
		{doorRequest{method: http.MethodGet, target: "/api/v1/queues", bearer: "dev-sb-leipzig"}, http.StatusOK, "application/json"},
		{doorRequest{method: http.MethodGet, target: "/api/v1/tasks/export.xlsx", bearer: "dev-sb-leipzig"}, http.StatusOK,
			"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
		{doorRequest{method: http.MethodGet, target: "/api/v1/applications/" + sealed.ID + "/receipt.pdf", bearer: "dev-sb-leipzig"},
			http.StatusOK, "application/pdf"},
		{doorRequest{method: http.MethodGet, target: "/api/v1/queues"}, http.StatusUnauthorized, "application/problem+json"},
		{doorRequest{method: http.MethodGet, target: "/api/v1/nothing"}, http.StatusNotFound, "application/problem+json"},
		{doorRequest{method: http.MethodDelete, target: "/api/v1/queues", bearer: "dev-sb-leipzig"}, http.StatusMethodNotAllowed,
			"application/problem+json"},
		{doorRequest{method: http.MethodGet, target: "/healthz"}, http.StatusOK, ""},
		{doorRequest{method: http.MethodGet, target: "/antraege/" + sealed.ID + "?token=" + url.QueryEscape(s.tokens.Issue(sealed.ID))},
			http.StatusSeeOther, ""},
	} {
		rec := s.serve(tt.q)
		h := rec.Header()
		if rec.Code != tt.status || !strings.HasPrefix(h.Get("Content-Type"), tt.contentType) {
			t.Errorf("%s %s: %d %s, want %d %s", tt.q.method, tt.q.target, rec.Code, h.Get("Content-Type"), tt.status, tt.contentType)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" ||
			!strings.HasPrefix(h.Get("Strict-Transport-Security"), "max-age=") {
			t.Errorf("%s %s: %v", tt.q.method, tt.q.target, h)
		}
	}
}

// temporalOffline is a Temporal client that answers every update and
// query with "unavailable", so that a form that gets past its checks ends
// in a readable refusal instead of a start.
func temporalOffline() *mocks.Client {
	tc := &mocks.Client{}
	down := serviceerror.NewUnavailable("temporal is down for the test")
	tc.On("UpdateWorkflow", mock.Anything, mock.Anything).Return(nil, down)
	tc.On("QueryWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(nil, down)
	tc.On("QueryWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(nil, down)
	tc.On("SignalWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(down)
	return tc
}

// postForm is a POST of a page's form, url-encoded or multipart, from the
// page's own site (same-origin) unless header says otherwise.
func postForm(s *Server, path string, form url.Values, multipart bool, cookies []*http.Cookie, header map[string]string) *httptest.ResponseRecorder {
	q := doorRequest{method: http.MethodPost, target: path, cookies: cookies, header: map[string]string{"Sec-Fetch-Site": "same-origin"}}
	for k, v := range header {
		q.header[k] = v
	}
	if multipart {
		var b strings.Builder
		const boundary = "doorwayboundary"
		for k, vs := range form {
			for _, v := range vs {
				b.WriteString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + v + "\r\n")
			}
		}
		b.WriteString("--" + boundary + "--\r\n")
		q.body, q.contentType = b.String(), "multipart/form-data; boundary="+boundary
	} else {
		q.body, q.contentType = form.Encode(), "application/x-www-form-urlencoded"
	}
	if q.body == "" {
		q.body = " "
	}
	return s.serve(q)
}

// pageFormToken is the token a page's form carries for its reader.
func pageFormToken(path string, cookies []*http.Cookie) string {
	switch {
	case strings.HasPrefix(path, "/antraege/"):
		return formToken("citizen csrf", cookies[0].Value)
	case strings.HasPrefix(path, "/pruefen"):
		return formToken("verify csrf", cookies[0].Value)
	case path == "/anmelden":
		return formToken("signin csrf", cookies[0].Value)
	}
	return formToken("csrf", cookies[0].Value)
}

// isFormRefusal reports whether rec is the refusal of a form without its
// token: the staff's or the applicant's "form expired" page.
func isFormRefusal(rec *httptest.ResponseRecorder) bool {
	body := rec.Body.String()
	return rec.Code == http.StatusForbidden && (strings.Contains(body, "Das Formular ist abgelaufen") ||
		strings.Contains(body, "Formular ist nicht mehr gültig"))
}

// TestEveryFormChecksItsToken walks every form the staff's and the
// applicant's pages post to: without its token, url-encoded or multipart,
// it is refused; with it, it passes. The sign-in is the exception: no
// session exists yet to bind a token to; the cross-origin protection
// guards it (TestCrossSiteFormsAreRefused).
func TestEveryFormChecksItsToken(t *testing.T) {
	s, st := doorServer(t, Config{}, temporalOffline())
	c := testCase(ozgflow.StatusInReview)
	if err := st.SaveCase(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	token := s.tokens.Issue(c.ID)
	visitor := &http.Cookie{Name: "ozgflow_pruefen", Value: strings.Repeat("ab", 16)}
	routes := pageRoutes(t, s, http.MethodPost, c.ID)
	if len(routes) < 12 {
		t.Fatalf("walked %d forms: %v", len(routes), routes)
	}
	for tmpl, path := range routes {
		// Each post gets its credentials anew: signing out ends the session.
		credentials := func() []*http.Cookie {
			if tmpl == "/pruefen" {
				return []*http.Cookie{visitor}
			}
			return credentialsFor(s, path, token)
		}
		t.Run(tmpl, func(t *testing.T) {
			// A browser sends its own form with Sec-Fetch-Site, or, from
			// before 2023 and under Referrer-Policy no-referrer, with
			// "Origin: null" only; either way the token decides.
			for browser, header := range map[string]map[string]string{
				"current": nil, "older": {"Sec-Fetch-Site": "", "Origin": "null"},
			} {
				for _, multipart := range []bool{false, true} {
					form := url.Values{"reason": {"Versehen"}, "action": {"claim"}, "text": {"Antwort"}}
					if rec := postForm(s, path, form, multipart, credentials(), header); !isFormRefusal(rec) {
						t.Errorf("%s browser, without a token (multipart %v): %d %s", browser, multipart, rec.Code, rec.Body.String())
					}
					form.Set("csrf", "0123456789abcdef")
					if rec := postForm(s, path, form, multipart, credentials(), header); !isFormRefusal(rec) {
						t.Errorf("%s browser, with a forged token (multipart %v): %d", browser, multipart, rec.Code)
					}
					cookies := credentials()
					form.Set("csrf", pageFormToken(path, cookies))
					if rec := postForm(s, path, form, multipart, cookies, header); isFormRefusal(rec) || rec.Code == http.StatusForbidden ||
						rec.Code == http.StatusInternalServerError {
						t.Errorf("%s browser, with its token (multipart %v): %d %s", browser, multipart, rec.Code, rec.Body.String())
					}
				}
			}
		})
	}
}

// TestMultipartWithdrawWithoutTokenIsRefused: a withdrawal sent as
// multipart without its token reaches no workflow.
func TestMultipartWithdrawWithoutTokenIsRefused(t *testing.T) {
	tc := &mocks.Client{} // any call would fail the test: it expects none
	s, st := doorServer(t, Config{}, tc)
	c := testCase(ozgflow.StatusInReview)
	if err := st.SaveCase(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	applicant := []*http.Cookie{{Name: web.ApplicantCookie, Value: s.tokens.Issue(c.ID)}}
	rec := postForm(s, "/antraege/"+c.ID+"/zurueckziehen", url.Values{"reason": {"Versehen"}}, true, applicant, nil)
	if !isFormRefusal(rec) {
		t.Fatalf("multipart withdrawal without its token: %d %s", rec.Code, rec.Body.String())
	}
	tc.AssertExpectations(t)
}

// TestCrossSiteFormsAreRefused: a form another site makes a browser send
// is refused, even with the right token and cookies, by Sec-Fetch-Site or
// by Origin; servers that call the API send neither and pass.
func TestCrossSiteFormsAreRefused(t *testing.T) {
	s, st := doorServer(t, Config{}, temporalOffline())
	c := testCase(ozgflow.StatusInReview)
	if err := st.SaveCase(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	token := s.tokens.Issue(c.ID)
	routes := pageRoutes(t, s, http.MethodPost, c.ID)
	if _, ok := routes["/anmelden"]; !ok {
		t.Fatal("the walk missed the sign-in")
	}
	for tmpl, path := range routes {
		cookies := credentialsFor(s, path, token)
		form := url.Values{"token": {"dev-admin"}}
		if len(cookies) > 0 {
			form.Set("csrf", pageFormToken(path, cookies))
		}
		for name, header := range map[string]map[string]string{
			"Sec-Fetch-Site": {"Sec-Fetch-Site": "cross-site", "Origin": "https://boese.example"},
			"same site":      {"Sec-Fetch-Site": "same-site", "Origin": "https://sub.example.com"},
			"Origin only":    {"Sec-Fetch-Site": "", "Origin": "https://boese.example"},
		} {
			t.Run(tmpl+" "+name, func(t *testing.T) {
				for _, multipart := range []bool{false, true} {
					rec := postForm(s, path, form, multipart, cookies, header)
					if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "Anfrage von einer anderen Seite") {
						t.Errorf("multipart %v: %d %s", multipart, rec.Code, rec.Body.String())
					}
					assertPageHeaders(t, rec, false)
				}
			})
		}
	}
	t.Run("the sign-in from this site", func(t *testing.T) {
		rec := postForm(s, "/anmelden", url.Values{"token": {"dev-admin"}, "csrf": {formToken("signin csrf", signInBinding)}}, false,
			credentialsFor(s, "/anmelden", ""), nil)
		if rec.Code != http.StatusSeeOther {
			t.Errorf("HTTP %d", rec.Code)
		}
	})
	t.Run("the API from a browser on another site", func(t *testing.T) {
		rec := s.serve(doorRequest{method: http.MethodPost, target: "/api/v1/applications", bearer: "dev-portal", body: "{}",
			contentType: "application/json", header: map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://boese.example"}})
		var p web.Problem
		if rec.Code != http.StatusForbidden || json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Status != http.StatusForbidden {
			t.Errorf("HTTP %d %s", rec.Code, rec.Body.String())
		}
	})
	t.Run("the API from a server", func(t *testing.T) {
		rec := s.serve(doorRequest{method: http.MethodPost, target: "/api/v1/applications", bearer: "dev-portal", body: "{}",
			contentType: "application/json"})
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("HTTP %d %s", rec.Code, rec.Body.String())
		}
	})
	t.Run("a webhook", func(t *testing.T) {
		rec := s.serve(doorRequest{method: http.MethodPost, target: "/api/v1/webhooks/payments", body: "{}", contentType: "application/json"})
		if rec.Code == http.StatusForbidden && strings.Contains(rec.Body.String(), "cross-origin") {
			t.Errorf("refused as cross-origin: %s", rec.Body.String())
		}
	})
}

// TestReceiptLinkCarriesNoToken: the status page links the receipt
// without the access token; the applicant's cookie opens it.
func TestReceiptLinkCarriesNoToken(t *testing.T) {
	s, _, sealed, _ := receiptServer(t)
	token := s.tokens.Issue(sealed.ID)
	applicant := &http.Cookie{Name: web.ApplicantCookie, Value: token}
	page := citizenGet(s, "/antraege/"+sealed.ID, applicant)
	link := regexp.MustCompile(`id="receipt-link" href="([^"]+)"`).FindStringSubmatch(page.Body.String())
	if page.Code != http.StatusOK || link == nil {
		t.Fatalf("status page: %d\n%s", page.Code, page.Body.String())
	}
	href := strings.ReplaceAll(link[1], "&amp;", "&")
	if want := "/api/v1/applications/" + sealed.ID + "/receipt.pdf"; href != want {
		t.Errorf("receipt link %q, want %q", href, want)
	}
	if strings.Contains(page.Body.String(), token) || strings.Contains(page.Body.String(), "token=") {
		t.Error("the page shows the access token")
	}
	rec := citizenGet(s, href, applicant)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/pdf" {
		t.Errorf("the receipt by the cookie: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if rec := citizenGet(s, href); rec.Code != http.StatusUnauthorized {
		t.Errorf("the receipt without the cookie: %d", rec.Code)
	}
}

// TestApplicantCookieIsSecureBehindHTTPS: behind https (a proxy ending
// TLS included) the applicant's cookie is Secure; over plain http in dev
// it cannot be.
func TestApplicantCookieIsSecureBehindHTTPS(t *testing.T) {
	for _, https := range []bool{true, false} {
		s, st := doorServer(t, Config{HTTPS: https}, nil)
		c := testCase(ozgflow.StatusInReview)
		if err := st.SaveCase(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		rec := s.serve(doorRequest{method: http.MethodGet, target: "/antraege/" + c.ID + "?token=" + url.QueryEscape(s.tokens.Issue(c.ID))})
		var applicant *http.Cookie
		for _, ck := range rec.Result().Cookies() {
			if ck.Name == web.ApplicantCookie {
				applicant = ck
			}
		}
		if applicant == nil || applicant.Secure != https || !applicant.HttpOnly {
			t.Errorf("https %v: applicant cookie %+v (answer %d)", https, applicant, rec.Code)
		}
	}
}
