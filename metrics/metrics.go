// Package metrics holds ozgflow's Prometheus metrics: HTTP requests, step
// (activity) durations and external call failures, cases by status and
// service, and the Temporal SDK's own metrics, all in one registry.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// Metrics is one process's registry and ozgflow's collectors in it.
type Metrics struct {
	Registry         *prometheus.Registry
	httpRequests     *prometheus.CounterVec
	httpDuration     *prometheus.HistogramVec
	stepDuration     *prometheus.HistogramVec
	externalFailures *prometheus.CounterVec
	calls            *prometheus.CounterVec
	callDuration     *prometheus.HistogramVec
	targetFailing    *prometheus.GaugeVec
	temporal         client.MetricsHandler
}

// New registers ozgflow's collectors, the Go runtime's and the process's.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ozgflow_http_requests_total", Help: "HTTP requests by route template, method and status.",
		}, []string{"route", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ozgflow_http_request_duration_seconds", Help: "HTTP request latency by route template and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		stepDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ozgflow_step_duration_seconds", Help: "Duration of activity executions (case steps) by activity and result.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"activity", "result"}),
		externalFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ozgflow_external_call_failures_total", Help: "Failed calls to external systems (payment, signer, Fachverfahren, FIT-Connect, mail) by activity.",
		}, []string{"activity"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ozgflow_external_calls_total", Help: "Calls to external systems by target, operation and outcome (ok, error, timeout, rejected).",
		}, []string{"target", "operation", "outcome"}),
		callDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ozgflow_external_call_duration_seconds", Help: "Duration of calls to external systems by target and operation.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 30},
		}, []string{"target", "operation"}),
		targetFailing: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ozgflow_target_failing_seconds", Help: "How long each failing target has failed without a success in between; 0 once it answers again.",
		}, []string{"target"}),
	}
	reg.MustRegister(m.httpRequests, m.httpDuration, m.stepDuration, m.externalFailures, m.calls, m.callDuration, m.targetFailing,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// ObserveRequest records one HTTP request.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(route, method).Observe(d.Seconds())
}

// ObserveStep records one activity execution; external marks calls to
// systems outside ozgflow, whose failures are counted on their own.
func (m *Metrics) ObserveStep(activity string, err error, external bool, d time.Duration) {
	result := "ok"
	if err != nil {
		result = "error"
		if external {
			m.externalFailures.WithLabelValues(activity).Inc()
		}
	}
	m.stepDuration.WithLabelValues(activity, result).Observe(d.Seconds())
}

// Outcomes of an external call.
const (
	CallOK       = "ok"       // the target answered
	CallError    = "error"    // it failed and is tried again
	CallTimeout  = "timeout"  // it did not answer in time and is tried again
	CallRejected = "rejected" // it refused for good (a non-retryable error)
)

// ObserveCall records one call to an external target: the payment
// provider (target "payment"), the signer, a Fachverfahren or archive, the
// mail server.
func (m *Metrics) ObserveCall(target, operation, outcome string, d time.Duration) {
	m.calls.WithLabelValues(target, operation, outcome).Inc()
	m.callDuration.WithLabelValues(target, operation).Observe(d.Seconds())
}

// TargetFailing sets how long a target has failed; zero says it answers again.
func (m *Metrics) TargetFailing(target string, d time.Duration) {
	m.targetFailing.WithLabelValues(target).Set(d.Seconds())
}

// TargetFailingGauge is the gauge of one target, for tests to read.
func (m *Metrics) TargetFailingGauge(target string) prometheus.Gauge {
	return m.targetFailing.WithLabelValues(target)
}

// TemporalHandler returns the SDK metrics handler that reports into the
// registry (workflow and activity task latencies, poll results, …).
func (m *Metrics) TemporalHandler() client.MetricsHandler {
	if m.temporal == nil {
		reporter := tallyprom.NewReporter(tallyprom.Options{Registerer: m.Registry})
		scope, _ := tally.NewRootScope(tally.ScopeOptions{
			CachedReporter:  reporter,
			Separator:       tallyprom.DefaultSeparator,
			SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
			Prefix:          "temporal",
		}, time.Second)
		m.temporal = sdktally.NewMetricsHandler(scope)
	}
	return m.temporal
}

// CaseCounter reports how many cases each service has in each status.
type CaseCounter interface {
	CaseCounts(ctx context.Context) (map[string]map[string]int64, error)
}

// WatchCases adds the gauge ozgflow_cases{service,status}, read from the
// projection store at each scrape.
func (m *Metrics) WatchCases(counter CaseCounter) {
	m.Registry.MustRegister(&caseCollector{counter: counter, desc: prometheus.NewDesc(
		"ozgflow_cases", "Cases by service and status, from the projections.", []string{"service", "status"}, nil)})
}

type caseCollector struct {
	counter CaseCounter
	desc    *prometheus.Desc
}

func (c *caseCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *caseCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.counter.CaseCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for service, byStatus := range counts {
		for status, n := range byStatus {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), service, status)
		}
	}
}
