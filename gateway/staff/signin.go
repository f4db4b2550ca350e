package staff

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode"

	"golang.org/x/oauth2"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/gateway/idp"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/records"
	"github.com/ozgflow/ozgflow/store"
)

// Sign-in: staff sign in at the identity provider (authorization code flow
// with PKCE) or, in `dev`, with a demo identity. Either way they get a
// server-side session (web.Sessions); sign-ins, refused sign-ins and
// sign-outs are written to the audit trail.

const (
	// signInCookie carries a random value the sign-in form's token is
	// bound to, before there is a session.
	signInCookie = "ozgflow_anmeldung"
	// stateCookie binds the provider's return to the browser that left.
	stateCookie = "ozgflow_anmeldung_state"
	// signInCSRFPurpose separates the sign-in form's tokens from others.
	signInCSRFPurpose = "signin csrf"
	// signInAttemptTTL is how long a person may take at the provider.
	signInAttemptTTL = 10 * time.Minute
)

// demoIdentity is a sign-in button of the demo identities.
type demoIdentity struct{ Token, Name string }

func (p *Pages) handleSignInPage(w http.ResponseWriter, r *http.Request) {
	p.showSignIn(w, r, http.StatusOK, nil)
}

// showSignIn renders the sign-in page, with problems if any.
func (p *Pages) showSignIn(w http.ResponseWriter, r *http.Request, status int, problems []ozgflow.FieldError) {
	var demo []demoIdentity
	for token, id := range p.opts.Demo {
		if isStaff(id) {
			demo = append(demo, demoIdentity{Token: token, Name: id.Name})
		}
	}
	sort.Slice(demo, func(i, j int) bool { return demo[i].Name < demo[j].Name })
	next := localPath(r.FormValue("next"))
	v := view{Title: say("title.signin"), Nonce: web.NewNonce(), Flash: flashText(r.URL.Query().Get("hinweis")),
		CSRF: p.csrf.Token(signInCSRFPurpose, p.signInBinding(w, r)),
		Data: map[string]any{"Next": next, "Demo": demo, "Tokens": p.opts.Demo != nil}}
	if p.opts.Provider != nil {
		href := "/anmelden/oidc"
		if next != "" {
			href += "?next=" + url.QueryEscape(next)
		}
		v.Data.(map[string]any)["Provider"] = map[string]string{"Href": href, "Text": say("signin.provider.text"), "Button": say("signin.provider")}
	}
	if len(problems) > 0 {
		v.ProblemTitle, v.Problems = say("problem.signin"), problems
	}
	p.show(w, status, "signin", v)
}

// signInBinding returns the value the sign-in form is bound to, setting
// its cookie on the first visit.
func (p *Pages) signInBinding(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(signInCookie); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	value := randomToken()
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: value, Path: "/anmelden", HttpOnly: true,
		Secure: p.opts.Sessions.Secure, SameSite: http.SameSiteStrictMode, MaxAge: int(time.Hour.Seconds())})
	return value
}

// handleSignIn signs in with a demo identity's token (`dev` only).
func (p *Pages) handleSignIn(w http.ResponseWriter, r *http.Request) {
	binding := ""
	if ck, err := r.Cookie(signInCookie); err == nil {
		binding = ck.Value
	}
	if !p.csrf.Valid(signInCSRFPurpose, binding, r.PostFormValue("csrf")) {
		p.ErrorPage(w, r, http.StatusForbidden, "csrf")
		return
	}
	if p.opts.Demo == nil {
		p.showSignIn(w, r, http.StatusForbidden, []ozgflow.FieldError{{Detail: say("problem.signin.unavailable")}})
		return
	}
	id, ok := p.opts.Demo.Authenticate(r.Context(), strings.TrimSpace(r.PostFormValue("token")))
	if !ok {
		p.refused(r, ozgflow.Identity{}, "demo", "unknown token")
		p.showSignIn(w, r, http.StatusUnauthorized, []ozgflow.FieldError{{Detail: say("problem.signin.token")}})
		return
	}
	if !isStaff(id) {
		// A portal's or a back-office system's token opens no staff
		// session, as the identity provider admits no one without a
		// staff role.
		p.refused(r, id, "demo", "no staff role")
		p.showSignIn(w, r, http.StatusForbidden, []ozgflow.FieldError{{Detail: say("problem.signin.norole")}})
		return
	}
	p.startSession(w, r, store.Session{Identity: id, Via: "demo"}, r.PostFormValue("next"))
}

// isStaff reports whether an identity may have a staff session: case
// workers, administrators and the data protection role.
func isStaff(id ozgflow.Identity) bool {
	return id.Has(ozgflow.RoleCaseWorker) || id.Has(ozgflow.RoleAdmin) || id.Has(ozgflow.RoleDataProtection)
}

// handleProviderSignIn sends the person to the identity provider.
func (p *Pages) handleProviderSignIn(w http.ResponseWriter, r *http.Request) {
	if p.opts.Provider == nil {
		p.ErrorPage(w, r, http.StatusNotFound, "notfound")
		return
	}
	state, nonce, verifier := randomToken(), randomToken(), oauth2.GenerateVerifier()
	attempt := store.SignInAttempt{Verifier: verifier, Nonce: nonce, Next: localPath(r.URL.Query().Get("next"))}
	if err := p.store.SaveSignInAttempt(r.Context(), state, attempt, signInAttemptTTL); err != nil {
		p.logger.Error("Sign-in attempt not saved", "error", err)
		p.ErrorPage(w, r, http.StatusServiceUnavailable, "unavailable")
		return
	}
	// Lax: the provider's redirect back is a cross-site navigation.
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: state, Path: "/anmelden", HttpOnly: true,
		Secure: p.opts.Sessions.Secure, SameSite: http.SameSiteLaxMode, MaxAge: int(signInAttemptTTL.Seconds())})
	http.Redirect(w, r, p.opts.Provider.AuthCodeURL(state, nonce, verifier), http.StatusFound)
}

// handleProviderReturn completes a sign-in at the identity provider.
func (p *Pages) handleProviderReturn(w http.ResponseWriter, r *http.Request) {
	if p.opts.Provider == nil {
		p.ErrorPage(w, r, http.StatusNotFound, "notfound")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: "", Path: "/anmelden", MaxAge: -1, HttpOnly: true,
		Secure: p.opts.Sessions.Secure, SameSite: http.SameSiteLaxMode})
	q := r.URL.Query()
	ck, err := r.Cookie(stateCookie)
	if q.Get("error") != "" || err != nil || q.Get("state") == "" || ck.Value != q.Get("state") {
		p.refused(r, ozgflow.Identity{}, "oidc", "cancelled or state mismatch")
		p.ErrorPage(w, r, http.StatusUnauthorized, "signin")
		return
	}
	attempt, ok, err := p.store.TakeSignInAttempt(r.Context(), ck.Value)
	if err != nil {
		p.logger.Error("Sign-in attempt not read", "error", err)
		p.ErrorPage(w, r, http.StatusServiceUnavailable, "unavailable")
		return
	}
	if !ok {
		p.refused(r, ozgflow.Identity{}, "oidc", "unknown or expired attempt")
		p.ErrorPage(w, r, http.StatusUnauthorized, "signin")
		return
	}
	signedIn, err := p.opts.Provider.Exchange(r.Context(), q.Get("code"), attempt.Verifier, attempt.Nonce)
	switch {
	case errors.Is(err, idp.ErrNoRole):
		p.refused(r, ozgflow.Identity{}, "oidc", err.Error())
		p.ErrorPage(w, r, http.StatusForbidden, "norole")
		return
	case err != nil:
		p.logger.Warn("Sign-in at the identity provider failed", "error", err)
		p.refused(r, ozgflow.Identity{}, "oidc", err.Error())
		p.ErrorPage(w, r, http.StatusUnauthorized, "signin")
		return
	}
	if err := p.store.RememberCaseWorker(r.Context(), signedIn.Identity); err != nil {
		p.logger.Warn("Case worker not remembered in the directory", "error", err)
	}
	p.startSession(w, r, store.Session{Identity: signedIn.Identity, Via: "oidc", IDToken: signedIn.IDToken}, attempt.Next)
}

// startSession opens the session, records the sign-in and sends the person
// where they wanted to go, or to their start page.
func (p *Pages) startSession(w http.ResponseWriter, r *http.Request, sess store.Session, next string) {
	sess, err := p.opts.Sessions.Start(r.Context(), w, sess)
	if err != nil {
		p.logger.Error("Session not started", "error", err)
		p.ErrorPage(w, r, http.StatusServiceUnavailable, "unavailable")
		return
	}
	// The route's entry in the audit trail ("signin") names who signed in.
	web.NoteActor(r.Context(), sess.Identity)
	web.NoteDetail(r.Context(), "via "+sess.Via)
	p.logger.Info("Staff signed in", "subject", sess.Identity.Subject, "role", sess.Identity.Role, "via", sess.Via)
	next = localPath(next)
	switch {
	case next != "":
	case sess.Identity.Role == ozgflow.RoleCaseWorker:
		next = "/arbeitskorb"
	case sess.Identity.Role == ozgflow.RoleDataProtection:
		next = "/verwaltung/protokoll"
	default:
		next = "/verwaltung"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// handleSignOut ends the session here and, for a sign-in at the identity
// provider, there too.
func (p *Pages) handleSignOut(w http.ResponseWriter, r *http.Request, _ view) {
	sess, ok := p.opts.Sessions.End(r.Context(), w, r)
	done := "/anmelden?hinweis=abgemeldet"
	if !ok {
		http.Redirect(w, r, done, http.StatusSeeOther)
		return
	}
	// The route's entry in the audit trail ("signout") names who left.
	web.NoteActor(r.Context(), sess.Identity)
	web.NoteDetail(r.Context(), "via "+sess.Via)
	if sess.Via == "oidc" && p.opts.Provider != nil {
		if u := p.opts.Provider.LogoutURL(sess.IDToken, p.opts.PublicURL+done); u != "" {
			// A page goes on to the provider, not a redirect: the form's
			// Content-Security-Policy (form-action 'self') holds for the
			// redirects that answer it, and browsers would stop there.
			p.show(w, http.StatusOK, "signout", view{Title: say("title.signout"), Nonce: web.NewNonce(),
				Data: map[string]string{"Href": u, "Text": say("signout.provider.text"), "Button": say("signout.provider")}})
			return
		}
	}
	http.Redirect(w, r, done, http.StatusSeeOther)
}

// refused writes a refused sign-in to the audit trail ("signin.refused"),
// with who tried, when and from where; a failure is logged, never shown.
func (p *Pages) refused(r *http.Request, id ozgflow.Identity, via, detail string) {
	addr := web.ClientAddress(r)
	p.logger.Info("Staff sign-in refused", "subject", id.Subject, "role", id.Role, "via", via, "from", addr)
	if p.cases.Records == nil {
		p.logger.Error("Refused sign-in not recorded: no records database")
		return
	}
	actor := id.Subject
	if actor == "" {
		actor = "anonymous"
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Second)
	defer cancel()
	e := records.Entry{At: p.now().UTC(), Actor: actor, Role: string(id.Role), Authority: id.Authority,
		Action: "signin.refused", Detail: "via " + via + ": " + detail, Address: addr}
	if err := p.cases.Records.Append(ctx, e); err != nil {
		p.logger.Error("Refused sign-in not recorded", "error", err)
	}
}

// localPath keeps only paths of this site, against open redirects: an
// absolute path without scheme or host, with no backslash, control
// character or space (browsers drop tabs and newlines, so "/\t/evil"
// would read as "//evil").
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\ ") ||
		strings.ContainsFunc(p, unicode.IsControl) {
		return ""
	}
	if u, err := url.Parse(p); err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(u.Path, "//") {
		return ""
	}
	return p
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
