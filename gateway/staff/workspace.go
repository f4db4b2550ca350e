package staff

import (
	"bytes"
	"context"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/locale"
	"github.com/ozgflow/ozgflow/reports"
	"github.com/ozgflow/ozgflow/store"
)

// The case workers' workspace (Arbeitskorb): queues, the task list, the
// case view and the actions on a task. It reads the Redis projections and
// acts through the same workflow updates as the API.

// pageSize is how many tasks one page of the list shows.
const pageSize = 25

// inboxData is what the task list shows.
type inboxData struct {
	Queues     []store.QueueCount
	Mine       int64
	Queue      string
	Status     string
	Service    string
	Sort       string
	Services   []serviceOption
	Colleagues []ozgflow.Identity
	Tasks      []taskRow
	Total      int64
	Page       int
	Pages      int
	Query      template.URL // the filter as a query string, for paging links
	Results    []bulkRow
	Reminders  []taskRow // tasks the case worker holds that were reminded or are overdue
}

type serviceOption struct{ Key, Name string }

// taskRow is one line of the task list.
type taskRow struct {
	ozgflow.Task
	ServiceName string
	Due         string
	Overdue     bool
	StatusText  string
	Holder      string
}

type bulkRow struct {
	TaskID string
	OK     bool
	Text   string
}

// inboxFilter reads the list's filter from the query string.
func (p *Pages) inboxFilter(r *http.Request, id ozgflow.Identity) (store.TaskQuery, int) {
	q := r.URL.Query()
	f := store.TaskQuery{Authority: id.Authority, Queue: q.Get("queue"), Status: q.Get("status"), Service: q.Get("service"),
		Sort: q.Get("sort"), User: id.Subject, Now: p.now(), Limit: pageSize}
	if !slices.Contains([]string{"", store.FilterOpen, store.FilterMine, store.FilterOthers, store.FilterOverdue, store.FilterApproval}, f.Status) {
		f.Status = ""
	}
	if f.Sort != store.SortPriority {
		f.Sort = store.SortDue
	}
	page, _ := strconv.Atoi(q.Get("seite"))
	page = max(page, 1)
	f.Offset = int64(page-1) * pageSize
	return f, page
}

func (p *Pages) inbox(ctx context.Context, id ozgflow.Identity, f store.TaskQuery, page int) (inboxData, error) {
	d := inboxData{Queue: f.Queue, Status: f.Status, Service: f.Service, Sort: f.Sort, Page: page}
	queues, err := p.cases.MemberQueues(ctx, id, id.Authority)
	if err != nil {
		return d, err
	}
	if d.Queues, err = p.store.QueueCounts(ctx, id.Authority, queues, f.Now); err != nil {
		return d, err
	}
	if d.Mine, err = p.store.AssignedCount(ctx, id.Authority, id.Subject); err != nil {
		return d, err
	}
	names := p.cases.Names(ctx, id.Authority)
	held, err := p.store.AssignedTasks(ctx, id.Authority, id.Subject, 100)
	if err != nil {
		return d, err
	}
	for _, t := range held {
		if !t.RemindedAt.IsZero() || t.Overdue(f.Now) {
			d.Reminders = append(d.Reminders, p.taskRow(t, names, f.Now))
		}
	}
	if f.Queue != "" && !id.MemberOf(f.Queue) {
		return d, ozgflow.Errorf(ozgflow.ENOTFOUND, "Arbeitskorb %s gibt es nicht.", f.Queue)
	}
	list, err := p.cases.ListTasks(ctx, id, f)
	if err != nil {
		return d, err
	}
	for _, t := range list.Tasks {
		d.Tasks = append(d.Tasks, p.taskRow(t, names, f.Now))
	}
	d.Total = list.Total
	d.Pages = int((list.Total + pageSize - 1) / pageSize)
	d.Services = p.serviceOptions(id.Authority)
	d.Colleagues = p.cases.Colleagues(ctx, id.Authority)
	query := url.Values{}
	for k, v := range map[string]string{"queue": f.Queue, "status": f.Status, "service": f.Service, "sort": f.Sort} {
		if v != "" {
			query.Set(k, v)
		}
	}
	d.Query = template.URL(query.Encode()) // encoded here: safe in a URL
	return d, nil
}

func (p *Pages) taskRow(t ozgflow.Task, names map[string]string, now time.Time) taskRow {
	row := taskRow{Task: t, ServiceName: p.cases.ServiceName(t.Service), Overdue: t.Overdue(now),
		StatusText: locale.DE.TaskStatus(t.Status), Holder: nameOf(names, t.Assignee)}
	if !t.DueAt.IsZero() {
		row.Due = locale.DE.Short(t.DueAt)
	}
	return row
}

// serviceOptions lists the services an authority offers, for the filter.
func (p *Pages) serviceOptions(authority string) []serviceOption {
	var out []serviceOption
	seen := map[string]bool{}
	for _, def := range p.cases.Defs.Registry().Published() {
		if (def.Authority == authority || def.Authority == "") && !seen[def.Service] {
			seen[def.Service] = true
			out = append(out, serviceOption{Key: def.Service, Name: def.Name})
		}
	}
	return out
}

func nameOf(names map[string]string, subject string) string {
	if n, ok := names[subject]; ok {
		return n
	}
	return subject
}

func (p *Pages) handleInboxPage(w http.ResponseWriter, r *http.Request, v view) {
	f, page := p.inboxFilter(r, *v.User)
	d, err := p.inbox(r.Context(), *v.User, f, page)
	status := http.StatusOK
	if err != nil {
		status = web.StatusOf(ozgflow.ErrorCode(err))
		v.ProblemTitle = "Die Aufgaben konnten nicht geladen werden."
		v.Problems = []ozgflow.FieldError{{Detail: ozgflow.ErrorMessage(err)}}
	}
	v.Title, v.Data = say("title.workspace"), d
	if r.URL.Query().Get("fragment") == "liste" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := pages["workspace"].ExecuteTemplate(w, "tasklist", v); err != nil {
			p.logger.Error("Task list not rendered", "error", err)
		}
		return
	}
	p.show(w, status, "workspace", v)
}

// handleBulkPage claims, hands over or exports the selected tasks.
func (p *Pages) handleBulkPage(w http.ResponseWriter, r *http.Request, v view) {
	id := *v.User
	ids := r.PostForm["ids"]
	if r.PostFormValue("action") == "export" {
		p.exportSelected(w, r, id, ids)
		return
	}
	f, page := p.inboxFilter(r, id)
	status := http.StatusOK
	var rows []bulkRow
	if len(ids) == 0 {
		status = http.StatusUnprocessableEntity
		v.ProblemTitle = say("problem.nothing_selected")
		v.Problems = []ozgflow.FieldError{{Detail: locale.DE.Refusal(ozgflow.Refusal{Reason: ozgflow.ReasonNothingSelected})}}
	} else {
		rows = p.actOnSelected(r, id, ids, &v)
	}
	d, err := p.inbox(r.Context(), id, f, page)
	if err != nil {
		v.Problems = append(v.Problems, ozgflow.FieldError{Detail: ozgflow.ErrorMessage(err)})
	}
	d.Results = rows
	v.Title, v.Data = say("title.workspace"), d
	p.show(w, status, "workspace", v)
}

// actOnSelected claims or hands over the selected tasks and says, for each,
// whether it worked or why not.
func (p *Pages) actOnSelected(r *http.Request, id ozgflow.Identity, ids []string, v *view) []bulkRow {
	results, err := p.cases.ActOnTasks(r.Context(), id, casework.Bulk{Action: r.PostFormValue("action"), TaskIDs: ids,
		To: r.PostFormValue("to"), Queue: r.PostFormValue("queue"), Note: r.PostFormValue("note")})
	if err != nil {
		v.ProblemTitle = say("problem.bulk")
		v.Problems = p.germanProblems(r.Context(), id, err)
	}
	done := 0
	rows := make([]bulkRow, 0, len(results))
	for _, res := range results {
		text := say("bulk.done")
		if res.Err == nil {
			done++
		} else {
			text = p.refusalText(r.Context(), locale.DE, id, res.Err)
		}
		rows = append(rows, bulkRow{TaskID: res.TaskID, OK: res.Err == nil, Text: text})
	}
	if len(results) > 0 {
		v.Flash = say("flash.bulk", done, len(results))
	}
	return rows
}

// exportSelected answers the selected tasks the case worker may see as an
// Excel workbook.
func (p *Pages) exportSelected(w http.ResponseWriter, r *http.Request, id ozgflow.Identity, ids []string) {
	var tasks []ozgflow.Task
	for _, taskID := range ids {
		if _, t, err := p.cases.VisibleTask(r.Context(), id, taskID); err == nil {
			tasks = append(tasks, t)
		}
	}
	p.writeTaskWorkbook(w, r, tasks)
}

// refusalText says in l why an action was refused, from the
// refusal's reason; errors without a reason say what they carry.
func (p *Pages) refusalText(ctx context.Context, l locale.Lang, id ozgflow.Identity, err error) string {
	if text := p.cases.Explain(ctx, l, id.Authority, err); text != "" {
		return text
	}
	if ozgflow.ErrorCode(err) == ozgflow.EINTERNAL || ozgflow.ErrorCode(err) == ozgflow.EUNAVAILABLE {
		return l.Text(false, "staff.error.unavailable.text")
	}
	return ozgflow.ErrorMessage(err)
}

// germanProblems lists what is wrong with a refused action: the refusal in
// German, or else the fields it names.
func (p *Pages) germanProblems(ctx context.Context, id ozgflow.Identity, err error) []ozgflow.FieldError {
	if bounds := locale.DE.InputProblems(ozgflow.ErrorFields(err)); bounds != nil {
		return bounds
	}
	if ozgflow.RefusalOf(err) == nil && len(ozgflow.ErrorFields(err)) > 0 {
		return ozgflow.ErrorFields(err)
	}
	return []ozgflow.FieldError{{Detail: p.refusalText(ctx, locale.DE, id, err)}}
}

// caseData is what the case view shows.
type caseData struct {
	Case        ozgflow.Case
	ServiceName string
	Status      string
	Fields      []definitions.LabelledField
	Attachments []attachmentRow
	Tasks       []taskRow
	Active      *taskRow // the task the case worker can act on now
	Queues      []string
	Colleagues  []ozgflow.Identity
	Audit       []auditRow
	Trail       []trailRow // the audit trail: who read or changed the case
	Payment     string
	Seal        string
	Can         map[string]bool
}

// attachmentRow is a document of the application; Href opens it when
// ozgflow keeps its bytes (a portal may have submitted only its hash).
type attachmentRow struct {
	ozgflow.Attachment
	Href string
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
	p.casePage(w, r, v, http.StatusOK)
}

func (p *Pages) casePage(w http.ResponseWriter, r *http.Request, v view, status int) {
	id := *v.User
	c, in, err := p.caseForWorker(r.Context(), id, mux.Vars(r)["caseId"])
	if err != nil {
		p.errorPageFor(w, r, err)
		return
	}
	web.NoteAccount(r.Context(), c.PortalAccount)
	names := p.cases.Names(r.Context(), id.Authority)
	now := p.now()
	d := caseData{Case: c, ServiceName: c.ServiceName, Status: locale.DE.CaseStatus(c.ShownStatus()),
		Fields: in.Definition.LabelledData(in.Application.Data), Queues: in.Definition.Queues()}
	for _, t := range c.Tasks {
		row := p.taskRow(t, names, now)
		d.Tasks = append(d.Tasks, row)
		if t.Active() && id.MemberOf(t.Queue) {
			d.Active = &row
		}
	}
	for _, colleague := range p.cases.Colleagues(r.Context(), id.Authority) {
		if colleague.Subject != id.Subject {
			d.Colleagues = append(d.Colleagues, colleague)
		}
	}
	if t := d.Active; t != nil {
		d.Can = casework.AllowedActions(id, t.Task)
	}
	d.Audit = auditRows(c.Audit, names)
	if d.Trail, err = p.caseTrail(r.Context(), c.ID); err != nil {
		p.logger.Error("Audit trail of a case not read", "error", err)
		p.ErrorPage(w, r, http.StatusServiceUnavailable, "unavailable")
		return
	}
	d.Attachments = p.attachmentRows(r.Context(), c, in.Application.Attachments)
	d.Payment, d.Seal = paymentLine(c.Payment), sealLine(c.Seal)
	v.Title = c.ServiceName + " – Vorgang " + c.ID
	v.Data = d
	p.show(w, status, "workspace_case", v)
}

// attachmentRows lists the documents submitted with the application and
// uploaded with answers, linked to their download where ozgflow keeps them.
func (p *Pages) attachmentRows(ctx context.Context, c ozgflow.Case, submitted []ozgflow.Attachment) []attachmentRow {
	kept := map[string]bool{}
	docs, err := p.cases.Records.Documents(ctx, c.ID)
	if err != nil {
		p.logger.Warn("Documents of a case not listed", "case", c.ID, "error", err)
	}
	for _, d := range docs {
		kept[d.SHA256] = true
	}
	all := append([]ozgflow.Attachment(nil), submitted...)
	for _, req := range c.Requests {
		all = append(all, req.Attachments...)
	}
	rows := make([]attachmentRow, 0, len(all))
	for _, a := range all {
		row := attachmentRow{Attachment: a}
		if kept[a.SHA256] {
			row.Href = "/api/v1/applications/" + c.ID + "/documents/" + a.SHA256
		}
		rows = append(rows, row)
	}
	return rows
}

// auditRows words the audit trail for the case page: who, in German.
func auditRows(audit []ozgflow.AuditEntry, names map[string]string) []auditRow {
	rows := make([]auditRow, 0, len(audit))
	for _, a := range audit {
		by := a.By
		switch by {
		case "system":
			by = say("audit.system")
		case "applicant":
			by = say("audit.applicant")
		default:
			by = nameOf(names, by)
		}
		rows = append(rows, auditRow{At: locale.DE.Short(a.At), By: by, Action: locale.DE.AuditAction(a.Action), Detail: a.Detail})
	}
	return rows
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

// taskFormBody reads the body of a task action from its form.
func taskFormBody(action string, r *http.Request) any {
	switch action {
	case "abgeben":
		return casework.HandoverTo{To: r.PostFormValue("to"), Queue: r.PostFormValue("queue"), Note: strings.TrimSpace(r.PostFormValue("note"))}
	case "entscheiden":
		return casework.Completion{Outcome: r.PostFormValue("outcome"), Comment: strings.TrimSpace(r.PostFormValue("comment"))}
	case "nachfragen":
		var fields []string
		for _, f := range strings.Split(r.PostFormValue("fields"), ",") {
			if f = strings.TrimSpace(f); f != "" {
				fields = append(fields, f)
			}
		}
		return casework.Completion{Outcome: ozgflow.OutcomeRequestInformation, Comment: strings.TrimSpace(r.PostFormValue("question")), Fields: fields}
	case "bestaetigen":
		return casework.ApprovalAnswer{Approve: r.PostFormValue("approve") == "ja", Comment: strings.TrimSpace(r.PostFormValue("comment"))}
	case "wiedervorlage", "wiedervorlage-entfernen":
		return followUpForm(action, r)
	}
	return nil
}

// handleTaskFormPage performs an action from the case view, then shows the
// case again: with a confirmation, or with what went wrong in German.
func (p *Pages) handleTaskFormPage(w http.ResponseWriter, r *http.Request, v view) {
	id := *v.User
	taskID, action := mux.Vars(r)["taskId"], mux.Vars(r)["action"]
	update, ok := taskForms[action]
	if !ok {
		p.ErrorPage(w, r, http.StatusNotFound, "notfound")
		return
	}
	web.NoteAction(r.Context(), taskActions[action])
	caseID, _ := ozgflow.CaseIDFromTaskID(taskID)
	if _, err := p.cases.ActOnTask(r.Context(), id, update, taskID, taskFormBody(action, r)); err != nil {
		switch ozgflow.ErrorCode(err) {
		case ozgflow.ENOTFOUND:
			p.errorPageFor(w, r, err)
			return
		case ozgflow.ECONFLICT:
			p.conflictPage(w, r, id, caseID, err)
			return
		}
		v.ProblemTitle = say("problem.action")
		v.Problems = locale.DE.InputProblems(ozgflow.ErrorFields(err))
		if v.Problems == nil {
			v.Problems = append([]ozgflow.FieldError{{Detail: p.refusalText(r.Context(), locale.DE, id, err)}}, ozgflow.ErrorFields(err)...)
		}
		mux.Vars(r)["caseId"] = caseID
		p.casePage(w, r, v, web.StatusOf(ozgflow.ErrorCode(err)))
		return
	}
	http.Redirect(w, r, "/arbeitskorb/vorgaenge/"+caseID+"?hinweis="+taskFlash[action], http.StatusSeeOther)
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

// handleWorkspaceEvents streams server-sent events: the ID of every case of
// the case worker's authority that changed and that they may see.
func (p *Pages) handleWorkspaceEvents(w http.ResponseWriter, r *http.Request, v view) {
	id := *v.User
	web.StreamCaseEvents(w, r, p.store, id.Authority, "vorgang", func(caseID string) bool {
		c, err := p.store.Case(r.Context(), caseID)
		return err == nil && id.Sees(c)
	}, say("live.unavailable"))
}

// writeTaskWorkbook answers the selected tasks as an Excel workbook.
func (p *Pages) writeTaskWorkbook(w http.ResponseWriter, r *http.Request, tasks []ozgflow.Task) {
	var buf bytes.Buffer
	if err := reports.WriteTasks(&buf, tasks, p.cases.ServiceName, p.now()); err != nil {
		p.errorPageFor(w, r, err)
		return
	}
	w.Header().Set("Content-Type", web.XLSXType)
	w.Header().Set("Content-Disposition", `attachment; filename="aufgaben.xlsx"`)
	_, _ = w.Write(buf.Bytes())
}
