package process

import (
	"context"
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/client"

	"github.com/ozgflow/ozgflow/internal/health"
	"github.com/ozgflow/ozgflow/metrics"
	"github.com/ozgflow/ozgflow/records"
	"github.com/ozgflow/ozgflow/store"
	"github.com/ozgflow/ozgflow/worker"
)

// connection is what the worker and the gateway work with: Temporal and
// Redis, and the metrics that watch both.
type connection struct {
	metrics  *metrics.Metrics
	temporal client.Client
	store    *store.Store
	records  *records.DB
	// installation is the ID the projections in Redis must carry to be
	// complete; the worker rebuilds them when they do not.
	installation string
}

// connect validates cfg for the named process and opens Temporal and
// Redis, with metrics; stops gets what closes them.
func connect(ctx context.Context, cfg Config, process string, logger *slog.Logger, stops *closers) (connection, error) {
	if err := cfg.Validate(process); err != nil {
		return connection{}, err
	}
	c := connection{metrics: metrics.New()}
	var err error
	if c.temporal, c.store, err = dial(ctx, cfg, c.metrics, logger, stops); err != nil {
		return c, err
	}
	if c.records, err = openRecords(ctx, cfg, process, stops); err != nil {
		return c, err
	}
	if c.installation, err = namespaceInstallation(ctx, c.temporal, cfg.TemporalNamespace); err != nil {
		return c, err
	}
	c.metrics.WatchCases(c.store)
	return c, nil
}

// dial opens Temporal at TEMPORAL_ADDRESS and Redis at REDIS_URL; stops
// gets what closes them.
func dial(ctx context.Context, cfg Config, m *metrics.Metrics, logger *slog.Logger, stops *closers) (client.Client, *store.Store, error) {
	tc, err := dialTemporal(ctx, cfg, m, logger, stops)
	if err != nil {
		return nil, nil, fmt.Errorf("TEMPORAL_ADDRESS: %w", err)
	}
	st, err := store.Open(ctx, cfg.RedisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	stops.add(st.Close)
	return tc, st.WithPrefix(cfg.RedisPrefix), nil
}

// dialTemporal opens a client of the Temporal frontend at
// cfg.TemporalAddress, with the payload codec and metrics; stops gets what
// closes it.
func dialTemporal(ctx context.Context, cfg Config, m *metrics.Metrics, logger *slog.Logger, stops *closers) (client.Client, error) {
	tc, err := worker.Dial(ctx, worker.ClientOptions{Address: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace,
		Secret: []byte(cfg.Secret), PreviousSecrets: cfg.previousSecretKeys(), PlainPayloads: !cfg.PayloadCompression,
		Logger: logger, Metrics: m})
	if err != nil {
		return nil, err
	}
	stops.addFunc(tc.Close)
	return tc, nil
}

// checks are what readiness depends on: Temporal and Redis answering.
func (c connection) checks() health.Checks {
	return health.Checks{
		"temporal": func(ctx context.Context) error {
			_, err := c.temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		},
		"redis":   c.store.Ping,
		"records": c.records.Ping,
		"projections": func(ctx context.Context) error {
			return c.store.Ready(ctx, c.installation)
		},
	}
}
