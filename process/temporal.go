package process

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/ozgflow/ozgflow/devserver"
)

// RunTemporalServer runs a standalone Temporal server (all services in one
// process) on PostgreSQL, with the schema and the namespace set up first.
// It is the external Temporal of the separate-roles tests and small sites.
func RunTemporalServer(ctx context.Context, cfg Config, postgresURL string, logger *slog.Logger) error {
	pg, err := devserver.ParsePostgresURL(postgresURL)
	if err != nil {
		return fmt.Errorf("TEMPORAL_POSTGRES_URL: %w", err)
	}
	_, portText, err := net.SplitHostPort(cfg.TemporalAddress)
	if err != nil {
		return fmt.Errorf("TEMPORAL_ADDRESS %q: %w", cfg.TemporalAddress, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return fmt.Errorf("TEMPORAL_ADDRESS %q: port is not a number", cfg.TemporalAddress)
	}
	srv, err := devserver.Start(devserver.Options{Postgres: &pg, Port: port, Namespace: cfg.TemporalNamespace, Logger: logger})
	if err != nil {
		return err
	}
	defer srv.Stop()
	logger.Info("Temporal server running on PostgreSQL", "address", srv.Address(), "database", pg.Database,
		"namespace", cfg.TemporalNamespace)
	<-ctx.Done()
	return nil
}

// SetupNamespace registers ozgflow's namespace and search attributes on the
// Temporal cluster at TEMPORAL_ADDRESS.
func SetupNamespace(ctx context.Context, cfg Config) error {
	return devserver.EnsureNamespace(ctx, cfg.TemporalAddress, cfg.TemporalNamespace)
}
