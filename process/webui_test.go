package process

import (
	"slices"
	"strings"
	"testing"
)

func TestWebUIOrigins(t *testing.T) {
	cfg, err := FromEnv(env(map[string]string{"OZGFLOW_WEB_UI_ORIGINS": " https://Temporal.Example.de , http://localhost:8233"}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.webUIOrigins()
	if want := []string{"https://temporal.example.de", "http://localhost:8233"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("origins %v %v, want %v", got, err, want)
	}
	for _, bad := range []string{"temporal.example.de", "https://temporal.example.de/", "https://temporal.example.de/ui",
		"ftp://temporal.example.de", "https://temporal.example.de?x", "https://user@temporal.example.de"} {
		cfg, _ := FromEnv(env(map[string]string{"OZGFLOW_WEB_UI_ORIGINS": bad}))
		if err := cfg.Validate("gateway"); err == nil || !strings.Contains(err.Error(), "OZGFLOW_WEB_UI_ORIGINS") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestWebUIHostIsTheGateways: the Web UI's URL names this machine as the
// gateway's does, so that the browser sends the session's cookie across.
func TestWebUIHostIsTheGateways(t *testing.T) {
	for gateway, want := range map[string]string{
		"http://localhost:8080": "localhost", "http://127.0.0.1:8080": "127.0.0.1", "https://ozgflow.example.de": "localhost",
	} {
		if got := uiHost(gateway); got != want {
			t.Errorf("uiHost(%s) = %s, want %s", gateway, got, want)
		}
	}
}
