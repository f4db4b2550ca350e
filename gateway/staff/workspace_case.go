package staff

import (
	"context"
	"crypto/hmac"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/locale"
	"github.com/ozgflow/ozgflow/records"
)

// The case beside the list: the application first (who applied, how to
// reach them, the data, the documents, the questions and answers), then
// what the case worker can do, the internal notes, the messages the
// applicant got, and the case's history.

// caseData is what the case view shows.
type caseData struct {
	Case        ozgflow.Case
	Number      string
	ServiceName string
	Authority   string
	Status      string
	Decision    string
	Applicant   ozgflow.CaseApplicant
	Fields      []definitions.LabelledField
	Attachments []attachmentRow
	Active      *taskRow // the task the case worker can act on now
	Queues      []queueOption
	Colleagues  []ozgflow.Identity
	Notes       []noteRow
	Audit       []auditRow
	Trail       []trailRow // the audit trail: who read or changed the case
	Payment     string
	Seal        string
	Can         map[string]bool
	// Proposal is the message a proposed decision sends once confirmed,
	// ProposedBy who proposed it.
	Proposal   *casework.Message
	ProposedBy string
	// CanNote says the case worker may write internal notes on the case.
	CanNote bool
	// Form holds what the case worker typed into a form that comes back:
	// with its preview, or with what is wrong.
	Form caseForm
	// Preview is the message to the applicant before it is sent;
	// PreviewToken binds the sending form to the text previewed.
	Preview      *casework.Message
	PreviewToken string
	// Invalid maps a form field's name to what is wrong with it.
	Invalid map[string]string
	// List is the list beside the case; ListQuery its filter.
	List      inboxData
	ListQuery template.URL
}

// caseForm is a form's values: the decision or question, the message to
// the applicant and the internal note; Action names the form ("entscheiden"
// or "nachfragen").
type caseForm struct {
	Action, Outcome, Comment, Fields, Note string
}

type queueOption struct{ Key, Name string }

// attachmentRow is a document of the case: Href opens it in the browser,
// Download saves it, where ozgflow keeps its bytes (a portal may have
// submitted only its hash).
type attachmentRow struct {
	Name, Kind, Size, SHA256, From string
	Href, Download                 string
}

type noteRow struct {
	At, By, Text string
}

type auditRow struct {
	At, By, Action, Detail string
}

// caseForWorker loads a case and what it started with, if the case worker
// may see it.
func (p *Pages) caseForWorker(ctx context.Context, id ozgflow.Identity, caseID string) (ozgflow.Case, definitions.CaseInput, error) {
	var in definitions.CaseInput
	c, err := p.cases.CaseFor(ctx, id, caseID)
	if err != nil {
		return c, in, err
	}
	in, err = p.cases.Input(ctx, caseID)
	return c, in, err
}

func (p *Pages) handleCasePage(w http.ResponseWriter, r *http.Request, v view) {
	p.casePage(w, r, v, http.StatusOK, caseData{})
}

// casePage shows the case; more carries a form that comes back, its
// preview and what is wrong with it.
func (p *Pages) casePage(w http.ResponseWriter, r *http.Request, v view, status int, more caseData) {
	id := *v.User
	ctx := r.Context()
	c, in, err := p.caseForWorker(ctx, id, mux.Vars(r)["caseId"])
	if err != nil {
		p.errorPageFor(w, r, err)
		return
	}
	if !c.ErasedAt.IsZero() {
		// The engine deletes an erased case's history a while after the
		// erasure: nothing of what it started with shows meanwhile.
		in = definitions.CaseInput{CaseID: c.ID}
	}
	web.NoteAccount(ctx, c.PortalAccount)
	names := p.cases.Names(ctx, id.Authority)
	now := p.now()
	d := more
	d.Case, d.ServiceName, d.Status = c, c.ServiceName, locale.DE.CaseStatus(c.ShownStatus())
	d.Number = casework.ShortNumber(c.ID, c.CaseNumber)
	d.Authority = p.cases.AuthorityName(c.Authority)
	d.Fields = in.Definition.LabelledData(in.Application.Data)
	if c.Decision != nil {
		d.Decision = p.cases.DecisionText(c, c.Decision.Outcome)
	}
	// Who applied: as the case holds it, or from the application for a
	// case that started before cases held it.
	switch {
	case c.Applicant != nil:
		d.Applicant = *c.Applicant
	case c.ErasedAt.IsZero():
		d.Applicant = *in.Definition.CaseApplicant(in.Application)
	}
	for _, q := range in.Definition.Queues() {
		d.Queues = append(d.Queues, queueOption{Key: q, Name: p.cases.QueueName(c.Authority, q)})
	}
	for _, t := range c.Tasks {
		if t.Active() && id.MemberOf(t.Queue) {
			row := p.taskRow(t, names, now)
			row.Number = d.Number
			d.Active = &row
		}
	}
	for _, colleague := range p.cases.Colleagues(ctx, id.Authority) {
		if colleague.Subject != id.Subject {
			d.Colleagues = append(d.Colleagues, colleague)
		}
	}
	if t := d.Active; t != nil {
		d.Can = casework.AllowedActions(id, t.Task)
		if d.Can["approve"] {
			if m, ok := p.cases.ProposalMessage(ctx, c, t.Task); ok {
				d.Proposal, d.ProposedBy = &m, nameOf(names, t.Proposal.By)
			}
		}
	}
	d.Audit = p.auditRows(c.Authority, c.Audit, names)
	if d.Trail, err = p.caseTrail(ctx, c.ID, names); err != nil {
		p.logger.Error("Audit trail of a case not read", "error", err)
		p.ErrorPage(w, r, http.StatusServiceUnavailable, "unavailable")
		return
	}
	notes, err := p.cases.Notes(ctx, id, c.ID)
	if err != nil {
		p.logger.Error("Notes of a case not read", "error", err)
		p.ErrorPage(w, r, http.StatusServiceUnavailable, "unavailable")
		return
	}
	for _, n := range notes {
		by := n.AuthorName
		if name, ok := names[n.Author]; ok {
			by = name
		}
		d.Notes = append(d.Notes, noteRow{At: locale.DE.Short(n.At), By: by, Text: n.Text})
	}
	d.Attachments = p.attachmentRows(ctx, c, in.Application.Attachments)
	d.Payment, d.Seal = paymentLine(c.Payment), sealLine(c.Seal)
	// The list beside the case, with the filter the case worker came with.
	query := listQuery(r.URL.Query())
	f, page := p.inboxFilter(query, id)
	if d.List, err = p.inbox(ctx, id, f, page); err != nil {
		p.logger.Warn("The list beside a case not read", "error", err)
	}
	d.List.Current = c.ID
	d.ListQuery = template.URL(query.Encode()) // encoded here: safe in a URL
	d.CanNote = id.WorksCases(c.Authority) && c.ErasedAt.IsZero()
	v.Title = c.ServiceName + " – Vorgang " + d.Number
	v.Data = d
	p.show(w, status, "workspace_case", v)
}

// attachmentRows lists the documents of a case: those submitted with the
// application, those uploaded with answers, and the documents ozgflow made
// (the receipt), each linked to be opened and downloaded where ozgflow
// keeps its bytes.
func (p *Pages) attachmentRows(ctx context.Context, c ozgflow.Case, submitted []ozgflow.Attachment) []attachmentRow {
	docs, err := p.cases.Records.Documents(ctx, c.ID)
	if err != nil {
		p.logger.Warn("Documents of a case not listed", "case", c.ID, "error", err)
	}
	kept := map[string]records.Document{}
	for _, d := range docs {
		kept[d.SHA256] = d
	}
	listed := map[string]bool{}
	var rows []attachmentRow
	add := func(a ozgflow.Attachment, from string) {
		if listed[a.SHA256] {
			return
		}
		listed[a.SHA256] = true
		row := attachmentRow{Name: a.Name, Kind: fileKind(a.ContentType), Size: fileSize(a.Size), SHA256: a.SHA256, From: from}
		if _, ok := kept[a.SHA256]; ok {
			row.Href = "/arbeitskorb/vorgaenge/" + c.ID + "/dokumente/" + a.SHA256
			row.Download = row.Href + "?herunterladen=1"
		}
		rows = append(rows, row)
	}
	for _, a := range submitted {
		add(a, say("attachment.application"))
	}
	for _, req := range c.Requests {
		for _, a := range req.Attachments {
			add(a, say("attachment.answer", locale.DE.Short(req.AnsweredAt)))
		}
	}
	for _, d := range docs {
		from := map[string]string{records.KindReceipt: say("attachment.receipt"), records.KindDecision: say("attachment.decision")}[d.Kind]
		if from == "" {
			from = say("attachment.other")
		}
		add(d.Attachment(), from)
	}
	return rows
}

// fileKind names a document's type as people know it, e.g. "PDF".
func fileKind(contentType string) string {
	switch contentType {
	case "application/pdf":
		return "PDF"
	case "image/png":
		return "PNG-Bild"
	case "image/jpeg":
		return "JPEG-Bild"
	case "":
		return "Datei"
	}
	_, sub, _ := strings.Cut(contentType, "/")
	return strings.ToUpper(strings.TrimPrefix(sub, "x-")) + "-Datei"
}

// fileSize writes a document's size as file managers do: bytes, kB, MB.
func fileSize(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10) + " Bytes"
	case n < 1_000_000:
		return strings.Replace(strings.TrimSuffix(strconv.FormatFloat(float64(n)/1e3, 'f', 1, 64), ".0"), ".", ",", 1) + " kB"
	}
	return locale.DE.Size(n)
}

// auditRows words the case's own history for the page: who, what and the
// details in German, queues by their names.
func (p *Pages) auditRows(authority string, audit []ozgflow.AuditEntry, names map[string]string) []auditRow {
	rows := make([]auditRow, 0, len(audit))
	for _, a := range audit {
		rows = append(rows, auditRow{At: locale.DE.Short(a.At), By: p.who(a.By, names), Action: locale.DE.AuditAction(a.Action),
			Detail: p.auditDetail(authority, a, names)})
	}
	return rows
}

// who names whoever acted on a case.
func (p *Pages) who(by string, names map[string]string) string {
	switch {
	case by == "system" || by == ozgflow.ActorSystem:
		return say("audit.system")
	case by == "applicant" || strings.HasPrefix(by, "applicant:"):
		return say("audit.applicant")
	}
	return nameOf(names, by)
}

// auditDetail words the detail the workflow wrote to an audit entry: an
// outcome as its result, a hand-over's colleague and queue by name, an
// escalation's queue, a reminder's addressee; free text (a question, a
// reason, a note) as it was written.
func (p *Pages) auditDetail(authority string, a ozgflow.AuditEntry, names map[string]string) string {
	queue := func(key string) string { return say("audit.detail.queue", p.cases.QueueName(authority, key)) }
	switch a.Action {
	case ozgflow.AuditDecided, ozgflow.AuditProposed, ozgflow.AuditApproved:
		return locale.DE.Decision(a.Detail)
	case ozgflow.AuditHandedOver:
		// "to queue gewerbe-leitung, sb-leipzig-2: note"
		rest, ok := strings.CutPrefix(a.Detail, "to ")
		if !ok {
			return a.Detail
		}
		targets, note, hasNote := strings.Cut(rest, ": ")
		var named []string
		for _, t := range strings.Split(targets, ", ") {
			if q, isQueue := strings.CutPrefix(t, "queue "); isQueue {
				named = append(named, queue(q))
			} else if t != "" {
				named = append(named, nameOf(names, t))
			}
		}
		if hasNote {
			return say("audit.detail.handover.note", strings.Join(named, ", "), note)
		}
		return say("audit.detail.handover", strings.Join(named, ", "))
	case ozgflow.AuditEscalated:
		if _, q, moved := strings.Cut(a.Detail, "moved to queue "); moved {
			return say("audit.detail.escalated.moved", p.cases.QueueName(authority, q))
		}
		return say("audit.detail.escalated")
	case ozgflow.AuditReminded:
		// "due <deadline>, reminder to queue:<queue>" or "… to <subject>"
		due, to, ok := strings.Cut(strings.TrimPrefix(a.Detail, "due "), ", reminder to ")
		if !ok {
			return a.Detail
		}
		if q, isQueue := strings.CutPrefix(to, "queue:"); isQueue {
			to = queue(q)
		} else {
			to = nameOf(names, to)
		}
		return say("audit.detail.reminded", due, to)
	case ozgflow.AuditAnswerExpired:
		switch a.Detail {
		case definitions.NoAnswerReject:
			return say("audit.detail.expired.reject")
		case definitions.NoAnswerCancel:
			return say("audit.detail.expired.cancel")
		}
	}
	return a.Detail
}

// paymentLine says what was paid, or "" without a fee.
func paymentLine(p *ozgflow.Payment) string {
	if p == nil {
		return ""
	}
	line := locale.DE.Amount(p.Amount, p.Currency) + " – " + locale.DE.PaymentStatus(p.Status)
	if p.Refund != "" {
		line += " (" + say("payment.refund", locale.DE.RefundStatus(p.Refund)) + ")"
	}
	return line
}

// sealLine says when and with which key the application was sealed.
func sealLine(seal *ozgflow.Seal) string {
	if seal == nil {
		return ""
	}
	return say("seal", locale.DE.Short(seal.SealedAt), seal.KeyID)
}

// handleDocumentPage opens a document of a case in the browser (PDFs and
// images) or, with ?herunterladen=1 and for every other type, downloads
// it; the trail notes which document and how.
func (p *Pages) handleDocumentPage(w http.ResponseWriter, r *http.Request, v view) {
	vars := mux.Vars(r)
	download := r.URL.Query().Get("herunterladen") != ""
	how := "open"
	if download {
		how = "download"
	}
	web.NoteDetail(r.Context(), "document "+vars["sha256"]+" ("+how+")")
	d, err := p.cases.Document(r.Context(), *v.User, vars["caseId"], vars["sha256"])
	if err != nil {
		p.errorPageFor(w, r, err)
		return
	}
	web.ServeDocumentAs(w, d, download)
}

// handleNotePage keeps an internal note on the case.
func (p *Pages) handleNotePage(w http.ResponseWriter, r *http.Request, v view) {
	id := *v.User
	caseID := mux.Vars(r)["caseId"]
	text := r.PostFormValue("note")
	if _, err := p.cases.AddNote(r.Context(), id, caseID, text); err != nil {
		if ozgflow.ErrorCode(err) == ozgflow.ENOTFOUND {
			p.errorPageFor(w, r, err)
			return
		}
		v.ProblemTitle, v.Problems = say("problem.note"), p.germanProblems(r.Context(), id, err)
		more := caseData{Form: caseForm{Action: "notiz", Note: text}, Invalid: map[string]string{"note": v.Problems[0].Detail}}
		p.casePage(w, r, v, web.StatusOf(ozgflow.ErrorCode(err)), more)
		return
	}
	http.Redirect(w, r, p.caseAddress(caseID, r, "notiz")+"#notizen", http.StatusSeeOther)
}

// caseAddress is the case's page with the list's filter of the request
// and, if given, the key of a flash message.
func (p *Pages) caseAddress(caseID string, r *http.Request, flash string) string {
	q := listQuery(r.URL.Query())
	if flash != "" {
		q.Set("hinweis", flash)
	}
	if len(q) == 0 {
		return "/arbeitskorb/vorgaenge/" + caseID
	}
	return "/arbeitskorb/vorgaenge/" + caseID + "?" + q.Encode()
}

// taskActions name the forms' actions in the audit trail as the API's
// routes name them.
var taskActions = map[string]string{
	"uebernehmen": "task.claim",
	"freigeben":   "task.release",
	"abgeben":     "task.handover",
	"entscheiden": "task.complete",
	"nachfragen":  "task.complete",
	"bestaetigen": "task.approve",
}

// taskForms maps the action names of the case view's forms to updates.
var taskForms = map[string]string{
	"uebernehmen": ozgflow.UpdateClaim,
	"freigeben":   ozgflow.UpdateRelease,
	"abgeben":     ozgflow.UpdateHandover,
	"entscheiden": ozgflow.UpdateComplete,
	"nachfragen":  ozgflow.UpdateComplete,
	"bestaetigen": ozgflow.UpdateApprove,
}

var taskFlash = map[string]string{
	"uebernehmen": "uebernommen",
	"freigeben":   "freigegeben",
	"abgeben":     "abgegeben",
	"entscheiden": "entschieden",
	"nachfragen":  "nachgefragt",
	"bestaetigen": "bestaetigt",
}

// Steps of the forms that send a message to the applicant: a preview
// first, then sending; "aendern" goes back to the form.
const (
	stepPreview = "vorschau"
	stepSend    = "senden"
	stepChange  = "aendern"
)

// formOf reads a decision's or question's form.
func formOf(action string, r *http.Request) caseForm {
	f := caseForm{Action: action, Comment: strings.TrimSpace(r.PostFormValue("comment")), Note: strings.TrimSpace(r.PostFormValue("note")),
		Outcome: r.PostFormValue("outcome")}
	if action == "nachfragen" {
		f.Outcome, f.Comment, f.Fields = ozgflow.OutcomeRequestInformation, strings.TrimSpace(r.PostFormValue("question")),
			strings.TrimSpace(r.PostFormValue("fields"))
	}
	return f
}

// completion is the form's decision or question as the case service takes it.
func (f caseForm) completion() casework.Completion {
	c := casework.Completion{Outcome: f.Outcome, Comment: f.Comment}
	for _, field := range strings.Split(f.Fields, ",") {
		if field = strings.TrimSpace(field); field != "" {
			c.Fields = append(c.Fields, field)
		}
	}
	return c
}

// taskFormBody reads the body of a task action from its form.
func taskFormBody(action string, r *http.Request) any {
	switch action {
	case "abgeben":
		return casework.HandoverTo{To: r.PostFormValue("to"), Queue: r.PostFormValue("queue"), Note: strings.TrimSpace(r.PostFormValue("note"))}
	case "entscheiden", "nachfragen":
		return formOf(action, r).completion()
	case "bestaetigen":
		return casework.ApprovalAnswer{Approve: r.PostFormValue("approve") == "ja", Comment: strings.TrimSpace(r.PostFormValue("comment"))}
	case "wiedervorlage", "wiedervorlage-entfernen":
		return followUpForm(action, r)
	}
	return nil
}

// handleTaskFormPage performs an action from the case view, then shows the
// case again: with a confirmation, or with what went wrong in German. A
// decision or a question goes to the applicant only after its preview:
// the form shows the message as the applicant will read it, and only its
// second step sends it.
func (p *Pages) handleTaskFormPage(w http.ResponseWriter, r *http.Request, v view) {
	id := *v.User
	taskID, action := mux.Vars(r)["taskId"], mux.Vars(r)["action"]
	update, ok := taskForms[action]
	if !ok {
		p.ErrorPage(w, r, http.StatusNotFound, "notfound")
		return
	}
	caseID, _ := ozgflow.CaseIDFromTaskID(taskID)
	mux.Vars(r)["caseId"] = caseID
	messages := action == "entscheiden" || action == "nachfragen"
	if messages && (r.PostFormValue("schritt") != stepSend || !p.previewed(r, taskID, formOf(action, r))) {
		// Sent without the preview of exactly this text (a form posted
		// directly, or changed after its preview): the preview first.
		p.previewPage(w, r, v, taskID, action)
		return
	}
	web.NoteAction(r.Context(), taskActions[action])
	done, err := p.cases.ActOnTask(r.Context(), id, update, taskID, taskFormBody(action, r))
	if err != nil {
		p.refusedAction(w, r, v, action, err)
		return
	}
	flash := taskFlash[action]
	switch {
	case action == "entscheiden" && done.Status == ozgflow.TaskApproval:
		flash = "vorgeschlagen"
	case action == "bestaetigen" && r.PostFormValue("approve") != "ja":
		flash = "zurueckgegeben"
	}
	if note := strings.TrimSpace(r.PostFormValue("note")); messages && note != "" {
		// The internal note written with the decision or question.
		if _, err := p.cases.AddNote(r.Context(), id, caseID, note); err != nil {
			v.ProblemTitle, v.Problems = say("problem.note.after"), p.germanProblems(r.Context(), id, err)
			v.Flash = say("flash." + flash)
			p.casePage(w, r, v, http.StatusOK, caseData{Form: caseForm{Action: "notiz", Note: note}})
			return
		}
	}
	http.Redirect(w, r, p.caseAddress(caseID, r, flash), http.StatusSeeOther)
}

// previewToken binds a preview to the text it showed: the task, the
// form's action, outcome, message, fields and internal note, in the
// signed-in session. Only a form that carries it sends, so what goes to
// the applicant is what the case worker saw.
func (p *Pages) previewToken(r *http.Request, taskID string, f caseForm) string {
	return p.csrf.Token(strings.Join([]string{"preview", taskID, f.Action, f.Outcome, f.Comment, f.Fields, f.Note}, "\x00"),
		web.SessionToken(r))
}

// previewed reports whether the form sent is the one its preview showed.
func (p *Pages) previewed(r *http.Request, taskID string, f caseForm) bool {
	posted := r.PostFormValue("vorschau")
	return posted != "" && hmac.Equal([]byte(posted), []byte(p.previewToken(r, taskID, f)))
}

// previewPage shows the case with the message a decision or question will
// send, as the applicant will read it, and the button that sends it; or,
// going back to change it, the form as it was filled in.
func (p *Pages) previewPage(w http.ResponseWriter, r *http.Request, v view, taskID, action string) {
	// Reading the case for the preview changes nothing.
	web.NoteAction(r.Context(), "case.read")
	form := formOf(action, r)
	more := caseData{Form: form}
	if r.PostFormValue("schritt") == stepChange {
		p.casePage(w, r, v, http.StatusOK, more)
		return
	}
	m, err := p.cases.PreviewMessage(r.Context(), *v.User, taskID, form.completion())
	if err == nil {
		// The internal note goes along on sending: bounded here already.
		err = ozgflow.InvalidInput(ozgflow.CheckText(ozgflow.Prose("/note", form.Note, ozgflow.MaxCommentRunes)))
	}
	if err != nil {
		p.refusedActionWith(w, r, v, action, err, more)
		return
	}
	more.Preview, more.PreviewToken = &m, p.previewToken(r, taskID, form)
	if r.PostFormValue("schritt") == stepSend {
		// Sent without having been previewed as it is now.
		v.ProblemTitle = say("problem.preview")
		v.Problems = []ozgflow.FieldError{{Detail: say("problem.preview.text")}}
	}
	p.casePage(w, r, v, http.StatusOK, more)
}

// refusedAction shows why an action was refused: a case or task that is
// gone or changed on an error page, anything else on the case with the
// form as it was filled in.
func (p *Pages) refusedAction(w http.ResponseWriter, r *http.Request, v view, action string, err error) {
	more := caseData{}
	if action == "entscheiden" || action == "nachfragen" {
		more.Form = formOf(action, r)
	}
	if action == "bestaetigen" || action == "abgeben" {
		more.Form = caseForm{Action: action, Comment: strings.TrimSpace(r.PostFormValue("comment")), Note: strings.TrimSpace(r.PostFormValue("note"))}
	}
	p.refusedActionWith(w, r, v, action, err, more)
}

func (p *Pages) refusedActionWith(w http.ResponseWriter, r *http.Request, v view, action string, err error, more caseData) {
	id := *v.User
	caseID := mux.Vars(r)["caseId"]
	switch ozgflow.ErrorCode(err) {
	case ozgflow.ENOTFOUND:
		p.errorPageFor(w, r, err)
		return
	case ozgflow.ECONFLICT:
		p.conflictPage(w, r, id, caseID, err)
		return
	}
	title := "problem.action." + action
	if action == "bestaetigen" && r.PostFormValue("approve") != "ja" {
		title = "problem.action.zurueckgeben"
	}
	v.ProblemTitle = say(title)
	v.Problems = locale.DE.InputProblems(ozgflow.ErrorFields(err))
	if v.Problems == nil {
		v.Problems = []ozgflow.FieldError{{Detail: p.refusalText(r.Context(), locale.DE, id, err)}}
	}
	more.Invalid = map[string]string{}
	for _, f := range ozgflow.ErrorFields(err) {
		field := strings.TrimPrefix(f.Pointer, "/")
		if action == "nachfragen" && field == "comment" {
			field = "question"
		}
		more.Invalid[field] = v.Problems[0].Detail
	}
	p.casePage(w, r, v, web.StatusOf(ozgflow.ErrorCode(err)), more)
}

// conflictPage answers an action the case's state no longer allows: the
// error page in the request's language, saying why, with the way back to
// the case.
func (p *Pages) conflictPage(w http.ResponseWriter, r *http.Request, id ozgflow.Identity, caseID string, err error) {
	l := locale.FromRequest(r)
	p.render.Error(w, http.StatusConflict, web.ErrorPage{Lang: string(l), Title: l.Text(false, "staff.error.conflict.title"),
		Text: p.refusalText(r.Context(), l, id, err), Help: l.Text(false, "staff.error.conflict.help"),
		Back: "/arbeitskorb/vorgaenge/" + caseID, BackText: l.Text(false, "staff.error.back.case")})
}

// errorPageFor answers a refused page with the error page of its status.
func (p *Pages) errorPageFor(w http.ResponseWriter, r *http.Request, err error) {
	kinds := map[string]string{ozgflow.ENOTFOUND: "notfound", ozgflow.EFORBIDDEN: "forbidden", ozgflow.ECONFLICT: "conflict"}
	kind, ok := kinds[ozgflow.ErrorCode(err)]
	if !ok {
		kind = "unavailable"
		if ozgflow.ErrorCode(err) == ozgflow.EINTERNAL {
			p.logger.Error("Staff page failed", "path", r.URL.Path, "error", err)
		}
	}
	p.ErrorPage(w, r, map[string]int{"notfound": 404, "forbidden": 403, "conflict": 409, "unavailable": 503}[kind], kind)
}
