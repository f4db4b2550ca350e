package process

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"sync"
	"time"

	sdkworker "go.temporal.io/sdk/worker"

	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/activities/fachverfahren"
	fitconnectout "github.com/ozgflow/ozgflow/activities/fitconnect"
	"github.com/ozgflow/ozgflow/activities/payment"
	"github.com/ozgflow/ozgflow/activities/signer"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
	"github.com/ozgflow/ozgflow/internal/health"
	"github.com/ozgflow/ozgflow/worker"
)

// Worker is the `worker` process: the Temporal worker with its activities,
// the portal dispatcher, and the ops server of /metrics, /healthz and
// /readyz on OZGFLOW_METRICS_ADDR.
type Worker struct {
	Config Config
	Logger *slog.Logger

	stops closers
}

// Run connects to Temporal and Redis, then starts the worker, the
// dispatcher and the ops server, and returns once they run.
func (p *Worker) Run(ctx context.Context) error {
	cfg := p.Config
	conn, err := connect(ctx, cfg, "worker", p.Logger, &p.stops)
	if err != nil {
		return err
	}
	mailer, err := cfg.smtpMailer()
	if err != nil {
		return err
	}
	if _, err := startWorker(ctx, cfg, conn, mailer, p.Logger, &p.stops); err != nil {
		return err
	}
	startDispatcher(ctx, cfg, conn, p.Logger, &p.stops)
	startAlerts(ctx, cfg, conn, mailer, p.Logger, &p.stops)
	if err := serveOps(cfg.MetricsAddr, conn, p.Logger, &p.stops); err != nil {
		return err
	}
	p.Logger.Info("Worker running", "temporal", cfg.TemporalAddress, "namespace", cfg.TemporalNamespace,
		"metrics", cfg.MetricsAddr)
	return nil
}

// Close stops the ops server, the dispatcher and the worker, and closes
// the connections.
func (p *Worker) Close() error { return p.stops.closeAll() }

// workerStopTimeout bounds how long a stopping worker waits for the
// workflow tasks and activities it runs. Without it the SDK cancels them
// at once, and the engine hands work a stopped worker held to another
// only after its timeout: a delivery running at a SIGTERM waited 30 s
// after the restart. It stays below the 30 s stop_grace_period the
// compose file gives workers.
const workerStopTimeout = 20 * time.Second

// startWorker starts the Temporal worker with its activities, which reach
// the payment provider, the signer and the Fachverfahren at the addresses
// of cfg and send email through mailer, and the keeper that rebuilds the
// projections when Redis lost them.
func startWorker(ctx context.Context, cfg Config, conn connection, mailer activities.Mailer,
	logger *slog.Logger, stops *closers) (stop func(), err error) {
	// Each attempt is bounded by its target's timeout (OZGFLOW_TARGET_*,
	// OZGFLOW_PAYMENT_TIMEOUT for the payment provider) and measured by
	// the worker's interceptor; the HTTP client's own timeout is a backstop
	// at the longest an attempt may take.
	hc := &http.Client{Timeout: worker.MaxCallTimeout}
	policies, _ := cfg.Policies()
	targets, _ := cfg.Targets()
	fitTargets, err := cfg.fitConnectTargets()
	if err != nil {
		return nil, err
	}
	reachable := map[string]string{}
	maps.Copy(reachable, targets)
	for _, t := range fitTargets {
		reachable[t.Name] = t.APIURL // a FIT-Connect destination
	}
	warnUnreachableTargets(cfg.FachverfahrenURL, reachable, logger)
	signerClient := signer.NewClient(cfg.SignerURL, hc)
	records := worker.Records{DB: conn.records}
	// The cache is the process's, shared by all its workers and created by
	// the first to start: here this one. In dev the embedded server's own
	// workers start first, so dev hands the size to devserver as well.
	sdkworker.SetStickyWorkflowCacheSize(cfg.WorkerCacheSize)
	w := worker.New(conn.temporal, worker.Adapters{
		Payments:        payment.NewClient(cfg.PaymentURL, cfg.PaymentAPIKey, hc),
		Signer:          signerClient,
		ApplicantSigner: signerClient,
		Fachverfahren: fachverfahren.NewClient(fachverfahren.ClientConfig{
			DefaultURL: cfg.FachverfahrenURL, Targets: targets, Secret: []byte(cfg.FachverfahrenSecret), HTTPClient: hc,
			CallbackURL: cfg.callbackURL(),
		}),
		FITConnect:   fitconnectout.New(fitTargets, records, records, hc),
		Projections:  conn.store,
		CallFailures: conn.store,
		Policies:     policies,
		Logger:       logger,
		Mailer:       mailer,
		Records:      worker.Records{DB: conn.records},
		CaseNumbers:  worker.Records{DB: conn.records},
		StatusURL:    cfg.statusURL(),
		StatusPage:   cfg.statusPage(),
		Expiry:       conn.store,
		Histories:    worker.Histories{Client: conn.temporal, Namespace: cfg.TemporalNamespace},
	}, conn.metrics, sdkworker.Options{WorkerStopTimeout: workerStopTimeout})
	labelled(ctx, ProfileWorker, func() { err = w.Start() })
	if err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	// Stopping waits for the running workflow tasks and activities; dev
	// stops the worker early, while the sandboxes still answer.
	stop = sync.OnceFunc(w.Stop)
	stops.addFunc(stop)
	if err := worker.EnsureRetentionSchedule(ctx, conn.temporal); err != nil {
		return stop, err
	}
	keeper := &worker.Keeper{Installation: conn.installation, Store: conn.store, Interval: cfg.ProjectionsCheck,
		Logger: logger, SearchIndex: conn.store.EnsureSearchIndex, Rebuild: func(ctx context.Context) (worker.RebuildResult, error) {
			return rebuild(ctx, cfg, conn.temporal, conn.store, conn.records, logger)
		}}
	labelled(ctx, ProfileWorker, func() {
		stops.addFunc(background(ctx, logger, "Projections keeper", keeper.Run))
	})
	return stop, nil
}

// startDispatcher starts the portal dispatcher, which posts the notices
// of the outbox to OZGFLOW_PORTAL_WEBHOOK_URL.
func startDispatcher(ctx context.Context, cfg Config, conn connection, logger *slog.Logger, stops *closers) (stop func()) {
	disp := cfg.portalDispatcher(conn.store, conn.records, logger)
	labelled(ctx, ProfileWorker, func() {
		stop = sync.OnceFunc(background(ctx, logger, "Portal dispatcher", disp.Run))
	})
	stops.addFunc(stop)
	return stop
}

// serveOps serves /metrics, /healthz and /readyz for a process without a
// gateway.
func serveOps(addr string, conn connection, logger *slog.Logger, stops *closers) error {
	ln, err := listen(addr, "OZGFLOW_METRICS_ADDR", stops)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", conn.metrics.Handler())
	health.Register(mux, conn.checks())
	serveHTTP(ln, mux, logger, stops)
	return nil
}

// warnUnreachableTargets says which targets the catalog's authorities list
// (authorities.yaml, which publishing checks variants against) have no
// address in this worker's configuration: deliveries to them would fail
// until OZGFLOW_FACHVERFAHREN_TARGETS names them or OZGFLOW_FACHVERFAHREN_URL
// serves them all.
func warnUnreachableTargets(defaultURL string, targets map[string]string, logger *slog.Logger) {
	if defaultURL != "" {
		return
	}
	seed, err := definitions.SeedCatalog(catalog.FS, time.Now())
	if err != nil {
		return
	}
	for _, a := range seed.Authorities {
		for _, t := range a.Targets {
			if _, ok := targets[t.Key]; !ok {
				logger.Warn("A target of the catalog has no address; deliveries to it fail until OZGFLOW_FACHVERFAHREN_TARGETS names it",
					"target", t.Key, "authority", a.Name)
			}
		}
	}
}
