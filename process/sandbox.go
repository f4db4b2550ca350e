package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow/activities/fachverfahren"
	"github.com/ozgflow/ozgflow/activities/payment"
	"github.com/ozgflow/ozgflow/activities/signer"
)

// RunSandbox serves the payment sandbox, the signer sandbox, the
// Fachverfahren simulator, the sandbox portal and the mail sink as a program
// of their own, for stacks that run the roles separately (docker-compose,
// the external-Temporal tests).
func RunSandbox(ctx context.Context, cfg Config, logger *slog.Logger) error {
	if err := cfg.Validate("sandbox"); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (OZGFLOW_ADDR): %w", cfg.Addr, err)
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	}
	r := mux.NewRouter()
	sign, err := signer.NewSandbox(signer.SandboxConfig{
		KeyFile: filepath.Join(cfg.DataDir, "signer-key.json"), PublicURL: cfg.PublicURL,
		ReturnURL: cfg.SignatureReturnURL, WebhookURL: cfg.SignatureWebhookURL,
		WebhookSecret: []byte(cfg.SignatureWebhookSecret),
		StateFile:     filepath.Join(cfg.DataDir, "sandbox", "signatures.jsonl"), Logger: logger,
	})
	if err != nil {
		return err
	}
	defer sign.Close()
	pay, err := payment.NewSandbox(payment.SandboxConfig{
		PublicURL: strings.TrimSuffix(cfg.PublicURL, "/"), APIKey: cfg.PaymentAPIKey,
		WebhookURL: cfg.PaymentWebhookURL, WebhookSecret: []byte(cfg.PaymentWebhookSecret),
		StateFile: filepath.Join(cfg.DataDir, "sandbox", "payments.jsonl"), Logger: logger,
	})
	if err != nil {
		return err
	}
	sim, err := fachverfahren.NewSimulator(fachverfahren.SimulatorConfig{Secret: []byte(cfg.FachverfahrenSecret),
		StateFile: filepath.Join(cfg.DataDir, "sandbox", "fachverfahren.jsonl"), Logger: logger})
	if err != nil {
		return err
	}
	portalSandbox, sink, err := sandboxNotices(cfg, logger)
	if err != nil {
		return err
	}
	defer portalSandbox.Close()
	defer sink.Close()
	sign.Register(r)
	pay.Register(r)
	sim.Register(r)
	portalSandbox.Register(r)
	sink.Register(r)
	r.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, `{"status":"ok"}`) })
	r.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, `{"status":"ok"}`) })
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	logger.Info("Sandboxes listening", "addr", ln.Addr().String(), "publicUrl", cfg.PublicURL, "smtp", sink.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Healthcheck asks url and reports an error unless it answers 200; container
// health checks use it, as the runtime image has no shell or curl.
func Healthcheck(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, res.Status)
	}
	return nil
}
