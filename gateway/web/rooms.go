package web

import (
	"net/http"
	"slices"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
)

// Audience says who may enter a room of routes, and how the room answers
// those who may not.
type Audience struct {
	// Name describes the audience for people, e.g. "portal clients".
	Name string
	// Roles may enter; ozgflow.RoleAnonymous among them lets everybody in.
	Roles []ozgflow.Role
	// Deny answers a request whose identity is not among Roles.
	Deny http.HandlerFunc
	// Sources are the credentials the room accepts, in the order it
	// prefers them; none means every source.
	Sources []Source
	// BearerForChanges keeps cookies and links from changing anything: on
	// a request that is not GET or HEAD only a bearer token counts, against
	// cross-site request forgery (the JSON API).
	BearerForChanges bool
	// Scope, if set, must be granted by an API client's token
	// (ozgflow.Identity.Granted); a token without it gets 403.
	Scope string
}

// accepts reports whether the room takes a credential of source for r.
func (a Audience) accepts(source Source, r *http.Request) bool {
	if a.BearerForChanges && source != SourceBearer && r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	return len(a.Sources) == 0 || slices.Contains(a.Sources, source)
}

// identify picks the request's identity as the room sees it: the first
// credential presented whose source the room accepts, else nobody.
func (a Audience) identify(r *http.Request) *http.Request {
	for _, p := range presentedFrom(r.Context()) {
		if a.accepts(p.Credential.Source, r) {
			return r.WithContext(withIdentity(r.Context(), p))
		}
	}
	return r.WithContext(withIdentity(r.Context(), Presented{}))
}

// Admits reports whether the identity may enter.
func (a Audience) Admits(id ozgflow.Identity) bool {
	if slices.Contains(a.Roles, ozgflow.RoleAnonymous) {
		return true
	}
	return slices.ContainsFunc(a.Roles, id.Has)
}

// Rooms opens subrouters by audience and remembers each one's audience, so
// that a test can prove that no route lacks one.
type Rooms struct {
	audiences map[*mux.Router]Audience
}

// NewRooms returns an empty register of rooms.
func NewRooms() *Rooms { return &Rooms{audiences: map[*mux.Router]Audience{}} }

// Open returns a subrouter of parent for the routes under prefix ("" for
// none) that only the audience may enter.
func (rs *Rooms) Open(parent *mux.Router, prefix string, a Audience) *mux.Router {
	var r *mux.Router
	if prefix == "" {
		r = parent.NewRoute().Subrouter()
	} else {
		r = parent.PathPrefix(prefix).Subrouter()
	}
	if a.Deny == nil && !a.Admits(ozgflow.Identity{}) {
		panic("room " + a.Name + " refuses callers but has no Deny")
	}
	r.Use(requireAudience(a))
	rs.audiences[r] = a
	return r
}

// AudienceOf returns the audience of a room opened by Open.
func (rs *Rooms) AudienceOf(r *mux.Router) (Audience, bool) {
	a, ok := rs.audiences[r]
	return a, ok
}

// requireAudience lets in only the audience's identities.
func requireAudience(a Audience) mux.MiddlewareFunc {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r = a.identify(r)
			id := ozgflow.IdentityFrom(r.Context())
			if !a.Admits(id) {
				a.Deny(w, r)
				return
			}
			if a.Scope != "" && !id.Granted(a.Scope) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="ozgflow", error="insufficient_scope", scope="`+a.Scope+`"`)
				WriteProblem(w, NewProblem(ozgflow.Errorf(ozgflow.EFORBIDDEN, "The access token does not grant the scope %s.", a.Scope)))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
