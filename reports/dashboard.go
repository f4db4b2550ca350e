package reports

import (
	"context"
	"fmt"
	"html"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/locale"
)

// ServiceStats are the figures of one service at one authority.
type ServiceStats struct {
	Service    string
	Name       string
	Received   int
	ByStatus   map[ozgflow.Status]int
	Decided    int
	Median     time.Duration // submission to decision
	P90        time.Duration
	Overdue    int // open tasks past their due date
	Delivering int // cases waiting for their Fachverfahren
	Failing    int // of those, cases whose delivery fails right now
}

// DeliverySource says which cases' deliveries fail right now.
type DeliverySource interface {
	FailingDeliveries(ctx context.Context) (map[string]bool, error)
}

// Period is the time range a dashboard covers: the cases submitted in
// [From, To); a zero end is open.
type Period struct {
	From, To time.Time
}

// Contains reports whether a moment lies in the period.
func (p Period) Contains(t time.Time) bool {
	return (p.From.IsZero() || !t.Before(p.From)) && (p.To.IsZero() || t.Before(p.To))
}

// String writes the period in German with its last day included:
// "01.11.2026 – 30.11.2026", "ab 01.11.2026", "bis 30.11.2026", "gesamter Zeitraum".
func (p Period) String() string {
	day := func(t time.Time) string { return t.In(locale.Berlin).Format("02.01.2006") }
	last := func() string { return day(p.To.Add(-time.Nanosecond)) }
	switch {
	case p.From.IsZero() && p.To.IsZero():
		return "gesamter Zeitraum"
	case p.To.IsZero():
		return "ab " + day(p.From)
	case p.From.IsZero():
		return "bis " + last()
	}
	return day(p.From) + " – " + last()
}

// Dashboard computes the figures of every service of an authority from the
// projections, at time now, over the cases submitted in the period.
func Dashboard(ctx context.Context, src interface {
	CaseSource
	DeliverySource
}, authority string, period Period, now time.Time) ([]ServiceStats, error) {
	failing, err := src.FailingDeliveries(ctx)
	if err != nil {
		return nil, err
	}
	by := map[string]*ServiceStats{}
	durations := map[string][]time.Duration{}
	err = src.EachCase(ctx, authority, func(c ozgflow.Case) error {
		if !period.Contains(c.SubmittedAt) {
			return nil
		}
		st := by[c.Service]
		if st == nil {
			st = &ServiceStats{Service: c.Service, Name: c.ServiceName, ByStatus: map[ozgflow.Status]int{}}
			by[c.Service] = st
		}
		st.Received++
		st.ByStatus[c.Status]++
		if d := c.Decision; d != nil {
			st.Decided++
			durations[c.Service] = append(durations[c.Service], d.At.Sub(c.SubmittedAt))
		}
		for _, t := range c.OpenTasks() {
			if !t.DueAt.IsZero() && t.DueAt.Before(now) {
				st.Overdue++
			}
		}
		if c.StageKind == definitions.KindDeliver && !c.Status.Final() {
			st.Delivering++
			if failing[c.ID] {
				st.Failing++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]ServiceStats, 0, len(by))
	for service, st := range by {
		d := durations[service]
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		if len(d) > 0 {
			st.Median, st.P90 = d[(len(d)-1)/2], d[(len(d)-1)*9/10]
		}
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// chartOrder is the order of the statuses in the chart.
var chartOrder = []ozgflow.Status{ozgflow.StatusReceived, ozgflow.StatusAwaitingPayment, ozgflow.StatusForwarded,
	ozgflow.StatusInReview, ozgflow.StatusInformationRequested, ozgflow.StatusApproved, ozgflow.StatusRejected,
	ozgflow.StatusWithdrawn, ozgflow.StatusCancelled}

// StatusChart draws the cases by status as a horizontal bar chart in SVG,
// with a title and text labels so that screen readers can read it.
func (s ServiceStats) StatusChart() string {
	const width, bar, gap, label = 520, 18, 6, 190
	most := 1
	for _, n := range s.ByStatus {
		most = max(most, n)
	}
	var b strings.Builder
	rows := 0
	for _, st := range chartOrder {
		if s.ByStatus[st] > 0 {
			rows++
		}
	}
	height := rows*(bar+gap) + gap
	fmt.Fprintf(&b, `<svg role="img" aria-labelledby="chart-%[1]s" width="%[2]d" height="%[3]d" viewBox="0 0 %[2]d %[3]d" xmlns="http://www.w3.org/2000/svg">`,
		s.Service, width, height)
	fmt.Fprintf(&b, `<title id="chart-%s">Vorgänge nach Status: %s</title>`, s.Service, html.EscapeString(s.Name))
	y := gap
	for _, st := range chartOrder {
		n := s.ByStatus[st]
		if n == 0 {
			continue
		}
		w := (width - label - 50) * n / most
		fmt.Fprintf(&b, `<text x="0" y="%d" font-size="13">%s</text>`, y+bar-5, html.EscapeString(locale.DE.CaseStatusShort(st)))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#1f5fa8"></rect>`, label, y, max(w, 1), bar)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13">%d</text>`, label+max(w, 1)+6, y+bar-5, n)
		y += bar + gap
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// FormatDuration writes a processing time rounded to what a person reads:
// "3 Tage", "1 Tag 4 Std.", "2 Std. 10 Min."; "–" for none.
func FormatDuration(d time.Duration) string { return locale.DE.Duration(d) }

// WriteStatistics writes the dashboard figures of an authority (named as
// people read it) over a period as an .xlsx workbook: one row per service
// with its counts and processing times, and one per service and status on a
// second sheet.
func WriteStatistics(w io.Writer, authority string, period Period, stats []ServiceStats) error {
	book := excelize.NewFile()
	defer book.Close()
	const summary, byStatus = "Auswertung", "Nach Status"
	if err := book.SetSheetName("Sheet1", summary); err != nil {
		return err
	}
	if _, err := book.NewSheet(byStatus); err != nil {
		return err
	}
	rows := [][]any{{"Behörde", "Leistung", "LeiKa", "Eingegangen", "Entschieden", "Bearbeitungsdauer Median (Stunden)",
		"Bearbeitungsdauer 90 % (Stunden)", "Überfällige Aufgaben", "Zustellungen ausstehend", "davon fehlgeschlagen",
		"Zeitraum (Eingang)", "Bearbeitungsdauer Median", "Bearbeitungsdauer 90 %"}}
	statusRows := [][]any{{"Behörde", "Leistung", "LeiKa", "Status", "Vorgänge", "Zeitraum (Eingang)"}}
	for _, s := range stats {
		rows = append(rows, []any{authority, s.Name, s.Service, s.Received, s.Decided, hours(s.Median), hours(s.P90),
			s.Overdue, s.Delivering, s.Failing, period.String(), FormatDuration(s.Median), FormatDuration(s.P90)})
		for _, st := range chartOrder {
			if n := s.ByStatus[st]; n > 0 {
				statusRows = append(statusRows, []any{authority, s.Name, s.Service, locale.DE.CaseStatusShort(st), n, period.String()})
			}
		}
	}
	for sheet, data := range map[string][][]any{summary: rows, byStatus: statusRows} {
		for i, row := range data {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := book.SetSheetRow(sheet, cell, &row); err != nil {
				return err
			}
		}
	}
	_, err := book.WriteTo(w)
	return err
}

// hours is a duration in hours to a tenth, for computing in a spreadsheet.
func hours(d time.Duration) float64 { return math.Round(d.Hours()*10) / 10 }

// PeriodOf reads a period from its first and last day ("2026-11-01", either
// may be empty) as German local days, the last day included. name says
// which of the two does not read.
func PeriodOf(from, to string) (p Period, name string, err error) {
	for _, f := range []struct {
		name, value string
		dst         *time.Time
		next        bool
	}{{"from", from, &p.From, false}, {"to", to, &p.To, true}} {
		if f.value == "" {
			continue
		}
		day, err := time.ParseInLocation("2006-01-02", f.value, locale.Berlin)
		if err != nil {
			return Period{}, f.name, err
		}
		if f.next {
			day = day.AddDate(0, 0, 1)
		}
		*f.dst = day
	}
	return p, "", nil
}
