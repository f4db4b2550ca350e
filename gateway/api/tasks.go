package api

import (
	"bytes"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/reports"
	"github.com/ozgflow/ozgflow/store"
)

// workedAuthority finds the authority whose queues the caller works: a
// case worker's own, or the one an administrator names; it answers errors
// itself.
func (s *API) workedAuthority(w http.ResponseWriter, r *http.Request) (ozgflow.Identity, string, bool) {
	id := ozgflow.IdentityFrom(r.Context())
	authority, err := s.cases.StaffAuthority(id, r.URL.Query().Get("authority"))
	if err != nil {
		s.errors.Write(w, r, err)
		return id, "", false
	}
	return id, authority, true
}

// handleQueues lists the caller's queues with their counts.
func (s *API) handleQueues(w http.ResponseWriter, r *http.Request) {
	id, authority, ok := s.workedAuthority(w, r)
	if !ok {
		return
	}
	queues, err := s.cases.MemberQueues(r.Context(), id, authority)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	counts, err := s.store.QueueCounts(r.Context(), authority, queues, s.now())
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"authority": authority, "queues": counts})
}

// taskFilter reads the list's query parameters.
func (s *API) taskFilter(r *http.Request, id ozgflow.Identity, authority string) (store.TaskQuery, error) {
	q := r.URL.Query()
	f := store.TaskQuery{Authority: authority, Queue: q.Get("queue"), Status: q.Get("status"), Service: q.Get("service"),
		Sort: q.Get("sort"), User: id.Subject, Now: s.now()}
	switch f.Status {
	case "", store.FilterOpen, store.FilterMine, store.FilterOthers, store.FilterOverdue, store.FilterApproval:
	default:
		return f, ozgflow.BadParam("status", "must be open, mine, others, overdue or approval")
	}
	switch f.Sort {
	case "", store.SortDue, store.SortPriority:
	default:
		return f, ozgflow.BadParam("sort", "must be due or priority")
	}
	var err error
	f.Offset, f.Limit, err = web.Paging(r)
	return f, err
}

// handleListTasks lists active tasks of one queue, or of every queue the
// case worker works, filtered and sorted. Administrators name the authority.
func (s *API) handleListTasks(w http.ResponseWriter, r *http.Request) {
	id, authority, ok := s.workedAuthority(w, r)
	if !ok {
		return
	}
	f, err := s.taskFilter(r, id, authority)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	page, err := s.cases.ListTasks(r.Context(), id, f)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	tasks := make([]taskView, len(page.Tasks))
	for i, t := range page.Tasks {
		tasks[i] = newTaskView(t)
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"tasks": tasks, "total": page.Total, "offset": f.Offset, "limit": f.Limit})
}

// handleTaskAction claims, releases, hands over, completes or approves a
// task through the case's workflow update.
func (s *API) handleTaskAction(update string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := ozgflow.IdentityFrom(r.Context())
		var arg any
		switch update {
		case ozgflow.UpdateComplete:
			var req casework.Completion
			if !s.readBody(w, r, &req) {
				return
			}
			arg = req
		case ozgflow.UpdateHandover:
			var req casework.HandoverTo
			if !s.readBody(w, r, &req) {
				return
			}
			arg = req
		case ozgflow.UpdateApprove:
			var req casework.ApprovalAnswer
			if !s.readBody(w, r, &req) {
				return
			}
			arg = req
		case ozgflow.UpdateFollowUp:
			var req casework.FollowUpAt
			if !s.readBody(w, r, &req) {
				return
			}
			arg = req
		}
		task, err := s.cases.ActOnTask(r.Context(), id, update, mux.Vars(r)["taskId"], arg)
		if err != nil {
			s.errors.Write(w, r, err)
			return
		}
		web.WriteJSON(w, http.StatusOK, newTaskView(task))
	}
}

// bulkResult is the outcome for one task of a bulk action.
type bulkResult struct {
	TaskID string    `json:"taskId"`
	OK     bool      `json:"ok"`
	Task   *taskView `json:"task,omitempty"`
	Error  string    `json:"error,omitempty"`
	Code   string    `json:"code,omitempty"`
}

// handleBulkTasks claims or hands over several tasks; each succeeds or fails
// on its own, and the answer says which.
func (s *API) handleBulkTasks(w http.ResponseWriter, r *http.Request) {
	var req casework.Bulk
	if !s.readBody(w, r, &req) {
		return
	}
	results, err := s.cases.ActOnTasks(r.Context(), ozgflow.IdentityFrom(r.Context()), req)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	out := make([]bulkResult, len(results))
	for i, res := range results {
		out[i] = bulkResult{TaskID: res.TaskID, OK: res.Err == nil}
		if res.Err != nil {
			out[i].Error, out[i].Code = ozgflow.ErrorMessage(res.Err), ozgflow.ErrorCode(res.Err)
		} else {
			v := newTaskView(res.Task)
			out[i].Task = &v
		}
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"results": out})
}

// maxExport bounds an export of a whole filtered list.
const maxExport = 10000

// handleExportTasks writes the selected tasks (repeated id parameters), or
// the filtered list, as an Excel workbook.
func (s *API) handleExportTasks(w http.ResponseWriter, r *http.Request) {
	id, authority, ok := s.workedAuthority(w, r)
	if !ok {
		return
	}
	tasks, err := s.selectedTasks(r, id, authority)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	s.writeTaskWorkbook(w, r, tasks)
}

// selectedTasks reads the tasks named by id parameters, skipping those the
// caller may not see, or without ids the filtered list.
func (s *API) selectedTasks(r *http.Request, id ozgflow.Identity, authority string) ([]ozgflow.Task, error) {
	if ids := r.URL.Query()["id"]; len(ids) > 0 {
		if len(ids) > maxExport {
			return nil, ozgflow.BadParam("id", "may name at most 10000 tasks")
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
	page, err := s.cases.ListTasks(r.Context(), id, f)
	return page.Tasks, err
}

// writeTaskWorkbook answers tasks as an Excel workbook.
func (s *API) writeTaskWorkbook(w http.ResponseWriter, r *http.Request, tasks []ozgflow.Task) {
	names, err := s.cases.TaskNames(r.Context(), tasks)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := reports.WriteTasks(&buf, tasks, names, s.now()); err != nil {
		s.errors.Write(w, r, err)
		return
	}
	w.Header().Set("Content-Type", xlsxType)
	w.Header().Set("Content-Disposition", `attachment; filename="aufgaben.xlsx"`)
	_, _ = w.Write(buf.Bytes())
}
