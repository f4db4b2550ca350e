package gateway

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/locale"
	"github.com/ozgflow/ozgflow/store"
)

// The case workers' workspace (Arbeitskorb): queues, the task list, the
// case view and the actions on a task. It reads the Redis projections and
// acts through the same workflow updates as the API.

// pageSize is how many tasks one page of the list shows.
const pageSize = 25

func (s *Server) registerWorkspaceRoutes() {
	s.router.HandleFunc("/arbeitskorb", s.workspace(s.handleInboxPage)).Methods(http.MethodGet)
	s.router.HandleFunc("/arbeitskorb/sammelaktion", s.workspace(s.handleBulkPage)).Methods(http.MethodPost)
	s.router.HandleFunc("/arbeitskorb/ereignisse", s.workspace(s.handleWorkspaceEvents)).Methods(http.MethodGet)
	s.router.HandleFunc("/arbeitskorb/vorgaenge/{caseId}", s.workspace(s.handleCasePage)).Methods(http.MethodGet)
	s.router.HandleFunc("/arbeitskorb/aufgaben/{taskId}/{action}", s.workspace(s.handleTaskFormPage)).Methods(http.MethodPost)
}

// workspace wraps a case workers' page.
func (s *Server) workspace(h func(w http.ResponseWriter, r *http.Request, v view)) http.HandlerFunc {
	return s.sessionPage(RoleCaseWorker, "Sie sind angemeldet, haben aber keinen Arbeitskorb.",
		"Der Arbeitskorb ist Sachbearbeiterinnen und Sachbearbeitern vorbehalten.", h)
}

// inboxData is what the task list shows.
type inboxData struct {
	Queues     []store.QueueCount
	Mine       int64
	Queue      string
	Status     string
	Service    string
	Sort       string
	Services   []serviceOption
	Colleagues []Identity
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
func (s *Server) inboxFilter(r *http.Request, id Identity) (store.TaskQuery, int) {
	q := r.URL.Query()
	f := store.TaskQuery{Authority: id.Authority, Queue: q.Get("queue"), Status: q.Get("status"), Service: q.Get("service"),
		Sort: q.Get("sort"), User: id.Subject, Now: s.now(), Limit: pageSize}
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

func (s *Server) inbox(ctx context.Context, id Identity, f store.TaskQuery, page int) (inboxData, error) {
	d := inboxData{Queue: f.Queue, Status: f.Status, Service: f.Service, Sort: f.Sort, Page: page}
	queues, err := s.memberQueues(ctx, id, id.Authority)
	if err != nil {
		return d, err
	}
	if d.Queues, err = s.store.QueueCounts(ctx, id.Authority, queues, f.Now); err != nil {
		return d, err
	}
	if d.Mine, err = s.store.AssignedCount(ctx, id.Authority, id.Subject); err != nil {
		return d, err
	}
	names := s.names(ctx, id.Authority)
	held, err := s.store.AssignedTasks(ctx, id.Authority, id.Subject, 100)
	if err != nil {
		return d, err
	}
	for _, t := range held {
		if !t.RemindedAt.IsZero() || t.Overdue(f.Now) {
			d.Reminders = append(d.Reminders, s.taskRow(t, names, f.Now))
		}
	}
	if f.Queue != "" && !id.MemberOf(f.Queue) {
		return d, ozgflow.Errorf(ozgflow.ENOTFOUND, "Arbeitskorb %s gibt es nicht.", f.Queue)
	}
	list, err := s.listTasks(ctx, id, f)
	if err != nil {
		return d, err
	}
	for _, t := range list.Tasks {
		d.Tasks = append(d.Tasks, s.taskRow(t, names, f.Now))
	}
	d.Total = list.Total
	d.Pages = int((list.Total + pageSize - 1) / pageSize)
	d.Services = s.serviceOptions(id.Authority)
	d.Colleagues = s.colleagues(ctx, id.Authority)
	query := url.Values{}
	for k, v := range map[string]string{"queue": f.Queue, "status": f.Status, "service": f.Service, "sort": f.Sort} {
		if v != "" {
			query.Set(k, v)
		}
	}
	d.Query = template.URL(query.Encode()) // encoded here: safe in a URL
	return d, nil
}

func (s *Server) taskRow(t ozgflow.Task, names map[string]string, now time.Time) taskRow {
	row := taskRow{Task: t, ServiceName: s.serviceName(t.Service), Overdue: t.Overdue(now),
		StatusText: locale.DE.TaskStatus(t.Status), Holder: nameOf(names, t.Assignee)}
	if !t.DueAt.IsZero() {
		row.Due = germanTime(t.DueAt)
	}
	return row
}

// serviceOptions lists the services an authority offers, for the filter.
func (s *Server) serviceOptions(authority string) []serviceOption {
	var out []serviceOption
	seen := map[string]bool{}
	for _, def := range s.defs.Registry().Published() {
		if (def.Authority == authority || def.Authority == "") && !seen[def.Service] {
			seen[def.Service] = true
			out = append(out, serviceOption{Key: def.Service, Name: def.Name})
		}
	}
	return out
}

// names maps the subjects of an authority's case workers to their names.
func (s *Server) names(ctx context.Context, authority string) map[string]string {
	out := map[string]string{}
	for _, id := range s.colleagues(ctx, authority) {
		out[id.Subject] = id.Name
	}
	return out
}

func nameOf(names map[string]string, subject string) string {
	if n, ok := names[subject]; ok {
		return n
	}
	return subject
}

func germanTime(t time.Time) string {
	return t.In(locale.Berlin).Format("02.01.2006 15:04")
}

func (s *Server) handleInboxPage(w http.ResponseWriter, r *http.Request, v view) {
	f, page := s.inboxFilter(r, *v.User)
	d, err := s.inbox(r.Context(), *v.User, f, page)
	status := http.StatusOK
	if err != nil {
		status = StatusOf(ozgflow.ErrorCode(err))
		v.ProblemTitle = "Die Aufgaben konnten nicht geladen werden."
		v.Problems = []ozgflow.FieldError{{Detail: ozgflow.ErrorMessage(err)}}
	}
	v.Title, v.Data = "Arbeitskorb", d
	if r.URL.Query().Get("fragment") == "liste" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := pages["workspace"].ExecuteTemplate(w, "tasklist", v); err != nil {
			s.logger.Error("Task list not rendered", "error", err)
		}
		return
	}
	s.render(w, r, status, "workspace", v)
}

// handleBulkPage claims, hands over or exports the selected tasks.
func (s *Server) handleBulkPage(w http.ResponseWriter, r *http.Request, v view) {
	id := *v.User
	ids := r.PostForm["ids"]
	action := r.PostFormValue("action")
	if action == "export" {
		var tasks []ozgflow.Task
		for _, taskID := range ids {
			if _, t, err := s.visibleTask(r.Context(), id, taskID); err == nil {
				tasks = append(tasks, t)
			}
		}
		s.writeTaskWorkbook(w, r, tasks)
		return
	}
	f, page := s.inboxFilter(r, id)
	if len(ids) == 0 {
		v.ProblemTitle = "Keine Aufgabe ausgewählt."
		v.Problems = []ozgflow.FieldError{{Detail: "Wählen Sie in der Liste die Aufgaben aus, für die die Aktion gelten soll."}}
	} else {
		results, err := s.bulk(r.Context(), id, bulkRequest{Action: action, TaskIDs: ids,
			To: r.PostFormValue("to"), Queue: r.PostFormValue("queue"), Note: r.PostFormValue("note")})
		if err != nil {
			v.ProblemTitle = "Die Aktion ist unvollständig."
			v.Problems = germanFields(err)
		}
		done := 0
		names := s.names(r.Context(), id.Authority)
		var rows []bulkRow
		for _, res := range results {
			text := "erledigt"
			if res.OK {
				done++
			} else {
				text = s.germanRefusal(r.Context(), id, res.TaskID, fmt.Errorf("%s", res.Error), names)
			}
			rows = append(rows, bulkRow{TaskID: res.TaskID, OK: res.OK, Text: text})
		}
		if len(results) > 0 {
			v.Flash = fmt.Sprintf("%d von %d Aufgaben erledigt.", done, len(results))
		}
		d, err := s.inbox(r.Context(), id, f, page)
		if err != nil {
			v.Problems = append(v.Problems, ozgflow.FieldError{Detail: ozgflow.ErrorMessage(err)})
		}
		d.Results = rows
		v.Title, v.Data = "Arbeitskorb", d
		s.render(w, r, http.StatusOK, "workspace", v)
		return
	}
	d, _ := s.inbox(r.Context(), id, f, page)
	v.Title, v.Data = "Arbeitskorb", d
	s.render(w, r, http.StatusUnprocessableEntity, "workspace", v)
}

func germanFields(err error) []ozgflow.FieldError {
	fields := ozgflow.ErrorFields(err)
	if len(fields) == 0 {
		return []ozgflow.FieldError{{Detail: ozgflow.ErrorMessage(err)}}
	}
	return fields
}

// germanRefusal says in German why an action on a task was refused, from
// the task's state right now: who holds it, whether the case was withdrawn.
func (s *Server) germanRefusal(ctx context.Context, id Identity, taskID string, err error, names map[string]string) string {
	caseID, _ := ozgflow.CaseIDFromTaskID(taskID)
	c, qerr := s.queryCase(ctx, caseID)
	if qerr != nil {
		return "Die Aufgabe gibt es nicht (mehr)."
	}
	t, found := taskOf(c, taskID)
	switch {
	case !found || c.Authority != id.Authority || !id.MemberOf(t.Queue):
		return "Die Aufgabe gibt es nicht (mehr)."
	case c.Status == ozgflow.StatusWithdrawn:
		return "Der Antrag wurde inzwischen zurückgezogen. Eine Entscheidung ist nicht mehr möglich."
	case c.Status.Final():
		return "Der Vorgang ist bereits abgeschlossen."
	case t.Status == ozgflow.TaskApproval && t.Proposal != nil && t.Proposal.By == id.Subject:
		return "Ihre Entscheidung muss eine zweite Person bestätigen, nicht Sie selbst."
	case t.Status == ozgflow.TaskApproval:
		return "Die Entscheidung wartet auf die Bestätigung durch eine zweite Person."
	case t.Assignee != "" && t.Assignee != id.Subject:
		return "Diese Aufgabe bearbeitet bereits " + nameOf(names, t.Assignee) + "."
	}
	return ozgflow.ErrorMessage(err)
}

// caseData is what the case view shows.
type caseData struct {
	Case        ozgflow.Case
	ServiceName string
	Status      string
	Fields      []definitions.LabelledField
	Attachments []ozgflow.Attachment
	Tasks       []taskRow
	Active      *taskRow // the task the case worker can act on now
	Queues      []string
	Colleagues  []Identity
	Audit       []auditRow
	Payment     string
	Seal        string
	Can         map[string]bool
}

type auditRow struct {
	At, By, Action, Detail string
}

// auditText names the audit actions in German.
var auditText = map[string]string{
	ozgflow.AuditClaimed:        "übernommen",
	ozgflow.AuditReleased:       "freigegeben",
	ozgflow.AuditHandedOver:     "abgegeben",
	ozgflow.AuditDecided:        "entschieden",
	ozgflow.AuditProposed:       "Entscheidung vorgeschlagen (Vier-Augen-Prinzip)",
	ozgflow.AuditApproved:       "Entscheidung bestätigt",
	ozgflow.AuditApprovalDenied: "Entscheidung zurückgegeben",
	ozgflow.AuditAsked:          "Rückfrage an die antragstellende Person",
	ozgflow.AuditAnswered:       "Antwort der antragstellenden Person",
	ozgflow.AuditReminded:       "Erinnerung: Frist läuft bald ab",
	ozgflow.AuditEscalated:      "eskaliert: Frist überschritten",
	ozgflow.AuditAnswerReminded: "Erinnerung an die antragstellende Person",
	ozgflow.AuditAnswerExpired:  "Antwortfrist abgelaufen",
	ozgflow.AuditWithdrawn:      "Antrag zurückgezogen",
}

var caseStatusText = map[ozgflow.Status]string{
	ozgflow.StatusReceived:             "Eingegangen",
	ozgflow.StatusAwaitingPayment:      "Wartet auf Zahlung",
	ozgflow.StatusAwaitingSignature:    "Wartet auf Unterschrift",
	ozgflow.StatusForwarded:            "An das Fachverfahren übermittelt",
	ozgflow.StatusInReview:             "In Prüfung",
	ozgflow.StatusInformationRequested: "Rückfrage an die antragstellende Person",
	ozgflow.StatusApproved:             "Bewilligt",
	ozgflow.StatusRejected:             "Abgelehnt",
	ozgflow.StatusWithdrawn:            "Zurückgezogen",
	ozgflow.StatusCancelled:            "Abgebrochen",
}

// caseForWorker loads a case and what it started with, if the case worker
// may see it.
func (s *Server) caseForWorker(ctx context.Context, id Identity, caseID string) (ozgflow.Case, definitions.CaseInput, error) {
	notFound := ozgflow.Errorf(ozgflow.ENOTFOUND, "Den Vorgang %s gibt es nicht.", caseID)
	var in definitions.CaseInput
	c, err := s.loadCase(ctx, caseID)
	if ozgflow.ErrorCode(err) == ozgflow.ENOTFOUND || (err == nil && !caseWorkerSees(id, c)) {
		return c, in, notFound
	} else if err != nil {
		return c, in, err
	}
	val, err := s.temporal.QueryWorkflow(ctx, ozgflow.CaseWorkflowID(caseID), "", ozgflow.QueryInput)
	if err != nil {
		return c, in, fromTemporal(err)
	}
	return c, in, val.Get(&in)
}

func (s *Server) handleCasePage(w http.ResponseWriter, r *http.Request, v view) {
	s.casePage(w, r, v, http.StatusOK)
}

func (s *Server) casePage(w http.ResponseWriter, r *http.Request, v view, status int) {
	id := *v.User
	c, in, err := s.caseForWorker(r.Context(), id, mux.Vars(r)["caseId"])
	if err != nil {
		v.Title = "Vorgang nicht gefunden"
		v.ProblemTitle = ozgflow.ErrorMessage(err)
		v.Problems = []ozgflow.FieldError{{Detail: "Vielleicht gehört er zu einer anderen Behörde oder einem Arbeitskorb, in dem Sie nicht arbeiten."}}
		s.render(w, r, StatusOf(ozgflow.ErrorCode(err)), "changes", v)
		return
	}
	names := s.names(r.Context(), id.Authority)
	now := s.now()
	d := caseData{Case: c, ServiceName: c.ServiceName, Status: caseStatusText[c.Status],
		Fields: in.Definition.LabelledData(in.Application.Data), Attachments: in.Application.Attachments,
		Queues: in.Definition.Queues(), Can: map[string]bool{}}
	for _, t := range c.Tasks {
		row := s.taskRow(t, names, now)
		d.Tasks = append(d.Tasks, row)
		if t.Active() && id.MemberOf(t.Queue) {
			d.Active = &row
		}
	}
	for _, colleague := range s.colleagues(r.Context(), id.Authority) {
		if colleague.Subject != id.Subject {
			d.Colleagues = append(d.Colleagues, colleague)
		}
	}
	if t := d.Active; t != nil {
		mine := t.Assignee == id.Subject
		d.Can["claim"] = t.Status == ozgflow.TaskOpen
		d.Can["release"] = t.Status == ozgflow.TaskClaimed && mine
		d.Can["handover"] = t.Status == ozgflow.TaskOpen || (t.Status == ozgflow.TaskClaimed && mine)
		d.Can["decide"] = t.Status == ozgflow.TaskClaimed && mine
		d.Can["ask"] = d.Can["decide"] && t.Offers(ozgflow.OutcomeRequestInformation)
		d.Can["approve"] = t.Status == ozgflow.TaskApproval && t.Proposal != nil && t.Proposal.By != id.Subject
	}
	for _, a := range c.Audit {
		by := a.By
		switch by {
		case "system":
			by = "System (Frist)"
		case "applicant":
			by = "Antragsteller/in"
		default:
			by = nameOf(names, by)
		}
		text := auditText[a.Action]
		if text == "" {
			text = a.Action
		}
		d.Audit = append(d.Audit, auditRow{At: germanTime(a.At), By: by, Action: text, Detail: a.Detail})
	}
	for _, req := range c.Requests {
		d.Attachments = append(d.Attachments, req.Attachments...)
	}
	if p := c.Payment; p != nil {
		d.Payment = locale.DE.Amount(p.Amount, p.Currency) + " – " + paymentText[p.Status]
		if p.Refund != "" {
			d.Payment += " (Erstattung: " + strings.ToLower(p.Refund) + ")"
		}
	}
	if c.Seal != nil {
		d.Seal = "gesiegelt am " + germanTime(c.Seal.SealedAt) + " (Schlüssel " + c.Seal.KeyID + ")"
	}
	v.Title = c.ServiceName + " – Vorgang " + c.ID
	v.Data = d
	s.render(w, r, status, "workspace_case", v)
}

var paymentText = map[string]string{
	ozgflow.PaymentInitial:  "offen",
	ozgflow.PaymentPayed:    "bezahlt",
	ozgflow.PaymentFailed:   "fehlgeschlagen",
	ozgflow.PaymentCanceled: "abgebrochen",
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

// handleTaskFormPage performs an action from the case view, then shows the
// case again: with a confirmation, or with what went wrong in German.
func (s *Server) handleTaskFormPage(w http.ResponseWriter, r *http.Request, v view) {
	id := *v.User
	taskID, action := mux.Vars(r)["taskId"], mux.Vars(r)["action"]
	update, ok := taskForms[action]
	if !ok {
		http.NotFound(w, r)
		return
	}
	var body any
	switch action {
	case "abgeben":
		body = handoverRequest{To: r.PostFormValue("to"), Queue: r.PostFormValue("queue"), Note: strings.TrimSpace(r.PostFormValue("note"))}
	case "entscheiden":
		body = completeRequest{Outcome: r.PostFormValue("outcome"), Comment: strings.TrimSpace(r.PostFormValue("comment"))}
	case "nachfragen":
		var fields []string
		for _, f := range strings.Split(r.PostFormValue("fields"), ",") {
			if f = strings.TrimSpace(f); f != "" {
				fields = append(fields, f)
			}
		}
		body = completeRequest{Outcome: ozgflow.OutcomeRequestInformation, Comment: strings.TrimSpace(r.PostFormValue("question")), Fields: fields}
	case "bestaetigen":
		body = approveRequest{Approve: r.PostFormValue("approve") == "ja", Comment: strings.TrimSpace(r.PostFormValue("comment"))}
	}
	caseID, _ := ozgflow.CaseIDFromTaskID(taskID)
	if _, err := s.actOnTask(r.Context(), id, update, taskID, body); err != nil {
		if ozgflow.ErrorCode(err) == ozgflow.ENOTFOUND {
			v.Title = "Aufgabe nicht gefunden"
			v.ProblemTitle = "Die Aufgabe gibt es nicht (mehr)."
			v.Problems = []ozgflow.FieldError{{Detail: "Vielleicht gehört sie zu einem Arbeitskorb, in dem Sie nicht arbeiten."}}
			s.render(w, r, http.StatusNotFound, "changes", v)
			return
		}
		v.ProblemTitle = "Das hat nicht geklappt."
		v.Problems = []ozgflow.FieldError{{Detail: s.germanRefusal(r.Context(), id, taskID, err, s.names(r.Context(), id.Authority))}}
		for _, f := range ozgflow.ErrorFields(err) {
			v.Problems = append(v.Problems, f)
		}
		mux.Vars(r)["caseId"] = caseID
		s.casePage(w, r, v, StatusOf(ozgflow.ErrorCode(err)))
		return
	}
	http.Redirect(w, r, "/arbeitskorb/vorgaenge/"+caseID+"?hinweis="+taskFlash[action], http.StatusSeeOther)
}

// handleWorkspaceEvents streams server-sent events: the ID of every case of
// the case worker's authority that changed and that they may see.
func (s *Server) handleWorkspaceEvents(w http.ResponseWriter, r *http.Request, v view) {
	id := *v.User
	s.streamCaseEvents(w, r, id.Authority, "vorgang", func(caseID string) bool {
		c, err := s.store.Case(r.Context(), caseID)
		return err == nil && caseWorkerSees(id, c)
	}, "Live-Aktualisierung nicht verfügbar.")
}
