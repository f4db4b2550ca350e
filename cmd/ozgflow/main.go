// Command ozgflow runs the processing layer: `dev` runs everything in one
// process; `worker` and `gateway` run as processes of their own against an
// external Temporal and Redis; `reindex` rebuilds the Redis projections from Temporal.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ozgflow/ozgflow/process"
)

const usage = `Usage: ozgflow <command> [flags]

Commands:
  dev       embedded Temporal (SQLite), worker, gateway, sandboxes and demo catalog
  worker    the worker process, against TEMPORAL_ADDRESS and REDIS_URL
  gateway   the HTTP gateway process, against TEMPORAL_ADDRESS and REDIS_URL
  sandbox   the sandboxes (payment page, signer, Fachverfahren simulator) on their own
  conformance --target URL --secret S   check a Fachverfahren against ozgflow's delivery and callback protocol
  reindex   rebuild the Redis projections from Temporal
  rotate-keys   encrypt documents and closed-case records again with the current OZGFLOW_SECRET
  bench     measure throughput and latency against dev and a bare-Temporal baseline (see BENCHMARKS.md)
  temporal-server   a Temporal server on PostgreSQL (TEMPORAL_POSTGRES_URL), frontend on TEMPORAL_ADDRESS
  setup-namespace   register the namespace and search attributes at TEMPORAL_ADDRESS
  healthcheck URL   exit 0 when URL answers 200 (for container health checks)

Configuration comes from the environment; see README.md.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ozgflow:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	if args[0] == "conformance" {
		// The kit runs at a vendor's, without ozgflow's configuration.
		return runConformance(ctx, args[1:], getenv, stdout, stderr)
	}
	cfg, err := process.FromEnv(getenv)
	if err != nil {
		return err
	}
	cmd, args := args[0], args[1:]
	if cmd == "bench" {
		logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
		return runBench(ctx, args, cfg.RedisURL, stdout, stderr, logger)
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "address the gateway listens on (OZGFLOW_ADDR)")
	if cmd == "dev" || cmd == "sandbox" {
		fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory of the SQLite database and sandbox state (OZGFLOW_DATA_DIR)")
	}
	var devOpts process.DevOptions
	if cmd == "dev" {
		fs.IntVar(&devOpts.TemporalPort, "temporal-port", 7233, "port of the embedded Temporal frontend on 127.0.0.1, where the temporal CLI looks (0: any free port)")
		fs.IntVar(&devOpts.UIPort, "ui-port", 8233, "port of the Temporal Web UI on 127.0.0.1, as the temporal CLI's dev server has it (0: any free port)")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	switch cmd {
	case "dev":
		return runDev(ctx, cfg, devOpts, stdout, logger)
	case "worker":
		return serve(ctx, &process.Worker{Config: cfg, Logger: logger})
	case "gateway":
		return serve(ctx, &process.Gateway{Config: cfg, Logger: logger})
	case "sandbox":
		return serve(ctx, &process.Sandbox{Config: cfg, Logger: logger})
	case "healthcheck":
		if fs.NArg() != 1 {
			return fmt.Errorf("usage: ozgflow healthcheck URL")
		}
		return process.Healthcheck(ctx, fs.Arg(0))
	case "temporal-server":
		return serve(ctx, &process.TemporalServer{Config: cfg, PostgresURL: getenv("TEMPORAL_POSTGRES_URL"), Logger: logger})
	case "setup-namespace":
		id, err := process.SetupNamespace(ctx, cfg)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Namespace %s is ready at %s (installation %s).\n", cfg.TemporalNamespace, cfg.TemporalAddress, id)
		return nil
	case "reindex":
		res, err := process.Reindex(ctx, cfg, logger)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Rebuilt the projections of %d cases (%d closed ones from their final records) in %s; "+
			"%d written, %d removed.\n", res.Cases+res.Closed, res.Closed, res.Took.Round(time.Millisecond), res.Written, res.Removed)
		return nil
	case "rotate-keys":
		n, err := process.RotateKeys(ctx, cfg)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Encrypted %d documents and records again with the current key.\n", n)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// A longRunning process starts its parts with Run and stops them, in
// reverse order, with Close.
type longRunning interface {
	Run(ctx context.Context) error
	Close() error
}

// serve runs p until ctx ends, then closes it.
func serve(ctx context.Context, p longRunning) error {
	if err := p.Run(ctx); err != nil {
		p.Close()
		return err
	}
	<-ctx.Done()
	return p.Close()
}

// runDev starts dev, prints where everything is, and runs until ctx ends.
func runDev(ctx context.Context, cfg process.Config, opts process.DevOptions, stdout io.Writer, logger *slog.Logger) error {
	if process.FirstStart(cfg) {
		fmt.Fprintln(stdout, "Starting ozgflow dev on a fresh data directory: setting up its databases…")
	} else {
		fmt.Fprintln(stdout, "Starting ozgflow dev…")
	}
	d, err := process.StartDev(ctx, cfg, opts, logger)
	if err != nil {
		return err
	}
	defer d.Close()
	redis := "REDIS_URL " + cfg.RedisURL
	if d.EmbeddedRedis {
		redis = "embedded in-memory Redis (nothing answered at " + cfg.RedisURL + ")"
	}
	fmt.Fprintf(stdout, `
ozgflow dev is running. Data: %s

  API                    %[2]s/api/v1   (OpenAPI: %[2]s/api/v1/openapi.yaml)
  Receipt keys (JWKS)    %[2]s/api/v1/keys
  FIT-Connect intake     %[2]s/fit-connect/v1  (token %[2]s/fit-connect/token, client dev-fitconnect / dev-fitconnect-secret;
                         destinations: %[2]s/api/v1/fit-connect/destinations)
  Case workers           %[2]s/arbeitskorb  (sign in at %[2]s/anmelden)
  Administration         %[2]s/verwaltung
  Applicants             %[2]s/antraege/{id}?token={accessToken}   check a receipt: %[2]s/pruefen
  Metrics                %[2]s/metrics
  Health                 %[2]s/healthz  %[2]s/readyz
  Payment sandbox        %[2]s/sandbox/payments/{paymentId}
  Signing sandbox        %[2]s/sandbox/signatur/{sessionId}
  Fachverfahren sandbox  %[2]s/sandbox/fachverfahren/received  (reports back to %[2]s/api/v1/fachverfahren/callbacks)
  FIT-Connect sandbox    %[2]s/sandbox/fitconnect/received  (the destination of lasttest-fitconnect; rejects the next n after PUT %[2]s/sandbox/fitconnect/reject {"next": n})
  Broken Fachverfahren   %[2]s/sandbox/kaputtes-fachverfahren  (fails the conformance kit; secret dev-fachverfahren-secret)
  Portal sandbox         %[2]s/sandbox/portal/events  (undeliverable: %[2]s/verwaltung/zustellungen)
  Mail sink              %[2]s/sandbox/mail  (SMTP %[7]s)
  Temporal frontend      %[3]s (namespace %[4]s)
  Temporal Web UI        %[10]s  (payloads decrypted for administrators signed in at %[2]s/anmelden)
  Workflow retention     closed cases' histories kept %[8]d days (case data: each variant's retention)
  Redis                  %[5]s
  Records database       %[9]s  (documents, audit trail, read marks, closed cases)
  Projections            %[6]s

Demo tokens (Authorization: Bearer …):
  dev-portal          portal client: submits applications, reads mailboxes
  dev-sb-leipzig      case worker (team lead), Stadt Leipzig (147130000000)
  dev-sb-leipzig-2    case worker, Stadt Leipzig: a second pair of eyes
  dev-sb-dresden      case worker (team lead), Landeshauptstadt Dresden (146120000000)
  dev-sb-dresden-2    case worker, Landeshauptstadt Dresden
  dev-admin           administrator
  dev-datenschutz     data protection officer: exports the audit trail (/verwaltung/protokoll)
  dev-fachverfahren   back-office system: reports events to waiting cases
  dev-portal-2        a second portal client (accounts portal2-…)
  dev-fachverfahren-leipzig, dev-fachverfahren-dresden
                      back-office systems that see only the cases delivered to them

Try:
  curl -s -X POST %[2]s/api/v1/applications -H 'Authorization: Bearer dev-portal' \
    -H 'Content-Type: application/json' -d @test/testdata/gewerbeanmeldung.json

Stop with Ctrl-C; open cases carry on at the next start.
`, cfg.DataDir, d.URL, d.TemporalAddr, cfg.TemporalNamespace, redis, projections(ctx, d), d.Mail.Addr(),
		int(d.TemporalRetention/(24*time.Hour)), redactedURL(d.RecordsURL), d.UIURL)
	<-ctx.Done()
	fmt.Fprintln(stdout, "Stopping ozgflow dev…")
	return nil
}

// projections says whether Redis held the projections at start, or
// whether they are rebuilt since or still being rebuilt.
func projections(ctx context.Context, d *process.Dev) string {
	switch {
	case d.ProjectionsIntact:
		return "intact in Redis (installation " + d.Installation + ")"
	case d.Store.Ready(ctx, d.Installation) == nil:
		return "rebuilt from Temporal and the records database (installation " + d.Installation + ")"
	}
	return "being rebuilt in the background; /readyz says \"rebuilding\" until done (installation " + d.Installation + ")"
}

// redactedURL hides the password of a database URL; a file path stays.
func redactedURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		return u.Redacted()
	}
	return raw
}
