package gateway

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"gopkg.in/yaml.v3"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
	"github.com/ozgflow/ozgflow/gateway/api"
	"github.com/ozgflow/ozgflow/gateway/intake"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/internal/fitconnecttest"
	"github.com/ozgflow/ozgflow/internal/recordstest"
	"github.com/ozgflow/ozgflow/store"
)

// testSecret is the secret of the test servers.
var testSecret = []byte("test-secret-0123456789")

// formToken is the CSRF token the test servers' forms carry for a session.
func formToken(purpose, session string) string {
	return web.CSRF{Secret: testSecret}.Token(purpose, session)
}

// testSessions remembers the sessions sessionOf opened, per server and token.
var testSessions sync.Map

// sessionOf returns the ID of a session of the demo identity with token on
// the server's store, opened once; other values are returned as they are.
func sessionOf(s *Server, token string) string {
	id, ok := DevTokens()[token]
	if !ok || s.store == nil {
		return token
	}
	key := fmt.Sprintf("%p %s", s, token)
	if sid, ok := testSessions.Load(key); ok {
		// A server of an ended test may have left its address behind.
		if _, live, _ := s.store.Session(context.Background(), sid.(string), store.DefaultSessionTimeouts, time.Now()); live {
			return sid.(string)
		}
	}
	sess, err := s.store.CreateSession(context.Background(), store.Session{Identity: id, Via: "demo", CreatedAt: time.Now()},
		store.DefaultSessionTimeouts)
	if err != nil {
		panic(err)
	}
	testSessions.Store(key, sess.ID)
	return sess.ID
}

func newTestServer(t *testing.T) *Server {
	t.Helper()
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	return New(Config{Secret: testSecret, Records: recordstest.Open(t, "sqlite"), FITConnect: fitConnectConfig(t)},
		nil, nil, casework.StaticDefinitions{Reg: reg}, DevTokens(),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// TestOpenAPIDescribesEveryRoute keeps the served OpenAPI document true: each
// API route of the router is described with its method, and nothing more.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	var doc struct {
		OpenAPI string                    `yaml:"openapi"`
		Paths   map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi = %q, want 3.1", doc.OpenAPI)
	}
	described := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			described[strings.ToUpper(method)+" "+path] = true
		}
	}
	routed := map[string]bool{}
	err := newTestServer(t).router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		path, err := route.GetPathTemplate()
		methods, merr := route.GetMethods()
		if err != nil || merr != nil || !strings.HasPrefix(path, "/api/v1/") {
			return nil
		}
		for _, m := range methods {
			routed[m+" "+strings.TrimPrefix(path, "/api/v1")] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for r := range routed {
		if !described[r] {
			t.Errorf("route %s is not in openapi.yaml", r)
		}
	}
	for d := range described {
		if !routed[d] {
			t.Errorf("openapi.yaml describes %s, which is not routed", d)
		}
	}
}

func TestServedOpenAPI(t *testing.T) {
	rec := httptest.NewRecorder()
	newTestServer(t).Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/openapi.yaml", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "/applications/{id}/receipt") {
		t.Errorf("GET openapi.yaml: %d", rec.Code)
	}
}

func TestErrorCodesMapToStatuses(t *testing.T) {
	tests := []struct {
		code string
		want int
	}{
		{ozgflow.EINVALID, 400}, {ozgflow.EUNAUTHORIZED, 401}, {ozgflow.EFORBIDDEN, 403},
		{ozgflow.ENOTFOUND, 404}, {ozgflow.ECONFLICT, 409}, {ozgflow.ETOOLARGE, 413},
		{ozgflow.EUNSUPPORTED, 415}, {ozgflow.EUNPROCESSABLE, 422}, {ozgflow.EINTERNAL, 500},
		{ozgflow.EUNAVAILABLE, 503}, {"ESOMETHING", 500},
	}
	for _, tt := range tests {
		if got := web.StatusOf(tt.code); got != tt.want {
			t.Errorf("%s → %d, want %d", tt.code, got, tt.want)
		}
	}
}

func TestAccessTokens(t *testing.T) {
	a := web.NewAccessTokens([]byte("secret-one-0123456789"))
	tok := a.Issue("case-1")
	if !a.Valid("case-1", tok) || a.Valid("case-2", tok) || a.Valid("case-1", tok+"x") {
		t.Error("token checks wrong")
	}
	if web.NewAccessTokens([]byte("secret-two-0123456789")).Valid("case-1", tok) {
		t.Error("token valid under another secret")
	}
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	s := newTestServer(t)
	s.router.HandleFunc("/boom", func(w http.ResponseWriter, r *http.Request) { panic("database password is hunter2") })
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom", nil))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "hunter2") ||
		rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("panic answered %d %q", rec.Code, rec.Body.String())
	}
}

// fitConnectConfig serves the FIT-Connect room with the shared test keys
// and the dev sender.
func fitConnectConfig(t *testing.T) *intake.Config {
	t.Helper()
	apiKey, keys := fitconnecttest.Keys(t)
	return &intake.Config{Clients: map[string]string{"dev-fitconnect": "dev-fitconnect-secret"}, TokenSecret: testSecret,
		SigningKey: apiKey, Keys: keys, PublicURL: "http://localhost:8080"}
}
