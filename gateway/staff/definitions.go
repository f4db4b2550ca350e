package staff

// The administrators' pages over the process variants (Verwaltung): the
// catalog, a variant with its versions, drafts edited as YAML, publishing,
// retiring, the Excel import and the record of changes.

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/xlsx"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/locale"
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
		p.versionPageProblem(w, r, v, id, 0, "", nil, err)
		return
	}
	e, _ := cat.Entry(id)
	http.Redirect(w, r, "/verwaltung/definitionen/"+id+"/versionen/"+strconv.Itoa(e.Versions[len(e.Versions)-1].Number)+"?hinweis=entwurf", http.StatusSeeOther)
}

// versionData is what the version page shows.
type versionData struct {
	ID            string
	Name          string
	AuthorityName string
	Number        int
	Status        definitions.VersionStatus
	Document      string // the YAML text: as written, or in the usual order
	Effective     string
	Form          *variantForm // for drafts: the settings that change most
	Published     int          // the version taking new cases, 0 if none
	Running       int64        // cases running on it, -1 when unknown
	Diff          []definitions.Difference
	DiffError     string
	// Revision is the draft's revision as loaded: its forms carry it, so a
	// save on a draft changed since is refused.
	Revision string
	// Stale, after a refused save on a draft another administrator changed
	// meanwhile, lists how the refused text differs from the draft now;
	// StaleBy and StaleAt say who saved the draft last, and when.
	Stale            []definitions.Difference
	StaleBy, StaleAt string
}

func (p *Pages) versionData(ctx context.Context, id string, number int) (versionData, bool) {
	cat := p.catalog.Snapshot()
	e, ok := cat.Entry(id)
	if !ok {
		return versionData{}, false
	}
	ver, ok := e.Version(number)
	if !ok {
		return versionData{}, false
	}
	d := versionData{ID: id, Number: number, Status: ver.Status, Document: ver.Source, Running: -1, Revision: ver.Revision()}
	if d.Document == "" {
		d.Document = definitions.FormatDocument(ver.Document)
	}
	def, err := cat.Effective(id, number)
	if err == nil {
		d.Effective = definitions.FormatDocument(documentOf(def))
		d.Name = def.Name
		if a, ok := authorityOf(&cat, def.Authority); ok {
			d.AuthorityName = a.Name
		}
	}
	if ver.Status != definitions.StatusDraft {
		return d, true
	}
	if err == nil {
		d.Form = newVariantForm(&cat, &def)
	}
	if pub, ok := e.Published(); ok {
		d.Published, d.Running = pub.Number, p.cases.RunningCases(ctx, id, pub.Number)
		old, perr := cat.Effective(id, pub.Number)
		switch {
		case perr != nil:
			d.DiffError = ozgflow.ErrorMessage(perr)
		case err != nil:
			d.DiffError = ozgflow.ErrorMessage(err)
		default:
			d.Diff = definitions.Diff(&old, &def)
		}
	}
	return d, true
}

// documentOf is a definition as a document, for writing it as YAML.
func documentOf(def definitions.Definition) map[string]any {
	var doc map[string]any
	b, _ := json.Marshal(def)
	_ = json.Unmarshal(b, &doc)
	return doc
}

func authorityOf(cat *definitions.Catalog, ars string) (definitions.Authority, bool) {
	for _, a := range cat.Authorities {
		if a.ARS == ars && ars != "" {
			return a, true
		}
	}
	return definitions.Authority{}, false
}

func (p *Pages) handleVersionPage(w http.ResponseWriter, r *http.Request, v view) {
	number, _ := strconv.Atoi(mux.Vars(r)["version"])
	d, ok := p.versionData(r.Context(), mux.Vars(r)["id"], number)
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
// the problems named with their line.
func (p *Pages) handleSaveVersionPage(w http.ResponseWriter, r *http.Request, v view) {
	id := mux.Vars(r)["id"]
	number, _ := strconv.Atoi(mux.Vars(r)["version"])
	text := r.PostFormValue("document")
	doc, err := definitions.ParseSource(text)
	if err != nil {
		p.versionPageProblem(w, r, v, id, number, text, nil, err)
		return
	}
	p.saveDraft(w, r, v, id, number, doc, text, nil)
}

// staleDraft refuses a save made on an older revision of the draft than
// it holds now (another administrator saved meanwhile): the page comes back
// with the text or form as sent, nothing lost, what differs from the draft
// now, and who saved it last. It reports whether it refused.
func (p *Pages) staleDraft(w http.ResponseWriter, r *http.Request, v view, id string, number int, doc map[string]any, text string, form *variantForm) bool {
	cat := p.catalog.Snapshot()
	err := cat.CheckRevision(id, number, r.PostFormValue("revision"))
	if err == nil || ozgflow.ErrorCode(err) != ozgflow.ECONFLICT {
		return false
	}
	d, ok := p.versionData(r.Context(), id, number)
	if !ok {
		return false
	}
	d.Document = text
	if form != nil && d.Form != nil {
		form.Queues, form.Base = d.Form.Queues, d.Form.Base
		d.Form = form
	}
	if doc != nil {
		now, nerr := cat.Effective(id, number)
		trial := cat.Clone()
		_, terr := trial.Edit(id, number, doc, text, v.User.Subject, p.now())
		if theirs, eerr := trial.Effective(id, number); nerr == nil && terr == nil && eerr == nil {
			d.Stale = definitions.Diff(&now, &theirs)
		}
	}
	for i := len(cat.Changes) - 1; i >= 0; i-- {
		if c := cat.Changes[i]; c.DefinitionID == id && c.Version == number {
			d.StaleBy, d.StaleAt = c.By, locale.DE.Short(c.At)
			break
		}
	}
	v.Title = say("title.version", d.Number, id)
	v.ProblemTitle = say("problem.stale")
	v.Problems = []ozgflow.FieldError{{Detail: say("problem.stale.by", d.StaleBy, d.StaleAt)}, {Detail: say("problem.stale.again")}}
	v.Data = d
	p.show(w, http.StatusConflict, "version", v)
	return true
}

// handleSaveFormPage saves the form of the settings that change most: each
// field that differs from the draft's effective value is written into the
// draft's text, which keeps its order and comments.
func (p *Pages) handleSaveFormPage(w http.ResponseWriter, r *http.Request, v view) {
	id := mux.Vars(r)["id"]
	number, _ := strconv.Atoi(mux.Vars(r)["version"])
	d, ok := p.versionData(r.Context(), id, number)
	if !ok || d.Form == nil {
		p.versionPageProblem(w, r, v, id, number, "", nil, ozgflow.Errorf(ozgflow.ECONFLICT,
			"Version %d von %s ist kein Entwurf, der sich bearbeiten lässt.", number, id))
		return
	}
	posted := d.Form.read(r)
	edits, problems := d.Form.edits(posted)
	if r.PostFormValue("revision") != d.Revision {
		// Loaded before another administrator saved: the form's values
		// would undo their change. Refused, with what the form would make.
		var doc map[string]any
		text := d.Document
		if len(problems) == 0 {
			if edited, err := definitions.EditSource(d.Document, edits); err == nil {
				if parsed, err := definitions.ParseSource(edited); err == nil {
					doc, text = parsed, edited
				}
			}
		}
		if p.staleDraft(w, r, v, id, number, doc, text, posted) {
			return
		}
	}
	if len(problems) > 0 {
		p.versionPageProblem(w, r, v, id, number, "", posted, &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE,
			Message: say("problem.form"), Fields: problems})
		return
	}
	text, err := definitions.EditSource(d.Document, edits)
	var doc map[string]any
	if err == nil {
		doc, err = definitions.ParseSource(text)
	}
	if err != nil {
		p.versionPageProblem(w, r, v, id, number, "", posted, err)
		return
	}
	p.saveDraft(w, r, v, id, number, doc, text, posted)
}

// saveDraft stores a draft's document and text and publishes it when asked.
func (p *Pages) saveDraft(w http.ResponseWriter, r *http.Request, v view, id string, number int, doc map[string]any, text string, form *variantForm) {
	if p.staleDraft(w, r, v, id, number, doc, text, form) {
		return
	}
	if _, err := p.catalog.Change(r.Context(), ozgflow.UpdateDefinitionEdit,
		ozgflow.DefinitionChange{ID: id, Version: number, Document: doc, Source: text, By: v.User.Subject,
			Revision: r.PostFormValue("revision")}); err != nil {
		p.versionPageProblem(w, r, v, id, number, text, form, err)
		return
	}
	flash := "gespeichert"
	if r.PostFormValue("action") == "publish" {
		if _, err := p.catalog.Change(r.Context(), ozgflow.UpdateDefinitionPublish,
			ozgflow.DefinitionChange{ID: id, Version: number, By: v.User.Subject}); err != nil {
			p.versionPageProblem(w, r, v, id, number, text, form, err)
			return
		}
		flash = "veroeffentlicht"
	}
	http.Redirect(w, r, "/verwaltung/definitionen/"+id+"/versionen/"+strconv.Itoa(number)+"?hinweis="+flash, http.StatusSeeOther)
}

// versionPageProblem shows a version again with what went wrong: the text
// and the form as typed, and each finding once, with the line of the text
// and the field it concerns.
func (p *Pages) versionPageProblem(w http.ResponseWriter, r *http.Request, v view, id string, number int, text string, form *variantForm, err error) {
	d, ok := p.versionData(r.Context(), id, number)
	if !ok {
		d, ok = p.versionData(r.Context(), id, 1)
	}
	if !ok {
		p.ErrorPage(w, r, http.StatusNotFound, "notfound")
		return
	}
	if text != "" {
		d.Document = text
	}
	if form != nil && d.Form != nil {
		form.Queues, form.Base = d.Form.Queues, d.Form.Base
		d.Form = form
	}
	v.Title = say("title.version", d.Number, id)
	v.ProblemTitle = ozgflow.ErrorMessage(err)
	for _, f := range ozgflow.ErrorFields(err) {
		detail := f.Detail
		if line := definitions.SourceLine(d.Document, f.Pointer); line > 0 && f.Pointer != "" {
			detail = say("problem.line", line, detail)
		}
		v.Problems = append(v.Problems, ozgflow.FieldError{Detail: detail})
	}
	if len(v.Problems) == 0 {
		v.Problems = []ozgflow.FieldError{{Detail: say("problem.again")}}
	}
	v.Data = d
	p.show(w, web.StatusOf(ozgflow.ErrorCode(err)), "version", v)
}

func (p *Pages) handleRetirePage(w http.ResponseWriter, r *http.Request, v view) {
	id := mux.Vars(r)["id"]
	number, _ := strconv.Atoi(mux.Vars(r)["version"])
	if _, err := p.catalog.Change(r.Context(), ozgflow.UpdateDefinitionRetire,
		ozgflow.DefinitionChange{ID: id, Version: number, By: v.User.Subject}); err != nil {
		p.versionPageProblem(w, r, v, id, number, "", nil, err)
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
