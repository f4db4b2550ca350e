package process

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/ozgflow/ozgflow/activities/signer"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
	"github.com/ozgflow/ozgflow/gateway"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/worker"
)

// Gateway is the `gateway` process: the HTTP gateway on OZGFLOW_ADDR,
// following the catalog of published definitions.
type Gateway struct {
	Config Config
	Logger *slog.Logger

	stops closers
}

// Run connects to Temporal and Redis, opens the catalog and returns once
// the gateway listens.
func (p *Gateway) Run(ctx context.Context) error {
	conn, err := connect(ctx, p.Config, "gateway", p.Logger, &p.stops)
	if err != nil {
		return err
	}
	keys := cachedKeys(signer.NewClient(p.Config.SignerURL, &http.Client{Timeout: 10 * time.Second}), 5*time.Minute)
	gw, _, err := openGateway(ctx, p.Config, conn, keys, false, p.Logger, &p.stops)
	if err != nil {
		return err
	}
	if err := gw.Open(); err != nil {
		return err
	}
	p.Logger.Info("Gateway listening", "addr", gw.Addr())
	return nil
}

// Close stops the gateway and the catalog and closes the connections.
func (p *Gateway) Close() error { return p.stops.closeAll() }

// signerKeys return the signer's keys, with which receipts are checked.
type signerKeys = func(context.Context) (jose.JSONWebKeySet, error)

// openGateway opens the catalog and builds the gateway on conn, offering
// the demo sign-in if asked; stops gets what stops both.
func openGateway(ctx context.Context, cfg Config, conn connection, keys signerKeys, demoSignIn bool,
	logger *slog.Logger, stops *closers) (*gateway.Server, *casework.Catalog, error) {
	provider, err := connectProvider(ctx, cfg, logger)
	if err != nil {
		return nil, nil, err
	}
	// The demo identities exist in `dev` only; every other gateway knows
	// people and clients through the identity provider alone.
	var demo web.StaticTokens
	if demoSignIn {
		demo = gateway.DevTokens()
	}
	cat, err := openCatalog(ctx, conn, logger)
	if err != nil {
		return nil, nil, err
	}
	stops.addFunc(cat.Close)
	limits, err := cfg.gatewayLimits()
	if err != nil {
		return nil, nil, err
	}
	// The codec endpoint decrypts with the workers' codec.
	codec, err := worker.NewCodec([]byte(cfg.Secret), cfg.previousSecretKeys()...)
	if err != nil {
		return nil, nil, err
	}
	webUIs, err := cfg.webUIOrigins()
	if err != nil {
		return nil, nil, err
	}
	fit, destinations, err := cfg.fitConnect(demoSignIn)
	if err != nil {
		return nil, nil, err
	}
	gw := gateway.New(gateway.Config{
		Addr: cfg.Addr, Namespace: cfg.TemporalNamespace, Secret: []byte(cfg.Secret),
		PreviousSecrets:      cfg.previousSecretKeys(),
		PaymentWebhookSecret: []byte(cfg.PaymentWebhookSecret), SignatureWebhookSecret: []byte(cfg.SignatureWebhookSecret),
		FachverfahrenSecret: []byte(cfg.FachverfahrenSecret),
		Keys:                keys, Metrics: conn.metrics, Catalog: cat, DemoSignIn: demoSignIn,
		Provider: provider, PublicURL: cfg.PublicURL, Sessions: cfg.sessionTimeouts(),
		HTTPS: cfg.https(), Limits: limits, Records: conn.records, Installation: conn.installation,
		Codec: codec, CodecOrigins: webUIs, FITConnect: fit, Destinations: destinations,
	}, conn.temporal, conn.store, cat, authenticator(provider, demo), logger)
	stops.add(func() error {
		// No new requests; those in flight finish before the listener closes.
		drainCtx, cancel := context.WithTimeout(context.Background(), drainTimeout)
		defer cancel()
		if err := gw.Drain(drainCtx); err != nil {
			logger.Warn("Requests still running at the stop", "error", err)
		}
		return gw.Close()
	})
	return gw, cat, nil
}

// openCatalog starts (or finds) the catalog workflow, seeded with the
// shipped catalog, and follows it.
func openCatalog(ctx context.Context, conn connection, logger *slog.Logger) (*casework.Catalog, error) {
	seed, err := definitions.SeedCatalog(catalog.FS, time.Now().UTC())
	if err != nil {
		return nil, err
	}
	return casework.OpenCatalog(ctx, conn.temporal, seed, 15*time.Second, logger)
}

// cachedKeys fetches the signer's JWKS at most once per ttl.
func cachedKeys(c *signer.Client, ttl time.Duration) signerKeys {
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
