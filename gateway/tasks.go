package gateway

import (
	"net/http"
	"sort"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
)

func (s *Server) registerTaskRoutes(r *mux.Router) {
	r.HandleFunc("/tasks", s.handleListTasks).Methods(http.MethodGet)
	r.HandleFunc("/tasks/{taskId}/claim", s.handleTaskAction(ozgflow.UpdateClaim)).Methods(http.MethodPost)
	r.HandleFunc("/tasks/{taskId}/release", s.handleTaskAction(ozgflow.UpdateRelease)).Methods(http.MethodPost)
	r.HandleFunc("/tasks/{taskId}/complete", s.handleTaskAction(ozgflow.UpdateComplete)).Methods(http.MethodPost)
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

// handleListTasks lists open tasks of one queue, or of every queue the case
// worker may see, earliest due first. Administrators name the authority.
func (s *Server) handleListTasks(w http.ResponseWriter, r *http.Request) {
	id, ok := s.staff(w, r)
	if !ok {
		return
	}
	offset, limit, err := paging(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	authority := id.Authority
	if id.Role == RoleAdmin {
		authority = r.URL.Query().Get("authority")
		if _, known := s.defs.Registry().Authority(authority); !known {
			s.writeError(w, r, badParam("authority", "must name a known authority (12-digit ARS)"))
			return
		}
	}
	queues := []string{r.URL.Query().Get("queue")}
	if queues[0] == "" {
		if queues, err = s.store.Queues(r.Context(), authority); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	tasks := []taskView{}
	var total int64
	for _, q := range queues {
		page, err := s.store.Tasks(r.Context(), authority, q, 0, offset+limit)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		total += page.Total
		for _, t := range page.Tasks {
			tasks = append(tasks, newTaskView(t))
		}
	}
	sort.SliceStable(tasks, func(i, j int) bool { return dueBefore(tasks[i], tasks[j]) })
	if int64(len(tasks)) > offset {
		tasks = tasks[offset:]
	} else {
		tasks = []taskView{}
	}
	if int64(len(tasks)) > limit {
		tasks = tasks[:limit]
	}
	writeJSON(w, http.StatusOK, map[string]any{"tasks": tasks, "total": total, "offset": offset, "limit": limit})
}

func dueBefore(a, b taskView) bool {
	switch {
	case a.DueAt == nil:
		return false
	case b.DueAt == nil:
		return true
	}
	return a.DueAt.Before(*b.DueAt)
}

// completeRequest is the body of POST /tasks/{taskId}/complete.
type completeRequest struct {
	Outcome string   `json:"outcome"`
	Comment string   `json:"comment"`
	Fields  []string `json:"fields"`
}

// handleTaskAction claims, releases or completes a task through the case's
// workflow update. A task of another authority is 404 for the case worker.
func (s *Server) handleTaskAction(update string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.staff(w, r)
		if !ok {
			return
		}
		taskID := mux.Vars(r)["taskId"]
		notFound := ozgflow.Errorf(ozgflow.ENOTFOUND, "Task %s not found.", taskID)
		caseID, ok := ozgflow.CaseIDFromTaskID(taskID)
		if !ok {
			s.writeError(w, r, notFound)
			return
		}
		c, err := s.loadCase(r.Context(), caseID)
		if ozgflow.ErrorCode(err) == ozgflow.ENOTFOUND {
			s.writeError(w, r, notFound)
			return
		} else if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !hasTask(c, taskID) {
			// The projection may lag a task that was just created.
			if fresh, err := s.queryCase(r.Context(), caseID); err == nil {
				c = fresh
			}
		}
		if !hasTask(c, taskID) || (id.Role == RoleCaseWorker && c.Authority != id.Authority) {
			s.writeError(w, r, notFound)
			return
		}
		var arg any = ozgflow.TaskAction{TaskID: taskID, User: id.Subject}
		if update == ozgflow.UpdateComplete {
			var req completeRequest
			if !s.readBody(w, r, &req) {
				return
			}
			if req.Outcome == "" {
				s.writeError(w, r, &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: "An outcome is required.",
					Fields: []ozgflow.FieldError{{Pointer: "/outcome", Detail: "is required"}}})
				return
			}
			arg = ozgflow.CompleteTask{TaskID: taskID, User: id.Subject, Outcome: req.Outcome, Comment: req.Comment, Fields: req.Fields}
		}
		var task ozgflow.Task
		if err := s.update(r.Context(), caseID, update, &task, arg); err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, newTaskView(task))
	}
}

func hasTask(c ozgflow.Case, taskID string) bool {
	for _, t := range c.Tasks {
		if t.ID == taskID {
			return true
		}
	}
	return false
}
