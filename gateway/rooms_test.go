package gateway

import (
	"testing"

	"github.com/gorilla/mux"
)

// TestEveryRouteHasAnAudience walks the router: every route that answers
// requests sits in a room that states who may enter.
func TestEveryRouteHasAnAudience(t *testing.T) {
	s := newTestServer(t)
	routes := 0
	err := s.router.Walk(func(route *mux.Route, owner *mux.Router, _ []*mux.Route) error {
		if route.GetHandler() == nil {
			return nil // a room itself, not a route
		}
		routes++
		tmpl, _ := route.GetPathTemplate()
		methods, _ := route.GetMethods()
		if owner == s.router {
			t.Errorf("route %v %s is outside every room", methods, tmpl)
			return nil
		}
		a, ok := s.rooms.AudienceOf(owner)
		if !ok {
			t.Errorf("route %v %s is in a room without audience", methods, tmpl)
			return nil
		}
		if len(a.Roles) == 0 || a.Name == "" {
			t.Errorf("route %v %s: the audience names nobody", methods, tmpl)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if routes < 60 {
		t.Errorf("walked %d routes; the router has more", routes)
	}
}
