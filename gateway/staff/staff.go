// Package staff holds the pages of case workers (Arbeitskorb) and
// administrators (Verwaltung), and the sign-in to them. German first; the
// error pages speak English on request too. Identity comes from the request
// context (gateway/web.Identifier); forms carry a CSRF token bound to the
// session.
package staff

import (
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/gateway/idp"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/locale"
	"github.com/ozgflow/ozgflow/store"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages are parsed once, at start, each with the staff layout; the
// workspace's two pages with the parts they share.
var pages = func() map[string]*template.Template {
	out := web.ParsePages(templateFS, pageFuncs,
		"signin", "signout", "definitions", "definition", "version", "changes", "dashboard", "workspace", "workspace_case", "deliveries", "trail", "erasure", "search", "stuck")
	for _, name := range []string{"workspace", "workspace_case"} {
		out[name] = template.Must(out[name].ParseFS(templateFS, "templates/workspace_parts.html"))
	}
	return out
}()

// pageFuncs are the helpers templates may call.
var pageFuncs = template.FuncMap{
	"add":          func(a, b int) int { return a + b },
	"germanTime":   locale.DE.Short,
	"outcomeText":  locale.DE.Outcome,
	"decisionText": locale.DE.Decision,
	"say":          func(key string) string { return say(key) },
	// The administrators' pages.
	"versionStatus": func(s any) string { return locale.DE.VersionStatus(fmt.Sprint(s)) },
	"changeAction":  locale.DE.ChangeAction,
	"changeDetail":  changeDetail,
	"stampTime":     stampTime,
	"importStatus":  func(s any) string { return importWords[fmt.Sprint(s)] },
	"diffKind":      func(k string) string { return diffWords[k] },
	"callError":     locale.CallError,
}

// say returns a staff page's German text.
func say(key string, args ...any) string { return locale.DE.Text(false, "staff."+key, args...) }

// flashes are the short messages a redirect can carry, by their key in the
// address (?hinweis=…).
var flashes = []string{"entwurf", "gespeichert", "veroeffentlicht", "stillgelegt", "abgemeldet", "uebernommen",
	"freigegeben", "abgegeben", "entschieden", "nachgefragt", "bestaetigt", "wiedervorlage", "wiedervorlage-entfernt", "notiz", "vorgeschlagen", "zurueckgegeben"}

// flashText is the message of a redirect's key, or "" for an unknown key.
func flashText(key string) string {
	if !slices.Contains(flashes, key) {
		return ""
	}
	return say("flash." + key)
}

// csrfPurpose separates the staff pages' form tokens from others.
const csrfPurpose = "csrf"

// Pages serves the staff pages.
type Pages struct {
	cases   *casework.Service
	catalog *casework.Catalog
	store   *store.Store
	opts    Options
	csrf    web.CSRF
	render  web.Renderer
	audit   web.Auditor
	logger  *slog.Logger
	now     func() time.Time
}

// Options say how staff sign in.
type Options struct {
	// Sessions keep the signed-in staff.
	Sessions web.Sessions
	// Provider, if set, is the identity provider staff sign in at.
	Provider *idp.Provider
	// Demo, if set, offers its identities on the sign-in page (dev only).
	Demo web.StaticTokens
	// PublicURL is the gateway's address as browsers see it.
	PublicURL string
}

// New returns the staff pages.
func New(cases *casework.Service, opts Options, secret []byte, logger *slog.Logger) *Pages {
	return &Pages{cases: cases, catalog: cases.Catalog, store: cases.Store, opts: opts,
		csrf: web.CSRF{Secret: secret}, render: web.Renderer{Logger: logger}, logger: logger, now: cases.Now,
		audit: web.Auditor{Records: cases.Records, Logger: logger, Now: cases.Now}}
}

// view is what every page gets.
type view struct {
	Title        string
	User         *ozgflow.Identity
	CSRF         string
	Nonce        string
	Flash        string
	ProblemTitle string
	Problems     []ozgflow.FieldError
	Data         any
	// TeamLead says that the signed-in case worker leads a team and sees
	// their authority's dashboard.
	TeamLead bool
}

// Register adds the staff pages, one room per audience.
func (p *Pages) Register(root *mux.Router, rooms *web.Rooms) {
	public := rooms.Open(root, "", web.Audience{Name: "anyone", Roles: []ozgflow.Role{ozgflow.RoleAnonymous}})
	public.Handle("/anmelden", p.audit.Declare(web.NoPersonalData, p.handleSignInPage)).Methods(http.MethodGet)
	public.Handle("/anmelden", p.audit.Declare(web.Changes("signin"), p.handleSignIn)).Methods(http.MethodPost)
	public.Handle("/anmelden/oidc", p.audit.Declare(web.NoPersonalData, p.handleProviderSignIn)).Methods(http.MethodGet)
	public.Handle("/anmelden/rueckkehr", p.audit.Declare(web.Changes("signin"), p.handleProviderReturn)).Methods(http.MethodGet)

	room := func(prefix, name string, roles ...ozgflow.Role) *mux.Router {
		r := rooms.Open(root, prefix, web.Audience{Name: name, Roles: roles, Deny: p.deny, Sources: []web.Source{web.SourceSession}})
		r.Use(p.checkCSRF)
		return r
	}
	signedIn := room("/abmelden", "signed-in staff", ozgflow.RoleCaseWorker, ozgflow.RoleAdmin, ozgflow.RoleDataProtection)
	signedIn.Handle("", p.audit.Declare(web.Changes("signout"), p.page(p.handleSignOut))).Methods(http.MethodPost)

	workers := room("/arbeitskorb", "case workers", ozgflow.RoleCaseWorker)
	workers.Handle("", p.audit.Declare(web.Reads("task.list"), p.page(p.handleInboxPage))).Methods(http.MethodGet)
	workers.Handle("/sammelaktion", p.audit.Declare(web.Changes("task.bulk"), p.page(p.handleBulkPage))).Methods(http.MethodPost)
	workers.Handle("/suche", p.audit.Declare(web.Reads("case.search"), p.page(p.handleSearchPage))).Methods(http.MethodGet)
	workers.Handle("/ereignisse", p.audit.Declare(web.Reads("task.events").Streaming(), p.page(p.handleWorkspaceEvents))).Methods(http.MethodGet)
	workers.Handle("/vorgaenge/{caseId}", p.audit.Declare(web.Reads("case.read"), p.page(p.handleCasePage))).Methods(http.MethodGet)
	workers.Handle("/vorgaenge/{caseId}/dokumente/{sha256}", p.audit.Declare(web.Reads("document.download"), p.page(p.handleDocumentPage))).Methods(http.MethodGet)
	workers.Handle("/vorgaenge/{caseId}/notizen", p.audit.Declare(web.Changes("case.note"), p.page(p.handleNotePage))).Methods(http.MethodPost)
	workers.Handle("/aufgaben/{taskId}/{action}", p.audit.Declare(web.Changes("task.action"), p.page(p.handleTaskFormPage))).Methods(http.MethodPost)

	// Before the administrators' room, whose prefix it shares: the
	// dashboard, for administrators and the team leads of an authority.
	dashboard := room("/verwaltung/auswertung", "administrators and team leads", ozgflow.RoleAdmin, ozgflow.RoleCaseWorker)
	dashboard.Handle("", p.audit.Declare(web.NoPersonalData, p.withCatalog(p.handleDashboardPage))).Methods(http.MethodGet)

	// Before the administrators' room, whose prefix it shares.
	protection := room("/verwaltung/protokoll", "the data protection role", ozgflow.RoleDataProtection)
	protection.Handle("", p.audit.Declare(web.NoPersonalData, p.page(p.handleTrailPage))).Methods(http.MethodGet)

	admins := room("/verwaltung", "administrators", ozgflow.RoleAdmin)
	admins.Handle("", p.audit.Declare(web.NoPersonalData, p.withCatalog(p.handleDefinitionsPage))).Methods(http.MethodGet)
	admins.Handle("/import", p.audit.Declare(web.NoPersonalData, p.withCatalog(p.handleImportPage))).Methods(http.MethodPost)
	admins.Handle("/aenderungen", p.audit.Declare(web.NoPersonalData, p.withCatalog(p.handleChangesPage))).Methods(http.MethodGet)
	admins.Handle("/zustellungen", p.audit.Declare(web.Reads("delivery.list"), p.page(p.handleDeliveriesPage))).Methods(http.MethodGet)
	admins.Handle("/loeschung", p.audit.Declare(web.NoPersonalData, p.page(p.handleErasurePage))).Methods(http.MethodGet)
	admins.Handle("/loeschung", p.audit.Declare(web.Changes("erasure.request"), p.page(p.handleErase))).Methods(http.MethodPost)
	admins.Handle("/zustellungen/{id}/erneut", p.audit.Declare(web.Changes("delivery.resend").WithID("notice"), p.page(p.handleResendPage))).Methods(http.MethodPost)
	admins.Handle("/stoerungen", p.audit.Declare(web.Reads("stuck.list"), p.page(p.handleStuckPage))).Methods(http.MethodGet)
	admins.Handle("/stoerungen/{caseId}/erneut", p.audit.Declare(web.Changes("stuck.resend"), p.page(p.handleStuckResendPage))).Methods(http.MethodPost)
	admins.Handle("/stoerungen/{caseId}/abbrechen", p.audit.Declare(web.Changes("stuck.cancel"), p.page(p.handleStuckCancelPage))).Methods(http.MethodPost)
	admins.Handle("/definitionen/{id}", p.audit.Declare(web.NoPersonalData, p.withCatalog(p.handleDefinitionPage))).Methods(http.MethodGet)
	admins.Handle("/definitionen/{id}/entwurf", p.audit.Declare(web.NoPersonalData, p.withCatalog(p.handleDraftPage))).Methods(http.MethodPost)
	admins.Handle("/definitionen/{id}/versionen/{version}", p.audit.Declare(web.NoPersonalData, p.withCatalog(p.handleVersionPage))).Methods(http.MethodGet)
	admins.Handle("/definitionen/{id}/versionen/{version}", p.audit.Declare(web.NoPersonalData, p.withCatalog(p.handleSaveVersionPage))).Methods(http.MethodPost)
	admins.Handle("/definitionen/{id}/versionen/{version}/formular", p.audit.Declare(web.NoPersonalData, p.withCatalog(p.handleSaveFormPage))).Methods(http.MethodPost)
	admins.Handle("/definitionen/{id}/versionen/{version}/stilllegen", p.audit.Declare(web.NoPersonalData, p.withCatalog(p.handleRetirePage))).Methods(http.MethodPost)
	p.registerCaseDeliveryRoutes(admins)
}

// page hands a page handler its view: the signed-in user, the form token,
// the nonce and the flash message a redirect carried.
func (p *Pages) page(h func(w http.ResponseWriter, r *http.Request, v view)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := ozgflow.IdentityFrom(r.Context())
		v := view{User: &id, CSRF: p.csrf.Token(csrfPurpose, web.SessionToken(r)), Nonce: web.NewNonce(),
			Flash: flashText(r.URL.Query().Get("hinweis")), TeamLead: p.cases.LeadsTeam(id)}
		h(w, r, v)
	}
}

// withCatalog is page for the pages that manage the variants: without a
// catalog (a gateway with a fixed registry) they are unavailable.
func (p *Pages) withCatalog(h func(w http.ResponseWriter, r *http.Request, v view)) http.HandlerFunc {
	return p.page(func(w http.ResponseWriter, r *http.Request, v view) {
		if p.catalog == nil {
			p.ErrorPage(w, r, http.StatusServiceUnavailable, "unavailable")
			return
		}
		h(w, r, v)
	})
}

// deny sends whoever is not signed in to the sign-in page and shows others
// that the page is not theirs.
func (p *Pages) deny(w http.ResponseWriter, r *http.Request) {
	if ozgflow.IdentityFrom(r.Context()).Role == ozgflow.RoleAnonymous {
		http.Redirect(w, r, "/anmelden?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	p.ErrorPage(w, r, http.StatusForbidden, "forbidden")
}

// checkCSRF refuses a form whose token does not belong to the session.
func (p *Pages) checkCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && !p.csrf.Valid(csrfPurpose, web.SessionToken(r), r.PostFormValue("csrf")) {
			p.ErrorPage(w, r, http.StatusForbidden, "csrf")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ErrorPage answers with the staff error page of a kind (forbidden,
// notfound, conflict, unavailable, csrf) in the request's language.
func (p *Pages) ErrorPage(w http.ResponseWriter, r *http.Request, status int, kind string) {
	l := locale.FromRequest(r)
	back, backText := "/arbeitskorb", l.Text(false, "staff.error.back.workspace")
	if ozgflow.IdentityFrom(r.Context()).Role == ozgflow.RoleAdmin {
		back, backText = "/verwaltung", l.Text(false, "staff.error.back.admin")
	}
	p.render.Error(w, status, web.ErrorPage{Lang: string(l),
		Title: l.Text(false, "staff.error."+kind+".title"), Text: l.Text(false, "staff.error."+kind+".text"),
		Help: l.Text(false, "staff.error."+kind+".help"), Back: back, BackText: backText})
}

// show renders a page with its view.
func (p *Pages) show(w http.ResponseWriter, status int, page string, v view) {
	p.render.Page(w, status, pages[page], "layout", "de", v.Nonce, v)
}
