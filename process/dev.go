package process

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/go-jose/go-jose/v4"
	"github.com/gorilla/mux"
	"go.temporal.io/sdk/client"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/activities/mail"
	"github.com/ozgflow/ozgflow/activities/portal"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/devserver"
	"github.com/ozgflow/ozgflow/gateway"
	_ "github.com/ozgflow/ozgflow/internal/sqlitemem" // sets SQLite's memory options before quickCheck opens the engine's file
	"github.com/ozgflow/ozgflow/metrics"
	"github.com/ozgflow/ozgflow/records"
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
	// TemporalPort is the port of the embedded Temporal frontend on
	// 127.0.0.1, so that the temporal CLI finds it (`ozgflow dev` uses
	// 7233, its default); 0 picks a free one.
	TemporalPort int
	// UIPort is the port of the Temporal Web UI on 127.0.0.1 (`ozgflow
	// dev` uses 8233, as `temporal server start-dev` does); 0 picks a free
	// one.
	UIPort int
}

// Dev is the `dev` process: embedded Temporal, worker, gateway and
// sandboxes in one process. Its sandboxes and clients are exported for the
// tests that drive it.
type Dev struct {
	Config  Config // as given; dev derives what it runs with from it
	Options DevOptions
	Logger  *slog.Logger

	URL          string // base URL of the gateway
	TemporalAddr string
	UIURL        string // the Temporal Web UI, which decrypts payloads through the gateway for administrators
	// TemporalRetention is how long the embedded Temporal keeps the history
	// of a closed case.
	TemporalRetention time.Duration
	EmbeddedRedis     bool
	Client            client.Client
	Store             *store.Store
	Records           *records.DB
	RecordsURL        string // where Records is: a SQLite file in the data directory unless OZGFLOW_RECORDS_URL says otherwise
	Metrics           *metrics.Metrics
	Catalog           *casework.Catalog
	// Installation is the ID the data directory, the namespace and the
	// projections in Redis carry.
	Installation string
	// ProjectionsIntact says that Redis held this installation's
	// projections at start; otherwise the worker rebuilds them in the
	// background while /readyz says "rebuilding".
	ProjectionsIntact bool
	Sandboxes

	cfg Config // what dev runs with

	stops closers
}

// DevFachverfahrenSecret is dev's delivery secret, which signs deliveries
// to the simulator and the callbacks from it; tests and the conformance
// kit's walk-through use it.
const DevFachverfahrenSecret = devFachverfahrenHMAC

// dev-only shared secrets of the sandboxes; production configures its own.
const (
	devPaymentAPIKey     = "dev-payment-key"
	devWebhookSecret     = "dev-payment-webhook-secret"
	devFachverfahrenHMAC = "dev-fachverfahren-secret"
	devSignatureSecret   = "dev-signature-webhook-secret"
)

// StartDev starts dev and returns once the gateway serves; when a step
// fails, it stops what the steps before started.
func StartDev(ctx context.Context, cfg Config, opts DevOptions, logger *slog.Logger) (*Dev, error) {
	d := &Dev{Config: cfg, Options: opts, Logger: logger}
	if err := d.Run(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Run starts, in this order, the listener, the embedded Temporal server,
// its Web UI, Redis, the Temporal client, the sandboxes, the worker (with
// the keeper that rebuilds the projections in the background when Redis
// lacks them), the gateway and the portal dispatcher.
func (d *Dev) Run(ctx context.Context) error {
	cfg, err := d.config()
	if err != nil {
		return err
	}
	ln, err := listen(cfg.Addr, "OZGFLOW_ADDR / --addr", &d.stops)
	if err != nil {
		return err
	}
	cfg = d.sandboxed(cfg, ln)
	if err := d.startTemporal(ctx, &cfg); err != nil {
		return err
	}
	if err := d.startWebUI(&cfg); err != nil {
		return err
	}
	if err := d.openRedis(ctx, cfg); err != nil {
		return err
	}
	d.RecordsURL = cfg.recordsURL("dev")
	if d.Records, err = openRecords(ctx, cfg, "dev", &d.stops); err != nil {
		return err
	}
	if err := d.dialTemporal(ctx, cfg); err != nil {
		return err
	}
	if err := d.knowInstallation(ctx, cfg); err != nil {
		return err
	}
	d.cfg = cfg
	if err := d.openSandboxes(cfg); err != nil {
		return err
	}
	mailer, err := d.mailer(cfg)
	if err != nil {
		return err
	}
	stopWorker, err := startWorker(ctx, cfg, d.connection(), mailer, d.Logger, &d.stops)
	if err != nil {
		return err
	}
	gw, err := d.serveGateway(ctx, cfg, ln)
	if err != nil {
		return err
	}
	stopDispatcher := startDispatcher(ctx, cfg, d.connection(), d.Logger, &d.stops)
	startAlerts(ctx, cfg, d.connection(), mailer, d.Logger, &d.stops)
	// Stopping begins here: no new requests, those in flight finish, then
	// the dispatcher and the worker drain while the sandboxes still
	// answer; the listener, the sandboxes and the engine stop after them.
	d.stops.add(func() error {
		drainCtx, cancel := context.WithTimeout(context.Background(), drainTimeout)
		defer cancel()
		err := gw.Drain(drainCtx)
		stopDispatcher()
		stopWorker()
		return err
	})
	// A small rebuild (a first start, a few cases) is done before dev
	// says it runs; a large one goes on in the background.
	waitCtx, cancel := context.WithTimeout(ctx, rebuildWait)
	defer cancel()
	if err := d.WaitProjections(waitCtx); err != nil && waitCtx.Err() == nil {
		return err
	}
	return nil
}

// rebuildWait is how long a start waits for a rebuild of the projections
// before it leaves the rest to the background.
const rebuildWait = 3 * time.Second

// knowInstallation settles the installation ID with the namespace and the
// data directory, and looks whether Redis holds its projections.
func (d *Dev) knowInstallation(ctx context.Context, cfg Config) error {
	dataDir := cfg.DataDir
	if d.Options.InMemory || d.Options.Postgres != nil {
		dataDir = ""
	}
	var err error
	if d.Installation, err = devInstallation(ctx, d.Client, cfg.TemporalNamespace, dataDir); err != nil {
		return err
	}
	marker, err := d.Store.Installation(ctx)
	d.ProjectionsIntact = marker == d.Installation
	return err
}

// Rebuild writes the projections again, as the worker does when Redis
// lost them: closed cases from their final records, then every case
// Temporal holds from its memo.
func (d *Dev) Rebuild(ctx context.Context) (worker.RebuildResult, error) {
	return rebuild(ctx, d.cfg, d.Client, d.Store, d.Records, d.Logger)
}

// WaitProjections waits until the projections in Redis are complete for
// this installation, as /readyz tells.
func (d *Dev) WaitProjections(ctx context.Context) error {
	for {
		err := d.Store.Ready(ctx, d.Installation)
		if !errors.Is(err, store.ErrRebuilding) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("projections not rebuilt: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Close stops everything in reverse order of start. It logs what failed to
// stop, as nothing is left to act on it. A dev that ran notes in its data
// directory that it stopped in order, with its databases as they are.
func (d *Dev) Close() {
	ran := d.cfg.DataDir != "" && !d.Options.InMemory && d.Options.Postgres == nil
	if err := d.stops.closeAll(); err != nil {
		d.Logger.Warn("Stopping dev", "error", err)
	}
	if ran {
		if err := writeCleanStop(d.cfg.DataDir); err != nil {
			d.Logger.Warn("Orderly stop not noted; the next start checks the databases in full", "error", err)
		}
	}
}

// config is the configuration dev runs with: without OZGFLOW_SECRET, the
// secret of the data directory, so that access tokens and encrypted
// payloads stay valid across restarts; rate limits not set are dev's.
func (d *Dev) config() (Config, error) {
	cfg := d.Config.withDevLimits()
	if err := d.checkDataDir(cfg); err != nil {
		return cfg, err
	}
	if cfg.Secret == "" {
		var err error
		if cfg.Secret, err = devSecret(cfg.DataDir); err != nil {
			return cfg, err
		}
	}
	return cfg, cfg.Validate("dev")
}

// checkDataDir refuses a data directory whose parts do not belong
// together, before anything is created in it: an engine database without
// the secret that encrypted its payloads (a new secret would make every
// case unreadable), and a records database whose engine database is gone
// (the engine would start empty beside the records of its cases).
func (d *Dev) checkDataDir(cfg Config) error {
	if d.Options.InMemory || d.Options.Postgres != nil {
		return nil
	}
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(cfg.DataDir, name))
		return err == nil
	}
	stopped := takeCleanStop(cfg.DataDir)
	for _, name := range databaseFiles {
		if exists(name) && !stopped.unchanged(cfg.DataDir, name) {
			if err := quickCheck(filepath.Join(cfg.DataDir, name)); err != nil {
				return err
			}
		}
	}
	switch {
	case exists(installationFile) && !exists("temporal.db"):
		return fmt.Errorf("data directory %s belongs to an installation, but its temporal.db is gone: the engine's "+
			"database with every open case. Restore %s from your backup; to start afresh, move the data directory away",
			cfg.DataDir, filepath.Join(cfg.DataDir, "temporal.db"))
	case exists("temporal.db") && !exists("secret") && cfg.Secret == "":
		return fmt.Errorf("data directory %s holds temporal.db but no secret: the cases' payloads cannot be read "+
			"without the secret that encrypted them. Restore %s from your backup (or set OZGFLOW_SECRET to it); "+
			"to start afresh, move the data directory away", cfg.DataDir, filepath.Join(cfg.DataDir, "secret"))
	case exists("records.db") && !exists("temporal.db") && cfg.RecordsURL == "":
		return fmt.Errorf("data directory %s holds records.db but no temporal.db: the engine's database with every "+
			"open case is gone. Restore %s from your backup; to start afresh, move the data directory away",
			cfg.DataDir, filepath.Join(cfg.DataDir, "temporal.db"))
	}
	return nil
}

// quickCheck runs SQLite's quick integrity check over a database file, so
// that a damaged file is named at start instead of failing cases later.
func quickCheck(path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	defer db.Close()
	var result string
	if err := db.QueryRow("PRAGMA quick_check").Scan(&result); err != nil || result != "ok" {
		if err == nil {
			err = errors.New(result)
		}
		return fmt.Errorf("%s is damaged (%v): restore it from your backup; "+
			"dev does not start on a damaged database", path, err)
	}
	return nil
}

// FirstStart reports whether dev would start on a fresh data directory.
func FirstStart(cfg Config) bool {
	_, err := os.Stat(filepath.Join(cfg.DataDir, "temporal.db"))
	return err != nil
}

// sandboxed points cfg at the sandboxes, which dev serves on the gateway's
// listener ln, with their dev secrets. Notices go to the sandbox portal
// unless OZGFLOW_PORTAL_WEBHOOK_URL says otherwise.
func (d *Dev) sandboxed(cfg Config, ln net.Listener) Config {
	internal := fmt.Sprintf("http://127.0.0.1:%d", ln.Addr().(*net.TCPAddr).Port)
	if cfg.PublicURL == "" {
		cfg.PublicURL = localURL(ln)
	}
	d.URL = strings.TrimSuffix(cfg.PublicURL, "/")
	cfg.PublicURL, cfg.SignatureReturnURL = d.URL, d.URL
	cfg.PaymentURL, cfg.PaymentAPIKey = internal+"/sandbox/paymentprovider", devPaymentAPIKey
	cfg.PaymentWebhookURL, cfg.PaymentWebhookSecret = internal+"/api/v1/webhooks/payments", devWebhookSecret
	cfg.SignerURL = internal + "/sandbox/signer"
	cfg.SignatureWebhookURL, cfg.SignatureWebhookSecret = internal+"/api/v1/webhooks/signatures", devSignatureSecret
	cfg.FachverfahrenURL, cfg.FachverfahrenTargets = internal+"/sandbox/fachverfahren", ""
	cfg.FachverfahrenSecret = devFachverfahrenHMAC
	if cfg.FachverfahrenCallbackURL == "" {
		cfg.FachverfahrenCallbackURL = internal + ozgflow.CallbackPath
	}
	if cfg.PortalWebhookURL == "" {
		cfg.PortalWebhookURL = internal + portal.SandboxPath + "/events"
	}
	cfg = cfg.fitConnectSandboxed(internal)
	if cfg.PortalWebhookSecret == "" {
		cfg.PortalWebhookSecret = devPortalSecret
	}
	return cfg
}

// startTemporal starts the embedded Temporal server, on a SQLite file in
// the data directory unless the options say otherwise, and points
// cfg.TemporalAddress at it.
func (d *Dev) startTemporal(ctx context.Context, cfg *Config) error {
	dbFile := filepath.Join(cfg.DataDir, "temporal.db")
	if d.Options.InMemory {
		dbFile = ""
	}
	var srv *devserver.Server
	var err error
	labelled(ctx, ProfileEngine, func() {
		srv, err = devserver.Start(devserver.Options{DatabaseFile: dbFile, Postgres: d.Options.Postgres,
			Namespace: cfg.TemporalNamespace, Logger: d.Logger, Port: d.Options.TemporalPort, WorkerCacheSize: cfg.WorkerCacheSize})
	})
	if err != nil && d.Options.TemporalPort != 0 {
		return fmt.Errorf("start Temporal on 127.0.0.1:%d (--temporal-port chooses another port): %w", d.Options.TemporalPort, err)
	}
	if err != nil {
		return err
	}
	d.stops.addFunc(srv.Stop)
	d.TemporalAddr = srv.Address()
	d.TemporalRetention = devserver.DevRetention
	cfg.TemporalAddress = d.TemporalAddr
	return nil
}

// openRedis connects to REDIS_URL or, when nothing answers there and the
// options allow it, starts an embedded in-memory Redis.
func (d *Dev) openRedis(ctx context.Context, cfg Config) error {
	pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	st, err := store.Open(pingCtx, cfg.RedisURL)
	if err != nil && d.Options.RequireRedis {
		return fmt.Errorf("REDIS_URL %s does not answer: %w", cfg.RedisURL, err)
	}
	if err != nil {
		if st, err = d.embeddedRedis(ctx, cfg); err != nil {
			return err
		}
	}
	d.stops.add(st.Close)
	d.Store = st.WithPrefix(cfg.RedisPrefix)
	return nil
}

// embeddedRedis starts an in-memory Redis and connects to it.
func (d *Dev) embeddedRedis(ctx context.Context, cfg Config) (*store.Store, error) {
	d.Logger.Warn("No Redis answers at REDIS_URL; using an embedded in-memory Redis. Projections are rebuilt from Temporal at every start.",
		"redisUrl", cfg.RedisURL)
	mr, err := miniredis.Run()
	if err != nil {
		return nil, fmt.Errorf("embedded redis: %w", err)
	}
	d.stops.addFunc(mr.Close)
	d.EmbeddedRedis = true
	return store.Open(ctx, "redis://"+mr.Addr()+"/0")
}

// dialTemporal connects to the embedded Temporal server, with metrics that
// also watch the cases in Redis.
func (d *Dev) dialTemporal(ctx context.Context, cfg Config) (err error) {
	d.Metrics = metrics.New()
	d.Metrics.WatchCases(d.Store)
	d.Client, err = dialTemporal(ctx, cfg, d.Metrics, d.Logger, &d.stops)
	return err
}

// openSandboxes opens the sandboxes, keeping their state in the data
// directory unless everything runs in memory.
func (d *Dev) openSandboxes(cfg Config) error {
	stateDir := filepath.Join(cfg.DataDir, "sandbox")
	if d.Options.InMemory {
		stateDir = ""
	}
	sb, err := openSandboxes(cfg, stateDir, "127.0.0.1:0", &http.Client{Timeout: 20 * time.Second}, d.Logger, &d.stops)
	if err != nil {
		return err
	}
	d.Sandboxes = *sb
	return nil
}

// mailer is what email notices go through: the SMTP server of
// OZGFLOW_SMTP_ADDR when one is set, the mail sink otherwise.
func (d *Dev) mailer(cfg Config) (activities.Mailer, error) {
	if cfg.SMTPAddr != "" {
		return cfg.smtpMailer()
	}
	return mail.New(mail.Config{Addr: d.Mail.Addr(), From: devMailFrom})
}

// serveGateway serves the gateway with the demo sign-in on ln, and the
// sandboxes beside it under /sandbox/.
func (d *Dev) serveGateway(ctx context.Context, cfg Config, ln net.Listener) (*gateway.Server, error) {
	keys := func(context.Context) (jose.JSONWebKeySet, error) { return d.Signer.JWKS(), nil }
	gw, cat, err := openGateway(ctx, cfg, d.connection(), keys, true, d.Logger, &d.stops)
	if err != nil {
		return nil, err
	}
	d.Catalog = cat
	sandboxes := mux.NewRouter()
	sandboxes.Use(labelSandboxRequests)
	d.Sandboxes.register(sandboxes)
	gw.Ahead(sandboxPrefix, sandboxes)
	gw.KeepWhileDraining(isSandboxRequest)
	labelled(ctx, ProfileGateway, func() { gw.Serve(ln) })
	return gw, nil
}

// drainTimeout bounds how long a stop waits for the requests in flight.
const drainTimeout = 20 * time.Second

// connection is dev's Temporal client, Redis and metrics, as the worker
// and the gateway use them.
func (d *Dev) connection() connection {
	return connection{metrics: d.Metrics, temporal: d.Client, store: d.Store, records: d.Records, installation: d.Installation}
}
