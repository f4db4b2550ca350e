package staff

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/gateway/web"
)

// demoIdentity is a sign-in button of the demo identities.
type demoIdentity struct{ Token, Name string }

func (p *Pages) handleSignInPage(w http.ResponseWriter, r *http.Request) {
	var demo []demoIdentity
	for token, id := range p.demo {
		demo = append(demo, demoIdentity{Token: token, Name: id.Name})
	}
	sort.Slice(demo, func(i, j int) bool { return demo[i].Name < demo[j].Name })
	p.show(w, http.StatusOK, "signin", view{Title: say("title.signin"), Nonce: web.NewNonce(), Flash: flashText(r.URL.Query().Get("hinweis")),
		Data: map[string]any{"Next": localPath(r.URL.Query().Get("next")), "Demo": demo}})
}

// handleSignIn checks the token and keeps it in the session cookie.
func (p *Pages) handleSignIn(w http.ResponseWriter, r *http.Request) {
	token := strings.TrimSpace(r.PostFormValue("token"))
	id, ok := p.auth.Authenticate(r.Context(), token)
	if !ok {
		p.show(w, http.StatusUnauthorized, "signin", view{Title: say("title.signin"), Nonce: web.NewNonce(), ProblemTitle: say("problem.signin"),
			Problems: []ozgflow.FieldError{{Detail: say("problem.signin.token")}},
			Data:     map[string]any{"Next": localPath(r.PostFormValue("next"))}})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: web.SessionCookie, Value: token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, MaxAge: int((12 * time.Hour).Seconds())})
	next := localPath(r.PostFormValue("next"))
	switch {
	case next != "":
	case id.Role == ozgflow.RoleCaseWorker:
		next = "/arbeitskorb"
	default:
		next = "/verwaltung"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// localPath keeps only paths of this site, against open redirects.
func localPath(p string) string {
	if strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//") && !strings.Contains(p, "\\") {
		return p
	}
	return ""
}

// handleSignOut ends the session.
func (p *Pages) handleSignOut(w http.ResponseWriter, r *http.Request, _ view) {
	http.SetCookie(w, &http.Cookie{Name: web.SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	http.Redirect(w, r, "/anmelden?hinweis=abgemeldet", http.StatusSeeOther)
}
