package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/internal/redistest"
	"github.com/ozgflow/ozgflow/store"
)

// The case search at 100,000 cases of one authority (Leipzig), 70 % of
// them closed, received over two years; a tenth of the tasks escalated to
// the team leads' queue, so that a case worker outside it sees a part.
//
//	go test ./store -run XXX -bench Search100k -benchtime 400x
//
// Each sub-benchmark runs one kind of query, each time with other words,
// and reports its p50 and p99; building the cases takes about a minute
// and is reported once, with the memory the index takes in Redis.

var (
	firstNames = strings.Fields(`Anna Ben Clara David Emma Felix Greta Hannah Ida Jonas Karl Lena Max Mia Noah Olga Paul
		Quentin Rosa Sophie Tim Ursula Vera Willi Xaver Yvonne Zoë Jürgen Jörg Ömer Björn Günter Dörte Käthe Süleyman Łukasz
		Mateo Leonie Elias Mila Henry Lina Theo Marie Anton Frieda Oskar Lotte Emil Ella`)
	lastNames = strings.Fields(`Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch
		Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner
		Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter Mayer Huber Kaiser Fuchs Peters Lang
		Scholz Möller Weiß Jung Hahn Schubert Vogel Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann
		Franke Albrecht Schuster Simon Ludwig Böhm Winter Kraus Martin Schumacher Krämer Vogt Stein Jäger Otto Sommer Groß
		Seidel Heinrich Brandt Haas Schreiber Graf Schulte Dietrich Ziegler Kuhn Kühn Pohl Engel Horn Busch Bergmann Thomas
		Voigt Sauer Arnold Wolff Pfeiffer Nguyen Yılmaz Kowalski Nowak Popescu Rossi Hadžić Petrović Öztürk Şahin Kaya`)
	trades = strings.Fields(`Café Bäckerei Friseur Blumen Bau Elektro Reinigung Transporte Gartenbau Kiosk Imbiss Malerei
		Schreinerei Fahrradladen Buchhandlung Fotostudio Nagelstudio Tattoo Yoga Umzüge Druckerei Schlüsseldienst`)
	forms   = []string{"", "", "GmbH", "UG (haftungsbeschränkt)", "e.K.", "GbR", "KG"}
	streets = strings.Fields(`Markt Karl-Liebknecht-Straße Eisenbahnstraße Georg-Schwarz-Straße Jahnallee Prager-Straße
		Könneritzstraße Zschochersche-Straße Gohliser-Straße Delitzscher-Straße Dresdner-Straße Lützner-Straße
		Kochstraße Arthur-Hoffmann-Straße Bornaische-Straße Wurzner-Straße Riebeckstraße Hainstraße Petersstraße
		Grimmaische-Straße Nikolaistraße Brühl Gerberstraße Löhrstraße Waldstraße Feuerbachstraße Zweinaundorfer-Straße
		Holbeinstraße Stötteritzer-Straße Naunhofer-Straße Mockauer-Straße Max-Liebermann-Straße Landsberger-Straße`)
	providers = []string{"web.de", "gmx.de", "t-online.de", "posteo.de", "mailbox.org", "example.org"}
)

const (
	benchCases     = 100_000
	benchAuthority = leipzig
)

// benchSearchStart is the first submission; the cases span two years.
var benchSearchStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// benchCase is the i-th case of the benchmark.
func benchCase(r *rand.Rand, i int) ozgflow.Case {
	id := fmt.Sprintf("%08x-0000-4000-8000-%012d", i, i)
	first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
	business := ""
	if r.IntN(3) > 0 {
		business = strings.TrimSpace(trades[r.IntN(len(trades))] + " " + last + " " + forms[r.IntN(len(forms))])
	}
	street := strings.ReplaceAll(streets[r.IntN(len(streets))], "-", " ")
	street = strings.ReplaceAll(street, " Straße", "-Straße")
	plz := 4103 + r.IntN(255)
	submitted := benchSearchStart.Add(time.Duration(i) * (2 * 365 * 24 * time.Hour / benchCases))
	service, prefix, queue := "99050012104000", "GEW", "gewerbe"
	if i%4 == 3 {
		service, prefix, queue = "99019001008000", "PARK", "parken"
	}
	if r.IntN(10) == 0 && queue == "gewerbe" {
		queue = "gewerbe-leitung" // escalated
	}
	status, taskStatus := ozgflow.StatusInReview, ozgflow.TaskOpen
	var decision *ozgflow.Decision
	if i < benchCases*7/10 {
		status, taskStatus = ozgflow.StatusApproved, ozgflow.TaskDone
		outcome := ozgflow.OutcomeApprove
		if r.IntN(5) == 0 {
			status, outcome = ozgflow.StatusRejected, ozgflow.OutcomeReject
		}
		decision = &ozgflow.Decision{Outcome: outcome, By: "sb-leipzig", At: submitted.Add(72 * time.Hour)}
	}
	c := ozgflow.Case{
		ID: id, CaseNumber: fmt.Sprintf("%s-%d-%06d", prefix, submitted.Year(), i+1), Revision: 5,
		Applicant: &ozgflow.CaseApplicant{Name: first + " " + last, BusinessName: business,
			Email:   fmt.Sprintf("%s.%s%d@%s", strings.ToLower(first), strings.ToLower(last), r.IntN(100), providers[r.IntN(len(providers))]),
			Address: fmt.Sprintf("%s %d, %05d Leipzig", street, 1+r.IntN(120), plz)},
		Service: service, ServiceName: "Gewerbeanmeldung", Authority: benchAuthority, DefinitionID: "gewerbeanmeldung-leipzig",
		DefinitionVersion: 1, PortalAccount: "acc-" + strconv.Itoa(i), Status: status, Stage: "review", StageKind: "task",
		Decision: decision, SubmittedAt: submitted, UpdatedAt: submitted.Add(72 * time.Hour),
		Tasks: []ozgflow.Task{{ID: id + ".review.1", CaseID: id, StepID: "review", Title: "Antrag prüfen", Authority: benchAuthority,
			Queue: queue, Service: service, Status: taskStatus, Outcomes: []string{"approve", "reject"}, CreatedAt: submitted,
			DueAt: submitted.Add(14 * 24 * time.Hour)}},
		Timeline: []ozgflow.Notice{{ID: id + "-1", CaseID: id, Status: ozgflow.StatusReceived, Title: "Antrag eingegangen",
			Text: "Ihr Antrag ist bei uns eingegangen.", At: submitted}},
	}
	return c
}

// searchBench holds the 100,000 cases, built once for all kinds.
type searchBench struct {
	s     *store.Store
	cases []ozgflow.Case
	built time.Duration
	bytes int64 // memory of the search's keys in Redis
}

var benchData *searchBench

func loadSearchBench(b *testing.B) *searchBench {
	if benchData != nil {
		return benchData
	}
	ctx := context.Background()
	s := redistest.Store(b, "bench:search:")
	r := rand.New(rand.NewPCG(15, 2026))
	d := &searchBench{s: s}
	start := time.Now()
	const batch = 500
	for i := 0; i < benchCases; i += batch {
		var cases []ozgflow.Case
		for j := i; j < min(i+batch, benchCases); j++ {
			cases = append(cases, benchCase(r, j))
		}
		if _, err := s.RestoreCases(ctx, cases, time.Time{}); err != nil {
			b.Fatal(err)
		}
		d.cases = append(d.cases, cases...)
	}
	d.built = time.Since(start)
	d.bytes = searchMemory(b, s)
	b.Logf("%d cases written with their projections and the search index in %s; the index takes %.1f MiB in Redis",
		benchCases, d.built.Round(time.Second), float64(d.bytes)/(1<<20))
	benchData = d
	return d
}

// searchMemory adds up MEMORY USAGE over the search's keys, and logs it
// by kind of key.
func searchMemory(b *testing.B, s *store.Store) int64 {
	ctx := context.Background()
	var total int64
	kinds := map[string]int64{}
	counts := map[string]int{}
	kindOf := func(key string) string {
		for _, k := range []string{":doc:", ":w:", ":c:", ":vocab:"} {
			if strings.Contains(key, k) {
				return strings.Trim(k, ":")
			}
		}
		return "other"
	}
	defer func() {
		b.Logf("search keys by kind (MiB, keys): doc %.1f %d, word sets %.1f %d, class sets %.1f %d, vocabularies %.1f %d, other %.1f %d",
			mib(kinds["doc"]), counts["doc"], mib(kinds["w"]), counts["w"], mib(kinds["c"]), counts["c"],
			mib(kinds["vocab"]), counts["vocab"], mib(kinds["other"]), counts["other"])
	}()
	iter := s.Client().Scan(ctx, 0, s.Prefix()+"search:*", 2000).Iterator()
	var keys []string
	flush := func() {
		cmds, _ := s.Client().Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				p.MemoryUsage(ctx, k, 0)
			}
			return nil
		})
		for i, c := range cmds {
			if n, err := c.(interface{ Result() (int64, error) }).Result(); err == nil {
				total += n
				kinds[kindOf(keys[i])] += n
				counts[kindOf(keys[i])]++
			}
		}
		keys = keys[:0]
	}
	for iter.Next(ctx) {
		if keys = append(keys, iter.Val()); len(keys) == 2000 {
			flush()
		}
	}
	flush()
	return total
}

// queryKind makes the i-th query of a kind.
type queryKind struct {
	name string
	make func(d *searchBench, i int) store.CaseSearch
}

// worker2 works gewerbe and parken, not the team leads' queue.
var worker2 = []string{"gewerbe", "parken"}

func nameOf(d *searchBench, i int) (first, last string) {
	c := d.cases[(i*7919)%benchCases]
	first, last, _ = strings.Cut(c.Applicant.Name, " ")
	return first, last
}

var queryKinds = []queryKind{
	{"case number", func(d *searchBench, i int) store.CaseSearch {
		return store.CaseSearch{Text: d.cases[(i*7919)%benchCases].CaseNumber}
	}},
	{"surname", func(d *searchBench, i int) store.CaseSearch {
		_, last := nameOf(d, i)
		return store.CaseSearch{Text: last}
	}},
	{"first and last name", func(d *searchBench, i int) store.CaseSearch {
		first, last := nameOf(d, i)
		return store.CaseSearch{Text: first + " " + last}
	}},
	{"name begun (4 letters)", func(d *searchBench, i int) store.CaseSearch {
		_, last := nameOf(d, i)
		return store.CaseSearch{Text: string([]rune(last)[:min(4, len([]rune(last)))])}
	}},
	{"business name", func(d *searchBench, i int) store.CaseSearch {
		return store.CaseSearch{Text: trades[i%len(trades)] + " " + lastNames[i%len(lastNames)]}
	}},
	{"street and number", func(d *searchBench, i int) store.CaseSearch {
		c := d.cases[(i*7919)%benchCases]
		addr, _, _ := strings.Cut(c.Applicant.Address, ",")
		return store.CaseSearch{Text: addr}
	}},
	{"name, received within a month", func(d *searchBench, i int) store.CaseSearch {
		_, last := nameOf(d, i)
		from := benchSearchStart.AddDate(0, i%24, 0)
		return store.CaseSearch{Text: last, From: from, To: from.AddDate(0, 1, 0)}
	}},
	{"received within a month, no words", func(d *searchBench, i int) store.CaseSearch {
		from := benchSearchStart.AddDate(0, i%24, 0)
		return store.CaseSearch{From: from, To: from.AddDate(0, 1, 0)}
	}},
	{"erledigt, first page", func(d *searchBench, i int) store.CaseSearch {
		return store.CaseSearch{Status: store.SearchClosed}
	}},
	{"erledigt, page 40", func(d *searchBench, i int) store.CaseSearch {
		return store.CaseSearch{Status: store.SearchClosed, Offset: 975}
	}},
	{"erledigt with a surname", func(d *searchBench, i int) store.CaseSearch {
		_, last := nameOf(d, i)
		return store.CaseSearch{Status: store.SearchClosed, Text: last}
	}},
	{"city (every case), erledigt", func(d *searchBench, i int) store.CaseSearch {
		return store.CaseSearch{Status: store.SearchClosed, Text: "Leipzig"}
	}},
	{"worker outside a queue: surname", func(d *searchBench, i int) store.CaseSearch {
		_, last := nameOf(d, i)
		return store.CaseSearch{Text: last, Queues: worker2}
	}},
	{"worker outside a queue: erledigt", func(d *searchBench, i int) store.CaseSearch {
		return store.CaseSearch{Status: store.SearchClosed, Queues: worker2}
	}},
}

// BenchmarkSearch100k measures each kind of query over 100,000 cases.
func BenchmarkSearch100k(b *testing.B) {
	d := loadSearchBench(b)
	ctx := context.Background()
	for _, kind := range queryKinds {
		b.Run(kind.name, func(b *testing.B) {
			var took []time.Duration
			var found int64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				q := kind.make(d, i)
				q.Authority, q.Limit = benchAuthority, 25
				start := time.Now()
				hits, err := d.s.SearchCases(ctx, q)
				took = append(took, time.Since(start))
				if err != nil {
					b.Fatalf("%+v: %v", q, err)
				}
				found += hits.Total
				if kind.name == "case number" && (hits.Total != 1 || hits.Cases[0].CaseNumber != q.Text) {
					b.Fatalf("%q found %d cases", q.Text, hits.Total)
				}
			}
			b.StopTimer()
			slices.Sort(took)
			pct := func(p float64) float64 {
				return float64(took[min(len(took)-1, int(float64(len(took))*p))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "ms-p50")
			b.ReportMetric(pct(0.99), "ms-p99")
			b.ReportMetric(float64(found)/float64(b.N), "hits/query")
		})
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
