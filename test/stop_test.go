package test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow/process"
	"github.com/ozgflow/ozgflow/test/e2e"
)

// lockedBuffer collects a process's log lines from many goroutines.
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

// TestOrderlyStop stops dev while portals keep submitting: every submit
// the gateway took answers 201, every later one 503 or finds the door
// closed, none answers 500, and no activity fails because the sandboxes
// stopped before the worker.
func TestOrderlyStop(t *testing.T) {
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := devConfig(t.TempDir(), "127.0.0.1:0")
	cfg.RedisPrefix = "stop:" + time.Now().Format("150405.000") + ":"
	d, err := process.StartDev(context.Background(), cfg, process.DevOptions{InMemory: true, RequireRedis: true}, logger)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(e2e.Gewerbeanmeldung(e2e.Leipzig, "amt24-stop"))
	client := &http.Client{Timeout: 60 * time.Second}
	var created, refused, closed atomic.Int64
	var mu sync.Mutex
	var wrong []string
	stopping := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				req, _ := http.NewRequest(http.MethodPost, d.URL+"/api/v1/applications", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer dev-portal")
				res, err := client.Do(req)
				if err != nil {
					closed.Add(1) // the listener is closed: the client sees the door shut
					return
				}
				res.Body.Close()
				switch res.StatusCode {
				case http.StatusCreated:
					created.Add(1)
				case http.StatusServiceUnavailable:
					refused.Add(1)
				default:
					mu.Lock()
					wrong = append(wrong, res.Status)
					mu.Unlock()
				}
				select {
				case <-stopping:
					if res.StatusCode == http.StatusServiceUnavailable {
						return
					}
				default:
				}
			}
		}()
	}
	e2e.WaitFor(t, "cases submitted", 30*time.Second, func() bool { return created.Load() >= 20 })
	close(stopping)
	began := time.Now()
	d.Close()
	// The submits in flight wait for their payment link, which the worker
	// gets from the payment sandbox: with the sandboxes kept while the
	// gateway drains, they finish at once instead of retrying until the
	// stop gives up on them.
	if took := time.Since(began); took > 8*time.Second {
		t.Errorf("the stop took %v", took)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("submits still running a minute after the stop")
	}
	if len(wrong) > 0 {
		t.Errorf("answers during the stop: %v", wrong)
	}
	t.Logf("%d created, %d refused while stopping, %d found the door closed", created.Load(), refused.Load(), closed.Load())
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "Activity error") && (strings.Contains(line, "connection refused") ||
			strings.Contains(line, "Server closed") || strings.Contains(line, "EOF")) {
			t.Errorf("an activity failed against a stopped sandbox: %s", line)
		}
	}
}
