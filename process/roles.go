package process

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/ozgflow/ozgflow/activities/fachverfahren"
	"github.com/ozgflow/ozgflow/activities/payment"
	"github.com/ozgflow/ozgflow/activities/signer"
	"github.com/ozgflow/ozgflow/gateway"
	"github.com/ozgflow/ozgflow/metrics"
	"github.com/ozgflow/ozgflow/store"
	"github.com/ozgflow/ozgflow/worker"
)

// roleDeps are what the worker and gateway roles both need.
type roleDeps struct {
	metrics  *metrics.Metrics
	temporal client.Client
	store    *store.Store
}

// startRole validates the configuration of a role and connects it to
// Temporal and Redis, with metrics; close releases what it opened.
func startRole(ctx context.Context, cfg Config, role string, logger *slog.Logger) (deps roleDeps, close func(), err error) {
	if err := cfg.Validate(role); err != nil {
		return deps, nil, err
	}
	deps.metrics = metrics.New()
	if deps.temporal, deps.store, err = connect(ctx, cfg, deps.metrics, logger); err != nil {
		return deps, nil, err
	}
	deps.metrics.WatchCases(deps.store)
	return deps, func() { deps.store.Close(); deps.temporal.Close() }, nil
}

// connect opens Temporal and Redis.
func connect(ctx context.Context, cfg Config, m *metrics.Metrics, logger *slog.Logger) (client.Client, *store.Store, error) {
	tc, err := worker.Dial(ctx, worker.ClientOptions{Address: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace,
		Secret: []byte(cfg.Secret), Logger: logger, Metrics: m})
	if err != nil {
		return nil, nil, fmt.Errorf("TEMPORAL_ADDRESS: %w", err)
	}
	st, err := store.Open(ctx, cfg.RedisURL)
	if err != nil {
		tc.Close()
		return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	return tc, st.WithPrefix(cfg.RedisPrefix), nil
}

// RunWorker runs the worker role until ctx ends.
func RunWorker(ctx context.Context, cfg Config, logger *slog.Logger) error {
	deps, closeDeps, err := startRole(ctx, cfg, "worker", logger)
	if err != nil {
		return err
	}
	defer closeDeps()
	m, tc, st := deps.metrics, deps.temporal, deps.store
	targets, _ := cfg.Targets()
	hc := &http.Client{Timeout: 20 * time.Second}
	mailer, err := cfg.smtpMailer()
	if err != nil {
		return err
	}
	sdkworker.SetStickyWorkflowCacheSize(cfg.WorkerCacheSize)
	signerClient := signer.NewClient(cfg.SignerURL, hc)
	w := worker.New(tc, worker.Adapters{
		Payments:        payment.NewClient(cfg.PaymentURL, cfg.PaymentAPIKey, hc),
		Signer:          signerClient,
		ApplicantSigner: signerClient,
		Fachverfahren: fachverfahren.NewClient(fachverfahren.ClientConfig{
			DefaultURL: cfg.FachverfahrenURL, Targets: targets, Secret: []byte(cfg.FachverfahrenSecret), HTTPClient: hc,
		}),
		Projections:      st,
		DeliveryFailures: st,
		Mailer:           mailer,
	}, m, sdkworker.Options{})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer w.Stop()
	stopDispatcher := background(ctx, logger, "Portal dispatcher",
		cfg.portalDispatcher(st, cfg.PortalWebhookURL, cfg.PortalWebhookSecret, logger).Run)
	defer stopDispatcher()
	ops, err := serveOps(cfg.MetricsAddr, m, tc, st, logger)
	if err != nil {
		return err
	}
	defer ops.Close()
	logger.Info("Worker running", "temporal", cfg.TemporalAddress, "namespace", cfg.TemporalNamespace,
		"metrics", cfg.MetricsAddr)
	<-ctx.Done()
	return nil
}

// serveOps serves /metrics, /healthz and /readyz for a role without a gateway.
func serveOps(addr string, m *metrics.Metrics, tc client.Client, st *store.Store, logger *slog.Logger) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("OZGFLOW_METRICS_ADDR %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, `{"status":"ok"}`) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if _, err := tc.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
			http.Error(w, "temporal: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		if err := st.Ping(ctx); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, `{"temporal":"ok","redis":"ok"}`)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			logger.Error("Ops server stopped", "error", err)
		}
	}()
	return srv, nil
}

// RunGateway runs the gateway role until ctx ends.
func RunGateway(ctx context.Context, cfg Config, logger *slog.Logger) error {
	deps, closeDeps, err := startRole(ctx, cfg, "gateway", logger)
	if err != nil {
		return err
	}
	defer closeDeps()
	m, tc, st := deps.metrics, deps.temporal, deps.store
	cat, err := openCatalog(ctx, tc, logger)
	if err != nil {
		return err
	}
	defer cat.Close()
	keys := cachedKeys(signer.NewClient(cfg.SignerURL, &http.Client{Timeout: 10 * time.Second}), 5*time.Minute)
	gw := gateway.New(gateway.Config{
		Addr: cfg.Addr, Namespace: cfg.TemporalNamespace, Secret: []byte(cfg.Secret),
		PaymentWebhookSecret: []byte(cfg.PaymentWebhookSecret), SignatureWebhookSecret: []byte(cfg.SignatureWebhookSecret),
		Keys: keys, Metrics: m, Catalog: cat,
	}, tc, st, cat, gateway.DevTokens(), logger)
	if err := gw.Open(); err != nil {
		return err
	}
	logger.Info("Gateway listening", "addr", gw.Addr())
	<-ctx.Done()
	return gw.Close()
}

// cachedKeys fetches the signer's JWKS at most once per ttl.
func cachedKeys(c *signer.Client, ttl time.Duration) func(context.Context) (jose.JSONWebKeySet, error) {
	var mu sync.Mutex
	var keys jose.JSONWebKeySet
	var fetched time.Time
	return func(ctx context.Context) (jose.JSONWebKeySet, error) {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(fetched) < ttl {
			return keys, nil
		}
		k, err := c.Keys(ctx)
		if err != nil {
			return keys, err
		}
		keys, fetched = k, time.Now()
		return keys, nil
	}
}

// Reindex rebuilds the Redis projections from Temporal.
func Reindex(ctx context.Context, cfg Config, logger *slog.Logger) (int, error) {
	if cfg.Secret == "" {
		return 0, fmt.Errorf("OZGFLOW_SECRET is required: it decrypts the case payloads")
	}
	tc, st, err := connect(ctx, cfg, nil, logger)
	if err != nil {
		return 0, err
	}
	defer tc.Close()
	defer st.Close()
	return worker.Reindex(ctx, tc, cfg.TemporalNamespace, st, logger)
}
