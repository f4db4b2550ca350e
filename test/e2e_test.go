// Package test runs the end-to-end suite against `ozgflow dev` in this
// process (embedded Temporal, real Redis, gateway, sandboxes), and the tests
// that need to reach inside it: restart, privacy in Temporal, metrics.
package test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ozgflow/ozgflow/internal/fitconnecttest"
	"github.com/ozgflow/ozgflow/process"
	"github.com/ozgflow/ozgflow/test/e2e"
)

// dev is the shared in-process instance of this test binary.
var dev *process.Dev

func TestMain(m *testing.M) {
	dataDir, err := os.MkdirTemp("", "ozgflow-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	d, err := startStack(dataDir, true, "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "end-to-end tests could not start ozgflow dev (they need Redis: `make test` starts one):", err)
		os.Exit(1)
	}
	dev = d
	code := m.Run()
	d.Close()
	os.RemoveAll(dataDir)
	os.Exit(code)
}

func TestEndToEnd(t *testing.T) {
	e2e.RunAll(t, stackOf(dev))
}

// stackOf describes an in-process dev for the suite.
func stackOf(d *process.Dev) *e2e.Stack {
	return &e2e.Stack{URL: d.URL, SandboxURL: d.URL, Temporal: d.Client, Namespace: "ozgflow", Records: d.Records,
		FachverfahrenSecret: []byte(process.DevFachverfahrenSecret)}
}

// startStack starts `dev` on addr against the Redis at REDIS_URL, with its
// own key prefix so parallel test binaries do not meet.
func startStack(dataDir string, inMemory bool, addr string) (*process.Dev, error) {
	cfg := devConfig(dataDir, addr)
	cfg.RedisPrefix = "e2e:" + uuid.NewString() + ":"
	return process.StartDev(context.Background(), cfg, process.DevOptions{InMemory: inMemory, RequireRedis: true}, testLogger())
}

// devConfig is the configuration of a test instance of `dev`.
func devConfig(dataDir, addr string) process.Config {
	cfg := process.DefaultConfig()
	if v := os.Getenv("REDIS_URL"); v != "" {
		cfg.RedisURL = v
	}
	cfg.Addr, cfg.DataDir, cfg.Secret = addr, dataDir, "e2e-secret-0123456789abcdef"
	// The FIT-Connect keys take seconds to make: every test binary shares them.
	cfg.FITConnectKeysDir = fitconnecttest.Dir()
	// The portal scenario lets notices exhaust their attempts: 20, 50 ms to 500 ms apart.
	cfg.PortalMaxAttempts, cfg.PortalBackoffInitial, cfg.PortalBackoffMax = 20, 50*time.Millisecond, 500*time.Millisecond
	return cfg
}

// startDev starts `dev` as a newcomer would: the embedded Redis is allowed.
func startDev(cfg process.Config, inMemory bool) (*process.Dev, error) {
	return process.StartDev(context.Background(), cfg, process.DevOptions{InMemory: inMemory}, testLogger())
}

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}
