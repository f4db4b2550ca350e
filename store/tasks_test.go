package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/internal/redistest"
	"github.com/ozgflow/ozgflow/store"
)

const leipzig = "147130000000"

// caseWithTask is a case of revision rev holding one task.
func caseWithTask(id string, rev int64, t ozgflow.Task) ozgflow.Case {
	t.ID, t.CaseID, t.Authority = id+".review.1", id, leipzig
	if t.Queue == "" {
		t.Queue = "gewerbe"
	}
	if t.Status == "" {
		t.Status = ozgflow.TaskOpen
	}
	return ozgflow.Case{ID: id, Revision: rev, Authority: leipzig, Service: t.Service, Status: ozgflow.StatusInReview,
		Tasks: []ozgflow.Task{t}, Timeline: []ozgflow.Notice{}}
}

func ids(p store.TaskPage) []string {
	var out []string
	for _, t := range p.Tasks {
		out = append(out, t.CaseID)
	}
	return out
}

func TestQueryTasksFiltersSortsAndPages(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t, "test:")
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for _, c := range []ozgflow.Case{
		caseWithTask("a", 1, ozgflow.Task{Service: "gewerbe", DueAt: now.Add(-day), Priority: 1}), // overdue, open
		caseWithTask("b", 1, ozgflow.Task{Service: "gewerbe", DueAt: now.Add(day), Priority: 3, Status: ozgflow.TaskClaimed, Assignee: "anna"}),
		caseWithTask("c", 1, ozgflow.Task{Service: "parken", DueAt: now.Add(2 * day), Priority: 2, Status: ozgflow.TaskClaimed, Assignee: "ben"}),
		caseWithTask("d", 1, ozgflow.Task{Service: "parken", Priority: 5}), // no due date
		caseWithTask("e", 1, ozgflow.Task{Service: "gewerbe", DueAt: now.Add(3 * day), Status: ozgflow.TaskApproval}),
		caseWithTask("x", 1, ozgflow.Task{Service: "gewerbe", Queue: "andere", DueAt: now}),
	} {
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
		{"all by due", store.TaskQuery{}, []string{"a", "b", "c", "e", "d"}, 5},
		{"by priority", store.TaskQuery{Sort: store.SortPriority}, []string{"d", "b", "c", "a", "e"}, 5},
		{"second page", store.TaskQuery{Offset: 2, Limit: 2}, []string{"c", "e"}, 5},
		{"open", store.TaskQuery{Status: store.FilterOpen}, []string{"a", "d"}, 2},
		{"mine", store.TaskQuery{Status: store.FilterMine, User: "anna"}, []string{"b"}, 1},
		{"others", store.TaskQuery{Status: store.FilterOthers, User: "anna"}, []string{"c"}, 1},
		{"overdue", store.TaskQuery{Status: store.FilterOverdue}, []string{"a"}, 1},
		{"approval", store.TaskQuery{Status: store.FilterApproval}, []string{"e"}, 1},
		{"service", store.TaskQuery{Service: "parken"}, []string{"c", "d"}, 2},
		{"service and open", store.TaskQuery{Service: "parken", Status: store.FilterOpen}, []string{"d"}, 1},
		{"service by priority, paged", store.TaskQuery{Service: "gewerbe", Sort: store.SortPriority, Offset: 1, Limit: 1}, []string{"a"}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Authority, q.Queue, q.Now = leipzig, "gewerbe", now
			if q.Limit == 0 {
				q.Limit = 10
			}
			page, err := s.QueryTasks(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(page); !slices.Equal(got, tc.want) || page.Total != tc.total {
				t.Errorf("got %v (total %d), want %v (total %d)", got, page.Total, tc.want, tc.total)
			}
		})
	}
	counts, err := s.QueueCounts(ctx, leipzig, []string{"gewerbe", "andere"}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.QueueCount{{Queue: "gewerbe", Total: 5, Open: 2, Overdue: 1}, {Queue: "andere", Total: 1, Open: 1}}
	if !slices.Equal(counts, want) {
		t.Errorf("counts %+v, want %+v", counts, want)
	}
}

func TestTaskLeavesOldIndexesWhenItMoves(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t, "test:")
	q := func(queue, status, user string) []string {
		t.Helper()
		page, err := s.QueryTasks(ctx, store.TaskQuery{Authority: leipzig, Queue: queue, Status: status, User: user, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return ids(page)
	}
	steps := []ozgflow.Task{
		{Service: "gewerbe"},
		{Service: "gewerbe", Status: ozgflow.TaskClaimed, Assignee: "anna"},
		{Service: "gewerbe", Status: ozgflow.TaskClaimed, Assignee: "ben", Note: "Bitte übernehmen"},
		{Service: "gewerbe", Queue: "gewerbe-leitung", Priority: 3},
		{Service: "gewerbe", Queue: "gewerbe-leitung", Status: ozgflow.TaskDone},
	}
	want := []struct{ gewerbe, leitung, anna, ben []string }{
		{[]string{"a"}, nil, nil, nil},
		{[]string{"a"}, nil, []string{"a"}, nil},
		{[]string{"a"}, nil, nil, []string{"a"}},
		{nil, []string{"a"}, nil, nil},
		{nil, nil, nil, nil},
	}
	for i, task := range steps {
		if err := s.SaveCase(ctx, caseWithTask("a", int64(i+1), task)); err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(q("gewerbe", "", ""), q("gewerbe-leitung", "", ""), q("gewerbe", store.FilterMine, "anna"), q("gewerbe", store.FilterMine, "ben"))
		w := fmt.Sprint(want[i].gewerbe, want[i].leitung, want[i].anna, want[i].ben)
		if got != w {
			t.Errorf("after step %d: %s, want %s", i, got, w)
		}
	}
	if _, err := s.Task(ctx, "a.review.1"); ozgflow.ErrorCode(err) != ozgflow.ENOTFOUND {
		t.Errorf("done task still readable: %v", err)
	}
}

// TestCaseSummariesNameTheApplicantUntilErased: the task list reads who
// applied from the cases' projections; an erased case names nobody.
func TestCaseSummariesNameTheApplicantUntilErased(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t, "test:")
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	c := caseWithTask("s1", 1, ozgflow.Task{Service: "gewerbe"})
	c.CaseNumber, c.SubmittedAt, c.PortalAccount = "GEW-2026-000001", at, "acc-s1"
	c.Applicant = &ozgflow.CaseApplicant{Name: "Anna Muster", Email: "anna@example.org", BusinessName: "Café Anna", Address: "Markt 1, 04109 Leipzig"}
	if err := s.SaveCase(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := s.CaseSummaries(ctx, []string{"s1", "missing"})
	if err != nil {
		t.Fatal(err)
	}
	if sum, ok := got["s1"]; !ok || len(got) != 1 || sum.CaseNumber != "GEW-2026-000001" || sum.Applicant == nil ||
		*sum.Applicant != *c.Applicant || !sum.SubmittedAt.Equal(at) {
		t.Fatalf("summaries = %+v", got)
	}
	c.Status = ozgflow.StatusApproved
	if err := s.EraseCase(ctx, c.StatisticsOnly(at.Add(time.Hour)), ""); err != nil {
		t.Fatal(err)
	}
	got, _ = s.CaseSummaries(ctx, []string{"s1"})
	if sum := got["s1"]; sum.Applicant != nil {
		t.Errorf("an erased case still names its applicant: %+v", sum.Applicant)
	}
	if stored, err := s.Case(ctx, "s1"); err != nil || stored.Applicant != nil {
		t.Errorf("the erased projection keeps the applicant: %+v %v", stored.Applicant, err)
	}
}
