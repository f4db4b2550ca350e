package process

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	fitconnectout "github.com/ozgflow/ozgflow/activities/fitconnect"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
)

// FITConnectDeliveryConfig says which deliver targets are FIT-Connect
// destinations and how ozgflow reaches them as a sender: one sender client
// (token endpoint, Submission API, client ID and secret) and, per target,
// the destination's ID.
type FITConnectDeliveryConfig struct {
	FITConnectTokenURL     string // OZGFLOW_FITCONNECT_TOKEN_URL: the OAuth 2 token endpoint of the sender client
	FITConnectAPIURL       string // OZGFLOW_FITCONNECT_API_URL: the Submission API, ending in /v1
	FITConnectClientID     string // OZGFLOW_FITCONNECT_CLIENT_ID
	FITConnectClientSecret string // OZGFLOW_FITCONNECT_CLIENT_SECRET
	// FITConnectTargets maps deliver targets to destinations:
	// target=destinationId,… (OZGFLOW_FITCONNECT_TARGETS).
	FITConnectTargets string
	// FITConnectAnswerWithin is how long a destination may take to accept
	// or reject when the variant's deliver step sets no timeout
	// (OZGFLOW_FITCONNECT_ANSWER_WITHIN, default 72h).
	FITConnectAnswerWithin time.Duration
	// FITConnectSandboxReject is how many of the first submissions the
	// sandbox destination rejects (OZGFLOW_FITCONNECT_SANDBOX_REJECT,
	// default 0), to show a rejection and its resend.
	FITConnectSandboxReject int
}

// Dev's sender client at its sandbox destination, and the destination.
const (
	devSandboxSender         = "ozgflow-dev"
	devSandboxSenderSecret   = "dev-fitconnect-sandbox-secret"
	devFITConnectDestination = "62a529b5-a4c0-57b9-ac59-eb70885aacd1"
	devFITConnectTarget      = "fitconnect-chemnitz"
)

// fitConnectFromEnv reads the FIT-Connect delivery's variables.
func (c *Config) fitConnectFromEnv(getenv func(string) string) error {
	set := setter(getenv)
	set(&c.FITConnectTokenURL, "OZGFLOW_FITCONNECT_TOKEN_URL")
	set(&c.FITConnectAPIURL, "OZGFLOW_FITCONNECT_API_URL")
	set(&c.FITConnectClientID, "OZGFLOW_FITCONNECT_CLIENT_ID")
	set(&c.FITConnectClientSecret, "OZGFLOW_FITCONNECT_CLIENT_SECRET")
	set(&c.FITConnectTargets, "OZGFLOW_FITCONNECT_TARGETS")
	if err := setDurations(getenv, map[string]*time.Duration{"OZGFLOW_FITCONNECT_ANSWER_WITHIN": &c.FITConnectAnswerWithin}, "72h"); err != nil {
		return err
	}
	if v := strings.TrimSpace(getenv("OZGFLOW_FITCONNECT_SANDBOX_REJECT")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("OZGFLOW_FITCONNECT_SANDBOX_REJECT %q: want a number of submissions, 0 or more", v)
		}
		c.FITConnectSandboxReject = n
	}
	return nil
}

// fitConnectTargets parses OZGFLOW_FITCONNECT_TARGETS into the adapter's
// targets, with the sender client's settings.
func (c Config) fitConnectTargets() ([]fitconnectout.Target, error) {
	var out []fitconnectout.Target
	for _, pair := range strings.Split(c.FITConnectTargets, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		name, dest, ok := strings.Cut(pair, "=")
		name, dest = strings.TrimSpace(name), strings.TrimSpace(dest)
		if !ok || name == "" {
			return nil, fmt.Errorf("OZGFLOW_FITCONNECT_TARGETS: %q is not target=destinationId", pair)
		}
		if _, err := uuid.Parse(dest); err != nil {
			return nil, fmt.Errorf("OZGFLOW_FITCONNECT_TARGETS: destination %q of %s is no UUID", dest, name)
		}
		out = append(out, fitconnectout.Target{Name: name, TokenURL: c.FITConnectTokenURL, APIURL: c.FITConnectAPIURL,
			ClientID: c.FITConnectClientID, ClientSecret: c.FITConnectClientSecret, DestinationID: dest,
			AnswerWithin: c.FITConnectAnswerWithin})
	}
	return out, nil
}

// validateFITConnectDelivery checks the targets and, when there are any, the
// sender client's settings.
func (c Config) validateFITConnectDelivery() []error {
	targets, err := c.fitConnectTargets()
	if err != nil {
		return []error{err}
	}
	if len(targets) == 0 {
		return nil
	}
	var errs []error
	need := requirer(&errs)
	need(c.FITConnectClientID, "OZGFLOW_FITCONNECT_CLIENT_ID", "OZGFLOW_FITCONNECT_TARGETS names FIT-Connect destinations")
	need(c.FITConnectClientSecret, "OZGFLOW_FITCONNECT_CLIENT_SECRET", "OZGFLOW_FITCONNECT_TARGETS names FIT-Connect destinations")
	for name, v := range map[string]string{"OZGFLOW_FITCONNECT_TOKEN_URL": c.FITConnectTokenURL, "OZGFLOW_FITCONNECT_API_URL": c.FITConnectAPIURL} {
		if u, err := url.Parse(v); v == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s %q: want an http(s) URL, as OZGFLOW_FITCONNECT_TARGETS names FIT-Connect destinations", name, v))
		}
	}
	return errs
}

// fitConnectSandboxed points the sender client at dev's sandbox
// destination (served at internal), unless the variables name another.
func (c Config) fitConnectSandboxed(internal string) Config {
	if c.FITConnectTargets != "" {
		return c
	}
	base := internal + fitconnectout.SandboxPath
	c.FITConnectTokenURL, c.FITConnectAPIURL = base+"/token", base+"/v1"
	c.FITConnectClientID, c.FITConnectClientSecret = devSandboxSender, devSandboxSenderSecret
	c.FITConnectTargets = devFITConnectTarget + "=" + devFITConnectDestination
	return c
}

// fitConnectSandbox is the sandbox destination of the sandbox process and
// dev: it takes every published variant's service and schema, under the
// destination dev's target names, from the sender client of
// OZGFLOW_FITCONNECT_CLIENT_ID and _SECRET (dev's own without them), and
// keeps its keys in the data directory.
func (c Config) fitConnectSandbox(baseURL string, logger *slog.Logger) (*fitconnectout.Sandbox, error) {
	services := map[string][]string{}
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		return nil, fmt.Errorf("fitconnect sandbox: %w", err)
	}
	for _, def := range reg.Published() {
		services[def.Service] = append(services[def.Service], def.SchemaURI())
	}
	if c.DataDir == "" {
		return nil, errors.New("fitconnect sandbox: no data directory for its keys (OZGFLOW_DATA_DIR)")
	}
	client, secret := devSandboxSender, devSandboxSenderSecret
	if c.FITConnectClientID != "" && c.FITConnectClientSecret != "" {
		client, secret = c.FITConnectClientID, c.FITConnectClientSecret
	}
	return fitconnectout.NewSandbox(fitconnectout.SandboxConfig{
		BaseURL: baseURL, ClientID: client, ClientSecret: secret,
		KeyDir:       c.sandboxKeyDir(),
		Destinations: []fitconnectout.SandboxDestination{{ID: devFITConnectDestination, Services: services}},
		RejectNext:   c.FITConnectSandboxReject, Logger: logger,
	})
}

// sandboxKeyDir is where the sandbox destination keeps its keys: beside the
// intake's keys when OZGFLOW_FITCONNECT_KEYS_DIR names a directory (tests
// share one, since a 4096-bit key takes seconds to make), else in the data
// directory.
func (c Config) sandboxKeyDir() string {
	if c.FITConnectKeysDir != "" {
		return filepath.Join(c.FITConnectKeysDir, "sandbox")
	}
	return filepath.Join(c.DataDir, "fitconnect-sandbox")
}
