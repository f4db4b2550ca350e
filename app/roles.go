package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/ozgflow/ozgflow/activities/fachverfahren"
	"github.com/ozgflow/ozgflow/activities/payment"
	"github.com/ozgflow/ozgflow/activities/signer"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
	"github.com/ozgflow/ozgflow/gateway"
	"github.com/ozgflow/ozgflow/store"
	"github.com/ozgflow/ozgflow/worker"
)

// connect opens Temporal and Redis for the worker and gateway roles.
func connect(ctx context.Context, cfg Config, logger *slog.Logger) (client.Client, *store.Store, error) {
	tc, err := worker.Dial(ctx, worker.ClientOptions{Address: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace,
		Secret: []byte(cfg.Secret), Logger: logger})
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
	if err := cfg.Validate("worker"); err != nil {
		return err
	}
	tc, st, err := connect(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer tc.Close()
	defer st.Close()
	targets, _ := cfg.Targets()
	hc := &http.Client{Timeout: 20 * time.Second}
	w := worker.New(tc, worker.Adapters{
		Payments: payment.NewClient(cfg.PaymentURL, cfg.PaymentAPIKey, hc),
		Signer:   signer.NewClient(cfg.SignerURL, hc),
		Fachverfahren: fachverfahren.NewClient(fachverfahren.ClientConfig{
			DefaultURL: cfg.FachverfahrenURL, Targets: targets, Secret: []byte(cfg.FachverfahrenSecret), HTTPClient: hc,
		}),
		Projections: st,
	}, sdkworker.Options{})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	logger.Info("Worker running", "temporal", cfg.TemporalAddress, "namespace", cfg.TemporalNamespace)
	<-ctx.Done()
	w.Stop()
	return nil
}

// RunGateway runs the gateway role until ctx ends.
func RunGateway(ctx context.Context, cfg Config, logger *slog.Logger) error {
	if err := cfg.Validate("gateway"); err != nil {
		return err
	}
	tc, st, err := connect(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer tc.Close()
	defer st.Close()
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		return err
	}
	keys := cachedKeys(signer.NewClient(cfg.SignerURL, &http.Client{Timeout: 10 * time.Second}), 5*time.Minute)
	gw := gateway.New(gateway.Config{
		Addr: cfg.Addr, Namespace: cfg.TemporalNamespace, Secret: []byte(cfg.Secret),
		PaymentWebhookSecret: []byte(cfg.PaymentWebhookSecret), Keys: keys,
	}, tc, st, reg, gateway.DevTokens(), logger)
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
	tc, st, err := connect(ctx, cfg, logger)
	if err != nil {
		return 0, err
	}
	defer tc.Close()
	defer st.Close()
	return worker.Reindex(ctx, tc, cfg.TemporalNamespace, st, logger)
}
