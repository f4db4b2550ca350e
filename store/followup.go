package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ozgflow/ozgflow"
)

// Follow-ups (Wiedervorlage) in the task list: once a task's follow-up
// timer fired, the task is in its queue's follow-up index until the
// follow-up is cleared or replaced or the task ends, and every page of
// the queue's list starts with those tasks that match its filter, the
// earliest day first; the rest follows in the list's order. The other
// indexes, and with them the counts, stay as they are.

func (s *Store) followUpKey(ars, queue string) string { return s.queueKey(ars, queue) + ":followup" }

// maxFollowUpsFirst bounds how many due follow-ups lead a list.
const maxFollowUpsFirst = 200

// indexFollowUp adds an active task whose follow-up came back.
func (s *Store) indexFollowUp(ctx context.Context, p redis.Pipeliner, t ozgflow.Task) {
	if t.FollowUpDue() {
		p.ZAdd(ctx, s.followUpKey(t.Authority, t.Queue), redis.Z{Score: float64(t.FollowUp.At.Unix()), Member: t.ID})
	}
}

func (s *Store) unindexFollowUp(ctx context.Context, p redis.Pipeliner, t ozgflow.Task) {
	p.ZRem(ctx, s.followUpKey(t.Authority, t.Queue), t.ID)
}

// QueryTasks returns a page of a queue, filtered and sorted, with the
// tasks whose follow-up came back first. Filters that have an index of
// their own read a range of it; the others walk the queue's index in
// batches.
func (s *Store) QueryTasks(ctx context.Context, q TaskQuery) (TaskPage, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	ids, err := s.rdb.ZRange(ctx, s.followUpKey(q.Authority, q.Queue), 0, maxFollowUpsFirst-1).Result()
	if err != nil {
		return TaskPage{}, fmt.Errorf("read follow-ups: %w", err)
	}
	if len(ids) == 0 {
		return s.queryTasks(ctx, q)
	}
	due, err := s.loadTasks(ctx, ids)
	if err != nil {
		return TaskPage{}, err
	}
	due = slices.DeleteFunc(due, func(t ozgflow.Task) bool { return !t.FollowUpDue() || !q.matches(t) })
	if len(due) == 0 {
		return s.queryTasks(ctx, q)
	}
	first := map[string]bool{}
	for _, t := range due {
		first[t.ID] = true
	}
	offset, limit := q.Offset, q.Limit
	page := TaskPage{Tasks: due[min(offset, int64(len(due))):]}
	page.Tasks = page.Tasks[:min(limit, int64(len(page.Tasks)))]
	// The rest of the list, without the tasks already shown first.
	skip := max(offset-int64(len(due)), 0)
	rest := q
	rest.Offset, rest.Limit = 0, skip+limit+int64(len(due))
	others, err := s.queryTasks(ctx, rest)
	if err != nil {
		return page, err
	}
	others.Tasks = slices.DeleteFunc(others.Tasks, func(t ozgflow.Task) bool { return first[t.ID] })
	others.Tasks = others.Tasks[min(skip, int64(len(others.Tasks))):]
	page.Tasks = append(page.Tasks, others.Tasks[:min(limit-int64(len(page.Tasks)), int64(len(others.Tasks)))]...)
	page.Total = others.Total
	return page, nil
}
