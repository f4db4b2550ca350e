package process

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ozgflow/ozgflow/internal/fitconnecttest"
)

// TestFITConnectInDevAndElsewhere: dev always serves the intake with its
// sender; a gateway only with senders configured, and then not dev's.
func TestFITConnectInDevAndElsewhere(t *testing.T) {
	fitconnecttest.Keys(t) // made once for every test binary
	cfg := DefaultConfig()
	cfg.Secret, cfg.FITConnectKeysDir = "0123456789abcdef0123", fitconnecttest.Dir()
	dev, dests, err := cfg.fitConnect(true)
	if err != nil {
		t.Fatal(err)
	}
	if dev == nil || dev.Clients[DevFITConnectClient] != DevFITConnectSecret || len(dests) == 0 || len(dev.TokenSecret) != 32 {
		t.Fatalf("dev: %+v, %d destinations", dev, len(dests))
	}
	if gw, dests, err := cfg.fitConnect(false); err != nil || gw != nil || len(dests) == 0 {
		t.Errorf("a gateway without senders: %+v %v (%d destinations listed)", gw, err, len(dests))
	}
	cfg.FITConnectClients = "amt24=" + "0123456789abcdef0123456789"
	gw, _, err := cfg.fitConnect(false)
	if err != nil || gw == nil || gw.Clients["amt24"] == "" || gw.Clients[DevFITConnectClient] != "" {
		t.Errorf("a gateway with a sender: %+v %v", gw, err)
	}
}

// TestFITConnectKeysOnlyMadeInDev: a gateway whose key directory lacks
// keys refuses to start, naming the variable and the files, and makes
// none; dev makes them.
func TestFITConnectKeysOnlyMadeInDev(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Secret, cfg.FITConnectKeysDir = "0123456789abcdef0123", t.TempDir()
	cfg.FITConnectClients = "amt24=" + "0123456789abcdef0123456789"
	_, _, err := cfg.fitConnect(false)
	if err == nil {
		t.Fatal("a gateway started without keys")
	}
	for _, want := range append([]string{"OZGFLOW_FITCONNECT_KEYS_DIR", "openssl genpkey"}, fitConnectKeyFiles...) {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not name %s: %v", want, err)
		}
	}
	if files, _ := os.ReadDir(cfg.FITConnectKeysDir); len(files) != 0 {
		t.Errorf("a gateway made key files: %v", files)
	}
	// One file present: the refusal names only the others.
	fitconnecttest.Keys(t)
	b, err := os.ReadFile(filepath.Join(fitconnecttest.Dir(), fitConnectKeyFiles[0]))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg.FITConnectKeysDir, fitConnectKeyFiles[0]), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cfg.fitConnect(false); err == nil || strings.Contains(err.Error(), fitConnectKeyFiles[0]) ||
		!strings.Contains(err.Error(), fitConnectKeyFiles[2]) {
		t.Errorf("with one key present: %v", err)
	}
	cfg.DataDir, cfg.FITConnectKeysDir = t.TempDir(), ""
	if dev, _, err := cfg.fitConnect(true); err != nil || dev == nil {
		t.Fatalf("dev without keys: %v", err)
	}
	if files, _ := os.ReadDir(filepath.Join(cfg.DataDir, "fitconnect")); len(files) != len(fitConnectKeyFiles) {
		t.Errorf("dev kept %d key files, want %d", len(files), len(fitConnectKeyFiles))
	}
}
