package process

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow/activities/fachverfahren"
	fitconnectout "github.com/ozgflow/ozgflow/activities/fitconnect"
	"github.com/ozgflow/ozgflow/activities/mail"
	"github.com/ozgflow/ozgflow/activities/payment"
	"github.com/ozgflow/ozgflow/activities/portal"
	"github.com/ozgflow/ozgflow/activities/signer"
	"github.com/ozgflow/ozgflow/internal/health"
)

// Sandbox is the `sandbox` process: the sandboxes on OZGFLOW_ADDR as a
// program of their own, for stacks that run the processes separately
// (docker-compose, the external-Temporal tests).
type Sandbox struct {
	Config Config
	Logger *slog.Logger

	stops closers
}

// Run opens the sandboxes and returns once they serve.
func (p *Sandbox) Run(ctx context.Context) error {
	cfg := p.Config
	if err := cfg.Validate("sandbox"); err != nil {
		return err
	}
	ln, err := listen(cfg.Addr, "OZGFLOW_ADDR", &p.stops)
	if err != nil {
		return err
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = localURL(ln)
	}
	sb, err := openSandboxes(cfg, filepath.Join(cfg.DataDir, "sandbox"), sandboxSMTPAddr(cfg), nil, p.Logger, &p.stops)
	if err != nil {
		return err
	}
	r := mux.NewRouter()
	sb.register(r)
	routes := http.NewServeMux()
	health.Register(routes, nil)
	routes.Handle("/", r)
	serveHTTP(ln, routes, p.Logger, &p.stops)
	p.Logger.Info("Sandboxes listening", "addr", ln.Addr().String(), "publicUrl", cfg.PublicURL, "smtp", sb.Mail.Addr())
	return nil
}

// Close stops serving and closes the sandboxes.
func (p *Sandbox) Close() error { return p.stops.closeAll() }

// sandboxSMTPAddr is where the sandbox process's mail sink listens:
// OZGFLOW_SMTP_ADDR, or :2525.
func sandboxSMTPAddr(cfg Config) string {
	if cfg.SMTPAddr != "" {
		return cfg.SMTPAddr
	}
	return ":2525"
}

// Sandboxes stand in for the external systems in development, tests and
// demos: the payment provider, the signer, the Fachverfahren, the portal
// and an SMTP server.
type Sandboxes struct {
	Payments      *payment.Sandbox
	Signer        *signer.Sandbox
	Fachverfahren *fachverfahren.Simulator
	// BrokenFachverfahren is broken on purpose (fachverfahren.BrokenFaults),
	// at fachverfahren.BrokenPath: the conformance kit fails it.
	BrokenFachverfahren *fachverfahren.Simulator
	Portal              *portal.Sandbox // where notices go as CloudEvents
	Mail                *mail.Sink      // where email notices go
	// FITConnect is a FIT-Connect destination (Submission API) that
	// records what it receives and rejects on request.
	FITConnect *fitconnectout.Sandbox
}

// openSandboxes opens the sandboxes with the secrets and webhooks of cfg,
// keeping their state in stateDir (in memory if empty) and the mail sink on
// smtpAddr; hc sends their webhooks (nil: their own default). stops gets
// what closes them.
func openSandboxes(cfg Config, stateDir, smtpAddr string, hc *http.Client, logger *slog.Logger, stops *closers) (*Sandboxes, error) {
	state := func(name string) string {
		if stateDir == "" {
			return ""
		}
		return filepath.Join(stateDir, name)
	}
	var sb Sandboxes
	var err error
	if sb.Signer, err = signer.NewSandbox(signer.SandboxConfig{
		KeyFile: filepath.Join(cfg.DataDir, "signer-key.json"), PublicURL: cfg.PublicURL, ReturnURL: cfg.SignatureReturnURL,
		WebhookURL: cfg.SignatureWebhookURL, WebhookSecret: []byte(cfg.SignatureWebhookSecret),
		StateFile: state("signatures.jsonl"), HTTPClient: hc, Logger: logger,
	}); err != nil {
		return nil, err
	}
	stops.addFunc(sb.Signer.Close)
	if sb.Payments, err = payment.NewSandbox(payment.SandboxConfig{
		PublicURL: strings.TrimSuffix(cfg.PublicURL, "/"), APIKey: cfg.PaymentAPIKey,
		WebhookURL: cfg.PaymentWebhookURL, WebhookSecret: []byte(cfg.PaymentWebhookSecret),
		StateFile: state("payments.jsonl"), HTTPClient: hc, Logger: logger,
	}); err != nil {
		return nil, err
	}
	stops.addFunc(sb.Payments.Close)
	simCfg := cfg.simulatorConfig(state("fachverfahren.jsonl"))
	simCfg.Logger, simCfg.HTTPClient = logger, hc
	if sb.Fachverfahren, err = fachverfahren.NewSimulator(simCfg); err != nil {
		return nil, err
	}
	stops.add(sb.Fachverfahren.Close)
	// A second simulator with every fault, for trying the conformance kit
	// on a back office that fails it; it keeps nothing.
	broken := cfg.simulatorConfig("")
	broken.Logger, broken.HTTPClient = logger, hc
	broken.Path, broken.Faults, broken.Callbacks = fachverfahren.BrokenPath, fachverfahren.BrokenFaults, fachverfahren.CallbacksDecisions
	if sb.BrokenFachverfahren, err = fachverfahren.NewSimulator(broken); err != nil {
		return nil, err
	}
	stops.add(sb.BrokenFachverfahren.Close)
	if sb.Portal, err = portal.NewSandbox(portal.SandboxConfig{
		Secret: []byte(cfg.PortalWebhookSecret), StateFile: state("portal.jsonl"), Logger: logger,
	}); err != nil {
		return nil, err
	}
	stops.add(sb.Portal.Close)
	if sb.Mail, err = mail.NewSink(mail.SinkConfig{Addr: smtpAddr, StateFile: state("mail.jsonl"), Logger: logger}); err != nil {
		return nil, fmt.Errorf("mail sink on %s: %w", smtpAddr, err)
	}
	stops.add(sb.Mail.Close)
	if sb.FITConnect, err = cfg.fitConnectSandbox(strings.TrimSuffix(cfg.PublicURL, "/")+fitconnectout.SandboxPath, logger); err != nil {
		return nil, err
	}
	return &sb, nil
}

// register serves the sandboxes' pages and APIs on r, under /sandbox/.
func (sb *Sandboxes) register(r *mux.Router) {
	sb.Payments.Register(r)
	sb.Signer.Register(r)
	sb.Fachverfahren.Register(r)
	sb.BrokenFachverfahren.Register(r)
	sb.Portal.Register(r)
	sb.Mail.Register(r)
	sb.FITConnect.Register(r)
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
