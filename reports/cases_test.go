package reports_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/internal/redistest"
	"github.com/ozgflow/ozgflow/reports"
)

const leipzig = "147130000000"

func sampleCase(i int, at time.Time) ozgflow.Case {
	c := ozgflow.Case{ID: fmt.Sprintf("case-%06d", i), Revision: 1, Service: "99050035001000", ServiceName: "Gewerbeanmeldung",
		Authority: leipzig, DefinitionID: "gewerbeanmeldung-leipzig", DefinitionVersion: 1, Status: ozgflow.StatusInReview,
		SubmittedAt: at, Payment: &ozgflow.Payment{Amount: 2600, Currency: "EUR", Status: ozgflow.PaymentPayed},
		Tasks: []ozgflow.Task{{ID: fmt.Sprintf("case-%06d.review.1", i), Authority: leipzig, Queue: "gewerbe", Status: ozgflow.TaskOpen}},
	}
	if i%2 == 0 {
		c.Status, c.Tasks[0].Status = ozgflow.StatusApproved, ozgflow.TaskDone
		c.Decision = &ozgflow.Decision{Outcome: ozgflow.OutcomeApprove, By: "sb", At: at.Add(36 * time.Hour)}
	}
	return c
}

func TestCaseListIsFilteredAndReadable(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t, "reports:")
	start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 5; i++ {
		if err := s.SaveCase(ctx, sampleCase(i, start.Add(time.Duration(i)*time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	n, err := reports.WriteCases(ctx, &buf, s, reports.Filter{Authority: leipzig, Status: ozgflow.StatusApproved})
	if err != nil || n != 3 {
		t.Fatalf("wrote %d rows (%v), want the 3 approved", n, err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("Vorgänge")
	if len(rows) != 4 || rows[0][0] != "Vorgangsnummer" || rows[1][0] != "case-000000" || rows[1][4] != "Bewilligt" ||
		rows[1][8] != "36" || rows[1][9] != "26" {
		t.Errorf("rows = %v", rows)
	}
	if n, _ := reports.WriteCases(ctx, io.Discard, s, reports.Filter{Authority: "146120000000"}); n != 0 {
		t.Errorf("another authority's list has %d rows", n)
	}
}

// BenchmarkCaseList100k streams the case list of 100,000 cases from the
// projection store; it reports the peak Go heap during the export.
func BenchmarkCaseList100k(b *testing.B) {
	ctx := context.Background()
	s := redistest.Store(b, "reports:")
	const total = 100_000
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	jobs := make(chan int, 1000)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := s.SaveCase(ctx, sampleCase(i, start.Add(time.Duration(i)*time.Minute))); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := range total {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	b.ResetTimer()
	var peak uint64
	for range b.N {
		runtime.GC()
		done := make(chan struct{})
		var sampler sync.WaitGroup
		sampler.Add(1)
		go func() {
			defer sampler.Done()
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
				select {
				case <-done:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		n, err := reports.WriteCases(ctx, io.Discard, s, reports.Filter{Authority: leipzig})
		close(done)
		sampler.Wait()
		if err != nil || n != total {
			b.Fatalf("wrote %d rows (%v), want %d", n, err, total)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

func TestDashboardFigures(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t, "reports:")
	start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 5; i++ {
		c := sampleCase(i, start.Add(time.Duration(i)*time.Hour))
		if c.Decision != nil {
			c.Decision.At = c.SubmittedAt.Add(time.Duration(i+1) * 24 * time.Hour) // 1, 3 and 5 days
		} else {
			c.Tasks[0].DueAt = start.Add(24 * time.Hour) // overdue by now
		}
		if err := s.SaveCase(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	stuck := sampleCase(9, start)
	stuck.Status, stuck.Decision, stuck.Tasks, stuck.StageKind = ozgflow.StatusReceived, nil, nil, "deliver"
	if err := s.SaveCase(ctx, stuck); err != nil {
		t.Fatal(err)
	}
	if err := s.CallFailed(ctx, ozgflow.CallFailure{CaseID: stuck.ID, Target: "gewerbe-leipzig", Operation: "Deliver",
		Error: "503 Service Unavailable", Attempt: 3, At: start}); err != nil {
		t.Fatal(err)
	}
	// Its notice mail going out leaves the delivery failing.
	if err := s.CallSucceeded(ctx, stuck.ID, ozgflow.TargetMail); err != nil {
		t.Fatal(err)
	}
	stats, err := reports.Dashboard(ctx, s, leipzig, reports.Period{}, start.Add(30*24*time.Hour))
	if err != nil || len(stats) != 1 {
		t.Fatalf("stats = %+v %v", stats, err)
	}
	st := stats[0]
	if st.Received != 6 || st.Decided != 3 || st.ByStatus[ozgflow.StatusInReview] != 2 || st.Overdue != 2 ||
		st.Delivering != 1 || st.Failing != 1 {
		t.Errorf("figures = %+v", st)
	}
	if st.Median != 3*24*time.Hour || st.P90 != 3*24*time.Hour && st.P90 != 5*24*time.Hour {
		t.Errorf("median %v p90 %v", st.Median, st.P90)
	}
	if chart := st.StatusChart(); !strings.Contains(chart, "<svg") || !strings.Contains(chart, "In Prüfung") {
		t.Errorf("chart = %s", chart)
	}
	var buf bytes.Buffer
	if err := reports.WriteStatistics(&buf, "Stadt Leipzig", reports.Period{}, stats); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("Auswertung")
	if len(rows) != 2 || rows[1][3] != "6" || rows[1][5] != "72" || rows[1][9] != "1" {
		t.Errorf("statistics rows = %v", rows)
	}
}

// The case list writes dates as date cells in German local time, statuses in
// German and the authority by name.
func TestCaseListHasDateCellsInBerlinTimeAndGermanWords(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t, "reports-dates:")
	c := sampleCase(0, time.Date(2026, 11, 2, 23, 30, 0, 0, time.UTC)) // 3 November, 00:30 in Berlin
	if err := s.SaveCase(ctx, c); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := reports.WriteCases(ctx, &buf, s, reports.Filter{Authority: leipzig, AuthorityName: "Stadt Leipzig"}); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("Vorgänge")
	if rows[1][3] != "Stadt Leipzig" || rows[1][5] != "03.11.2026 00:30" || rows[1][7] != "04.11.2026 12:30" || rows[1][10] != "bezahlt" {
		t.Errorf("row = %q", rows[1])
	}
	for _, cell := range []string{"F2", "H2"} {
		if typ, _ := f.GetCellType("Vorgänge", cell); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
			t.Errorf("%s is text, want a date cell", cell)
		}
	}
	raw, _ := f.GetCellValue("Vorgänge", "F2", excelize.Options{RawCellValue: true})
	if !strings.HasPrefix(raw, "46329.02") { // 2026-11-03 00:30 as an Excel serial
		t.Errorf("F2 holds %q, want the serial of 03.11.2026 00:30", raw)
	}
}

func TestPeriodsAndDurations(t *testing.T) {
	nov := reports.Period{From: time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC)}
	if got := nov.String(); got != "01.11.2026 – 30.11.2026" {
		t.Errorf("period = %q", got)
	}
	if !nov.Contains(time.Date(2026, 11, 30, 22, 59, 0, 0, time.UTC)) || nov.Contains(time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC)) {
		t.Error("the period's ends are wrong")
	}
	for d, want := range map[time.Duration]string{
		72 * time.Hour: "3 Tage", 28 * time.Hour: "1 Tag 4 Std.", 130 * time.Minute: "2 Std. 10 Min.",
		45*time.Minute + 20*time.Second: "45 Min.", 20 * time.Second: "unter 1 Min.", 0: "–",
		12*24*time.Hour + 13*time.Hour: "13 Tage",
	} {
		if got := reports.FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
