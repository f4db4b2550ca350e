package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/internal/redistest"
	"github.com/ozgflow/ozgflow/store"
)

func TestDueFollowUpsLeadTheList(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t, "test:")
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	back := &ozgflow.FollowUp{Date: "2026-12-03", At: time.Date(2026, 12, 2, 23, 0, 0, 0, time.UTC), By: "anna",
		DueSince: time.Date(2026, 12, 2, 23, 0, 0, 0, time.UTC)}
	waiting := &ozgflow.FollowUp{Date: "2026-12-10", At: time.Date(2026, 12, 9, 23, 0, 0, 0, time.UTC), By: "anna"}
	cases := []ozgflow.Case{
		caseWithTask("a", 1, ozgflow.Task{Service: "gewerbe", DueAt: now.Add(day)}),
		caseWithTask("b", 1, ozgflow.Task{Service: "gewerbe", DueAt: now.Add(2 * day), FollowUp: waiting}),
		caseWithTask("c", 1, ozgflow.Task{Service: "gewerbe", DueAt: now.Add(3 * day)}),
		caseWithTask("d", 1, ozgflow.Task{Service: "gewerbe", DueAt: now.Add(9 * day), FollowUp: back,
			Status: ozgflow.TaskClaimed, Assignee: "anna"}),
		caseWithTask("e", 1, ozgflow.Task{Service: "parken", DueAt: now.Add(10 * day), FollowUp: back}),
	}
	for _, c := range cases {
		if err := s.SaveCase(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		q     store.TaskQuery
		want  []string
		total int64
	}{
		{"first page", store.TaskQuery{Limit: 3}, []string{"d", "e", "a"}, 5},
		{"second page", store.TaskQuery{Offset: 3, Limit: 3}, []string{"b", "c"}, 5},
		{"page within the follow-ups", store.TaskQuery{Offset: 1, Limit: 2}, []string{"e", "a"}, 5},
		{"by priority", store.TaskQuery{Sort: store.SortPriority, Limit: 10}, []string{"d", "e", "a", "b", "c"}, 5},
		{"open only", store.TaskQuery{Status: store.FilterOpen, Limit: 10}, []string{"e", "a", "b", "c"}, 4},
		{"mine", store.TaskQuery{Status: store.FilterMine, User: "anna", Limit: 10}, []string{"d"}, 1},
		{"a service", store.TaskQuery{Service: "gewerbe", Limit: 10}, []string{"d", "a", "b", "c"}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Authority, q.Queue, q.Now = leipzig, "gewerbe", now
			page, err := s.QueryTasks(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(page); !slices.Equal(got, tc.want) || page.Total != tc.total {
				t.Errorf("got %v (total %d), want %v (total %d)", got, page.Total, tc.want, tc.total)
			}
		})
	}
	// The follow-up cleared: d is back in its place by due date.
	d := cases[3]
	d.Revision = 2
	d.Tasks = []ozgflow.Task{d.Tasks[0]}
	d.Tasks[0].FollowUp = nil
	if err := s.SaveCase(ctx, d); err != nil {
		t.Fatal(err)
	}
	page, err := s.QueryTasks(ctx, store.TaskQuery{Authority: leipzig, Queue: "gewerbe", Now: now, Limit: 10})
	if err != nil || !slices.Equal(ids(page), []string{"e", "a", "b", "c", "d"}) {
		t.Errorf("after clearing: %v %v", ids(page), err)
	}
	counts, _ := s.QueueCounts(ctx, leipzig, []string{"gewerbe"}, now)
	if counts[0].Total != 5 || counts[0].Overdue != 0 {
		t.Errorf("counts %+v: follow-ups change no count", counts[0])
	}
}
