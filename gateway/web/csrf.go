package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"

	"github.com/ozgflow/ozgflow/locale"
)

// Cross-site request forgery is refused twice over. CrossOrigin wraps the
// whole gateway in Go's http.CrossOriginProtection: a browser's request
// that changes something (any method but GET, HEAD and OPTIONS) from
// another origin is refused, whatever its body (forms, multipart uploads,
// the sign-in, JSON), by Sec-Fetch-Site or, from older browsers, by Origin.
// Servers calling the API send neither header and pass. And every form of
// the staff's and the applicant's pages carries a token (CSRF) bound to
// what identifies its reader, for browsers that send neither header.

// CrossOrigin returns middleware that puts next behind the cross-origin
// protection; a refusal is answered with 403: a problem document under
// /api, a readable page in the request's language elsewhere.
//
// One request it lets through to next: without Sec-Fetch-Site and with
// "Origin: null". That is what a browser from before 2023 sends with its
// own forms, as the pages' Referrer-Policy is no-referrer; the form's token
// decides on it, and the API takes changes by bearer token only.
//
// Each of shared opens its routes, besides, to the browser apps of the
// origins it names (Shared); any other site is refused there as anywhere.
func CrossOrigin(logger *slog.Logger, shared ...Shared) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		c := http.NewCrossOriginProtection()
		c.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Sec-Fetch-Site") == "" && r.Header.Get("Origin") == "null" {
				next.ServeHTTP(w, r)
				return
			}
			refuseCrossOrigin(w, r, logger)
		}))
		protected := c.Handler(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for _, s := range shared {
				if !strings.HasPrefix(r.URL.Path, s.Path) {
					continue
				}
				w.Header().Add("Vary", "Origin") // the answer differs by origin
				if s.admits(r) {
					s.serve(w, r, next)
					return
				}
			}
			protected.ServeHTTP(w, r)
		})
	}
}

// refuseCrossOrigin answers a request from another site.
func refuseCrossOrigin(w http.ResponseWriter, r *http.Request, logger *slog.Logger) {
	if IsAPI(r) {
		WriteProblem(w, Problem{Type: "urn:ozgflow:problem:cross-origin", Title: http.StatusText(http.StatusForbidden),
			Status: http.StatusForbidden, Detail: "A request from another site may not change anything here."})
		return
	}
	l := locale.FromRequest(r)
	Renderer{Logger: logger}.Error(w, http.StatusForbidden, ErrorPage{Lang: string(l),
		Title: l.Text(false, "error.crossorigin.page.title"), Text: l.Text(false, "error.crossorigin.page.text"),
		Help: l.Text(false, "error.crossorigin.page.help")})
}

// CSRF binds forms to what identifies their reader: every form carries the
// token derived from the session (or the applicant's access token), and a
// post whose token does not match is refused.
type CSRF struct{ Secret []byte }

// Token is the form token of a session; purpose separates the families of
// pages.
func (c CSRF) Token(purpose, session string) string {
	mac := hmac.New(sha256.New, c.Secret)
	mac.Write([]byte(purpose + "\x00" + session))
	return hex.EncodeToString(mac.Sum(nil))
}

// Valid reports whether a posted token belongs to the session.
func (c CSRF) Valid(purpose, session, posted string) bool {
	return posted != "" && hmac.Equal([]byte(posted), []byte(c.Token(purpose, session)))
}
