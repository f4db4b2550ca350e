package devserver

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestUIServesWithTheCodecAndStops: the Web UI answers on its port, its
// settings name the codec endpoint with the browser's credentials, and
// after Stop the port is closed.
func TestUIServesWithTheCodecAndStops(t *testing.T) {
	ui, err := StartUI(UIOptions{TemporalAddress: "127.0.0.1:1", Namespace: "ozgflow",
		CodecEndpoint: "http://localhost:8080/api/v1/codec", SignInURL: "http://localhost:8080/anmelden"})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			ui.Stop()
		}
	}()
	if !strings.HasPrefix(ui.URL(), "http://localhost:") {
		t.Errorf("URL %s, want http://localhost:<port>", ui.URL())
	}
	local := strings.Replace(ui.URL(), "localhost", "127.0.0.1", 1)
	client := &http.Client{Timeout: 10 * time.Second}
	res, err := client.Get(local + "/api/v1/settings")
	if err != nil {
		t.Fatal(err)
	}
	var settings struct {
		DefaultNamespace string
		Codec            struct {
			Endpoint           string
			IncludeCredentials bool
			DefaultErrorLink   string
		}
	}
	err = json.NewDecoder(res.Body).Decode(&settings)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("settings: %d %v", res.StatusCode, err)
	}
	if c := settings.Codec; c.Endpoint != "http://localhost:8080/api/v1/codec" || !c.IncludeCredentials ||
		c.DefaultErrorLink != "http://localhost:8080/anmelden" || settings.DefaultNamespace != "ozgflow" {
		t.Errorf("settings %+v", settings)
	}
	res, err = client.Get(local + "/namespaces/ozgflow/workflows")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(page), "<html") {
		t.Errorf("the UI's page: %d %.200s", res.StatusCode, page)
	}

	ui.Stop()
	stopped = true
	if conn, err := net.DialTimeout("tcp", strings.TrimPrefix(local, "http://"), time.Second); err == nil {
		conn.Close()
		t.Error("the UI still listens after Stop")
	}
}

// TestUIRefusesATakenPort names the port instead of ending the process.
func TestUIRefusesATakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	_, err = StartUI(UIOptions{TemporalAddress: "127.0.0.1:1", Port: port})
	if err == nil || !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Errorf("err = %v, want one naming port %d", err, port)
	}
}
