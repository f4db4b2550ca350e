package test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow/test/e2e"
)

func TestMetricsAndHealth(t *testing.T) {
	st := stackOf(dev)
	s := st.Submit(t, e2e.Hundesteuer(e2e.Leipzig))
	st.WaitStatus(t, s, "approved")
	for _, path := range []string{"/healthz", "/readyz"} {
		if res := e2e.Call(t, dev.URL, http.MethodGet, path, "", nil); res.Status != http.StatusOK {
			t.Errorf("%s: %d %s", path, res.Status, res.Body)
		}
	}
	want := []string{
		`ozgflow_http_requests_total{method="POST",route="/api/v1/applications",status="201"}`,
		`ozgflow_http_request_duration_seconds_bucket{method="GET",route="/api/v1/applications/{id}"`,
		`ozgflow_cases{service="99990000000002",status="approved"}`,
		`ozgflow_step_duration_seconds_count{activity="Deliver",result="ok"}`,
		`ozgflow_step_duration_seconds_count{activity="Publish",result="ok"}`,
		`temporal_workflow_task_execution_latency`,
		`go_goroutines`,
	}
	var body string
	e2e.WaitFor(t, "metrics", 10*time.Second, func() bool {
		res := e2e.Call(t, dev.URL, http.MethodGet, "/metrics", "", nil)
		body = string(res.Body)
		for _, w := range want {
			if !strings.Contains(body, w) {
				return false
			}
		}
		return true
	})
	if strings.Contains(body, "Clara") || strings.Contains(body, s.ID) {
		t.Error("metrics carry personal data or case IDs")
	}
}

func TestExternalFailuresAreCounted(t *testing.T) {
	dev.Fachverfahren.SetDown(true)
	defer dev.Fachverfahren.SetDown(false)
	st := stackOf(dev)
	s := st.Submit(t, e2e.Hundesteuer(e2e.Dresden))
	e2e.WaitFor(t, "failure counted", 20*time.Second, func() bool {
		res := e2e.Call(t, dev.URL, http.MethodGet, "/metrics", "", nil)
		return strings.Contains(string(res.Body), `ozgflow_external_call_failures_total{activity="Deliver"}`)
	})
	dev.Fachverfahren.SetDown(false)
	st.WaitStatus(t, s, "approved")
}
