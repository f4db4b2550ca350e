package process

import (
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
