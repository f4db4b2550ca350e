package process

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/go-jose/go-jose/v4"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/ozgflow/ozgflow/activities/fachverfahren"
	"github.com/ozgflow/ozgflow/activities/mail"
	"github.com/ozgflow/ozgflow/activities/payment"
	"github.com/ozgflow/ozgflow/activities/signer"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
	"github.com/ozgflow/ozgflow/devserver"
	"github.com/ozgflow/ozgflow/gateway"
	"github.com/ozgflow/ozgflow/metrics"
	"github.com/ozgflow/ozgflow/portal"
	"github.com/ozgflow/ozgflow/store"
	"github.com/ozgflow/ozgflow/worker"
)

// DevOptions tune `dev` beyond Config, mostly for tests.
type DevOptions struct {
	// InMemory keeps Temporal in memory instead of a SQLite file in DataDir.
	InMemory bool
	// RequireRedis fails the start when REDIS_URL does not answer instead of
	// falling back to an embedded in-memory Redis.
	RequireRedis bool
	// Postgres, if set, keeps the embedded Temporal's state in PostgreSQL
	// instead of SQLite (the benchmark compares both).
	Postgres *devserver.Postgres
}

// Dev is a running `ozgflow dev`: embedded Temporal, worker, gateway and
// sandboxes in one process.
type Dev struct {
	URL           string // base URL of the gateway
	TemporalAddr  string
	EmbeddedRedis bool
	Client        client.Client
	Store         *store.Store
	Payments      *payment.Sandbox
	Fachverfahren *fachverfahren.Simulator
	Signer        *signer.Sandbox
	Portal        *portal.Sandbox // where notices go as CloudEvents
	Mail          *mail.Sink      // where email notices go
	Metrics       *metrics.Metrics
	Catalog       *gateway.Catalog
	Reindexed     int

	closers []func()
}

// dev-only shared secrets of the sandboxes; production configures its own.
const (
	devPaymentAPIKey     = "dev-payment-key"
	devWebhookSecret     = "dev-payment-webhook-secret"
	devFachverfahrenHMAC = "dev-fachverfahren-secret"
	devSignatureSecret   = "dev-signature-webhook-secret"
)

// StartDev starts everything and returns once the gateway serves.
func StartDev(ctx context.Context, cfg Config, opts DevOptions, logger *slog.Logger) (_ *Dev, err error) {
	d := &Dev{}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	if cfg.Secret == "" {
		if cfg.Secret, err = devSecret(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	if err := cfg.Validate("dev"); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (OZGFLOW_ADDR / --addr): %w", cfg.Addr, err)
	}
	d.closers = append(d.closers, func() { ln.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	internal := fmt.Sprintf("http://127.0.0.1:%d", port)
	if cfg.PublicURL == "" {
		cfg.PublicURL = fmt.Sprintf("http://localhost:%d", port)
	}
	d.URL = strings.TrimSuffix(cfg.PublicURL, "/")

	dbFile := filepath.Join(cfg.DataDir, "temporal.db")
	if opts.InMemory {
		dbFile = ""
	}
	var temporalServer *devserver.Server
	asRole(ctx, RoleEngine, func() {
		temporalServer, err = devserver.Start(devserver.Options{DatabaseFile: dbFile, Postgres: opts.Postgres,
			Namespace: cfg.TemporalNamespace, Logger: logger})
	})
	if err != nil {
		return nil, err
	}
	d.closers = append(d.closers, temporalServer.Stop)
	d.TemporalAddr = temporalServer.Address()

	st, closeRedis, embedded, err := openDevRedis(ctx, cfg, opts, logger)
	if err != nil {
		return nil, err
	}
	d.Store, d.EmbeddedRedis = st, embedded
	d.closers = append(d.closers, closeRedis)

	d.Metrics = metrics.New()
	d.Metrics.WatchCases(st)
	tc, err := worker.Dial(ctx, worker.ClientOptions{Address: d.TemporalAddr, Namespace: cfg.TemporalNamespace,
		Secret: []byte(cfg.Secret), Logger: logger, Metrics: d.Metrics})
	if err != nil {
		return nil, err
	}
	d.Client = tc
	d.closers = append(d.closers, tc.Close)

	hc := &http.Client{Timeout: 20 * time.Second}
	d.Signer, err = signer.NewSandbox(signer.SandboxConfig{
		KeyFile: filepath.Join(cfg.DataDir, "signer-key.json"), PublicURL: d.URL, ReturnURL: d.URL,
		WebhookURL: internal + "/api/v1/webhooks/signatures", WebhookSecret: []byte(devSignatureSecret),
		StateFile: stateFile(cfg, opts, "signatures.jsonl"), HTTPClient: hc, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	d.closers = append(d.closers, d.Signer.Close)
	d.Payments, err = payment.NewSandbox(payment.SandboxConfig{
		PublicURL: d.URL, APIKey: devPaymentAPIKey,
		WebhookURL: internal + "/api/v1/webhooks/payments", WebhookSecret: []byte(devWebhookSecret),
		StateFile: stateFile(cfg, opts, "payments.jsonl"), HTTPClient: hc, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	d.closers = append(d.closers, d.Payments.Close)
	d.Fachverfahren, err = fachverfahren.NewSimulator(fachverfahren.SimulatorConfig{
		Secret: []byte(devFachverfahrenHMAC), StateFile: stateFile(cfg, opts, "fachverfahren.jsonl"), Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	d.closers = append(d.closers, func() { d.Fachverfahren.Close() })

	mailer, err := d.startNoticeSandboxes(cfg, opts, logger)
	if err != nil {
		return nil, err
	}

	sdkworker.SetStickyWorkflowCacheSize(cfg.WorkerCacheSize)
	signerClient := signer.NewClient(internal+"/sandbox/signer", hc)
	w := worker.New(tc, worker.Adapters{
		Payments:        payment.NewClient(internal+"/sandbox/paymentprovider", devPaymentAPIKey, hc),
		Signer:          signerClient,
		ApplicantSigner: signerClient,
		Fachverfahren: fachverfahren.NewClient(fachverfahren.ClientConfig{
			DefaultURL: internal + "/sandbox/fachverfahren", Secret: []byte(devFachverfahrenHMAC), HTTPClient: hc,
		}),
		Projections:      st,
		DeliveryFailures: st,
		Mailer:           mailer,
	}, d.Metrics, sdkworker.Options{})
	asRole(ctx, RoleWorker, func() { err = w.Start() })
	if err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	d.closers = append(d.closers, w.Stop)

	if d.Catalog, err = openCatalog(ctx, tc, logger); err != nil {
		return nil, err
	}
	d.closers = append(d.closers, d.Catalog.Close)
	gw := gateway.New(gateway.Config{
		Namespace:              cfg.TemporalNamespace,
		Secret:                 []byte(cfg.Secret),
		PaymentWebhookSecret:   []byte(devWebhookSecret),
		SignatureWebhookSecret: []byte(devSignatureSecret),
		Keys: func(context.Context) (jose.JSONWebKeySet, error) {
			return d.Signer.JWKS(), nil
		},
		Metrics:    d.Metrics,
		Catalog:    d.Catalog,
		DemoSignIn: true,
	}, tc, st, d.Catalog, gateway.DevTokens(), logger)
	d.Payments.Register(gw.Router())
	d.Signer.Register(gw.Router())
	d.Fachverfahren.Register(gw.Router())
	d.Portal.Register(gw.Router())
	d.Mail.Register(gw.Router())
	gw.Router().Use(sandboxRole)
	asRole(ctx, RoleGateway, func() { gw.Serve(ln) })
	d.closers = append(d.closers, func() { gw.Close() })
	d.startDevDispatcher(ctx, cfg, internal, logger)

	if d.Reindexed, err = worker.Reindex(ctx, tc, cfg.TemporalNamespace, st, logger); err != nil {
		return nil, fmt.Errorf("rebuild projections: %w", err)
	}
	return d, nil
}

// Roles label the goroutines of `dev` in CPU profiles (pprof label "role"),
// so that one process can still tell what the engine, the worker, the
// gateway and the sandboxes each cost.
const (
	RoleEngine  = "engine"
	RoleWorker  = "worker"
	RoleGateway = "gateway"
	RoleSandbox = "sandbox"
)

// asRole runs fn with the role label; goroutines fn starts inherit it.
func asRole(ctx context.Context, role string, fn func()) {
	pprof.Do(ctx, pprof.Labels("role", role), func(context.Context) { fn() })
}

// sandboxRole labels the requests to the sandboxes, which share the
// gateway's listener in dev.
func sandboxRole(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/sandbox/") {
			next.ServeHTTP(w, r)
			return
		}
		pprof.Do(r.Context(), pprof.Labels("role", RoleSandbox), func(ctx context.Context) {
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	})
}

// openCatalog starts (or finds) the catalog workflow, seeded with the
// shipped catalog, and follows it.
func openCatalog(ctx context.Context, tc client.Client, logger *slog.Logger) (*gateway.Catalog, error) {
	seed, err := definitions.SeedCatalog(catalog.FS, time.Now().UTC())
	if err != nil {
		return nil, err
	}
	return gateway.OpenCatalog(ctx, tc, seed, 15*time.Second, logger)
}

// stateFile places a sandbox's state in the data directory, or nowhere when
// everything runs in memory.
func stateFile(cfg Config, opts DevOptions, name string) string {
	if opts.InMemory {
		return ""
	}
	return filepath.Join(cfg.DataDir, "sandbox", name)
}

// openDevRedis connects to REDIS_URL or, when nothing answers there and the
// options allow it, starts an embedded in-memory Redis.
func openDevRedis(ctx context.Context, cfg Config, opts DevOptions, logger *slog.Logger) (*store.Store, func(), bool, error) {
	pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	st, err := store.Open(pingCtx, cfg.RedisURL)
	if err == nil {
		return st.WithPrefix(cfg.RedisPrefix), func() { st.Close() }, false, nil
	}
	if opts.RequireRedis {
		return nil, nil, false, fmt.Errorf("REDIS_URL %s does not answer: %w", cfg.RedisURL, err)
	}
	logger.Warn("No Redis answers at REDIS_URL; using an embedded in-memory Redis. Projections are rebuilt from Temporal at every start.",
		"redisUrl", cfg.RedisURL)
	mr, err := miniredis.Run()
	if err != nil {
		return nil, nil, false, fmt.Errorf("embedded redis: %w", err)
	}
	st, err = store.Open(ctx, "redis://"+mr.Addr()+"/0")
	if err != nil {
		mr.Close()
		return nil, nil, false, err
	}
	return st.WithPrefix(cfg.RedisPrefix), func() { st.Close(); mr.Close() }, true, nil
}

// Close stops everything in reverse order of start.
func (d *Dev) Close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
	d.closers = nil
}
