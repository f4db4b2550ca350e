package web

import (
	"net/http"
	"slices"
	"strings"
)

// Shared names routes that the browser apps of a few other origins may
// call with the staff's cookies (cross-origin resource sharing with
// credentials): the Temporal Web UI, served on a port of its own, calls the
// codec endpoint. CrossOrigin answers their preflights, lets their browsers
// read the answers, and lets their requests past the protection that
// refuses every other site's. Who the request identifies, and whom the
// route admits, stay as for any request.
type Shared struct {
	// Path is the prefix of the shared routes, e.g. "/api/v1/codec/".
	Path string
	// Origins are the origins let in, each exactly as a browser sends it,
	// e.g. "http://localhost:8233".
	Origins []string
	// Methods and Headers are those a preflight may ask for.
	Methods, Headers []string
}

// admits reports whether r, a request of a shared route, comes from an
// origin let in.
func (s Shared) admits(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	return origin != "" && slices.Contains(s.Origins, origin)
}

// serve answers a request of an admitted origin: a preflight itself, any
// other request through next, each readable by the origin.
func (s Shared) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
	h.Set("Access-Control-Allow-Credentials", "true")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Set("Access-Control-Allow-Methods", strings.Join(s.Methods, ", "))
		h.Set("Access-Control-Allow-Headers", strings.Join(s.Headers, ", "))
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	next.ServeHTTP(w, r)
}
