package store

import (
	"context"
	"encoding/json"
	"fmt"

	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ozgflow/ozgflow"
)

// Task indexes, per authority. Every active task is in its queue's index by
// due date and by priority, in the queue's open or service index as it
// applies, and in its assignee's index. The inbox reads pages straight from
// these sorted sets, so the first page costs the same at 100 tasks and at
// 100,000.
func (s *Store) taskKey(id string) string    { return s.prefix + "task:" + id }
func (s *Store) queuesKey(ars string) string { return s.prefix + "queues:" + ars }
func (s *Store) queueKey(ars, queue string) string {
	return s.prefix + "queue:" + ars + ":" + queue
}
func (s *Store) queuePriorityKey(ars, queue string) string { return s.queueKey(ars, queue) + ":prio" }
func (s *Store) queueOpenKey(ars, queue string) string     { return s.queueKey(ars, queue) + ":open" }
func (s *Store) queueServiceKey(ars, queue, service string) string {
	return s.queueKey(ars, queue) + ":service:" + service
}
func (s *Store) assignedKey(ars, user string) string {
	return s.prefix + "assigned:" + ars + ":" + user
}

// writeTasks mirrors the case's tasks into the indexes; previous are the
// tasks of the stored projection, so a task that moved queue or assignee
// leaves the old indexes.
func (s *Store) writeTasks(ctx context.Context, p redis.Pipeliner, c ozgflow.Case, previous []ozgflow.Task) {
	before := make(map[string]ozgflow.Task, len(previous))
	for _, t := range previous {
		before[t.ID] = t
	}
	// Tasks only grow, but a rebuild replaces a projection from a future
	// the engine no longer knows: its tasks go.
	now := make(map[string]bool, len(c.Tasks))
	for _, t := range c.Tasks {
		now[t.ID] = true
	}
	for _, t := range previous {
		if !now[t.ID] {
			s.unindexTask(ctx, p, t)
			p.Del(ctx, s.taskKey(t.ID))
		}
	}
	for _, t := range c.Tasks {
		if old, ok := before[t.ID]; ok && old.Active() {
			s.unindexTask(ctx, p, old)
		}
		if !t.Active() {
			p.Del(ctx, s.taskKey(t.ID))
			continue
		}
		b, _ := json.Marshal(t)
		p.Set(ctx, s.taskKey(t.ID), b, 0)
		s.indexTask(ctx, p, t)
	}
}

func (s *Store) indexTask(ctx context.Context, p redis.Pipeliner, t ozgflow.Task) {
	due := dueScore(t)
	p.ZAdd(ctx, s.queueKey(t.Authority, t.Queue), redis.Z{Score: due, Member: t.ID})
	p.ZAdd(ctx, s.queuePriorityKey(t.Authority, t.Queue), redis.Z{Score: priorityScore(t), Member: t.ID})
	p.ZAdd(ctx, s.queueServiceKey(t.Authority, t.Queue, t.Service), redis.Z{Score: due, Member: t.ID})
	if t.Assignee == "" && t.Status == ozgflow.TaskOpen {
		p.ZAdd(ctx, s.queueOpenKey(t.Authority, t.Queue), redis.Z{Score: due, Member: t.ID})
	}
	if t.Assignee != "" {
		p.ZAdd(ctx, s.assignedKey(t.Authority, t.Assignee), redis.Z{Score: due, Member: t.ID})
	}
	p.SAdd(ctx, s.queuesKey(t.Authority), t.Queue)
	s.indexFollowUp(ctx, p, t)
}

func (s *Store) unindexTask(ctx context.Context, p redis.Pipeliner, t ozgflow.Task) {
	p.ZRem(ctx, s.queueKey(t.Authority, t.Queue), t.ID)
	p.ZRem(ctx, s.queuePriorityKey(t.Authority, t.Queue), t.ID)
	p.ZRem(ctx, s.queueServiceKey(t.Authority, t.Queue, t.Service), t.ID)
	p.ZRem(ctx, s.queueOpenKey(t.Authority, t.Queue), t.ID)
	if t.Assignee != "" {
		p.ZRem(ctx, s.assignedKey(t.Authority, t.Assignee), t.ID)
	}
	s.unindexFollowUp(ctx, p, t)
}

// noDue places tasks without a due date after every dated one.
const noDue = 1 << 33 // seconds: the year 2242

// dueScore orders by due date, tasks without one last.
func dueScore(t ozgflow.Task) float64 {
	if t.DueAt.IsZero() {
		return noDue
	}
	return float64(t.DueAt.Unix())
}

// priorityScore orders by priority, highest first, then by due date.
func priorityScore(t ozgflow.Task) float64 {
	return -float64(t.Priority)*2*noDue + dueScore(t)
}

// Filters of a task query.
const (
	FilterOpen     = "open"     // nobody holds it
	FilterMine     = "mine"     // held by the asking user
	FilterOthers   = "others"   // held by someone else
	FilterOverdue  = "overdue"  // past its due date
	FilterApproval = "approval" // a decision waits for a second case worker
)

// Sort orders of a task query.
const (
	SortDue      = "due"
	SortPriority = "priority"
)

// TaskQuery asks for one page of one queue.
type TaskQuery struct {
	Authority string
	Queue     string
	Status    string // "" or one of the Filter constants
	Service   string // LeiKa key, "" for all
	Sort      string // SortDue (default) or SortPriority
	User      string // the asking case worker, for mine and others
	Now       time.Time
	Offset    int64
	Limit     int64
}

// TaskPage is one page of a queue.
type TaskPage struct {
	Tasks []ozgflow.Task `json:"tasks"`
	Total int64          `json:"total"`
}

// Tasks lists the open tasks of one queue, earliest due first.
func (s *Store) Tasks(ctx context.Context, ars, queue string, offset, limit int64) (TaskPage, error) {
	return s.QueryTasks(ctx, TaskQuery{Authority: ars, Queue: queue, Offset: offset, Limit: limit})
}

// queryTasks returns a page of a queue in the list's order, as
// QueryTasks does without the follow-ups first.
func (s *Store) queryTasks(ctx context.Context, q TaskQuery) (TaskPage, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	key, min, max := s.queueKey(q.Authority, q.Queue), "-inf", "+inf"
	var keep func(ozgflow.Task) bool
	switch {
	case q.Sort == SortPriority:
		key = s.queuePriorityKey(q.Authority, q.Queue)
		keep = q.matches
		if q.Status == "" && q.Service == "" {
			keep = nil
		}
	case q.Status == FilterOpen:
		key = s.queueOpenKey(q.Authority, q.Queue)
		keep = q.serviceMatches()
	case q.Status == FilterMine:
		key = s.assignedKey(q.Authority, q.User)
		keep = q.matches // the assignee's index spans queues
	case q.Status == FilterOverdue:
		max = "(" + strconv.FormatInt(q.Now.Unix(), 10)
		keep = q.serviceMatches()
	case q.Status == "" && q.Service != "":
		key = s.queueServiceKey(q.Authority, q.Queue, q.Service)
	case q.Status != "":
		keep = q.matches
	}
	if keep == nil {
		return s.rangePage(ctx, key, min, max, q.Offset, q.Limit)
	}
	return s.scanPage(ctx, key, min, max, q.Offset, q.Limit, keep)
}

func (q TaskQuery) serviceMatches() func(ozgflow.Task) bool {
	if q.Service == "" {
		return nil
	}
	return func(t ozgflow.Task) bool { return t.Service == q.Service }
}

// matches applies every filter of the query to one task.
func (q TaskQuery) matches(t ozgflow.Task) bool {
	if t.Queue != q.Queue || (q.Service != "" && t.Service != q.Service) {
		return false
	}
	switch q.Status {
	case FilterOpen:
		return t.Status == ozgflow.TaskOpen
	case FilterMine:
		return t.Assignee != "" && t.Assignee == q.User
	case FilterOthers:
		return t.Assignee != "" && t.Assignee != q.User
	case FilterOverdue:
		return t.Overdue(q.Now)
	case FilterApproval:
		return t.Status == ozgflow.TaskApproval
	}
	return true
}

// rangePage reads one page of a sorted set by rank within a score range.
func (s *Store) rangePage(ctx context.Context, key, min, max string, offset, limit int64) (TaskPage, error) {
	page := TaskPage{Tasks: []ozgflow.Task{}}
	var total *redis.IntCmd
	var ids *redis.StringSliceCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		total = p.ZCount(ctx, key, min, max)
		ids = p.ZRangeArgs(ctx, redis.ZRangeArgs{Key: key, Start: min, Stop: max, ByScore: true, Offset: offset, Count: limit})
		return nil
	})
	if err != nil {
		return page, fmt.Errorf("read task index %s: %w", key, err)
	}
	page.Total = total.Val()
	page.Tasks, err = s.loadTasks(ctx, ids.Val())
	return page, err
}

// scanPage walks a sorted set in batches, keeping the tasks that match,
// and counts all matches for the total.
func (s *Store) scanPage(ctx context.Context, key, min, max string, offset, limit int64, keep func(ozgflow.Task) bool) (TaskPage, error) {
	const batch = 500
	page := TaskPage{Tasks: []ozgflow.Task{}}
	for start := int64(0); ; start += batch {
		ids, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: key, Start: min, Stop: max, ByScore: true, Offset: start, Count: batch}).Result()
		if err != nil {
			return page, fmt.Errorf("read task index %s: %w", key, err)
		}
		tasks, err := s.loadTasks(ctx, ids)
		if err != nil {
			return page, err
		}
		for _, t := range tasks {
			if !keep(t) {
				continue
			}
			if page.Total >= offset && int64(len(page.Tasks)) < limit {
				page.Tasks = append(page.Tasks, t)
			}
			page.Total++
		}
		if len(ids) < batch {
			return page, nil
		}
	}
}

// loadTasks reads tasks by ID in one round trip; missing ones are skipped.
func (s *Store) loadTasks(ctx context.Context, ids []string) ([]ozgflow.Task, error) {
	out := make([]ozgflow.Task, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.taskKey(id)
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("read tasks: %w", err)
	}
	for _, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		var t ozgflow.Task
		if json.Unmarshal([]byte(str), &t) == nil {
			out = append(out, t)
		}
	}
	return out, nil
}

// Task returns an active task.
func (s *Store) Task(ctx context.Context, id string) (ozgflow.Task, error) {
	tasks, err := s.loadTasks(ctx, []string{id})
	if err != nil {
		return ozgflow.Task{}, err
	}
	if len(tasks) == 0 {
		return ozgflow.Task{}, ozgflow.Errorf(ozgflow.ENOTFOUND, "Task %s not found.", id)
	}
	return tasks[0], nil
}

// Queues returns the names of an authority's queues that ever held a task.
func (s *Store) Queues(ctx context.Context, ars string) ([]string, error) {
	qs, err := s.rdb.SMembers(ctx, s.queuesKey(ars)).Result()
	if err != nil {
		return nil, fmt.Errorf("read queues of %s: %w", ars, err)
	}
	sort.Strings(qs)
	return qs, nil
}

// QueueCount is how many active tasks a queue holds.
type QueueCount struct {
	Queue   string `json:"queue"`
	Total   int64  `json:"total"`
	Open    int64  `json:"open"`
	Overdue int64  `json:"overdue"`
}

// QueueCounts counts the tasks of each named queue in one round trip.
func (s *Store) QueueCounts(ctx context.Context, ars string, queues []string, now time.Time) ([]QueueCount, error) {
	type cmds struct{ total, open, overdue *redis.IntCmd }
	all := make([]cmds, len(queues))
	overdue := "(" + strconv.FormatInt(now.Unix(), 10)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, q := range queues {
			all[i] = cmds{
				total:   p.ZCard(ctx, s.queueKey(ars, q)),
				open:    p.ZCard(ctx, s.queueOpenKey(ars, q)),
				overdue: p.ZCount(ctx, s.queueKey(ars, q), "-inf", overdue),
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count queues of %s: %w", ars, err)
	}
	out := make([]QueueCount, len(queues))
	for i, q := range queues {
		out[i] = QueueCount{Queue: q, Total: all[i].total.Val(), Open: all[i].open.Val(), Overdue: all[i].overdue.Val()}
	}
	return out, nil
}

// AssignedTasks returns up to limit of the active tasks a case worker holds,
// earliest due first, across queues.
func (s *Store) AssignedTasks(ctx context.Context, ars, user string, limit int64) ([]ozgflow.Task, error) {
	page, err := s.rangePage(ctx, s.assignedKey(ars, user), "-inf", "+inf", 0, limit)
	return page.Tasks, err
}

// AssignedCount counts the active tasks a case worker holds.
func (s *Store) AssignedCount(ctx context.Context, ars, user string) (int64, error) {
	n, err := s.rdb.ZCard(ctx, s.assignedKey(ars, user)).Result()
	if err != nil {
		return 0, fmt.Errorf("count tasks of %s: %w", user, err)
	}
	return n, nil
}

// SeedTasks writes active tasks straight into the indexes, without cases,
// in batches: for load tests and benchmarks of the inbox.
func (s *Store) SeedTasks(ctx context.Context, tasks []ozgflow.Task) error {
	const batch = 1000
	for start := 0; start < len(tasks); start += batch {
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, t := range tasks[start:min(start+batch, len(tasks))] {
				b, err := json.Marshal(t)
				if err != nil {
					return err
				}
				p.Set(ctx, s.taskKey(t.ID), b, 0)
				s.indexTask(ctx, p, t)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("seed tasks: %w", err)
		}
	}
	return nil
}

// DropAll deletes every key of this store's prefix: for tests that share
// a Redis.
func (s *Store) DropAll(ctx context.Context) error {
	return s.dropAll(ctx, func(string) bool { return false })
}

// DropForeign deletes every key of this store's prefix but the rebuild
// lease: the projections of another installation, which a rebuild
// replaces while it holds the lease.
func (s *Store) DropForeign(ctx context.Context) error {
	lease := s.rebuildKey()
	return s.dropAll(ctx, func(key string) bool { return key == lease })
}

// dropAll deletes the prefix's keys that spare does not keep.
func (s *Store) dropAll(ctx context.Context, spare func(key string) bool) error {
	iter := s.rdb.Scan(ctx, 0, s.prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		if spare(iter.Val()) {
			continue
		}
		keys = append(keys, iter.Val())
		if len(keys) == 1000 {
			if err := s.rdb.Unlink(ctx, keys...).Err(); err != nil {
				return err
			}
			keys = keys[:0]
		}
	}
	if len(keys) > 0 {
		if err := s.rdb.Unlink(ctx, keys...).Err(); err != nil {
			return err
		}
	}
	return iter.Err()
}

// CaseSummary is what the task list shows of a task's case beside the
// task: its short number, who applied and when it came in.
type CaseSummary struct {
	ID          string                 `json:"id"`
	CaseNumber  string                 `json:"caseNumber"`
	Applicant   *ozgflow.CaseApplicant `json:"applicant"`
	Status      ozgflow.Status         `json:"status"`
	SubmittedAt time.Time              `json:"submittedAt"`
}

// CaseSummaries reads the summaries of the cases of a page of tasks in one
// round trip, by case ID; a case the projections do not hold is left out.
// An erased case's projection holds its statistics alone, so its summary
// names nobody.
func (s *Store) CaseSummaries(ctx context.Context, caseIDs []string) (map[string]CaseSummary, error) {
	out := make(map[string]CaseSummary, len(caseIDs))
	if len(caseIDs) == 0 {
		return out, nil
	}
	keys := make([]string, len(caseIDs))
	for i, id := range caseIDs {
		keys[i] = s.caseKey(id)
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("read cases of the task list: %w", err)
	}
	for _, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		var c CaseSummary
		if json.Unmarshal([]byte(str), &c) == nil && c.ID != "" {
			out[c.ID] = c
		}
	}
	return out, nil
}
