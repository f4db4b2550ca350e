package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/ozgflow/ozgflow/locale"
)

// NewNonce returns a fresh random value for a page's Content-Security-Policy
// and its inline scripts.
func NewNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawStdEncoding.EncodeToString(b[:])
}

// ParsePages parses each named page from fsys (templates/<name>.html) with
// the layout templates/layout.html and funcs (may be nil). It panics on a
// missing or broken template, so that it fails the start, not a request.
func ParsePages(fsys fs.FS, funcs template.FuncMap, names ...string) map[string]*template.Template {
	out := make(map[string]*template.Template, len(names))
	for _, name := range names {
		out[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(fsys, "templates/layout.html", "templates/"+name+".html"))
	}
	return out
}

// Renderer writes pages: rendered into a buffer first, so that a template
// error never leaves half a page, and sent with the headers every page
// carries (nonce-based CSP, nosniff, no framing, no caching of personal
// data).
type Renderer struct{ Logger *slog.Logger }

// Page renders template name of t with data and writes it with status; lang
// is the page's language and nonce the one its inline scripts carry.
func (rd Renderer) Page(w http.ResponseWriter, status int, t *template.Template, name, lang, nonce string, data any) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		rd.Logger.Error("Page not rendered", "page", t.Name(), "template", name, "error", err)
		rd.Error(w, http.StatusInternalServerError, ErrorPage{Lang: lang, Title: "Interner Fehler / Internal error",
			Text: "Die Seite konnte nicht angezeigt werden. / The page could not be shown."})
		return
	}
	SetPageHeaders(w.Header(), lang, nonce)
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// SetPageHeaders sets the headers every page carries: pages show personal
// data, so no cache keeps them; their addresses may name a case, so no
// referrer leaves them, not even to the gateway's own API.
func SetPageHeaders(h http.Header, lang, nonce string) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	if lang != "" {
		h.Set("Content-Language", lang)
	}
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'nonce-"+nonce+"'; style-src 'self' 'unsafe-inline'; "+
		"img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Vary", "Cookie, Accept-Language")
}

// SecureHeaders sets the headers every answer carries, page, document or
// problem: browsers take the content type as sent (nosniff), no referrer
// leaves, and with https Strict-Transport-Security keeps browsers on it.
// Pages add theirs (SetPageHeaders).
func SecureHeaders(https bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			if https {
				h.Set("Strict-Transport-Security", "max-age=31536000")
				r = r.WithContext(context.WithValue(r.Context(), httpsKey{}, true))
			}
			next.ServeHTTP(w, r)
		})
	}
}

type httpsKey struct{}

// SecureCookies reports whether cookies set for r must be Secure: people
// reach the gateway over https, whether it ends TLS itself or a proxy does.
func SecureCookies(r *http.Request) bool {
	https, _ := r.Context().Value(httpsKey{}).(bool)
	return https || r.TLS != nil
}

// ErrorPage is what the error page shows: in the language of the request,
// what went wrong, what to do, and where to go on.
type ErrorPage struct {
	Lang  string
	Title string
	Text  string
	Help  string
	// Back is a link on, with its text.
	Back, BackText string
	// Site names the pages the error happened on; Links lead on from its
	// header; Footer is the footer's sentence, if any.
	Site   string
	Links  []Link
	Footer string
	// Skip is the text of the link that skips to the content.
	Skip string
}

// Link is a link with its text.
type Link struct{ Href, Text string }

//go:embed templates/error.html
var errorFS embed.FS

var errorTemplate = template.Must(template.ParseFS(errorFS, "templates/error.html"))

// Error writes the error page with status.
func (rd Renderer) Error(w http.ResponseWriter, status int, p ErrorPage) {
	if p.Site == "" {
		p.Site = "ozgflow"
	}
	if p.Skip == "" {
		p.Skip = locale.Lang(p.Lang).Text(false, "skip")
	}
	var buf bytes.Buffer
	if err := errorTemplate.Execute(&buf, p); err != nil {
		rd.Logger.Error("Error page not rendered", "error", err)
		http.Error(w, p.Title, status)
		return
	}
	SetPageHeaders(w.Header(), p.Lang, NewNonce())
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}
