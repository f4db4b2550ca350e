package faults

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// The suite runs the ozgflow binary as operators do, as a child process,
// so that it can be killed outright and stopped with a signal.

// ozgflowBinary is the path of the binary the scenarios run, built once by
// TestMain.
var ozgflowBinary string

// redisURL is the machine's Redis, which every instance of dev uses under
// a key prefix of its own.
var redisURL = "redis://127.0.0.1:6379/0"

// buildOzgflow builds cmd/ozgflow of this checkout into a directory of the
// system's temporary directory named after the checkout: the go command
// finds the binary there up to date on the next run and does not link it
// again (half a minute on a busy machine).
func buildOzgflow() (string, error) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(root))
	dir := filepath.Join(os.TempDir(), "ozgflow-faults-"+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "ozgflow")
	gocmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is needed to build ozgflow: %w", err)
	}
	cmd := exec.Command(gocmd, "build", "-o", bin, "./cmd/ozgflow")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/ozgflow: %v\n%s", err, out)
	}
	return bin, nil
}

// redisAnswers pings the machine's Redis.
func redisAnswers(ctx context.Context) error {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return fmt.Errorf("REDIS_URL %q: %w", redisURL, err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return rdb.Ping(ctx).Err()
}

// installation is one installation of dev under test: a data directory, the
// address its gateway listens on at every start, and its key prefix in Redis.
type installation struct {
	dir    string
	addr   string
	prefix string
	rdb    *redis.Client
	// env are the variables every start gets beyond the common ones.
	env []string
	// running is the process started last, if it still runs.
	running *devProcess
}

// newInstallation prepares an installation; its Redis keys and a process
// still running go when the test ends.
func newInstallation(t *testing.T, env ...string) *installation {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	in := &installation{dir: filepath.Join(t.TempDir(), "data"), addr: addr,
		prefix: "faults:" + uuid.NewString() + ":", rdb: redis.NewClient(opts), env: env}
	t.Cleanup(func() {
		if in.running != nil {
			in.running.kill()
		}
		in.dropKeys(context.Background())
		in.rdb.Close()
	})
	return in
}

// URL is the gateway's base URL, the same at every start.
func (in *installation) URL() string { return "http://" + in.addr }

// command is `ozgflow dev` on this installation.
func (in *installation) command() *exec.Cmd {
	cmd := exec.Command(ozgflowBinary, "dev", "--addr", in.addr, "--data-dir", in.dir, "--temporal-port", "0", "--ui-port", "0")
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "OZGFLOW_") || strings.HasPrefix(name, "TEMPORAL_") || name == "REDIS_URL" {
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env,
		"REDIS_URL="+redisURL,
		"OZGFLOW_REDIS_PREFIX="+in.prefix,
		// The worker looks five times a second whether Redis still holds
		// the projections.
		"OZGFLOW_PROJECTIONS_CHECK=200ms",
		"OZGFLOW_LOG_LEVEL=warn",
	)
	cmd.Env = append(cmd.Env, in.env...)
	return cmd
}

// devProcess is one run of `ozgflow dev`.
type devProcess struct {
	cmd     *exec.Cmd
	out     *lockedBuffer
	started time.Time
	exited  chan struct{}
	state   *os.ProcessState
}

// launch starts dev without waiting for it to serve.
func (in *installation) launch(t *testing.T) *devProcess {
	t.Helper()
	p := &devProcess{cmd: in.command(), out: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start ozgflow dev: %v", err)
	}
	go func() {
		_ = p.cmd.Wait()
		p.state = p.cmd.ProcessState
		close(p.exited)
	}()
	in.running = p
	return p
}

// startTimeout bounds a start of dev on this busy machine.
const startTimeout = 2 * time.Minute

// start starts dev and waits until its gateway serves and /readyz answers
// 200, or says "rebuilding" when rebuilding is allowed. dev must use the
// machine's Redis, not the embedded one it falls back to.
func (in *installation) start(t *testing.T, rebuilding bool) *devProcess {
	t.Helper()
	p := in.launch(t)
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-p.exited:
			t.Fatalf("ozgflow dev exited at start (%v):\n%s", p.state, p.out.Tail())
		default:
		}
		if strings.Contains(p.out.String(), "ozgflow dev is running") {
			status, body := get(in.URL() + "/readyz")
			if status == http.StatusOK || rebuilding && strings.Contains(body, "rebuilding") {
				break
			}
		}
		if time.Now().After(deadline) {
			p.kill()
			t.Fatalf("ozgflow dev not ready after %v:\n%s", startTimeout, p.out.Tail())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if strings.Contains(p.out.String(), "embedded in-memory Redis") {
		t.Fatalf("ozgflow dev fell back to its embedded Redis: %s does not answer", redisURL)
	}
	return p
}

// stop sends SIGTERM and waits for the process to end; it returns how long
// the stop took and fails the test unless dev exits 0.
func (p *devProcess) stop(t *testing.T) time.Duration {
	t.Helper()
	began := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	code, err := p.wait(time.Minute)
	if err != nil {
		t.Fatalf("%v:\n%s", err, p.out.Tail())
	}
	if code != 0 {
		t.Fatalf("ozgflow dev exited %d after SIGTERM:\n%s", code, p.out.Tail())
	}
	return time.Since(began)
}

// kill ends the process with SIGKILL, as a crash or the OOM killer does,
// and waits for it.
func (p *devProcess) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// wait waits for the process to exit and returns its exit code.
func (p *devProcess) wait(timeout time.Duration) (int, error) {
	select {
	case <-p.exited:
		return p.state.ExitCode(), nil
	case <-time.After(timeout):
		p.kill()
		return -1, fmt.Errorf("ozgflow dev still running %v later", timeout)
	}
}

// get answers the status and body of a GET, or 0 when nothing answered.
func get(url string) (int, string) {
	client := &http.Client{Timeout: 10 * time.Second}
	res, err := client.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	return res.StatusCode, buf.String()
}

// flushScript deletes every key matching ARGV[1] at once, as FLUSHDB would
// for a Redis of its own; it blocks the shared Redis while KEYS runs
// (half a second with a million keys of other suites).
var flushScript = redis.NewScript(`
local keys = redis.call('KEYS', ARGV[1])
for i = 1, #keys, 1000 do
  redis.call('DEL', unpack(keys, i, math.min(i + 999, #keys)))
end
return #keys`)

// flushProjections deletes every key of the installation's prefix in one
// step, as a flushed Redis loses them, and returns how many there were.
func (in *installation) flushProjections(ctx context.Context) (int, error) {
	return flushScript.Run(ctx, in.rdb, nil, in.prefix+"*").Int()
}

// dropKeys deletes the installation's keys when the test is done, found
// with SCAN, which does not hold up the others on the shared Redis.
func (in *installation) dropKeys(ctx context.Context) {
	var keys []string
	iter := in.rdb.Scan(ctx, 0, in.prefix+"*", 10000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if len(keys) > 0 {
		in.rdb.Del(ctx, keys...)
	}
}

// lockedBuffer collects a process's output from two pipes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Tail is the end of the output, enough to see why a process failed.
func (b *lockedBuffer) Tail() string {
	s := b.String()
	if len(s) > 6000 {
		s = "…" + s[len(s)-6000:]
	}
	return s
}

// isDialError reports whether a request failed before it reached the
// server: nothing listened.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
