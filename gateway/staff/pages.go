package staff

import (
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"gopkg.in/yaml.v3"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/xlsx"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/reports"
)

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

func (p *Pages) handleDefinitionsPage(w http.ResponseWriter, r *http.Request, v view) {
	p.definitionsPage(w, r, v, http.StatusOK, nil)
}

func (p *Pages) definitionsPage(w http.ResponseWriter, r *http.Request, v view, status int, report any) {
	cat := p.catalog.Snapshot()
	entries := make([]casework.Entry, 0, len(cat.Entries))
	for i := range cat.Entries {
		entries = append(entries, p.cases.Entry(r.Context(), &cat, &cat.Entries[i]))
	}
	v.Title = "Prozessvarianten"
	v.Data = map[string]any{"Entries": entries, "Report": report}
	p.show(w, status, "definitions", v)
}

// handleImportPage reads an uploaded workbook like POST /definitions/import.
func (p *Pages) handleImportPage(w http.ResponseWriter, r *http.Request, v view) {
	var answer casework.ImportAnswer
	var report []xlsx.Row
	body, err := web.WorkbookBody(w, r)
	if err == nil {
		answer, report, err = p.cases.ImportWorkbook(r.Context(), body, v.User.Subject)
	}
	if err != nil {
		v.ProblemTitle = "Die Datei wurde nicht übernommen; nichts wurde geändert."
		v.Problems = []ozgflow.FieldError{{Detail: ozgflow.ErrorMessage(err)}}
		v.Problems = append(v.Problems, ozgflow.ErrorFields(err)...)
		p.definitionsPage(w, r, v, http.StatusUnprocessableEntity, report)
		return
	}
	v.Flash = strconv.Itoa(len(answer.Drafts)) + " Entwürfe angelegt oder aktualisiert."
	p.definitionsPage(w, r, v, http.StatusOK, answer.Report)
}

func (p *Pages) handleDefinitionPage(w http.ResponseWriter, r *http.Request, v view) {
	cat := p.catalog.Snapshot()
	e, ok := cat.Entry(mux.Vars(r)["id"])
	if !ok {
		p.ErrorPage(w, r, http.StatusNotFound, "notfound")
		return
	}
	v.Title = "Prozessvariante " + e.ID
	v.Data = map[string]any{"Entry": p.cases.Entry(r.Context(), &cat, e)}
	p.show(w, http.StatusOK, "definition", v)
}

func (p *Pages) handleDraftPage(w http.ResponseWriter, r *http.Request, v view) {
	id := mux.Vars(r)["id"]
	cat, err := p.catalog.Change(r.Context(), ozgflow.UpdateDefinitionDraft, ozgflow.DefinitionChange{ID: id, By: v.User.Subject})
	if err != nil {
		p.versionPageProblem(w, r, v, id, 0, "", err)
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

func (p *Pages) versionData(id string, number int) (versionData, bool) {
	cat := p.catalog.Snapshot()
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

func (p *Pages) handleVersionPage(w http.ResponseWriter, r *http.Request, v view) {
	number, _ := strconv.Atoi(mux.Vars(r)["version"])
	d, ok := p.versionData(mux.Vars(r)["id"], number)
	if !ok {
		p.ErrorPage(w, r, http.StatusNotFound, "notfound")
		return
	}
	v.Title = "Version " + strconv.Itoa(number) + " von " + d.ID
	v.Data = d
	p.show(w, http.StatusOK, "version", v)
}

// handleSaveVersionPage saves the edited YAML of a draft and, if asked,
// publishes it; on a refusal the page comes back with the text as typed and
// the problems named.
func (p *Pages) handleSaveVersionPage(w http.ResponseWriter, r *http.Request, v view) {
	id := mux.Vars(r)["id"]
	number, _ := strconv.Atoi(mux.Vars(r)["version"])
	text := r.PostFormValue("document")
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil || doc == nil {
		p.versionPageProblem(w, r, v, id, number, text, ozgflow.Errorf(ozgflow.EUNPROCESSABLE,
			"Der Text ist kein gültiges YAML: %v", err))
		return
	}
	if _, err := p.catalog.Change(r.Context(), ozgflow.UpdateDefinitionEdit,
		ozgflow.DefinitionChange{ID: id, Version: number, Document: doc, By: v.User.Subject}); err != nil {
		p.versionPageProblem(w, r, v, id, number, text, err)
		return
	}
	flash := "gespeichert"
	if r.PostFormValue("action") == "publish" {
		if _, err := p.catalog.Change(r.Context(), ozgflow.UpdateDefinitionPublish,
			ozgflow.DefinitionChange{ID: id, Version: number, By: v.User.Subject}); err != nil {
			p.versionPageProblem(w, r, v, id, number, text, err)
			return
		}
		flash = "veroeffentlicht"
	}
	http.Redirect(w, r, "/verwaltung/definitionen/"+id+"/versionen/"+strconv.Itoa(number)+"?hinweis="+flash, http.StatusSeeOther)
}

// versionPageProblem shows a version again with what went wrong.
func (p *Pages) versionPageProblem(w http.ResponseWriter, r *http.Request, v view, id string, number int, text string, err error) {
	d, ok := p.versionData(id, number)
	if !ok {
		d, ok = p.versionData(id, 1)
	}
	if !ok {
		p.ErrorPage(w, r, http.StatusNotFound, "notfound")
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
	p.show(w, web.StatusOf(ozgflow.ErrorCode(err)), "version", v)
}

func (p *Pages) handleRetirePage(w http.ResponseWriter, r *http.Request, v view) {
	id := mux.Vars(r)["id"]
	number, _ := strconv.Atoi(mux.Vars(r)["version"])
	if _, err := p.catalog.Change(r.Context(), ozgflow.UpdateDefinitionRetire,
		ozgflow.DefinitionChange{ID: id, Version: number, By: v.User.Subject}); err != nil {
		p.versionPageProblem(w, r, v, id, number, "", err)
		return
	}
	http.Redirect(w, r, "/verwaltung/definitionen/"+id+"?hinweis=stillgelegt", http.StatusSeeOther)
}

func (p *Pages) handleChangesPage(w http.ResponseWriter, r *http.Request, v view) {
	cat := p.catalog.Snapshot()
	changes := make([]definitions.Change, 0, len(cat.Changes))
	for i := len(cat.Changes) - 1; i >= 0; i-- {
		changes = append(changes, cat.Changes[i])
	}
	v.Title, v.Data = "Änderungen", changes
	p.show(w, http.StatusOK, "changes", v)
}

// serviceView is one service's block of the dashboard.
type serviceView struct {
	reports.ServiceStats
	Median, P90 string
	Chart       template.HTML
}

func (p *Pages) handleDashboardPage(w http.ResponseWriter, r *http.Request, v view) {
	reg := p.cases.Defs.Registry()
	authorities := reg.Authorities()
	authority := r.URL.Query().Get("authority")
	if _, ok := reg.Authority(authority); !ok && len(authorities) > 0 {
		authority = authorities[0].ARS
	}
	stats, err := reports.Dashboard(r.Context(), p.store, authority, p.now())
	if err != nil {
		v.ProblemTitle = "Die Auswertung ist gerade nicht verfügbar."
		v.Problems = []ozgflow.FieldError{{Detail: "Die Projektionen konnten nicht gelesen werden."}}
		p.logger.Error("Dashboard failed", "error", err)
	}
	services := make([]serviceView, len(stats))
	for i, st := range stats {
		services[i] = serviceView{ServiceStats: st, Median: reports.FormatDuration(st.Median), P90: reports.FormatDuration(st.P90),
			Chart: template.HTML(st.StatusChart())} // built from escaped text only
	}
	v.Title = "Auswertung"
	v.Data = map[string]any{"Authorities": authorities, "Authority": authority, "Services": services}
	p.show(w, http.StatusOK, "dashboard", v)
}
