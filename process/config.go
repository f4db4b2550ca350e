package process

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ozgflow/ozgflow/activities/portal"
)

// Config is the configuration of every process. Defaults are set in code and
// overridden by environment variables; Validate names the variable at fault.
type Config struct {
	Addr              string // OZGFLOW_ADDR, default :8080
	PublicURL         string // OZGFLOW_PUBLIC_URL, default http://localhost:<port>
	DataDir           string // OZGFLOW_DATA_DIR, default ./data (dev only)
	TemporalAddress   string // TEMPORAL_ADDRESS, default 127.0.0.1:7233 (worker, gateway)
	TemporalNamespace string // TEMPORAL_NAMESPACE, default ozgflow
	RedisURL          string // REDIS_URL, default redis://127.0.0.1:6379/0
	RedisPrefix       string // OZGFLOW_REDIS_PREFIX, default ozgflow:
	// RecordsURL is ozgflow's own database of documents, audit trail, read
	// marks and closed cases (OZGFLOW_RECORDS_URL): postgres://… in
	// production; dev keeps a SQLite file in the data directory.
	RecordsURL string
	Secret     string // OZGFLOW_SECRET: payload encryption and access tokens
	// PreviousSecrets are former values of OZGFLOW_SECRET, comma-separated
	// (OZGFLOW_PREVIOUS_SECRETS): the access tokens they issued stay valid.
	PreviousSecrets string

	PaymentURL           string // OZGFLOW_PAYMENT_URL: payment provider API
	PaymentAPIKey        string // OZGFLOW_PAYMENT_API_KEY
	PaymentWebhookSecret string // OZGFLOW_PAYMENT_WEBHOOK_SECRET
	PaymentWebhookURL    string // OZGFLOW_PAYMENT_WEBHOOK_URL: where the sandbox provider posts (sandbox process)
	// PaymentTimeout bounds each attempt of a call to the payment provider
	// (OZGFLOW_PAYMENT_TIMEOUT), default 10s, at most 30s: the payment
	// target's timeout, unless OZGFLOW_TARGET_POLICIES states one for
	// payment. The activities retry a call that timed out.
	PaymentTimeout time.Duration
	SignerURL      string // OZGFLOW_SIGNER_URL: signer API (seal, jwks, signatures)
	// SignatureWebhookSecret is the HMAC key of the signing service's
	// webhooks (OZGFLOW_SIGNATURE_WEBHOOK_SECRET); without it the gateway
	// refuses them and cases learn of signatures by polling.
	SignatureWebhookSecret string
	SignatureWebhookURL    string // OZGFLOW_SIGNATURE_WEBHOOK_URL: where the sandbox signer posts (sandbox process)
	SignatureReturnURL     string // OZGFLOW_SIGNATURE_RETURN_URL: base of the status pages the signing page returns to (sandbox process)
	FachverfahrenURL       string // OZGFLOW_FACHVERFAHREN_URL: default delivery target
	FachverfahrenTargets   string // OZGFLOW_FACHVERFAHREN_TARGETS: name=url,name=url
	FachverfahrenSecret    string // OZGFLOW_FACHVERFAHREN_SECRET: HMAC key of deliveries and of the callbacks
	// Callbacks from the Fachverfahren and the simulator's (callbacks.go).
	FachverfahrenCallbackURL string // OZGFLOW_FACHVERFAHREN_CALLBACK_URL: where Fachverfahren report back, named in every delivery
	SimulatorCallbacks       string // OZGFLOW_SIMULATOR_CALLBACKS: off, progress, decisions (default) or all
	SimulatorFaults          string // OZGFLOW_SIMULATOR_FAULTS: faults of the simulator, for the conformance kit

	// Notices to the portal and by email (notices.go).
	PortalWebhookURL     string        // OZGFLOW_PORTAL_WEBHOOK_URL: the portal's webhook for notices (CloudEvents)
	PortalWebhookSecret  string        // OZGFLOW_PORTAL_WEBHOOK_SECRET: HMAC key of that webhook
	PortalMaxAttempts    int           // OZGFLOW_PORTAL_MAX_ATTEMPTS: attempts before an event is undeliverable, default 40
	PortalBackoffInitial time.Duration // OZGFLOW_PORTAL_BACKOFF_INITIAL: wait after the first failure, default 1s
	PortalBackoffMax     time.Duration // OZGFLOW_PORTAL_BACKOFF_MAX: longest wait between attempts, default 10m
	SMTPAddr             string        // OZGFLOW_SMTP_ADDR: SMTP server of email notices (sandbox: where the sink listens)
	SMTPFrom             string        // OZGFLOW_SMTP_FROM: their sender
	SMTPUsername         string        // OZGFLOW_SMTP_USERNAME, with OZGFLOW_SMTP_PASSWORD: SMTP AUTH, if wanted
	SMTPPassword         string

	// Rate limits of the gateway (limits.go): N/s, N/m or N/h, or off;
	// unset, the process's default.
	RateSubmit        string // OZGFLOW_RATE_SUBMIT: submits per portal client and per address
	RateSignIn        string // OZGFLOW_RATE_SIGNIN: sign-in requests per address
	RateTokenFailures string // OZGFLOW_RATE_TOKEN_FAILURES: refused credentials per address
	RateReceiptCheck  string // OZGFLOW_RATE_RECEIPT_CHECK: receipt checks per address
	TrustedProxies    string // OZGFLOW_TRUSTED_PROXIES: proxies whose X-Forwarded-For names the client

	// WebUIOrigins are the origins of Temporal Web UIs whose browsers call
	// the gateway's codec endpoint with an administrator's session,
	// comma-separated (OZGFLOW_WEB_UI_ORIGINS); dev adds its own (webui.go).
	WebUIOrigins string

	// The FIT-Connect intake (fitconnect.go): the online services' client
	// credentials, id=secret comma-separated (OZGFLOW_FITCONNECT_CLIENTS),
	// and where the destinations' keys are kept (OZGFLOW_FITCONNECT_KEYS_DIR;
	// dev: <data dir>/fitconnect).
	FITConnectClients string
	FITConnectKeysDir string

	MetricsAddr string // OZGFLOW_METRICS_ADDR: the worker's /metrics, /healthz, /readyz; default :9090
	// WorkerCacheSize bounds how many workflows a worker keeps in memory
	// between tasks (OZGFLOW_WORKER_CACHE_SIZE, default 1000); others are
	// replayed from their history when they next have work.
	WorkerCacheSize int
	// PayloadCompression deflates payloads before they are sealed
	// (OZGFLOW_PAYLOAD_COMPRESSION, on or off; default on).
	PayloadCompression bool
	// ProjectionsCheck is how often the worker looks whether Redis still
	// holds the projections of this installation, and rebuilds them when
	// not (OZGFLOW_PROJECTIONS_CHECK, default 5s).
	ProjectionsCheck time.Duration
	// RebuildListingLag is how long before a rebuild a projection may be
	// ahead of the engine's listing and is kept (zero: 30 s); tests
	// shorten it.
	RebuildListingLag time.Duration
	LogLevel          slog.Level // OZGFLOW_LOG_LEVEL: debug, info, warn, error

	IdentityConfig   // identity.go
	OperationsConfig // operations.go

	FITConnectDeliveryConfig // fitconnect_delivery.go

}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Addr:               ":8080",
		DataDir:            "./data",
		TemporalAddress:    "127.0.0.1:7233",
		TemporalNamespace:  "ozgflow",
		RedisURL:           "redis://127.0.0.1:6379/0",
		RedisPrefix:        "ozgflow:",
		MetricsAddr:        ":9090",
		WorkerCacheSize:    1000,
		PayloadCompression: true,
		ProjectionsCheck:   5 * time.Second,
		PaymentTimeout:     defaultPaymentTimeout,
		LogLevel:           slog.LevelInfo,

		PortalMaxAttempts:    portal.DefaultMaxAttempts,
		PortalBackoffInitial: portal.DefaultBackoff.Initial,
		PortalBackoffMax:     portal.DefaultBackoff.Max,
		IdentityConfig:       defaultIdentityConfig(),
		OperationsConfig:     defaultOperationsConfig(),
	}
}

// setter returns a function that overrides *dst with the variable name,
// if it is set.
func setter(getenv func(string) string) func(dst *string, name string) {
	return func(dst *string, name string) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			*dst = v
		}
	}
}

// setDurations overrides each *dst with its variable, if set; a value that
// is no positive duration is an error naming the variable, with example.
func setDurations(getenv func(string) string, vars map[string]*time.Duration, example string) error {
	for name, dst := range vars {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("%s %q: want a duration such as %s", name, v, example)
			}
			*dst = d
		}
	}
	return nil
}

// requirer returns a function that adds an error to *errs for a required
// variable left empty, saying why it is needed.
func requirer(errs *[]error) func(v, name, why string) {
	return func(v, name, why string) {
		if v == "" {
			*errs = append(*errs, fmt.Errorf("%s is required: %s", name, why))
		}
	}
}

// defaultPaymentTimeout bounds an attempt of a call to the payment
// provider unless OZGFLOW_PAYMENT_TIMEOUT says otherwise.
const defaultPaymentTimeout = 10 * time.Second

// FromEnv returns the defaults overridden by the environment.
func FromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	set := setter(getenv)
	set(&c.Addr, "OZGFLOW_ADDR")
	set(&c.PublicURL, "OZGFLOW_PUBLIC_URL")
	set(&c.DataDir, "OZGFLOW_DATA_DIR")
	set(&c.TemporalAddress, "TEMPORAL_ADDRESS")
	set(&c.TemporalNamespace, "TEMPORAL_NAMESPACE")
	set(&c.RedisURL, "REDIS_URL")
	set(&c.RedisPrefix, "OZGFLOW_REDIS_PREFIX")
	set(&c.RecordsURL, "OZGFLOW_RECORDS_URL")
	set(&c.Secret, "OZGFLOW_SECRET")
	set(&c.PreviousSecrets, "OZGFLOW_PREVIOUS_SECRETS")
	set(&c.PaymentURL, "OZGFLOW_PAYMENT_URL")
	set(&c.PaymentAPIKey, "OZGFLOW_PAYMENT_API_KEY")
	set(&c.PaymentWebhookSecret, "OZGFLOW_PAYMENT_WEBHOOK_SECRET")
	set(&c.PaymentWebhookURL, "OZGFLOW_PAYMENT_WEBHOOK_URL")
	set(&c.MetricsAddr, "OZGFLOW_METRICS_ADDR")
	set(&c.SignerURL, "OZGFLOW_SIGNER_URL")
	set(&c.SignatureWebhookSecret, "OZGFLOW_SIGNATURE_WEBHOOK_SECRET")
	set(&c.SignatureWebhookURL, "OZGFLOW_SIGNATURE_WEBHOOK_URL")
	set(&c.SignatureReturnURL, "OZGFLOW_SIGNATURE_RETURN_URL")
	set(&c.FachverfahrenURL, "OZGFLOW_FACHVERFAHREN_URL")
	set(&c.FachverfahrenTargets, "OZGFLOW_FACHVERFAHREN_TARGETS")
	set(&c.FachverfahrenSecret, "OZGFLOW_FACHVERFAHREN_SECRET")
	set(&c.FachverfahrenCallbackURL, "OZGFLOW_FACHVERFAHREN_CALLBACK_URL")
	set(&c.SimulatorCallbacks, "OZGFLOW_SIMULATOR_CALLBACKS")
	set(&c.SimulatorFaults, "OZGFLOW_SIMULATOR_FAULTS")
	set(&c.WebUIOrigins, "OZGFLOW_WEB_UI_ORIGINS")
	set(&c.FITConnectClients, "OZGFLOW_FITCONNECT_CLIENTS")
	set(&c.FITConnectKeysDir, "OZGFLOW_FITCONNECT_KEYS_DIR")
	switch v := getenv("OZGFLOW_PAYLOAD_COMPRESSION"); v {
	case "", "on":
	case "off":
		c.PayloadCompression = false
	default:
		return c, fmt.Errorf("OZGFLOW_PAYLOAD_COMPRESSION %q: want on or off", v)
	}
	if v := getenv("OZGFLOW_WORKER_CACHE_SIZE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return c, fmt.Errorf("OZGFLOW_WORKER_CACHE_SIZE %q: want a number of workflows, 0 or more", v)
		}
		c.WorkerCacheSize = n
	}
	if err := setDurations(getenv, map[string]*time.Duration{"OZGFLOW_PROJECTIONS_CHECK": &c.ProjectionsCheck,
		"OZGFLOW_PAYMENT_TIMEOUT": &c.PaymentTimeout}, "5s"); err != nil {
		return c, err
	}
	if err := c.noticesFromEnv(getenv); err != nil {
		return c, err
	}
	if err := c.identityFromEnv(getenv); err != nil {
		return c, err
	}
	if err := c.operationsFromEnv(getenv); err != nil {
		return c, err
	}
	if err := c.fitConnectFromEnv(getenv); err != nil {
		return c, err
	}
	c.limitsFromEnv(getenv)
	if v := getenv("OZGFLOW_LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return c, fmt.Errorf("OZGFLOW_LOG_LEVEL %q: want debug, info, warn or error", v)
		}
	}
	return c, nil
}

// Validate checks what the named process needs.
func (c Config) Validate(process string) error {
	var errs []error
	need := requirer(&errs)
	if process == "worker" || process == "gateway" {
		need(c.Secret, "OZGFLOW_SECRET", "gateway and worker share it to encrypt payloads")
		need(c.TemporalAddress, "TEMPORAL_ADDRESS", "host:port of the Temporal frontend")
		need(c.RecordsURL, "OZGFLOW_RECORDS_URL", "documents, the audit trail and closed cases are kept there (postgres://…)")
	}
	if c.Secret != "" && len(c.Secret) < 16 {
		errs = append(errs, errors.New("OZGFLOW_SECRET must be at least 16 characters"))
	}
	if process != "dev" {
		errs = append(errs, c.refuseKnownSecrets(process)...)
	}
	if process == "worker" {
		need(c.PaymentURL, "OZGFLOW_PAYMENT_URL", "the payment provider's API")
		need(c.SignerURL, "OZGFLOW_SIGNER_URL", "the signer's API")
		need(c.FachverfahrenSecret, "OZGFLOW_FACHVERFAHREN_SECRET", "deliveries are HMAC-signed")
		if c.FachverfahrenURL == "" && c.FachverfahrenTargets == "" {
			errs = append(errs, errors.New("OZGFLOW_FACHVERFAHREN_URL or OZGFLOW_FACHVERFAHREN_TARGETS is required"))
		}
	}
	if process == "sandbox" {
		need(c.PaymentAPIKey, "OZGFLOW_PAYMENT_API_KEY", "the worker authenticates to the payment sandbox with it")
		need(c.PaymentWebhookURL, "OZGFLOW_PAYMENT_WEBHOOK_URL", "the gateway's /api/v1/webhooks/payments")
		need(c.PaymentWebhookSecret, "OZGFLOW_PAYMENT_WEBHOOK_SECRET", "payment webhooks are HMAC-signed")
		need(c.FachverfahrenSecret, "OZGFLOW_FACHVERFAHREN_SECRET", "the simulator checks the delivery signatures")
		if c.SignatureWebhookURL != "" {
			need(c.SignatureWebhookSecret, "OZGFLOW_SIGNATURE_WEBHOOK_SECRET", "signature webhooks are HMAC-signed")
		}
	}
	if process == "gateway" {
		need(c.PaymentWebhookSecret, "OZGFLOW_PAYMENT_WEBHOOK_SECRET", "payment webhooks are HMAC-signed")
		need(c.SignerURL, "OZGFLOW_SIGNER_URL", "receipts are verified with the signer's keys")
	}
	if _, err := c.Targets(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.webUIOrigins(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.validateNotices(process)...)
	errs = append(errs, c.validateCallbacks()...)
	errs = append(errs, c.validateFITConnect(process)...)
	errs = append(errs, c.validateIdentity(process)...)
	errs = append(errs, c.validateLimits()...)
	errs = append(errs, c.validateOperations()...)
	errs = append(errs, c.validateFITConnectDelivery()...)
	return errors.Join(errs...)
}

// Targets parses OZGFLOW_FACHVERFAHREN_TARGETS.
func (c Config) Targets() (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range strings.Split(c.FachverfahrenTargets, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		name, url, ok := strings.Cut(pair, "=")
		if !ok || name == "" || url == "" {
			return nil, fmt.Errorf("OZGFLOW_FACHVERFAHREN_TARGETS: %q is not name=url", pair)
		}
		out[strings.TrimSpace(name)] = strings.TrimSpace(url)
	}
	return out, nil
}

// devSecret returns the secret of a dev data directory, creating it once, so
// that access tokens and encrypted payloads stay valid across restarts.
func devSecret(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "secret")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 16 {
		return strings.TrimSpace(string(b)), nil
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	secret := hex.EncodeToString(buf)
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", fmt.Errorf("data directory %s: %w", dataDir, err)
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return secret, nil
}
