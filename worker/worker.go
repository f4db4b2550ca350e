// Package worker builds the Temporal client and the worker that runs the case
// workflow and its activities, and rebuilds the Redis projections from
// Temporal (reindex).
package worker

import (
	"context"
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/metrics"
	"github.com/ozgflow/ozgflow/workflows"
)

// ClientOptions say how to reach Temporal.
type ClientOptions struct {
	Address   string
	Namespace string
	// Secret derives the payload encryption key; gateway and worker must share it.
	Secret []byte
	// PreviousSecrets still decrypt payloads encrypted before a rotation.
	PreviousSecrets [][]byte
	// PlainPayloads seals payloads without deflating them (see
	// Codec.WithoutCompression).
	PlainPayloads bool
	Logger        *slog.Logger
	// Metrics, if set, receives the SDK's metrics.
	Metrics *metrics.Metrics
}

// Dial connects to Temporal with payload encryption.
func Dial(ctx context.Context, opts ClientOptions) (client.Client, error) {
	codec, err := NewCodec(opts.Secret, opts.PreviousSecrets...)
	if err != nil {
		return nil, err
	}
	if opts.PlainPayloads {
		codec.WithoutCompression()
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	copts := client.Options{
		HostPort:      opts.Address,
		Namespace:     opts.Namespace,
		DataConverter: codec.DataConverter(),
		Logger:        sdklog.NewStructuredLogger(logger.With("component", "temporal-client")),
		// The payloads are encrypted and do not compress; gzip would only
		// cost both sides CPU.
		ConnectionOptions: client.ConnectionOptions{GrpcCompression: &client.GrpcCompressionNone{}},
	}
	if opts.Metrics != nil {
		copts.MetricsHandler = opts.Metrics.TemporalHandler()
	}
	c, err := client.DialContext(ctx, copts)
	if err != nil {
		return nil, fmt.Errorf("connect to temporal at %s: %w", opts.Address, err)
	}
	return c, nil
}

// Adapters are the external systems the activities talk to.
type Adapters struct {
	Payments activities.PaymentProvider
	Signer   activities.Signer
	// ApplicantSigner lets applicants sign their applications; the signing
	// service's client usually serves as Signer too.
	ApplicantSigner activities.ApplicantSigner
	Fachverfahren   activities.Fachverfahren
	// FITConnect, if set, delivers to the targets that are FIT-Connect
	// destinations.
	FITConnect  activities.Submitter
	Projections activities.ProjectionStore
	// CallFailures, if set, keeps which cases' calls to external systems
	// fail right now, and since when each target fails.
	CallFailures activities.CallFailures
	// Policies give each external target its timeout and alert threshold.
	Policies TargetPolicies
	// Logger, if set, hears of failing calls that could not be recorded.
	Logger *slog.Logger
	// Mailer sends the email notices of variants that ask for them; without
	// one, those sends fail at once instead of being retried.
	Mailer activities.Mailer
	// StatusURL gives the absolute address of a case's status page, which
	// every email notice links to; nil leaves the link out.
	StatusURL func(caseID string) string
	// StatusPage gives the absolute address of a case's status page
	// without the access token, where the payment provider sends the
	// applicant back; nil leaves that to the provider.
	StatusPage func(caseID string) string
	// Records keeps the final records of closed cases and erases them when
	// their retention ends.
	Records activities.CaseRecords
	// Expiry lets closed cases' projections expire and erases them.
	Expiry activities.ProjectionRetention
	// Histories deletes the workflow histories of erased cases.
	Histories activities.CaseHistories
	// CaseNumbers draws the cases' short numbers (GEW-2026-000123).
	CaseNumbers activities.CaseNumberStore
}

// New returns a worker for the case task queue with everything registered;
// with m set, every activity execution is timed. Every call to an external
// system is bounded by its target's timeout and tracked (callTracking).
func New(c client.Client, a Adapters, m *metrics.Metrics, opts worker.Options) worker.Worker {
	if m != nil {
		opts.Interceptors = append(opts.Interceptors, &stepMetrics{m: m})
	}
	opts.Interceptors = append(opts.Interceptors, &callTracking{policies: a.Policies, failures: a.CallFailures, metrics: m, logger: a.Logger, cases: c})
	w := worker.New(c, ozgflow.CaseTaskQueue, opts)
	Register(w, a)
	return w
}

// Register registers the case, catalog and retention workflows and all activities on w.
func Register(w worker.Registry, a Adapters) {
	w.RegisterWorkflowWithOptions(workflows.CaseWorkflow, workflow.RegisterOptions{Name: ozgflow.CaseWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.CatalogWorkflow, workflow.RegisterOptions{Name: ozgflow.CatalogWorkflowName})
	w.RegisterActivity(&activities.Payments{Provider: a.Payments, ReturnURL: a.StatusPage})
	w.RegisterActivity(&activities.Seals{Signer: a.Signer, Applicant: a.ApplicantSigner})
	var trail activities.AuditTrail
	if a.Records != nil {
		trail = a.Records
	}
	w.RegisterActivity(&activities.Deliveries{Fachverfahren: a.Fachverfahren, FITConnect: a.FITConnect, Trail: trail})
	w.RegisterActivity(&activities.Projections{Store: a.Projections})
	w.RegisterActivity(&activities.Notices{Mailer: a.Mailer, StatusURL: a.StatusURL})
	w.RegisterActivity(&activities.CaseNumbers{Store: a.CaseNumbers})
	w.RegisterWorkflowWithOptions(workflows.RetentionWorkflow, workflow.RegisterOptions{Name: ozgflow.RetentionWorkflowName})
	w.RegisterActivity(&activities.Retention{Records: a.Records, Projections: a.Expiry, Histories: a.Histories})
}
