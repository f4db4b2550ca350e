// Package external runs the end-to-end suite against ozgflow as it runs in
// production: a Temporal server on PostgreSQL and separate gateway, worker
// and sandbox processes of the ozgflow binary, talking over the network.
package external

import (
	crand "crypto/rand"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq"
	"go.temporal.io/sdk/client"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/internal/fitconnecttest"
	"github.com/ozgflow/ozgflow/internal/oidctest"
	"github.com/ozgflow/ozgflow/internal/recordstest"
	"github.com/ozgflow/ozgflow/internal/redistest"
	"github.com/ozgflow/ozgflow/test/e2e"
)

// postgresURL is the PostgreSQL server of the test machine; `make test`
// checks that it answers.
func postgresURL() string {
	if v := os.Getenv("OZGFLOW_TEST_POSTGRES_URL"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432"
}

// newSecret is a secret of this run, as production makes them: the worker,
// gateway and sandbox refuse secrets published with ozgflow.
func newSecret() string { return crand.Text() }

func TestSuiteAgainstSeparateProcesses(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "ozgflow")
	build := exec.Command("go", "build", "-o", bin, "./cmd/ozgflow")
	build.Dir = moduleRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build ozgflow: %v\n%s", err, out)
	}

	database := fmt.Sprintf("ozgflow_e2e_%d", rand.IntN(1<<30))
	dropDatabases(t, database)
	t.Cleanup(func() { dropDatabases(t, database) })

	temporalAddr, gatewayAddr, sandboxAddr, workerOps := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	smtpAddr := freeAddr(t)
	fachverfahrenSecret := newSecret()
	// The gateway serves the FIT-Connect intake with keys made beforehand,
	// as in production (the test binaries share them).
	fitconnecttest.Keys(t)
	common := []string{
		"OZGFLOW_FITCONNECT_CLIENTS=external-sender=" + newSecret(),
		"OZGFLOW_FITCONNECT_KEYS_DIR=" + fitconnecttest.Dir(),
		"TEMPORAL_ADDRESS=" + temporalAddr,
		"TEMPORAL_NAMESPACE=ozgflow",
		"REDIS_URL=" + redistest.URL(),
		"OZGFLOW_REDIS_PREFIX=external:" + database + ":",
		"OZGFLOW_SECRET=" + newSecret(),
		"OZGFLOW_PAYMENT_URL=http://" + sandboxAddr + "/sandbox/paymentprovider",
		"OZGFLOW_PAYMENT_API_KEY=" + newSecret(),
		"OZGFLOW_PAYMENT_WEBHOOK_SECRET=" + newSecret(),
		"OZGFLOW_PAYMENT_WEBHOOK_URL=http://" + gatewayAddr + "/api/v1/webhooks/payments",
		"OZGFLOW_SIGNER_URL=http://" + sandboxAddr + "/sandbox/signer",
		"OZGFLOW_SIGNATURE_WEBHOOK_SECRET=" + newSecret(),
		"OZGFLOW_SIGNATURE_WEBHOOK_URL=http://" + gatewayAddr + "/api/v1/webhooks/signatures",
		"OZGFLOW_SIGNATURE_RETURN_URL=http://" + gatewayAddr,
		"OZGFLOW_FACHVERFAHREN_URL=http://" + sandboxAddr + "/sandbox/fachverfahren",
		"OZGFLOW_FACHVERFAHREN_SECRET=" + fachverfahrenSecret,
		// The simulator reports back to the gateway, as deliveries say.
		"OZGFLOW_FACHVERFAHREN_CALLBACK_URL=http://" + gatewayAddr + ozgflow.CallbackPath,
		"OZGFLOW_PORTAL_WEBHOOK_URL=http://" + sandboxAddr + "/sandbox/portal/events",
		"OZGFLOW_PORTAL_WEBHOOK_SECRET=" + newSecret(),
		// The suite drives the gateway from one address, faster than people
		// would: the limits `dev` has for the same reason.
		"OZGFLOW_RATE_SIGNIN=1000/m", "OZGFLOW_RATE_TOKEN_FAILURES=1000/m", "OZGFLOW_RATE_RECEIPT_CHECK=1000/m",
		"OZGFLOW_PORTAL_MAX_ATTEMPTS=20", // the portal scenario lets notices exhaust them
		"OZGFLOW_PORTAL_BACKOFF_INITIAL=50ms",
		"OZGFLOW_PORTAL_BACKOFF_MAX=500ms",
		"OZGFLOW_SMTP_ADDR=" + smtpAddr, // the sandbox's mail sink listens, the worker sends there
		"OZGFLOW_SMTP_FROM=noreply@ozgflow.localhost",
		"OZGFLOW_LOG_LEVEL=warn",
		// ozgflow's records database on PostgreSQL, as in production.
		"OZGFLOW_RECORDS_URL=" + recordstest.URL(t, "postgres"),
	}
	pgURL := strings.TrimSuffix(postgresURL(), "/") + "/" + database
	start(t, bin, dir, "temporal-server", append(common, "TEMPORAL_POSTGRES_URL="+pgURL))
	waitPort(t, temporalAddr, 90*time.Second)
	// The server registers the namespace after it listens; wait for it the
	// way an operator would.
	setup := exec.Command(bin, "setup-namespace")
	setup.Env = append(os.Environ(), common...)
	if out, err := setup.CombinedOutput(); err != nil {
		t.Fatalf("setup-namespace: %v\n%s", err, out)
	}
	start(t, bin, dir, "sandbox", append(common, "OZGFLOW_ADDR="+sandboxAddr, "OZGFLOW_PUBLIC_URL=http://"+sandboxAddr,
		"OZGFLOW_DATA_DIR="+filepath.Join(dir, "sandbox")))
	// Email notices link to the status page on the gateway, and payments
	// return there.
	start(t, bin, dir, "worker", append(common, "OZGFLOW_METRICS_ADDR="+workerOps, "OZGFLOW_PUBLIC_URL=http://"+gatewayAddr))
	// The gateway knows people and clients through an identity provider
	// only; the demo identities are its users and clients.
	gatewayURL := "http://" + gatewayAddr
	provider := startProvider(t, gatewayURL)
	realm := e2e.NewRealm(provider, gatewayURL)
	start(t, bin, dir, "gateway", append(append(common, "OZGFLOW_ADDR="+gatewayAddr), realm.Env(e2e.WriteAPIClients(t, dir))...))
	for _, u := range []string{"http://" + gatewayAddr + "/readyz", "http://" + workerOps + "/readyz", "http://" + sandboxAddr + "/healthz"} {
		waitReady(t, u, 60*time.Second)
	}

	tc, err := client.Dial(client.Options{HostPort: temporalAddr, Namespace: "ozgflow"})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	// The gateway takes no demo token.
	if res := e2e.Call(t, gatewayURL, http.MethodGet, "/api/v1/tasks", "dev-sb-leipzig", nil); res.Status != http.StatusUnauthorized {
		t.Fatalf("a demo token at the gateway: %d, want 401", res.Status)
	}
	// Colleagues are known by name once they have signed in, as in
	// production: hand-overs name them.
	for name := range e2e.People {
		realm.SignIn(t, name)
	}
	st := &e2e.Stack{URL: gatewayURL, SandboxURL: "http://" + sandboxAddr, Temporal: tc, Namespace: "ozgflow",
		Tokens: realm.Token, StaffSignIn: realm.SignIn, FachverfahrenSecret: []byte(fachverfahrenSecret)}
	e2e.RunAll(t, st)

	// The worker process reports its own metrics.
	res := e2e.Call(t, "http://"+workerOps, http.MethodGet, "/metrics", "", nil)
	if !strings.Contains(string(res.Body), `ozgflow_step_duration_seconds_count{activity="Deliver",result="ok"}`) {
		t.Errorf("worker metrics lack step durations")
	}
}

// startProvider runs the identity provider of the gateway at gatewayURL
// until the test ends. Access tokens live an hour, as the suite keeps them.
func startProvider(t *testing.T, gatewayURL string) *oidctest.Provider {
	t.Helper()
	cfg := e2e.RealmConfig(gatewayURL)
	cfg.AccessTokenLifetime = time.Hour
	return oidctest.StartT(t, cfg)
}

// start runs one role of the binary until the test ends; its output goes to
// a log file that is printed when the test fails.
func start(t *testing.T, bin, dir, role string, env []string) {
	t.Helper()
	logPath := filepath.Join(dir, role+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, role)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", role, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("--- %s log ---\n%s", role, tail(string(b), 4000))
		}
	})
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

func waitPort(t *testing.T, addr string, timeout time.Duration) {
	t.Helper()
	e2e.WaitFor(t, addr+" to listen", timeout, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

func waitReady(t *testing.T, u string, timeout time.Duration) {
	t.Helper()
	e2e.WaitFor(t, u, timeout, func() bool {
		res, err := http.Get(u)
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
}

// dropDatabases removes the test's Temporal databases; the tests fail loudly
// when PostgreSQL does not answer.
func dropDatabases(t *testing.T, database string) {
	t.Helper()
	u, err := url.Parse(postgresURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/postgres"
	q := u.Query()
	q.Set("sslmode", "disable")
	u.RawQuery = q.Encode()
	db, err := sql.Open("postgres", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, name := range []string{database, database + "_visibility"} {
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Fatalf("PostgreSQL at %s (the external-Temporal tests need it): %v", postgresURL(), err)
		}
	}
}
