package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/google/uuid"

	"github.com/ozgflow/ozgflow/devserver"
	"github.com/ozgflow/ozgflow/records"
	"github.com/ozgflow/ozgflow/store"
	"github.com/ozgflow/ozgflow/worker"
)

// TemporalServer is the `temporal-server` process: a standalone Temporal
// server (all services in one process) on PostgreSQL, with the schema and
// the namespace set up first. It is the external Temporal of the tests
// that run the processes separately, and of small sites.
type TemporalServer struct {
	Config      Config
	PostgresURL string // TEMPORAL_POSTGRES_URL
	Logger      *slog.Logger

	stops closers
}

// Run starts the server with its frontend on TEMPORAL_ADDRESS and returns
// once it answers.
func (p *TemporalServer) Run(ctx context.Context) error {
	cfg := p.Config
	pg, err := devserver.ParsePostgresURL(p.PostgresURL)
	if err != nil {
		return fmt.Errorf("TEMPORAL_POSTGRES_URL: %w", err)
	}
	port, err := frontendPort(cfg.TemporalAddress)
	if err != nil {
		return err
	}
	srv, err := devserver.Start(devserver.Options{Postgres: &pg, Port: port, Namespace: cfg.TemporalNamespace, Logger: p.Logger})
	if err != nil {
		return err
	}
	p.stops.addFunc(srv.Stop)
	p.Logger.Info("Temporal server running on PostgreSQL", "address", srv.Address(), "database", pg.Database,
		"namespace", cfg.TemporalNamespace)
	return nil
}

// Close stops the server.
func (p *TemporalServer) Close() error { return p.stops.closeAll() }

// frontendPort is the port of TEMPORAL_ADDRESS.
func frontendPort(addr string) (int, error) {
	_, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("TEMPORAL_ADDRESS %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return 0, fmt.Errorf("TEMPORAL_ADDRESS %q: port is not a number", addr)
	}
	return port, nil
}

// SetupNamespace registers ozgflow's namespace and search attributes on the
// Temporal cluster at TEMPORAL_ADDRESS and gives the namespace its
// installation ID, which it returns.
func SetupNamespace(ctx context.Context, cfg Config) (string, error) {
	if err := devserver.EnsureNamespace(ctx, cfg.TemporalAddress, cfg.TemporalNamespace); err != nil {
		return "", err
	}
	dialCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tc, err := devserver.DialWhenReady(dialCtx, client.Options{HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace})
	if err != nil {
		return "", err
	}
	defer tc.Close()
	return namespaceInstallation(ctx, tc, cfg.TemporalNamespace)
}

// Reindex rebuilds the Redis projections from Temporal and, for closed
// cases, from their final records, and marks them complete.
func Reindex(ctx context.Context, cfg Config, logger *slog.Logger) (worker.RebuildResult, error) {
	if cfg.Secret == "" {
		return worker.RebuildResult{}, fmt.Errorf("OZGFLOW_SECRET is required: it decrypts the case payloads")
	}
	var stops closers
	defer stops.closeAll()
	tc, st, err := dial(ctx, cfg, nil, logger, &stops)
	if err != nil {
		return worker.RebuildResult{}, err
	}
	recs, err := openRecords(ctx, cfg, "reindex", &stops)
	if err != nil {
		return worker.RebuildResult{}, err
	}
	id, err := namespaceInstallation(ctx, tc, cfg.TemporalNamespace)
	if err != nil {
		return worker.RebuildResult{}, err
	}
	owner := "reindex-" + uuid.NewString()[:8]
	claimed, err := st.ClaimRebuild(ctx, owner, time.Hour)
	if err != nil {
		return worker.RebuildResult{}, err
	}
	if !claimed {
		return worker.RebuildResult{}, fmt.Errorf("a worker is rebuilding the projections right now; its rebuild ends as this one would")
	}
	defer st.ReleaseRebuild(context.WithoutCancel(ctx), owner)
	res, err := rebuild(ctx, cfg, tc, st, recs, logger)
	if err != nil {
		return res, err
	}
	if done, err := st.CompleteRebuild(ctx, owner, id); err != nil || !done {
		return res, errors.Join(err, errors.New("the projections were lost again during the rebuild; run it once more"))
	}
	return res, nil
}

// rebuild moves what an older installation kept in Redis to the records
// database, lets the ledger of portal deliveries learn what the outbox
// still knows, then writes the projections of the closed cases from their
// final records and of every case Temporal holds from its memo.
func rebuild(ctx context.Context, cfg Config, tc client.Client, st *store.Store, recs *records.DB, logger *slog.Logger) (worker.RebuildResult, error) {
	if err := moveLegacy(ctx, st, recs, logger); err != nil {
		return worker.RebuildResult{}, err
	}
	if err := st.EachDeliveredPortalEvent(ctx, func(ids []string) error {
		return recs.RecordDelivered(ctx, ids, time.Now())
	}); err != nil {
		return worker.RebuildResult{}, fmt.Errorf("note delivered portal events in the ledger: %w", err)
	}
	codec, err := worker.NewCodec([]byte(cfg.Secret), cfg.previousSecretKeys()...)
	if err != nil {
		return worker.RebuildResult{}, err
	}
	return worker.Rebuild{Client: tc, Namespace: cfg.TemporalNamespace, Converter: codec.DataConverter(),
		Store: st, Records: recs, Logger: logger, ListingLag: cfg.RebuildListingLag}.Run(ctx)
}

// moveLegacy hands documents and read marks that an installation from
// before the records database kept in Redis to the records database.
func moveLegacy(ctx context.Context, st *store.Store, recs *records.DB, logger *slog.Logger) error {
	files, err := st.MoveLegacyFiles(ctx, func(f store.LegacyFile) error {
		_, err := recs.PutDocument(ctx, records.Document{CaseID: f.CaseID, SHA256: f.SHA256, Name: f.Name,
			ContentType: f.ContentType, Kind: records.KindUpload, Data: f.Data})
		return err
	})
	if err != nil {
		return fmt.Errorf("move documents from Redis to the records database: %w", err)
	}
	marks, err := st.MoveLegacyReadMarks(ctx, func(account string, ids []string) error {
		for _, id := range ids {
			if err := recs.MarkRead(ctx, account, id, time.Now().UTC()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("move read marks from Redis to the records database: %w", err)
	}
	if files+marks > 0 {
		logger.Info("Moved documents and read marks from Redis to the records database", "documents", files, "readMarks", marks)
	}
	return nil
}
