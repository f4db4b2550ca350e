package oidctest

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/op"
)

//go:embed pages.html
var pageFiles embed.FS

func parsePages() (*template.Template, error) {
	pages, err := template.ParseFS(pageFiles, "pages.html")
	if err != nil {
		return nil, fmt.Errorf("oidctest: parse pages: %w", err)
	}
	return pages, nil
}

// loginForm is what the login page shows.
type loginForm struct {
	Action, AuthRequestID, Username, Error string
}

const wrongCredentials = "Benutzername oder Passwort ist falsch."

// showLogin is where op sends the browser from /authorize.
func (p *Provider) showLogin(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	if !p.store.authRequestPending(id) {
		p.showUnknownRequest(w)
		return
	}
	p.render(w, http.StatusOK, "login", loginForm{Action: loginPath, AuthRequestID: id})
}

// login checks the password, completes the auth request and sends the
// browser back to op's callback, which redirects to the client with a code.
// A wrong password shows the form again with a message.
func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "Formular nicht lesbar", http.StatusBadRequest)
		return
	}
	id, username := r.PostForm.Get("authRequestID"), r.PostForm.Get("username")
	err := p.store.signIn(id, username, r.PostForm.Get("password"))
	switch {
	case errors.Is(err, errUnknownAuthRequest):
		p.showUnknownRequest(w)
	case errors.Is(err, errWrongCredentials):
		p.render(w, http.StatusOK, "login", loginForm{
			Action: loginPath, AuthRequestID: id, Username: username, Error: wrongCredentials,
		})
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	default:
		callback := op.AuthCallbackURL(p.op)(op.ContextWithIssuer(r.Context(), p.issuer), id)
		http.Redirect(w, r, callback, http.StatusFound)
	}
}

func (p *Provider) showUnknownRequest(w http.ResponseWriter) {
	p.render(w, http.StatusBadRequest, "problem",
		"Die Anmeldeanfrage ist unbekannt oder schon verwendet. Bitte starten Sie die Anmeldung neu.")
}

// showLoggedOut is where end_session sends a browser that named no
// post_logout_redirect_uri.
func (p *Provider) showLoggedOut(w http.ResponseWriter, _ *http.Request) {
	p.render(w, http.StatusOK, "loggedout", nil)
}

func (p *Provider) render(w http.ResponseWriter, status int, page string, data any) {
	var buf bytes.Buffer
	if err := p.pages.ExecuteTemplate(&buf, page, data); err != nil {
		slog.Error("oidctest: render page", "page", page, "error", err)
		http.Error(w, "Seite nicht darstellbar", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}
