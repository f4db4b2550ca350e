package gateway

import (
	"io"
	"log/slog"
	"testing"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
	"github.com/ozgflow/ozgflow/internal/recordstest"
	"github.com/ozgflow/ozgflow/metrics"
	"github.com/ozgflow/ozgflow/test/access"
)

// TestAccessMatrixCoversTheRouter holds the least-privilege matrix
// (test/access) to the router: every route that answers a method has a row
// that says who may use it, and every row names a route. The routes that
// answer any other method with 405 follow from the others.
func TestAccessMatrixCoversTheRouter(t *testing.T) {
	routes, err := access.Routes()
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	paths := map[string]bool{}
	for _, r := range routes {
		declared[r.String()] = true
		paths[r.Path] = true
	}
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	// With metrics, as `dev` and the gateway run, so /metrics is routed too.
	s := New(Config{Secret: testSecret, Records: recordstest.Open(t, "sqlite"), Metrics: metrics.New(), FITConnect: fitConnectConfig(t)},
		nil, nil, casework.StaticDefinitions{Reg: reg}, DevTokens(),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	routed := map[string]bool{}
	err = s.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		if route.GetHandler() == nil {
			return nil // a room, not a route
		}
		tmpl, err := route.GetPathTemplate()
		if err != nil {
			return err
		}
		methods, _ := route.GetMethods()
		if len(methods) == 0 {
			if !paths[tmpl] {
				t.Errorf("%s answers any method, but the access matrix has no row for its path", tmpl)
			}
			return nil
		}
		for _, m := range methods {
			routed[m+" "+tmpl] = true
			if !declared[m+" "+tmpl] {
				t.Errorf("%s %s has no row in the access matrix (test/access): declare who may use it", m, tmpl)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		if !routed[r.String()] {
			t.Errorf("the access matrix declares %s, which the router does not have", r)
		}
	}
}
