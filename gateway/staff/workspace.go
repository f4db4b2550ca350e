package staff

import (
	"bytes"
	"context"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/locale"
	"github.com/ozgflow/ozgflow/reports"
	"github.com/ozgflow/ozgflow/store"
)

// The case workers' workspace (Arbeitskorb): the queues with their
// counters, the task list with what a case worker needs to pick the next
// case (its short number, who applied, the service, when it came in, when
// it is due, its status and who holds it), and the selected case beside
// the list (workspace_case.go). It reads the Redis projections and acts
// through the same workflow updates as the API.

// pageSize is how many tasks one page of the list shows.
const pageSize = 25

// inboxData is what the task list shows.
type inboxData struct {
	Queues     []queueCount
	Mine       int64
	Queue      string
	QueueName  string
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
	// Current is the case shown beside the list, on the case page.
	Current string
}

// queueCount is a queue's counters with the queue's display name.
type queueCount struct {
	store.QueueCount
	Name string
}

type serviceOption struct{ Key, Name string }

// taskRow is one line of the task list.
type taskRow struct {
	ozgflow.Task
	Number      string // the case's short number
	Applicant   string // who applied
	Business    string // the business they applied for, if any
	Received    string
	ServiceName string
	QueueName   string
	Due         string
	Overdue     bool
	StatusText  string
	Holder      string
	Href        string // the case beside the list, with the list's filter
}

type bulkRow struct {
	TaskID string
	Number string
	OK     bool
	Text   string
}

// listKeys are the query parameters of the list's filter; the case page
// carries them so that the list beside it stays the one chosen.
var listKeys = []string{"queue", "status", "service", "sort", "seite"}

// listQuery keeps the list's filter of a query string.
func listQuery(q url.Values) url.Values {
	out := url.Values{}
	for _, k := range listKeys {
		if v := q.Get(k); v != "" {
			out.Set(k, v)
		}
	}
	return out
}

// inboxFilter reads the list's filter from the query string.
func (p *Pages) inboxFilter(q url.Values, id ozgflow.Identity) (store.TaskQuery, int) {
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
	d := inboxData{Queue: f.Queue, QueueName: p.cases.QueueName(id.Authority, f.Queue), Status: f.Status, Service: f.Service,
		Sort: f.Sort, Page: page}
	query := url.Values{}
	for k, v := range map[string]string{"queue": f.Queue, "status": f.Status, "service": f.Service, "sort": f.Sort} {
		if v != "" {
			query.Set(k, v)
		}
	}
	d.Query = template.URL(query.Encode()) // encoded here: safe in a URL
	caseQuery := listQuery(query)
	if page > 1 {
		caseQuery.Set("seite", strconv.Itoa(page))
	}
	queues, err := p.cases.MemberQueues(ctx, id, id.Authority)
	if err != nil {
		return d, err
	}
	counts, err := p.store.QueueCounts(ctx, id.Authority, queues, f.Now)
	if err != nil {
		return d, err
	}
	for _, c := range counts {
		d.Queues = append(d.Queues, queueCount{QueueCount: c, Name: p.cases.QueueName(id.Authority, c.Queue)})
	}
	if d.Mine, err = p.store.AssignedCount(ctx, id.Authority, id.Subject); err != nil {
		return d, err
	}
	names := p.cases.Names(ctx, id.Authority)
	held, err := p.store.AssignedTasks(ctx, id.Authority, id.Subject, 100)
	if err != nil {
		return d, err
	}
	var reminded []ozgflow.Task
	for _, t := range held {
		if !t.RemindedAt.IsZero() || t.Overdue(f.Now) {
			reminded = append(reminded, t)
		}
	}
	if d.Reminders, err = p.taskRows(ctx, id, reminded, names, f.Now, caseQuery); err != nil {
		return d, err
	}
	if f.Queue != "" && !id.MemberOf(f.Queue) {
		return d, ozgflow.Errorf(ozgflow.ENOTFOUND, "Arbeitskorb %s gibt es nicht.", f.Queue)
	}
	list, err := p.cases.ListTasks(ctx, id, f)
	if err != nil {
		return d, err
	}
	if d.Tasks, err = p.taskRows(ctx, id, list.Tasks, names, f.Now, caseQuery); err != nil {
		return d, err
	}
	d.Total = list.Total
	d.Pages = int((list.Total + pageSize - 1) / pageSize)
	d.Services = p.serviceOptions(id.Authority)
	d.Colleagues = p.cases.Colleagues(ctx, id.Authority)
	return d, nil
}

// taskRows words tasks for the list, with what the list shows of their
// cases; caseQuery is the list's filter the links to the cases carry.
func (p *Pages) taskRows(ctx context.Context, id ozgflow.Identity, tasks []ozgflow.Task, names map[string]string, now time.Time,
	caseQuery url.Values) ([]taskRow, error) {
	if len(tasks) == 0 {
		return nil, nil
	}
	cases, err := p.cases.CaseSummaries(ctx, tasks)
	if err != nil {
		return nil, err
	}
	suffix := ""
	if len(caseQuery) > 0 {
		suffix = "?" + caseQuery.Encode()
	}
	rows := make([]taskRow, 0, len(tasks))
	for _, t := range tasks {
		row := p.taskRow(t, names, now)
		c, known := cases[t.CaseID]
		row.Number = casework.ShortNumber(t.CaseID, c.CaseNumber)
		if a := c.Applicant; a != nil {
			row.Applicant, row.Business = a.Name, a.BusinessName
		}
		received := c.SubmittedAt
		if !known || received.IsZero() {
			received = t.CreatedAt
		}
		if !received.IsZero() {
			row.Received = locale.DE.Short(received)
		}
		row.QueueName = p.cases.QueueName(id.Authority, t.Queue)
		row.Href = "/arbeitskorb/vorgaenge/" + t.CaseID + suffix
		rows = append(rows, row)
	}
	return rows, nil
}

func (p *Pages) taskRow(t ozgflow.Task, names map[string]string, now time.Time) taskRow {
	row := taskRow{Task: t, ServiceName: p.cases.ServiceName(t.Service), Overdue: t.Overdue(now),
		StatusText: locale.DE.TaskStatus(t.Status), Holder: nameOf(names, t.Assignee),
		QueueName: p.cases.QueueName(t.Authority, t.Queue)}
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

// Fragments of the workspace the live refresh asks for: the counters and
// the list together, or the list beside a case.
const (
	fragmentList = "liste"
	fragmentSide = "seitenliste"
)

func (p *Pages) handleInboxPage(w http.ResponseWriter, r *http.Request, v view) {
	f, page := p.inboxFilter(r.URL.Query(), *v.User)
	d, err := p.inbox(r.Context(), *v.User, f, page)
	status := http.StatusOK
	if err != nil {
		status = web.StatusOf(ozgflow.ErrorCode(err))
		v.ProblemTitle = "Die Aufgaben konnten nicht geladen werden."
		v.Problems = []ozgflow.FieldError{{Detail: ozgflow.ErrorMessage(err)}}
	}
	d.Current = r.URL.Query().Get("vorgang")
	v.Title, v.Data = say("title.workspace"), d
	// The live refresh replaces the counters and the list in one answer,
	// so that they never disagree.
	switch r.URL.Query().Get("fragment") {
	case fragmentList:
		p.fragment(w, "workspace", "live", v)
		return
	case fragmentSide:
		p.fragment(w, "workspace_case", "sidelive", v)
		return
	}
	p.show(w, status, "workspace", v)
}

// fragment answers a part of a page for the live refresh.
func (p *Pages) fragment(w http.ResponseWriter, page, name string, v view) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := pages[page].ExecuteTemplate(w, name, v); err != nil {
		p.logger.Error("Workspace fragment not rendered", "fragment", name, "error", err)
	}
}

// handleBulkPage claims, hands over or exports the selected tasks.
func (p *Pages) handleBulkPage(w http.ResponseWriter, r *http.Request, v view) {
	id := *v.User
	ids := r.PostForm["ids"]
	if r.PostFormValue("action") == "export" {
		p.exportSelected(w, r, id, ids)
		return
	}
	f, page := p.inboxFilter(r.URL.Query(), id)
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
	var caseIDs []string
	for _, res := range results {
		if caseID, ok := ozgflow.CaseIDFromTaskID(res.TaskID); ok {
			caseIDs = append(caseIDs, caseID)
		}
	}
	numbers, _ := p.store.CaseSummaries(r.Context(), caseIDs)
	done := 0
	rows := make([]bulkRow, 0, len(results))
	for _, res := range results {
		text := say("bulk.done")
		if res.Err == nil {
			done++
		} else {
			text = p.refusalText(r.Context(), locale.DE, id, res.Err)
		}
		caseID, _ := ozgflow.CaseIDFromTaskID(res.TaskID)
		number := res.TaskID
		if caseID != "" {
			number = casework.ShortNumber(caseID, numbers[caseID].CaseNumber)
		}
		rows = append(rows, bulkRow{TaskID: res.TaskID, Number: number, OK: res.Err == nil, Text: text})
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
	names, err := p.cases.TaskNames(r.Context(), tasks)
	if err != nil {
		p.errorPageFor(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := reports.WriteTasks(&buf, tasks, names, p.now()); err != nil {
		p.errorPageFor(w, r, err)
		return
	}
	w.Header().Set("Content-Type", web.XLSXType)
	w.Header().Set("Content-Disposition", `attachment; filename="aufgaben.xlsx"`)
	_, _ = w.Write(buf.Bytes())
}
