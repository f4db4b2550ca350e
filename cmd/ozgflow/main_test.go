package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCommands(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		wantOut string
	}{
		{"no command", nil, nil, "no command", ""},
		{"unknown command", []string{"fly"}, nil, `unknown command "fly"`, ""},
		{"help", []string{"help"}, nil, "", "dev       embedded Temporal"},
		{"worker without configuration", []string{"worker"}, nil, "OZGFLOW_SECRET is required", ""},
		{"bad flag", []string{"dev", "--nope"}, nil, "flag provided but not defined", ""},
		{"bad environment", []string{"dev"}, map[string]string{"OZGFLOW_LOG_LEVEL": "shout"}, "OZGFLOW_LOG_LEVEL", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.args, func(k string) string { return tt.env[k] }, &out, &errOut)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("output %q lacks %q", out.String(), tt.wantOut)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestDevPrintsURLsAndTokens(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	temporalPort := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	uiPort := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"dev", "--addr", "127.0.0.1:0", "--data-dir", dir, "--temporal-port", temporalPort,
			"--ui-port", uiPort}, os.Getenv, &out, &errOut)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(out.String(), "Stop with Ctrl-C") {
		select {
		case err := <-done:
			t.Fatalf("dev stopped: %v\n%s\n%s", err, out.String(), errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dev did not start:\n%s\n%s", out.String(), errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, want := range []string{"/api/v1", "/sandbox/payments/", "/sandbox/fachverfahren/received", "/api/v1/keys", "/verwaltung",
		"dev-portal", "dev-sb-leipzig", "dev-sb-dresden", "dev-admin", dir, "127.0.0.1:" + temporalPort,
		"Temporal Web UI        http://localhost:" + uiPort} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("start output lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "temporal.db")); err != nil {
		t.Errorf("no SQLite database in the data directory: %v", err)
	}
	ui := "127.0.0.1:" + uiPort
	res, err := http.Get("http://" + ui + "/api/v1/settings")
	if err != nil {
		t.Fatalf("the Web UI does not answer: %v", err)
	}
	settings, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(settings), "/api/v1/codec") {
		t.Errorf("the Web UI's settings: %d %s", res.StatusCode, settings)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("dev stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("dev did not stop")
	}
	if conn, err := net.DialTimeout("tcp", ui, time.Second); err == nil {
		conn.Close()
		t.Error("the Web UI still listens after dev stopped")
	}
}

// TestDevTemporalPortDefaultsToTheCLIs: without --temporal-port the
// embedded frontend listens where the temporal CLI looks first, and
// without --ui-port the Web UI is where the CLI's dev server has it.
func TestDevTemporalPortDefaultsToTheCLIs(t *testing.T) {
	var out, errOut syncBuffer
	_ = run(context.Background(), []string{"dev", "-h"}, os.Getenv, &out, &errOut)
	usage := errOut.String()
	for _, want := range []string{"-temporal-port", "(default 7233)", "-ui-port", "(default 8233)"} {
		if !strings.Contains(usage, want) {
			t.Errorf("dev's flags lack %q:\n%s", want, usage)
		}
	}
}
