package casework

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/store"
)

// Bodies of the task actions, as the rooms read them from requests.
type (
	// Completion decides a task, or asks the applicant (outcome
	// request_information, the question as comment, the fields to answer).
	Completion struct {
		Outcome string   `json:"outcome"`
		Comment string   `json:"comment"`
		Fields  []string `json:"fields"`
	}
	// HandoverTo names a colleague, a queue or both, with a note.
	HandoverTo struct {
		To    string `json:"to"`
		Queue string `json:"queue"`
		Note  string `json:"note"`
	}
	// ApprovalAnswer approves or returns a colleague's proposed decision.
	ApprovalAnswer struct {
		Approve bool   `json:"approve"`
		Comment string `json:"comment"`
	}
)

// StaffAuthority is the authority whose queues the caller works: a case
// worker's own, or the one an administrator names.
func (s *Service) StaffAuthority(id ozgflow.Identity, named string) (string, error) {
	if id.Role != ozgflow.RoleAdmin {
		return id.Authority, nil
	}
	if _, known := s.Defs.Registry().Authority(named); !known {
		return "", ozgflow.BadParam("authority", "must name a known authority (12-digit ARS)")
	}
	return named, nil
}

// MemberQueues returns the queues of an authority the caller works, sorted:
// those the variants define and those that ever held a task.
func (s *Service) MemberQueues(ctx context.Context, id ozgflow.Identity, authority string) ([]string, error) {
	known, err := s.Store.Queues(ctx, authority)
	if err != nil {
		return nil, err
	}
	for _, def := range s.Defs.Registry().Published() {
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

// ListTasks reads a page of one queue; without a queue it merges the first
// offset+limit tasks of each of the caller's queues.
func (s *Service) ListTasks(ctx context.Context, id ozgflow.Identity, f store.TaskQuery) (store.TaskPage, error) {
	if f.Queue != "" {
		if !id.MemberOf(f.Queue) {
			return store.TaskPage{}, ozgflow.Errorf(ozgflow.ENOTFOUND, "Queue %s not found.", f.Queue)
		}
		return s.Store.QueryTasks(ctx, f)
	}
	queues, err := s.MemberQueues(ctx, id, f.Authority)
	if err != nil {
		return store.TaskPage{}, err
	}
	merged := store.TaskPage{Tasks: []ozgflow.Task{}}
	offset, limit := f.Offset, f.Limit
	f.Offset, f.Limit = 0, offset+limit
	for _, q := range queues {
		f.Queue = q
		page, err := s.Store.QueryTasks(ctx, f)
		if err != nil {
			return merged, err
		}
		merged.Total += page.Total
		merged.Tasks = append(merged.Tasks, page.Tasks...)
	}
	byPriority := f.Sort == store.SortPriority
	sort.SliceStable(merged.Tasks, func(i, j int) bool {
		a, b := merged.Tasks[i], merged.Tasks[j]
		if byPriority && a.Priority != b.Priority && a.FollowUpDue() == b.FollowUpDue() {
			return a.Priority > b.Priority
		}
		return dueBefore(a, b)
	})
	merged.Tasks = merged.Tasks[min(offset, int64(len(merged.Tasks))):]
	merged.Tasks = merged.Tasks[:min(limit, int64(len(merged.Tasks)))]
	return merged, nil
}

func dueBefore(a, b ozgflow.Task) bool {
	if a.FollowUpDue() != b.FollowUpDue() { // follow-ups that came back lead (store/followup.go)
		return a.FollowUpDue()
	}
	switch {
	case a.DueAt.IsZero():
		return false
	case b.DueAt.IsZero():
		return true
	}
	return a.DueAt.Before(b.DueAt)
}

// ActOnTask checks that the caller may see the task (its authority, a queue
// they work) and that the request is complete, then sends the update. body
// is nil, a Completion, a HandoverTo, an ApprovalAnswer or a FollowUpAt.
func (s *Service) ActOnTask(ctx context.Context, id ozgflow.Identity, update, taskID string, body any) (ozgflow.Task, error) {
	if err := checkAction(body); err != nil {
		return ozgflow.Task{}, err
	}
	c, task, err := s.VisibleTask(ctx, id, taskID)
	if err != nil {
		return ozgflow.Task{}, err
	}
	if !id.MemberOf(task.Queue) {
		// A case worker who also administers sees every task, but works
		// only those of their queues.
		return ozgflow.Task{}, ozgflow.Refuse(ozgflow.ENOTFOUND, ozgflow.ReasonTaskNotFound, "Task "+taskID+" not found.", taskID)
	}
	if !id.WorksCases(c.Authority) {
		return ozgflow.Task{}, ozgflow.Refuse(ozgflow.EFORBIDDEN, ozgflow.ReasonNotCaseWorker,
			"Only case workers of the case's authority work on its tasks; administrators may look, not act.")
	}
	var arg any = ozgflow.TaskAction{TaskID: taskID, User: id.Subject}
	switch req := body.(type) {
	case Completion:
		if err := checkCompletion(task, req); err != nil {
			return ozgflow.Task{}, err
		}
		arg = ozgflow.CompleteTask{TaskID: taskID, User: id.Subject, Outcome: req.Outcome, Comment: req.Comment, Fields: req.Fields}
	case HandoverTo:
		if err := s.checkHandover(ctx, c.Authority, task, req); err != nil {
			return ozgflow.Task{}, err
		}
		arg = ozgflow.Handover{TaskID: taskID, User: id.Subject, To: req.To, Queue: req.Queue, Note: req.Note}
	case ApprovalAnswer:
		if !req.Approve && strings.TrimSpace(req.Comment) == "" {
			// Said here, with the field, before the workflow is asked.
			err := ozgflow.Refuse(ozgflow.EUNPROCESSABLE, ozgflow.ReasonDenialReasonMissing, "Say why the decision is not approved.")
			err.Fields = []ozgflow.FieldError{{Pointer: "/comment", Detail: "is required to return a decision"}}
			return ozgflow.Task{}, err
		}
		arg = ozgflow.Approval{TaskID: taskID, User: id.Subject, Approve: req.Approve, Comment: req.Comment}
	case FollowUpAt:
		arg = followUpUpdate(taskID, id.Subject, req)
	}
	var done ozgflow.Task
	if err := s.Update(ctx, c.ID, update, &done, arg); err != nil {
		return done, s.explainRefusal(ctx, c.ID, err)
	}
	return done, nil
}

// VisibleTask loads a task and its case if the caller may see it; anything
// else is ENOTFOUND, as if it did not exist.
func (s *Service) VisibleTask(ctx context.Context, id ozgflow.Identity, taskID string) (ozgflow.Case, ozgflow.Task, error) {
	notFound := ozgflow.Refuse(ozgflow.ENOTFOUND, ozgflow.ReasonTaskNotFound, "Task "+taskID+" not found.", taskID)
	caseID, ok := ozgflow.CaseIDFromTaskID(taskID)
	if !ok {
		return ozgflow.Case{}, ozgflow.Task{}, notFound
	}
	c, err := s.Load(ctx, caseID)
	if ozgflow.ErrorCode(err) == ozgflow.ENOTFOUND {
		return c, ozgflow.Task{}, notFound
	} else if err != nil {
		return c, ozgflow.Task{}, err
	}
	task, found := TaskOf(c, taskID)
	if !found {
		// The projection may lag a task that was just created.
		if fresh, err := s.Query(ctx, caseID); err == nil {
			c = fresh
			task, found = TaskOf(c, taskID)
		}
	}
	if !found || (!id.Has(ozgflow.RoleAdmin) && id.Role == ozgflow.RoleCaseWorker && (c.Authority != id.Authority || !id.MemberOf(task.Queue))) {
		return c, task, notFound
	}
	return c, task, nil
}

// checkHandover accepts a colleague of the authority who works the target
// queue, and a queue of the authority.
func (s *Service) checkHandover(ctx context.Context, authority string, task ozgflow.Task, req HandoverTo) error {
	queue := task.Queue
	if req.Queue != "" {
		queue = req.Queue
	}
	refused := func(reason ozgflow.Reason, detail string, args ...string) error {
		err := ozgflow.Refuse(ozgflow.EUNPROCESSABLE, reason, "The task cannot be handed over like this.", args...)
		err.Fields = []ozgflow.FieldError{{Pointer: "/to", Detail: detail}}
		return err
	}
	if req.To == "" && req.Queue == "" {
		return refused(ozgflow.ReasonHandoverTarget, "name a colleague or a queue")
	}
	if req.To != "" {
		colleague, ok := s.Colleague(ctx, authority, req.To)
		switch {
		case !ok:
			return refused(ozgflow.ReasonColleagueUnknown, "is not a case worker of this authority", req.To)
		case !colleague.MemberOf(queue):
			return refused(ozgflow.ReasonColleagueNotInQueue, "does not work queue "+queue, colleague.Name, queue)
		}
	}
	return nil
}

// Colleague finds a case worker of the authority by subject.
func (s *Service) Colleague(ctx context.Context, authority, subject string) (ozgflow.Identity, bool) {
	for _, id := range s.Colleagues(ctx, authority) {
		if id.Subject == subject {
			return id, true
		}
	}
	return ozgflow.Identity{}, false
}

// Colleagues lists the case workers of an authority.
func (s *Service) Colleagues(ctx context.Context, authority string) []ozgflow.Identity {
	if s.Directory == nil {
		return nil
	}
	return s.Directory.CaseWorkers(ctx, authority)
}

// Names maps the subjects of an authority's case workers to their names.
func (s *Service) Names(ctx context.Context, authority string) map[string]string {
	out := map[string]string{}
	for _, id := range s.Colleagues(ctx, authority) {
		out[id.Subject] = id.Name
	}
	return out
}

// explainRefusal turns a refused update on a case that was withdrawn
// meanwhile into a refusal that says so, and names the status of a case
// that closed otherwise.
func (s *Service) explainRefusal(ctx context.Context, caseID string, err error) error {
	if ozgflow.ErrorCode(err) != ozgflow.ECONFLICT {
		return err
	}
	c, qerr := s.Query(ctx, caseID)
	if qerr != nil {
		return err
	}
	if c.Status == ozgflow.StatusWithdrawn {
		return ozgflow.Refuse(ozgflow.ECONFLICT, ozgflow.ReasonCaseWithdrawn,
			"The applicant has withdrawn the application; it can no longer be decided.")
	}
	if r := ozgflow.RefusalOf(err); r != nil && r.Reason == ozgflow.ReasonCaseClosed && len(r.Args) == 0 {
		return ozgflow.Refuse(ozgflow.ECONFLICT, ozgflow.ReasonCaseClosed, ozgflow.ErrorMessage(err), string(c.Status))
	}
	return err
}

// TaskOf finds a task of a case.
func TaskOf(c ozgflow.Case, taskID string) (ozgflow.Task, bool) {
	for _, t := range c.Tasks {
		if t.ID == taskID {
			return t, true
		}
	}
	return ozgflow.Task{}, false
}

// Bulk is a bulk action over several tasks: claim or handover.
type Bulk struct {
	Action  string   `json:"action"`
	TaskIDs []string `json:"taskIds"`
	To      string   `json:"to"`
	Queue   string   `json:"queue"`
	Note    string   `json:"note"`
}

// BulkResult is the outcome for one task of a bulk action; Err keeps the
// refusal, so that each room can word it.
type BulkResult struct {
	TaskID string
	Task   ozgflow.Task
	Err    error
}

// MaxBulk bounds a bulk action, so one request stays short.
const MaxBulk = 100

// ActOnTasks claims or hands over several tasks; each succeeds or fails on
// its own.
func (s *Service) ActOnTasks(ctx context.Context, id ozgflow.Identity, req Bulk) ([]BulkResult, error) {
	var fields []ozgflow.FieldError
	if req.Action != "claim" && req.Action != "handover" {
		fields = append(fields, ozgflow.FieldError{Pointer: "/action", Detail: "must be claim or handover"})
	}
	if len(req.TaskIDs) == 0 || len(req.TaskIDs) > MaxBulk {
		fields = append(fields, ozgflow.FieldError{Pointer: "/taskIds", Detail: "must name 1 to 100 tasks"})
	}
	if len(fields) > 0 {
		return nil, &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: "The bulk action is incomplete.", Fields: fields}
	}
	bounded := []ozgflow.Text{ozgflow.Line("/to", req.To, ozgflow.MaxSubjectRunes),
		ozgflow.Line("/queue", req.Queue, ozgflow.MaxCodeRunes), ozgflow.Prose("/note", req.Note, ozgflow.MaxNoteRunes)}
	for i, taskID := range req.TaskIDs {
		bounded = append(bounded, ozgflow.Line("/taskIds/"+strconv.Itoa(i), taskID, ozgflow.MaxSubjectRunes))
	}
	if err := ozgflow.InvalidInput(ozgflow.CheckText(bounded...)); err != nil {
		return nil, err
	}
	results := make([]BulkResult, len(req.TaskIDs))
	for i, taskID := range req.TaskIDs {
		results[i].TaskID = taskID
		if req.Action == "claim" {
			results[i].Task, results[i].Err = s.ActOnTask(ctx, id, ozgflow.UpdateClaim, taskID, nil)
		} else {
			results[i].Task, results[i].Err = s.ActOnTask(ctx, id, ozgflow.UpdateHandover, taskID,
				HandoverTo{To: req.To, Queue: req.Queue, Note: req.Note})
		}
	}
	return results, nil
}

// ServiceName names a LeiKa key by its published definition.
func (s *Service) ServiceName(leika string) string {
	if s.Defs == nil || s.Defs.Registry() == nil {
		return leika
	}
	for _, def := range s.Defs.Registry().Published() {
		if def.Service == leika {
			return def.Name
		}
	}
	return leika
}

// AuthorityName names an authority by its ARS, or gives "" when unknown.
func (s *Service) AuthorityName(ars string) string {
	if s.Defs == nil || s.Defs.Registry() == nil {
		return ""
	}
	a, _ := s.Defs.Registry().Authority(ars)
	return a.Name
}

// AllowedActions says which actions the identity can take on an active task
// now, so that pages offer only those: claim, release, handover, decide, ask
// and approve. The workflow's update validators stay the authority; this is
// what they would accept.
func AllowedActions(id ozgflow.Identity, t ozgflow.Task) map[string]bool {
	mine := t.Assignee == id.Subject
	can := map[string]bool{
		"claim":    t.Status == ozgflow.TaskOpen,
		"release":  t.Status == ozgflow.TaskClaimed && mine,
		"handover": t.Status == ozgflow.TaskOpen || (t.Status == ozgflow.TaskClaimed && mine),
		"decide":   t.Status == ozgflow.TaskClaimed && mine,
		"approve":  t.Status == ozgflow.TaskApproval && t.Proposal != nil && t.Proposal.By != id.Subject,
		"followup": t.Active() && (t.Assignee == "" || mine),
	}
	can["ask"] = can["decide"] && t.Offers(ozgflow.OutcomeRequestInformation)
	return can
}
