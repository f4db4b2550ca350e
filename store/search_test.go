package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/internal/redistest"
	"github.com/ozgflow/ozgflow/store"
)

const dresden = "146120000000"

// applied is a case of Leipzig received at day (from 1 November 2026) by
// applicant, with one task in queue and the status given.
func applied(id, number string, day int, status ozgflow.Status, queue string, a ozgflow.CaseApplicant) ozgflow.Case {
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC).AddDate(0, 0, day)
	c := ozgflow.Case{ID: id, CaseNumber: number, Applicant: &a, Revision: 1, Authority: leipzig, Service: "gewerbe",
		Status: status, SubmittedAt: at, UpdatedAt: at, Timeline: []ozgflow.Notice{}}
	if queue != "" {
		task := ozgflow.Task{ID: id + ".review.1", CaseID: id, Authority: leipzig, Queue: queue, Status: ozgflow.TaskOpen}
		if status.Final() {
			task.Status = ozgflow.TaskDone
			outcome := ozgflow.OutcomeApprove
			if status == ozgflow.StatusRejected {
				outcome = ozgflow.OutcomeReject
			}
			c.Decision = &ozgflow.Decision{Outcome: outcome, By: "anna", At: at.Add(48 * time.Hour)}
		}
		c.Tasks = []ozgflow.Task{task}
	}
	return c
}

func caseIDs(h store.CaseHits) []string {
	out := []string{}
	for _, c := range h.Cases {
		out = append(out, c.ID)
	}
	return out
}

// searchFixture writes a handful of Leipzig cases and one of Dresden.
func searchFixture(t *testing.T) (*store.Store, context.Context) {
	t.Helper()
	return searchFixtureOn(t, redistest.Store(t, "test:"))
}

func searchFixtureOn(t *testing.T, s *store.Store) (*store.Store, context.Context) {
	t.Helper()
	ctx := context.Background()
	cases := []ozgflow.Case{
		applied("a", "GEW-2026-000123", 0, ozgflow.StatusInReview, "gewerbe", ozgflow.CaseApplicant{
			Name: "Jürgen Müller", Email: "j.mueller@example.org", BusinessName: "Café Müller GmbH", Address: "Markt 1, 04109 Leipzig"}),
		applied("b", "GEW-2026-000124", 1, ozgflow.StatusApproved, "gewerbe", ozgflow.CaseApplicant{
			Name: "Anna Mueller", BusinessName: "Blumen Anna", Address: "Karl-Liebknecht-Straße 12, 04107 Leipzig"}),
		applied("c", "GEW-2026-000125", 2, ozgflow.StatusRejected, "gewerbe-leitung", ozgflow.CaseApplicant{
			Name: "Peter Groß", BusinessName: "Groß & Söhne", Address: "Markt 10, 04109 Leipzig"}),
		applied("d", "PARK-2026-000123", 3, ozgflow.StatusAwaitingPayment, "", ozgflow.CaseApplicant{
			Name: "Erika Muster", Address: "Marktstraße 3, 04109 Leipzig"}),
		applied("e", "GEW-2026-000126", 10, ozgflow.StatusWithdrawn, "gewerbe", ozgflow.CaseApplicant{
			Name: "Zoë Meyer", BusinessName: "Mayer Bau"}),
	}
	other := applied("x", "GEW-2026-000123", 0, ozgflow.StatusInReview, "gewerbe", ozgflow.CaseApplicant{Name: "Jürgen Müller"})
	other.Authority, other.Tasks[0].Authority = dresden, dresden
	if _, err := s.RestoreCases(ctx, append(cases, other), time.Time{}); err != nil {
		t.Fatal(err)
	}
	return s, ctx
}

func TestSearchFindsCasesByNumberNameBusinessAndAddress(t *testing.T) {
	s, ctx := searchFixture(t)
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"", []string{"e", "d", "c", "b", "a"}},
		{"GEW-2026-000123", []string{"a"}},
		{"gew-2026-000123.", []string{"a"}},
		{"123", []string{"d", "a"}},
		{"000124", []string{"b"}},
		{"Müller", []string{"b", "a"}}, // Mueller is Müller too
		{"mueller", []string{"b", "a"}},
		{"MULLER", []string{"a"}}, // typed without umlaut: not Mueller
		{"müll", []string{"b", "a"}},
		{"Jürgen Müller", []string{"a"}},
		{"jurgen", []string{"a"}},
		{"Cafe", []string{"a"}},
		{"Groß", []string{"c"}},
		{"gross söhne", []string{"c"}},
		{"Markt 1", []string{"a"}},
		{"markt", []string{"d", "c", "a"}}, // Marktstraße begins with markt
		{"Karl-Liebknecht-Straße 12", []string{"b"}},
		{"liebknechtstr", []string{}},
		{"04109", []string{"d", "c", "a"}},
		{"j.mueller@example.org", []string{"a"}},
		{"Zoë", []string{"e"}},
		{"zoe meyer", []string{"e"}},
		{"Mayer", []string{"e"}},
		{"Schmidt", []string{}},
		{"Mü", []string{}}, // two letters match whole words only
	} {
		hits, err := s.SearchCases(ctx, store.CaseSearch{Authority: leipzig, Text: tc.text, Limit: 10})
		if err != nil {
			t.Fatalf("%q: %v", tc.text, err)
		}
		if got := caseIDs(hits); !slices.Equal(got, tc.want) || hits.Total != int64(len(tc.want)) {
			t.Errorf("%q found %v (total %d), want %v", tc.text, got, hits.Total, tc.want)
		}
	}
	dd, err := s.SearchCases(ctx, store.CaseSearch{Authority: dresden, Text: "müller", Limit: 10})
	if err != nil || !slices.Equal(caseIDs(dd), []string{"x"}) {
		t.Errorf("Dresden's search found %v %v, want its own case alone", caseIDs(dd), err)
	}
}

func TestSearchFiltersByStatusPeriodAndQueues(t *testing.T) {
	s, ctx := searchFixture(t)
	day := func(d int) time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d) }
	for _, tc := range []struct {
		name string
		q    store.CaseSearch
		want []string
	}{
		{"closed", store.CaseSearch{Status: store.SearchClosed}, []string{"e", "c", "b"}},
		{"open", store.CaseSearch{Status: store.SearchOpen}, []string{"d", "a"}},
		{"closed with a name", store.CaseSearch{Status: store.SearchClosed, Text: "müller"}, []string{"b"}},
		{"received in a period", store.CaseSearch{From: day(1), To: day(3)}, []string{"c", "b"}},
		{"from a day on", store.CaseSearch{From: day(3)}, []string{"e", "d"}},
		{"until a day", store.CaseSearch{To: day(1), Text: "markt"}, []string{"a"}},
		{"outside gewerbe-leitung", store.CaseSearch{Queues: []string{"gewerbe", "parken"}}, []string{"e", "d", "b", "a"}},
		{"gewerbe-leitung alone", store.CaseSearch{Queues: []string{"gewerbe-leitung"}}, []string{"d", "c"}},
		{"outside with a word", store.CaseSearch{Queues: []string{"gewerbe"}, Text: "markt"}, []string{"d", "a"}},
		{"second page", store.CaseSearch{Offset: 2, Limit: 2}, []string{"c", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Authority = leipzig
			if q.Limit == 0 {
				q.Limit = 10
			}
			hits, err := s.SearchCases(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			wantTotal := int64(len(tc.want))
			if q.Offset > 0 {
				wantTotal = 5
			}
			if got := caseIDs(hits); !slices.Equal(got, tc.want) || hits.Total != wantTotal {
				t.Errorf("found %v (total %d), want %v (total %d)", got, hits.Total, tc.want, wantTotal)
			}
		})
	}
}

func TestSearchFollowsChangesErasureAndExpiry(t *testing.T) {
	s, ctx := searchFixture(t)
	find := func(text string) []string {
		t.Helper()
		hits, err := s.SearchCases(ctx, store.CaseSearch{Authority: leipzig, Text: text, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return caseIDs(hits)
	}
	// A case closes and its business is renamed: the old name leaves the index.
	a, err := s.Case(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	a.Revision++
	a.Status, a.Decision = ozgflow.StatusApproved, &ozgflow.Decision{Outcome: ozgflow.OutcomeApprove, At: a.SubmittedAt}
	a.Applicant.BusinessName = "Kaffeehaus Müller GmbH"
	if err := s.SaveCase(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got := find("cafe"); len(got) != 0 {
		t.Errorf("the old business name still finds %v", got)
	}
	if got := find("kaffeehaus"); !slices.Equal(got, []string{"a"}) {
		t.Errorf("the new business name finds %v", got)
	}
	closed, _ := s.SearchCases(ctx, store.CaseSearch{Authority: leipzig, Status: store.SearchClosed, Limit: 10})
	if !slices.Contains(caseIDs(closed), "a") {
		t.Errorf("the closed case is not among the closed: %v", caseIDs(closed))
	}
	// Erased: neither the case nor its words are found, and the vocabulary
	// keeps no word only it had.
	c, _ := s.Case(ctx, "c")
	if err := s.EraseCase(ctx, c.StatisticsOnly(time.Now()), ""); err != nil {
		t.Fatal(err)
	}
	if got := find("Groß"); len(got) != 0 {
		t.Errorf("the erased case is found: %v", got)
	}
	if words := vocabulary(t, s, ctx); slices.Contains(words, "gross") || slices.Contains(words, "sohne") {
		t.Errorf("the erased applicant's words stay in the vocabulary: %v", words)
	}
	// A rebuild writes the erased case's statistics: still not found.
	stats := c.StatisticsOnly(time.Now())
	stats.Revision += 5
	if _, err := s.RestoreCases(ctx, []ozgflow.Case{stats}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := find("GEW-2026-000125"); len(got) != 0 {
		t.Errorf("the erased case is found by its number after a rebuild: %v", got)
	}
	// The projection's retention ended before the erasure ran: the key is
	// gone, the search drops it.
	if err := s.Client().Del(ctx, s.Prefix()+"case:b").Err(); err != nil {
		t.Fatal(err)
	}
	if got := find("mueller"); !slices.Equal(got, []string{"a"}) {
		t.Errorf("after b's projection expired: %v", got)
	}
	if words := vocabulary(t, s, ctx); slices.Contains(words, "blumen") {
		t.Errorf("the expired case's words stay in the vocabulary: %v", words)
	}
}

func vocabulary(t *testing.T, s *store.Store, ctx context.Context) []string {
	t.Helper()
	words, err := s.Client().ZRange(ctx, s.Prefix()+"search:"+leipzig+":vocab", 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	return words
}

func TestSearchIndexIsBuiltOverProjectionsWithoutIt(t *testing.T) {
	s, ctx := searchFixture(t)
	if ok, _ := s.SearchIndexed(ctx); ok {
		t.Fatal("the fixture's writes do not make the index complete")
	}
	// Projections from before the search: drop the index.
	keys, err := s.Client().Keys(ctx, s.Prefix()+"search:*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("index keys %v %v", keys, err)
	}
	if err := s.Client().Del(ctx, keys...).Err(); err != nil {
		t.Fatal(err)
	}
	n, err := s.EnsureSearchIndex(ctx)
	if err != nil || n != 6 {
		t.Fatalf("indexed %d %v, want the 6 cases", n, err)
	}
	if ok, _ := s.SearchIndexed(ctx); !ok {
		t.Error("not marked indexed")
	}
	hits, err := s.SearchCases(ctx, store.CaseSearch{Authority: leipzig, Text: "Müller", Limit: 10})
	if err != nil || !slices.Equal(caseIDs(hits), []string{"b", "a"}) {
		t.Errorf("after indexing: %v %v", caseIDs(hits), err)
	}
	if n, err := s.EnsureSearchIndex(ctx); n != 0 || err != nil {
		t.Errorf("indexed again: %d %v", n, err)
	}
}

func TestSearchRefusesAWordThatBeginsTooMany(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t, "test:")
	var cases []ozgflow.Case
	for i := range store.MaxPrefixTokens + 1 {
		cases = append(cases, applied(fmt.Sprint("c", i), "", i%30, ozgflow.StatusInReview, "gewerbe",
			ozgflow.CaseApplicant{Name: "Schulze" + letters(i)}))
	}
	if _, err := s.RestoreCases(ctx, cases, time.Time{}); err != nil {
		t.Fatal(err)
	}
	_, err := s.SearchCases(ctx, store.CaseSearch{Authority: leipzig, Text: "schulze", Limit: 10})
	var tooGeneral *store.TooGeneralError
	if !errorsAs(err, &tooGeneral) || tooGeneral.Word != "schulze" {
		t.Fatalf("got %v, want the word refused as too general", err)
	}
	hits, err := s.SearchCases(ctx, store.CaseSearch{Authority: leipzig, Text: "Schulze" + letters(42), Limit: 10})
	if err != nil || !slices.Equal(caseIDs(hits), []string{"c42"}) {
		t.Errorf("a whole name: %v %v", caseIDs(hits), err)
	}
	if !strings.Contains(tooGeneral.Error(), "schulze") {
		t.Errorf("message %q", tooGeneral.Error())
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// letters writes n in the letters a to z.
func letters(n int) string {
	out := ""
	for i := 0; i < 3; i++ {
		out = string(rune('a'+n%26)) + out
		n /= 26
	}
	return out
}

// TestSearchOnEmbeddedRedis runs the search on the in-memory Redis that
// `dev` falls back to: its commands and script must work there too.
func TestSearchOnEmbeddedRedis(t *testing.T) {
	mr := miniredis.RunT(t)
	base, err := store.Open(context.Background(), "redis://"+mr.Addr()+"/0")
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	s, ctx := searchFixtureOn(t, base.WithPrefix("test:"))
	for text, want := range map[string][]string{"müll": {"b", "a"}, "Markt 1": {"a"}, "GEW-2026-000125": {"c"}} {
		hits, err := s.SearchCases(ctx, store.CaseSearch{Authority: leipzig, Text: text, Queues: []string{"gewerbe", "gewerbe-leitung"}})
		if err != nil || !slices.Equal(caseIDs(hits), want) {
			t.Errorf("%q: %v %v, want %v", text, caseIDs(hits), err, want)
		}
	}
	c, _ := s.Case(ctx, "c")
	if err := s.EraseCase(ctx, c.StatisticsOnly(time.Now()), ""); err != nil {
		t.Fatal(err)
	}
	if hits, err := s.SearchCases(ctx, store.CaseSearch{Authority: leipzig, Text: "Groß"}); err != nil || len(hits.Cases) != 0 {
		t.Errorf("erased: %v %v", caseIDs(hits), err)
	}
}
