package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"gopkg.in/yaml.v3"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/reports"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages are parsed once, at start: a missing or broken template fails the
// start, not a request.
var pages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"signin", "definitions", "definition", "version", "changes", "dashboard", "workspace", "workspace_case", "deliveries"} {
		out[name] = template.Must(template.New(name).Funcs(pageFuncs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return out
}()

// pageFuncs are the helpers templates may call.
var pageFuncs = template.FuncMap{
	"add":         func(a, b int) int { return a + b },
	"germanTime":  germanTime,
	"outcomeText": func(o string) string { return outcomeText[o] },
}

// outcomeText names the outcomes in German.
var outcomeText = map[string]string{
	ozgflow.OutcomeApprove:            "Bewilligen",
	ozgflow.OutcomeReject:             "Ablehnen",
	ozgflow.OutcomeRequestInformation: "Nachfragen",
}

// sessionCookie holds the signed-in user's bearer token.
const sessionCookie = "ozgflow_session"

// view is what every page gets.
type view struct {
	Title        string
	User         *Identity
	CSRF         string
	Flash        string
	ProblemTitle string
	Problems     []ozgflow.FieldError
	Data         any
}

// render writes a page; on a template error only a plain message goes out.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	if err := pages[page].ExecuteTemplate(w, "layout", v); err != nil {
		s.logger.Error("Page not rendered", "page", page, "error", err)
	}
}

// csrfToken binds forms to the session: an HMAC of the session's token.
func (s *Server) csrfToken(session string) string {
	mac := hmac.New(sha256.New, s.cfg.Secret)
	mac.Write([]byte("csrf\x00" + session))
	return hex.EncodeToString(mac.Sum(nil))
}

func (s *Server) registerPageRoutes() {
	s.router.HandleFunc("/anmelden", s.handleSignInPage).Methods(http.MethodGet)
	s.router.HandleFunc("/anmelden", s.handleSignIn).Methods(http.MethodPost)
	s.router.HandleFunc("/abmelden", s.page(s.handleSignOut)).Methods(http.MethodPost)
	s.registerWorkspaceRoutes()
	s.router.HandleFunc("/verwaltung", s.page(s.handleDefinitionsPage)).Methods(http.MethodGet)
	s.router.HandleFunc("/verwaltung/import", s.page(s.handleImportPage)).Methods(http.MethodPost)
	s.router.HandleFunc("/verwaltung/aenderungen", s.page(s.handleChangesPage)).Methods(http.MethodGet)
	s.router.HandleFunc("/verwaltung/auswertung", s.page(s.handleDashboardPage)).Methods(http.MethodGet)
	s.registerDeliveryPages()
	s.router.HandleFunc("/verwaltung/definitionen/{id}", s.page(s.handleDefinitionPage)).Methods(http.MethodGet)
	s.router.HandleFunc("/verwaltung/definitionen/{id}/entwurf", s.page(s.handleDraftPage)).Methods(http.MethodPost)
	s.router.HandleFunc("/verwaltung/definitionen/{id}/versionen/{version}", s.page(s.handleVersionPage)).Methods(http.MethodGet)
	s.router.HandleFunc("/verwaltung/definitionen/{id}/versionen/{version}", s.page(s.handleSaveVersionPage)).Methods(http.MethodPost)
	s.router.HandleFunc("/verwaltung/definitionen/{id}/versionen/{version}/stilllegen", s.page(s.handleRetirePage)).Methods(http.MethodPost)
}

// page wraps an administrators' page: it signs in from the session cookie,
// checks the CSRF token of every form and needs the catalog.
func (s *Server) page(h func(w http.ResponseWriter, r *http.Request, v view)) http.HandlerFunc {
	return s.sessionPage(RoleAdmin, "Sie sind angemeldet, haben aber keinen Zugang zur Verwaltung.",
		"Diese Seiten sind der Fachadministration vorbehalten.",
		func(w http.ResponseWriter, r *http.Request, v view) {
			if s.cfg.Catalog == nil {
				http.Error(w, "Der Katalog ist hier nicht verfügbar.", http.StatusServiceUnavailable)
				return
			}
			h(w, r, v)
		})
}

// sessionPage wraps a page for one role: it signs in from the session
// cookie (or sends to the sign-in page), refuses other roles with the given
// words and checks the CSRF token of every form.
func (s *Server) sessionPage(role Role, deniedTitle, deniedDetail string, h func(w http.ResponseWriter, r *http.Request, v view)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		var id Identity
		ok := err == nil
		if ok {
			id, ok = s.auth.Authenticate(r.Context(), c.Value)
		}
		if !ok {
			http.Redirect(w, r, "/anmelden?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		v := view{User: &id, CSRF: s.csrfToken(c.Value), Flash: flashText[r.URL.Query().Get("hinweis")]}
		if id.Role != role {
			v.Title = "Kein Zugang"
			v.ProblemTitle = deniedTitle
			v.Problems = []ozgflow.FieldError{{Detail: deniedDetail}}
			s.render(w, r, http.StatusForbidden, "changes", v)
			return
		}
		if r.Method == http.MethodPost && !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(v.CSRF)) {
			v.Title = "Formular abgelaufen"
			v.ProblemTitle = "Das Formular ist nicht mehr gültig. Bitte laden Sie die Seite neu und versuchen Sie es noch einmal."
			v.Problems = []ozgflow.FieldError{{Detail: "Der Sicherheitsschlüssel des Formulars fehlt oder stimmt nicht."}}
			s.render(w, r, http.StatusForbidden, "changes", v)
			return
		}
		h(w, r, v)
	}
}

// flashText are the short messages a redirect can carry.
var flashText = map[string]string{
	"entwurf":         "Der Entwurf wurde angelegt.",
	"gespeichert":     "Der Entwurf wurde gespeichert.",
	"veroeffentlicht": "Die Version wurde veröffentlicht. Neue Anträge laufen ab jetzt auf ihr.",
	"stillgelegt":     "Die Version wurde stillgelegt. Laufende Vorgänge laufen weiter.",
	"abgemeldet":      "Sie sind abgemeldet.",
	"uebernommen":     "Sie haben die Aufgabe übernommen.",
	"freigegeben":     "Die Aufgabe ist wieder im Arbeitskorb.",
	"abgegeben":       "Die Aufgabe wurde abgegeben.",
	"entschieden":     "Die Entscheidung ist gespeichert.",
	"nachgefragt":     "Die Rückfrage wurde an die antragstellende Person geschickt.",
	"bestaetigt":      "Ihre Antwort auf die vorgeschlagene Entscheidung ist gespeichert.",
}

// demoIdentity is a sign-in button of the demo identities.
type demoIdentity struct{ Token, Name string }

func (s *Server) handleSignInPage(w http.ResponseWriter, r *http.Request) {
	var demo []demoIdentity
	if tokens, ok := s.auth.(StaticTokens); ok && s.cfg.DemoSignIn {
		for token, id := range tokens {
			demo = append(demo, demoIdentity{Token: token, Name: id.Name})
		}
		sort.Slice(demo, func(i, j int) bool { return demo[i].Name < demo[j].Name })
	}
	s.render(w, r, http.StatusOK, "signin", view{Title: "Anmelden", Flash: flashText[r.URL.Query().Get("hinweis")],
		Data: map[string]any{"Next": localPath(r.URL.Query().Get("next")), "Demo": demo}})
}

func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) {
	token := strings.TrimSpace(r.PostFormValue("token"))
	if _, ok := s.auth.Authenticate(r.Context(), token); !ok {
		s.render(w, r, http.StatusUnauthorized, "signin", view{Title: "Anmelden", ProblemTitle: "Die Anmeldung ist fehlgeschlagen.",
			Problems: []ozgflow.FieldError{{Detail: "Der Zugangsschlüssel ist nicht gültig."}},
			Data:     map[string]any{"Next": localPath(r.PostFormValue("next"))}})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, MaxAge: int((12 * time.Hour).Seconds())})
	next := localPath(r.PostFormValue("next"))
	if id, _ := s.auth.Authenticate(r.Context(), token); next == "" && id.Role == RoleCaseWorker {
		next = "/arbeitskorb"
	} else if next == "" {
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

func (s *Server) handleSignOut(w http.ResponseWriter, r *http.Request, _ view) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	http.Redirect(w, r, "/anmelden?hinweis=abgemeldet", http.StatusSeeOther)
}

func (s *Server) handleDefinitionsPage(w http.ResponseWriter, r *http.Request, v view) {
	s.definitionsPage(w, r, v, http.StatusOK, nil)
}

func (s *Server) definitionsPage(w http.ResponseWriter, r *http.Request, v view, status int, report any) {
	cat := s.cfg.Catalog.Snapshot()
	entries := make([]entryView, 0, len(cat.Entries))
	for i := range cat.Entries {
		entries = append(entries, s.entryView(r.Context(), &cat, &cat.Entries[i]))
	}
	v.Title = "Prozessvarianten"
	v.Data = map[string]any{"Entries": entries, "Report": report}
	s.render(w, r, status, "definitions", v)
}

// handleImportPage reads an uploaded workbook like POST /definitions/import.
func (s *Server) handleImportPage(w http.ResponseWriter, r *http.Request, v view) {
	answer, report, err := s.importWorkbook(w, r, v.User.Subject)
	if err != nil {
		v.ProblemTitle = "Die Datei wurde nicht übernommen; nichts wurde geändert."
		v.Problems = []ozgflow.FieldError{{Detail: ozgflow.ErrorMessage(err)}}
		v.Problems = append(v.Problems, ozgflow.ErrorFields(err)...)
		s.definitionsPage(w, r, v, http.StatusUnprocessableEntity, report)
		return
	}
	v.Flash = strconv.Itoa(len(answer.Drafts)) + " Entwürfe angelegt oder aktualisiert."
	s.definitionsPage(w, r, v, http.StatusOK, answer.Report)
}

func (s *Server) handleDefinitionPage(w http.ResponseWriter, r *http.Request, v view) {
	cat := s.cfg.Catalog.Snapshot()
	e, ok := cat.Entry(mux.Vars(r)["id"])
	if !ok {
		http.NotFound(w, r)
		return
	}
	v.Title = "Prozessvariante " + e.ID
	v.Data = map[string]any{"Entry": s.entryView(r.Context(), &cat, e)}
	s.render(w, r, http.StatusOK, "definition", v)
}

func (s *Server) handleDraftPage(w http.ResponseWriter, r *http.Request, v view) {
	id := mux.Vars(r)["id"]
	cat, err := s.cfg.Catalog.Change(r.Context(), ozgflow.UpdateDefinitionDraft, ozgflow.DefinitionChange{ID: id, By: v.User.Subject})
	if err != nil {
		s.versionPageProblem(w, r, v, id, 0, "", err)
		return
	}
	e, _ := cat.Entry(id)
	http.Redirect(w, r, "/verwaltung/definitionen/"+id+"/versionen/"+strconv.Itoa(e.Versions[len(e.Versions)-1].Number)+"?hinweis=entwurf", http.StatusSeeOther)
}

// versionData is what the version page shows.
type versionData struct {
	ID        string
	Number    int
	Status    definitions.VersionStatus
	Document  string
	Effective string
}

func (s *Server) versionData(id string, number int) (versionData, bool) {
	cat := s.cfg.Catalog.Snapshot()
	e, ok := cat.Entry(id)
	if !ok {
		return versionData{}, false
	}
	ver, ok := e.Version(number)
	if !ok {
		return versionData{}, false
	}
	d := versionData{ID: id, Number: number, Status: ver.Status}
	doc, _ := yaml.Marshal(ver.Document)
	d.Document = string(doc)
	if def, err := cat.Effective(id, number); err == nil {
		eff, _ := yaml.Marshal(def)
		d.Effective = string(eff)
	}
	return d, true
}

func (s *Server) handleVersionPage(w http.ResponseWriter, r *http.Request, v view) {
	number, _ := strconv.Atoi(mux.Vars(r)["version"])
	d, ok := s.versionData(mux.Vars(r)["id"], number)
	if !ok {
		http.NotFound(w, r)
		return
	}
	v.Title = "Version " + strconv.Itoa(number) + " von " + d.ID
	v.Data = d
	s.render(w, r, http.StatusOK, "version", v)
}

// handleSaveVersionPage saves the edited YAML of a draft and, if asked,
// publishes it; on a refusal the page comes back with the text as typed and
// the problems named.
func (s *Server) handleSaveVersionPage(w http.ResponseWriter, r *http.Request, v view) {
	id := mux.Vars(r)["id"]
	number, _ := strconv.Atoi(mux.Vars(r)["version"])
	text := r.PostFormValue("document")
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil || doc == nil {
		s.versionPageProblem(w, r, v, id, number, text, ozgflow.Errorf(ozgflow.EUNPROCESSABLE,
			"Der Text ist kein gültiges YAML: %v", err))
		return
	}
	if _, err := s.cfg.Catalog.Change(r.Context(), ozgflow.UpdateDefinitionEdit,
		ozgflow.DefinitionChange{ID: id, Version: number, Document: doc, By: v.User.Subject}); err != nil {
		s.versionPageProblem(w, r, v, id, number, text, err)
		return
	}
	flash := "gespeichert"
	if r.PostFormValue("action") == "publish" {
		if _, err := s.cfg.Catalog.Change(r.Context(), ozgflow.UpdateDefinitionPublish,
			ozgflow.DefinitionChange{ID: id, Version: number, By: v.User.Subject}); err != nil {
			s.versionPageProblem(w, r, v, id, number, text, err)
			return
		}
		flash = "veroeffentlicht"
	}
	http.Redirect(w, r, "/verwaltung/definitionen/"+id+"/versionen/"+strconv.Itoa(number)+"?hinweis="+flash, http.StatusSeeOther)
}

// versionPageProblem shows a version again with what went wrong.
func (s *Server) versionPageProblem(w http.ResponseWriter, r *http.Request, v view, id string, number int, text string, err error) {
	d, ok := s.versionData(id, number)
	if !ok {
		d, ok = s.versionData(id, 1)
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	if text != "" {
		d.Document = text
	}
	v.Title = "Version " + strconv.Itoa(d.Number) + " von " + id
	v.ProblemTitle = ozgflow.ErrorMessage(err)
	v.Problems = ozgflow.ErrorFields(err)
	if len(v.Problems) == 0 {
		v.Problems = []ozgflow.FieldError{{Detail: ozgflow.ErrorMessage(err)}}
	}
	v.Data = d
	s.render(w, r, StatusOf(ozgflow.ErrorCode(err)), "version", v)
}

func (s *Server) handleRetirePage(w http.ResponseWriter, r *http.Request, v view) {
	id := mux.Vars(r)["id"]
	number, _ := strconv.Atoi(mux.Vars(r)["version"])
	if _, err := s.cfg.Catalog.Change(r.Context(), ozgflow.UpdateDefinitionRetire,
		ozgflow.DefinitionChange{ID: id, Version: number, By: v.User.Subject}); err != nil {
		s.versionPageProblem(w, r, v, id, number, "", err)
		return
	}
	http.Redirect(w, r, "/verwaltung/definitionen/"+id+"?hinweis=stillgelegt", http.StatusSeeOther)
}

func (s *Server) handleChangesPage(w http.ResponseWriter, r *http.Request, v view) {
	cat := s.cfg.Catalog.Snapshot()
	changes := make([]definitions.Change, 0, len(cat.Changes))
	for i := len(cat.Changes) - 1; i >= 0; i-- {
		changes = append(changes, cat.Changes[i])
	}
	v.Title, v.Data = "Änderungen", changes
	s.render(w, r, http.StatusOK, "changes", v)
}

// serviceView is one service's block of the dashboard.
type serviceView struct {
	reports.ServiceStats
	Median, P90 string
	Chart       template.HTML
}

func (s *Server) handleDashboardPage(w http.ResponseWriter, r *http.Request, v view) {
	reg := s.defs.Registry()
	authorities := reg.Authorities()
	authority := r.URL.Query().Get("authority")
	if _, ok := reg.Authority(authority); !ok && len(authorities) > 0 {
		authority = authorities[0].ARS
	}
	stats, err := reports.Dashboard(r.Context(), s.store, authority, s.now())
	if err != nil {
		v.ProblemTitle = "Die Auswertung ist gerade nicht verfügbar."
		v.Problems = []ozgflow.FieldError{{Detail: "Die Projektionen konnten nicht gelesen werden."}}
		s.logger.Error("Dashboard failed", "error", err)
	}
	services := make([]serviceView, len(stats))
	for i, st := range stats {
		services[i] = serviceView{ServiceStats: st, Median: reports.FormatDuration(st.Median), P90: reports.FormatDuration(st.P90),
			Chart: template.HTML(st.StatusChart())} // built from escaped text only
	}
	v.Title = "Auswertung"
	v.Data = map[string]any{"Authorities": authorities, "Authority": authority, "Services": services}
	s.render(w, r, http.StatusOK, "dashboard", v)
}
