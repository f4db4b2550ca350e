package staff

// The administrators' pages over the process variants (Verwaltung): the
// catalog, a variant with its versions, drafts edited as YAML, publishing,
// retiring, the Excel import and the record of changes.

import (
	"net/http"
	"strconv"

	"github.com/gorilla/mux"
	"gopkg.in/yaml.v3"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/xlsx"
	"github.com/ozgflow/ozgflow/gateway/web"
)

func (p *Pages) handleDefinitionsPage(w http.ResponseWriter, r *http.Request, v view) {
	p.definitionsPage(w, r, v, http.StatusOK, nil)
}

func (p *Pages) definitionsPage(w http.ResponseWriter, r *http.Request, v view, status int, report any) {
	cat := p.catalog.Snapshot()
	entries := make([]casework.Entry, 0, len(cat.Entries))
	for i := range cat.Entries {
		entries = append(entries, p.cases.Entry(r.Context(), &cat, &cat.Entries[i]))
	}
	v.Title = say("title.definitions")
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
		v.ProblemTitle = say("problem.import")
		v.Problems = []ozgflow.FieldError{{Detail: ozgflow.ErrorMessage(err)}}
		v.Problems = append(v.Problems, ozgflow.ErrorFields(err)...)
		p.definitionsPage(w, r, v, http.StatusUnprocessableEntity, report)
		return
	}
	v.Flash = say("flash.imported", len(answer.Drafts))
	p.definitionsPage(w, r, v, http.StatusOK, answer.Report)
}

func (p *Pages) handleDefinitionPage(w http.ResponseWriter, r *http.Request, v view) {
	cat := p.catalog.Snapshot()
	e, ok := cat.Entry(mux.Vars(r)["id"])
	if !ok {
		p.ErrorPage(w, r, http.StatusNotFound, "notfound")
		return
	}
	v.Title = say("title.definition", e.ID)
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
	v.Title = say("title.version", number, d.ID)
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
		p.versionPageProblem(w, r, v, id, number, text, ozgflow.Errorf(ozgflow.EUNPROCESSABLE, "%s", say("problem.yaml", err)))
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
	v.Title = say("title.version", d.Number, id)
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
	v.Title, v.Data = say("title.changes"), changes
	p.show(w, http.StatusOK, "changes", v)
}
