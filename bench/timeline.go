package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// caseRun is what one case of a closed loop left: the latency of its
// submit (zero where the client starts the workflow itself) and the ID of
// its workflow.
type caseRun struct {
	submit     time.Duration
	workflowID string
}

// Timeline is where the cases of a phase spent their time, by the events
// of their histories: Start is the time from the client's first call to
// the workflow's start, and each event's Gap the time since the event
// before it, both averaged over the cases sampled. Only cases with the
// history of the first sampled one count (Cases); a case that retried
// something has other events.
type Timeline struct {
	Cases  int           `json:"cases"`
	Start  time.Duration `json:"start"`
	Events []EventGap    `json:"events"`
}

// EventGap is one event of a Timeline.
type EventGap struct {
	Type string        `json:"type"`
	Gap  time.Duration `json:"gap"`
}

// String prints the timeline one event a line.
func (t Timeline) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d cases: start %v after the client's call\n", t.Cases, t.Start.Round(10*time.Microsecond))
	for i, ev := range t.Events {
		fmt.Fprintf(&b, "  %3d %-40s +%v\n", i+1, ev.Type, ev.Gap.Round(10*time.Microsecond))
	}
	return b.String()
}

// sampledCase is a case the timeline reads once its phase ended.
type sampledCase struct {
	workflowID string
	began      time.Time
}

// timelineOf reads the histories of the sampled cases and averages them.
func timelineOf(ctx context.Context, c client.Client, cases []sampledCase) (*Timeline, error) {
	var t Timeline
	var sums []time.Duration
	var start time.Duration
	for _, sc := range cases {
		var types []string
		var gaps []time.Duration
		var first, last time.Time
		it := c.GetWorkflowHistory(ctx, sc.workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return nil, fmt.Errorf("history of %s: %w", sc.workflowID, err)
			}
			at := ev.GetEventTime().AsTime()
			if first.IsZero() {
				first, last = at, at
			}
			types = append(types, ev.GetEventType().String())
			gaps = append(gaps, at.Sub(last))
			last = at
		}
		if t.Events == nil {
			for _, typ := range types {
				t.Events = append(t.Events, EventGap{Type: typ})
			}
			sums = make([]time.Duration, len(types))
		}
		if !sameTypes(t.Events, types) {
			continue
		}
		for i, g := range gaps {
			sums[i] += g
		}
		start += first.Sub(sc.began)
		t.Cases++
	}
	if t.Cases == 0 {
		return nil, nil
	}
	n := time.Duration(t.Cases)
	t.Start = start / n
	for i := range t.Events {
		t.Events[i].Gap = sums[i] / n
	}
	return &t, nil
}

// sameTypes says whether a history has the events of the timeline, in order.
func sameTypes(events []EventGap, types []string) bool {
	if len(events) != len(types) {
		return false
	}
	for i, ev := range events {
		if ev.Type != types[i] {
			return false
		}
	}
	return true
}
