package gateway

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"sort"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/reports"
	"github.com/ozgflow/ozgflow/store"
)

func (s *Server) registerTaskRoutes(r *mux.Router) {
	r.HandleFunc("/queues", s.handleQueues).Methods(http.MethodGet)
	r.HandleFunc("/tasks", s.handleListTasks).Methods(http.MethodGet)
	r.HandleFunc("/tasks/bulk", s.handleBulkTasks).Methods(http.MethodPost)
	r.HandleFunc("/tasks/export.xlsx", s.handleExportTasks).Methods(http.MethodGet)
	r.HandleFunc("/tasks/{taskId}/claim", s.handleTaskAction(ozgflow.UpdateClaim)).Methods(http.MethodPost)
	r.HandleFunc("/tasks/{taskId}/release", s.handleTaskAction(ozgflow.UpdateRelease)).Methods(http.MethodPost)
	r.HandleFunc("/tasks/{taskId}/complete", s.handleTaskAction(ozgflow.UpdateComplete)).Methods(http.MethodPost)
	r.HandleFunc("/tasks/{taskId}/handover", s.handleTaskAction(ozgflow.UpdateHandover)).Methods(http.MethodPost)
	r.HandleFunc("/tasks/{taskId}/approve", s.handleTaskAction(ozgflow.UpdateApprove)).Methods(http.MethodPost)
}

// staff authenticates a case worker or administrator.
func (s *Server) staff(w http.ResponseWriter, r *http.Request) (Identity, bool) {
	id, ok := s.authenticate(w, r)
	if !ok {
		return id, false
	}
	if id.Role != RoleCaseWorker && id.Role != RoleAdmin {
		s.writeError(w, r, ozgflow.Errorf(ozgflow.EFORBIDDEN, "Only case workers and administrators work with tasks."))
		return id, false
	}
	return id, true
}

// staffWithAuthority authenticates staff and finds the authority whose
// queues they work; it answers errors itself.
func (s *Server) staffWithAuthority(w http.ResponseWriter, r *http.Request) (Identity, string, bool) {
	id, ok := s.staff(w, r)
	if !ok {
		return id, "", false
	}
	authority, err := s.staffAuthority(r, id)
	if err != nil {
		s.writeError(w, r, err)
		return id, "", false
	}
	return id, authority, true
}

// staffAuthority is the authority whose queues the caller works: a case
// worker's own, or the one an administrator names.
func (s *Server) staffAuthority(r *http.Request, id Identity) (string, error) {
	if id.Role != RoleAdmin {
		return id.Authority, nil
	}
	authority := r.URL.Query().Get("authority")
	if _, known := s.defs.Registry().Authority(authority); !known {
		return "", badParam("authority", "must name a known authority (12-digit ARS)")
	}
	return authority, nil
}

// memberQueues returns the queues of an authority the caller works, sorted:
// those the variants define and those that ever held a task.
func (s *Server) memberQueues(ctx context.Context, id Identity, authority string) ([]string, error) {
	known, err := s.store.Queues(ctx, authority)
	if err != nil {
		return nil, err
	}
	for _, def := range s.defs.Registry().Published() {
		if def.Authority == authority || def.Authority == "" {
			known = append(known, def.Queues()...)
		}
	}
	sort.Strings(known)
	known = slices.Compact(known)
	out := known[:0]
	for _, q := range known {
		if id.MemberOf(q) {
			out = append(out, q)
		}
	}
	return out, nil
}

// handleQueues lists the caller's queues with their counts.
func (s *Server) handleQueues(w http.ResponseWriter, r *http.Request) {
	id, authority, ok := s.staffWithAuthority(w, r)
	if !ok {
		return
	}
	queues, err := s.memberQueues(r.Context(), id, authority)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	counts, err := s.store.QueueCounts(r.Context(), authority, queues, s.now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"authority": authority, "queues": counts})
}

// taskFilter reads the list's query parameters.
func (s *Server) taskFilter(r *http.Request, id Identity, authority string) (store.TaskQuery, error) {
	q := r.URL.Query()
	f := store.TaskQuery{Authority: authority, Queue: q.Get("queue"), Status: q.Get("status"), Service: q.Get("service"),
		Sort: q.Get("sort"), User: id.Subject, Now: s.now()}
	switch f.Status {
	case "", store.FilterOpen, store.FilterMine, store.FilterOthers, store.FilterOverdue, store.FilterApproval:
	default:
		return f, badParam("status", "must be open, mine, others, overdue or approval")
	}
	switch f.Sort {
	case "", store.SortDue, store.SortPriority:
	default:
		return f, badParam("sort", "must be due or priority")
	}
	var err error
	f.Offset, f.Limit, err = paging(r)
	return f, err
}

// handleListTasks lists active tasks of one queue, or of every queue the
// case worker works, filtered and sorted. Administrators name the authority.
func (s *Server) handleListTasks(w http.ResponseWriter, r *http.Request) {
	id, authority, ok := s.staffWithAuthority(w, r)
	if !ok {
		return
	}
	f, err := s.taskFilter(r, id, authority)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.listTasks(r.Context(), id, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	tasks := make([]taskView, len(page.Tasks))
	for i, t := range page.Tasks {
		tasks[i] = newTaskView(t)
	}
	writeJSON(w, http.StatusOK, map[string]any{"tasks": tasks, "total": page.Total, "offset": f.Offset, "limit": f.Limit})
}

// listTasks reads a page of one queue; without a queue it merges the first
// offset+limit tasks of each of the caller's queues.
func (s *Server) listTasks(ctx context.Context, id Identity, f store.TaskQuery) (store.TaskPage, error) {
	if f.Queue != "" {
		if !id.MemberOf(f.Queue) {
			return store.TaskPage{}, ozgflow.Errorf(ozgflow.ENOTFOUND, "Queue %s not found.", f.Queue)
		}
		return s.store.QueryTasks(ctx, f)
	}
	queues, err := s.memberQueues(ctx, id, f.Authority)
	if err != nil {
		return store.TaskPage{}, err
	}
	merged := store.TaskPage{Tasks: []ozgflow.Task{}}
	offset, limit := f.Offset, f.Limit
	f.Offset, f.Limit = 0, offset+limit
	for _, q := range queues {
		f.Queue = q
		page, err := s.store.QueryTasks(ctx, f)
		if err != nil {
			return merged, err
		}
		merged.Total += page.Total
		merged.Tasks = append(merged.Tasks, page.Tasks...)
	}
	byPriority := f.Sort == store.SortPriority
	sort.SliceStable(merged.Tasks, func(i, j int) bool {
		a, b := merged.Tasks[i], merged.Tasks[j]
		if byPriority && a.Priority != b.Priority {
			return a.Priority > b.Priority
		}
		return dueBefore(a, b)
	})
	merged.Tasks = merged.Tasks[min(offset, int64(len(merged.Tasks))):]
	merged.Tasks = merged.Tasks[:min(limit, int64(len(merged.Tasks)))]
	return merged, nil
}

func dueBefore(a, b ozgflow.Task) bool {
	switch {
	case a.DueAt.IsZero():
		return false
	case b.DueAt.IsZero():
		return true
	}
	return a.DueAt.Before(b.DueAt)
}

// Bodies of the task actions.
type (
	completeRequest struct {
		Outcome string   `json:"outcome"`
		Comment string   `json:"comment"`
		Fields  []string `json:"fields"`
	}
	handoverRequest struct {
		To    string `json:"to"`
		Queue string `json:"queue"`
		Note  string `json:"note"`
	}
	approveRequest struct {
		Approve bool   `json:"approve"`
		Comment string `json:"comment"`
	}
)

// handleTaskAction claims, releases, hands over, completes or approves a
// task through the case's workflow update.
func (s *Server) handleTaskAction(update string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.staff(w, r)
		if !ok {
			return
		}
		var arg any
		switch update {
		case ozgflow.UpdateComplete:
			var req completeRequest
			if !s.readBody(w, r, &req) {
				return
			}
			arg = req
		case ozgflow.UpdateHandover:
			var req handoverRequest
			if !s.readBody(w, r, &req) {
				return
			}
			arg = req
		case ozgflow.UpdateApprove:
			var req approveRequest
			if !s.readBody(w, r, &req) {
				return
			}
			arg = req
		}
		task, err := s.actOnTask(r.Context(), id, update, mux.Vars(r)["taskId"], arg)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, newTaskView(task))
	}
}

// actOnTask checks that the caller may see the task (its authority, a queue
// they work) and that the request is complete, then sends the update. body
// is nil, a completeRequest, a handoverRequest or an approveRequest.
func (s *Server) actOnTask(ctx context.Context, id Identity, update, taskID string, body any) (ozgflow.Task, error) {
	c, task, err := s.visibleTask(ctx, id, taskID)
	if err != nil {
		return ozgflow.Task{}, err
	}
	var arg any = ozgflow.TaskAction{TaskID: taskID, User: id.Subject}
	switch req := body.(type) {
	case completeRequest:
		if req.Outcome == "" {
			return ozgflow.Task{}, &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: "An outcome is required.",
				Fields: []ozgflow.FieldError{{Pointer: "/outcome", Detail: "is required"}}}
		}
		arg = ozgflow.CompleteTask{TaskID: taskID, User: id.Subject, Outcome: req.Outcome, Comment: req.Comment, Fields: req.Fields}
	case handoverRequest:
		if err := s.checkHandover(ctx, c.Authority, task, req); err != nil {
			return ozgflow.Task{}, err
		}
		arg = ozgflow.Handover{TaskID: taskID, User: id.Subject, To: req.To, Queue: req.Queue, Note: req.Note}
	case approveRequest:
		arg = ozgflow.Approval{TaskID: taskID, User: id.Subject, Approve: req.Approve, Comment: req.Comment}
	}
	var done ozgflow.Task
	if err := s.update(ctx, c.ID, update, &done, arg); err != nil {
		return done, s.explainRefusal(ctx, c.ID, err)
	}
	return done, nil
}

// visibleTask loads a task and its case if the caller may see it; anything
// else is 404, as if it did not exist.
func (s *Server) visibleTask(ctx context.Context, id Identity, taskID string) (ozgflow.Case, ozgflow.Task, error) {
	notFound := ozgflow.Errorf(ozgflow.ENOTFOUND, "Task %s not found.", taskID)
	caseID, ok := ozgflow.CaseIDFromTaskID(taskID)
	if !ok {
		return ozgflow.Case{}, ozgflow.Task{}, notFound
	}
	c, err := s.loadCase(ctx, caseID)
	if ozgflow.ErrorCode(err) == ozgflow.ENOTFOUND {
		return c, ozgflow.Task{}, notFound
	} else if err != nil {
		return c, ozgflow.Task{}, err
	}
	task, found := taskOf(c, taskID)
	if !found {
		// The projection may lag a task that was just created.
		if fresh, err := s.queryCase(ctx, caseID); err == nil {
			c = fresh
			task, found = taskOf(c, taskID)
		}
	}
	if !found || (id.Role == RoleCaseWorker && (c.Authority != id.Authority || !id.MemberOf(task.Queue))) {
		return c, task, notFound
	}
	return c, task, nil
}

// checkHandover accepts a colleague of the authority who works the target
// queue, and a queue of the authority.
func (s *Server) checkHandover(ctx context.Context, authority string, task ozgflow.Task, req handoverRequest) error {
	var fields []ozgflow.FieldError
	queue := task.Queue
	if req.Queue != "" {
		queue = req.Queue
	}
	if req.To == "" && req.Queue == "" {
		fields = append(fields, ozgflow.FieldError{Pointer: "/to", Detail: "name a colleague or a queue"})
	}
	if req.To != "" {
		colleague, ok := s.colleague(ctx, authority, req.To)
		switch {
		case !ok:
			fields = append(fields, ozgflow.FieldError{Pointer: "/to", Detail: "is not a case worker of this authority"})
		case !colleague.MemberOf(queue):
			fields = append(fields, ozgflow.FieldError{Pointer: "/to", Detail: "does not work queue " + queue})
		}
	}
	if len(fields) > 0 {
		return &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: "The task cannot be handed over like this.", Fields: fields}
	}
	return nil
}

// colleague finds a case worker of the authority by subject.
func (s *Server) colleague(ctx context.Context, authority, subject string) (Identity, bool) {
	for _, id := range s.colleagues(ctx, authority) {
		if id.Subject == subject {
			return id, true
		}
	}
	return Identity{}, false
}

func (s *Server) colleagues(ctx context.Context, authority string) []Identity {
	if dir, ok := s.auth.(Directory); ok {
		return dir.CaseWorkers(ctx, authority)
	}
	return nil
}

// explainRefusal turns a refused update on a case that ended meanwhile into
// a message that says so.
func (s *Server) explainRefusal(ctx context.Context, caseID string, err error) error {
	if ozgflow.ErrorCode(err) != ozgflow.ECONFLICT {
		return err
	}
	if c, qerr := s.queryCase(ctx, caseID); qerr == nil && c.Status == ozgflow.StatusWithdrawn {
		return ozgflow.Errorf(ozgflow.ECONFLICT, "The applicant has withdrawn the application; it can no longer be decided.")
	}
	return err
}

func taskOf(c ozgflow.Case, taskID string) (ozgflow.Task, bool) {
	for _, t := range c.Tasks {
		if t.ID == taskID {
			return t, true
		}
	}
	return ozgflow.Task{}, false
}

// bulkRequest is the body of POST /tasks/bulk.
type bulkRequest struct {
	Action  string   `json:"action"` // claim or handover
	TaskIDs []string `json:"taskIds"`
	To      string   `json:"to"`
	Queue   string   `json:"queue"`
	Note    string   `json:"note"`
}

// bulkResult is the outcome for one task of a bulk action.
type bulkResult struct {
	TaskID string    `json:"taskId"`
	OK     bool      `json:"ok"`
	Task   *taskView `json:"task,omitempty"`
	Error  string    `json:"error,omitempty"`
	Code   string    `json:"code,omitempty"`
}

// maxBulk bounds a bulk action, so one request stays short.
const maxBulk = 100

// handleBulkTasks claims or hands over several tasks; each succeeds or fails
// on its own, and the answer says which.
func (s *Server) handleBulkTasks(w http.ResponseWriter, r *http.Request) {
	id, ok := s.staff(w, r)
	if !ok {
		return
	}
	var req bulkRequest
	if !s.readBody(w, r, &req) {
		return
	}
	results, err := s.bulk(r.Context(), id, req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
}

func (s *Server) bulk(ctx context.Context, id Identity, req bulkRequest) ([]bulkResult, error) {
	var fields []ozgflow.FieldError
	if req.Action != "claim" && req.Action != "handover" {
		fields = append(fields, ozgflow.FieldError{Pointer: "/action", Detail: "must be claim or handover"})
	}
	if len(req.TaskIDs) == 0 || len(req.TaskIDs) > maxBulk {
		fields = append(fields, ozgflow.FieldError{Pointer: "/taskIds", Detail: "must name 1 to 100 tasks"})
	}
	if len(fields) > 0 {
		return nil, &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: "The bulk action is incomplete.", Fields: fields}
	}
	results := make([]bulkResult, len(req.TaskIDs))
	for i, taskID := range req.TaskIDs {
		var task ozgflow.Task
		var err error
		if req.Action == "claim" {
			task, err = s.actOnTask(ctx, id, ozgflow.UpdateClaim, taskID, nil)
		} else {
			task, err = s.actOnTask(ctx, id, ozgflow.UpdateHandover, taskID, handoverRequest{To: req.To, Queue: req.Queue, Note: req.Note})
		}
		results[i] = bulkResult{TaskID: taskID, OK: err == nil}
		if err != nil {
			results[i].Error, results[i].Code = ozgflow.ErrorMessage(err), ozgflow.ErrorCode(err)
		} else {
			v := newTaskView(task)
			results[i].Task = &v
		}
	}
	return results, nil
}

// maxExport bounds an export of a whole filtered list.
const maxExport = 10000

// handleExportTasks writes the selected tasks (repeated id parameters), or
// the filtered list, as an Excel workbook.
func (s *Server) handleExportTasks(w http.ResponseWriter, r *http.Request) {
	id, authority, ok := s.staffWithAuthority(w, r)
	if !ok {
		return
	}
	tasks, err := s.selectedTasks(r, id, authority)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeTaskWorkbook(w, r, tasks)
}

// selectedTasks reads the tasks named by id parameters, skipping those the
// caller may not see, or without ids the filtered list.
func (s *Server) selectedTasks(r *http.Request, id Identity, authority string) ([]ozgflow.Task, error) {
	if ids := r.URL.Query()["id"]; len(ids) > 0 {
		if len(ids) > maxExport {
			return nil, badParam("id", "may name at most 10000 tasks")
		}
		var tasks []ozgflow.Task
		for _, taskID := range ids {
			t, err := s.store.Task(r.Context(), taskID)
			if err != nil || t.Authority != authority || !id.MemberOf(t.Queue) {
				continue
			}
			tasks = append(tasks, t)
		}
		return tasks, nil
	}
	f, err := s.taskFilter(r, id, authority)
	if err != nil {
		return nil, err
	}
	f.Offset, f.Limit = 0, maxExport
	page, err := s.listTasks(r.Context(), id, f)
	return page.Tasks, err
}

func (s *Server) writeTaskWorkbook(w http.ResponseWriter, r *http.Request, tasks []ozgflow.Task) {
	var buf bytes.Buffer
	if err := reports.WriteTasks(&buf, tasks, s.serviceName, s.now()); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", xlsxType)
	w.Header().Set("Content-Disposition", `attachment; filename="aufgaben.xlsx"`)
	_, _ = w.Write(buf.Bytes())
}

// serviceName names a LeiKa key by its published definition.
func (s *Server) serviceName(leika string) string {
	for _, def := range s.defs.Registry().Published() {
		if def.Service == leika {
			return def.Name
		}
	}
	return leika
}
