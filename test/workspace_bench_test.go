package test

import (
	"context"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/test/e2e"
)

// BenchmarkClaimReflected claims a task through the API while its queue
// holds 100,000 other tasks and measures until the case worker's list shows
// it as theirs (the list behind the Arbeitskorb, filter "mine"); it
// reports p50 and p99. Target: under 1 s. Run with -benchtime 50x: every
// iteration needs a case of its own, submitted and paid beforehand.
func BenchmarkClaimReflected(b *testing.B) {
	st := stackOf(dev)
	seedDresdenQueue(b, 100_000)
	tasks := make([]string, b.N)
	for i := range tasks {
		s := st.Submit(&testing.T{}, e2e.Gewerbeanmeldung(e2e.Dresden, "amt24-bench"))
		e2e.Pay(&testing.T{}, s.PaymentURL, "pay")
		tasks[i] = waitOpenTask(b, st, s.ID)
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for _, taskID := range tasks {
		start := time.Now()
		req, _ := http.NewRequest(http.MethodPost, dev.URL+"/api/v1/tasks/"+taskID+"/claim", nil)
		req.Header.Set("Authorization", "Bearer dev-sb-dresden")
		res, err := hc.Do(req)
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("claim %s: %v %v", taskID, err, res)
		}
		res.Body.Close()
		for !listShows(b, hc, taskID) {
			if time.Since(start) > 5*time.Second {
				b.Fatalf("claim of %s not in the list after 5 s", taskID)
			}
			time.Sleep(5 * time.Millisecond)
		}
		durations = append(durations, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(durations, func(i, j int) bool { return durations[i] < durations[j] })
	at := func(p float64) float64 {
		return float64(durations[min(len(durations)-1, int(float64(len(durations))*p))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.5), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// seedDresdenQueue fills Dresden's gewerbe queue with n tasks straight in the store.
func seedDresdenQueue(b *testing.B, n int) {
	b.Helper()
	due := time.Now().Add(time.Hour)
	tasks := make([]ozgflow.Task, n)
	for i := range tasks {
		id := uuid.NewString()
		tasks[i] = ozgflow.Task{ID: ozgflow.TaskID(id, "review", 1), CaseID: id, StepID: "review", Title: "Gewerbeanmeldung prüfen",
			Authority: e2e.Dresden, Queue: "gewerbe", Service: "99050035001000", Status: ozgflow.TaskOpen,
			CreatedAt: due.Add(-time.Hour), DueAt: due.Add(time.Duration(i) * time.Second)}
	}
	if err := dev.Store.SeedTasks(context.Background(), tasks); err != nil {
		b.Fatal(err)
	}
}

func waitOpenTask(b *testing.B, st *e2e.Stack, caseID string) string {
	b.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := dev.Store.Case(context.Background(), caseID)
		if err == nil {
			for _, t := range c.Tasks {
				if t.Status == ozgflow.TaskOpen {
					return t.ID
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatalf("case %s has no open task", caseID)
	return ""
}

// listShows reports whether the case worker's list of claimed tasks shows
// the task (the API behind the Arbeitskorb, one page of up to 500).
func listShows(b *testing.B, hc *http.Client, taskID string) bool {
	req, _ := http.NewRequest(http.MethodGet, dev.URL+"/api/v1/tasks?queue=gewerbe&status=mine&limit=500", nil)
	req.Header.Set("Authorization", "Bearer dev-sb-dresden")
	res, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return strings.Contains(string(body), `"id":"`+taskID+`"`)
}
