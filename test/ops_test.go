package test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestMetricsAndHealth(t *testing.T) {
	s := submit(t, hundesteuer(leipzig))
	waitStatus(t, s, "approved")
	for _, path := range []string{"/healthz", "/readyz"} {
		if res := api(t, http.MethodGet, path, "", nil); res.status != http.StatusOK {
			t.Errorf("%s: %d %s", path, res.status, res.body)
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
	waitFor(t, "metrics", 10*time.Second, func() bool {
		res := api(t, http.MethodGet, "/metrics", "", nil)
		body = string(res.body)
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
	stack.Fachverfahren.SetDown(true)
	defer stack.Fachverfahren.SetDown(false)
	s := submit(t, hundesteuer(dresden))
	waitFor(t, "failure counted", 20*time.Second, func() bool {
		res := api(t, http.MethodGet, "/metrics", "", nil)
		return strings.Contains(string(res.body), `ozgflow_external_call_failures_total{activity="Deliver"}`)
	})
	stack.Fachverfahren.SetDown(false)
	waitStatus(t, s, "approved")
}
