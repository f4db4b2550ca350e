package portal_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities/portal"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startSandbox serves a sandbox portal and returns it with its webhook URL.
func startSandbox(t *testing.T, secret, stateFile string) (*portal.Sandbox, string) {
	t.Helper()
	sb, err := portal.NewSandbox(portal.SandboxConfig{Secret: []byte(secret), StateFile: stateFile, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	sb.Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(func() { srv.Close(); sb.Close() })
	return sb, srv.URL + portal.SandboxPath + "/events"
}

func notice(caseID string, n int) ozgflow.Notice {
	return ozgflow.Notice{ID: caseID + "-" + string(rune('0'+n)), CaseID: caseID, PortalAccount: "amt24-anna",
		Status: ozgflow.StatusReceived, Title: "Antrag eingegangen", Text: "Ihr Antrag ist eingegangen.",
		Easy: "Wir haben Ihren Antrag.", At: time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)}
}

func statusOf(err error) int {
	var se *portal.StatusError
	if errors.As(err, &se) {
		return se.Status
	}
	return 0
}

func TestEventIsACloudEventOfTheNotice(t *testing.T) {
	e := portal.NewEvent(notice("c1", 2))
	if e.SpecVersion != "1.0" || e.ID != "c1-2" || e.Subject != "c1" || e.Type != portal.EventType ||
		e.Source == "" || !e.Time.Equal(notice("c1", 2).At) || e.Data.PortalAccount != "amt24-anna" ||
		e.Data.Easy == "" || e.Data.Status != ozgflow.StatusReceived {
		t.Errorf("event = %+v", e)
	}
	if !reflect.DeepEqual(portal.NewEvent(notice("c1", 2)), e) {
		t.Error("the same notice gave another event")
	}
	if err := e.Valid(); err != nil {
		t.Error(err)
	}
	if e.Data.Documents != nil {
		t.Errorf("documents %+v of a notice without any", e.Data.Documents)
	}
	// A decision's document comes with its notice, with where to fetch it.
	n := notice("c1", 3)
	n.Documents = []ozgflow.Attachment{{Name: "Bescheid.pdf", ContentType: "application/pdf", Size: 1234, SHA256: "ab12"}}
	docs := portal.NewEvent(n).Data.Documents
	if len(docs) != 1 || docs[0].Name != "Bescheid.pdf" || docs[0].Href != "/api/v1/applications/c1/documents/ab12" {
		t.Errorf("documents %+v", docs)
	}
}

// TestClientAndSandboxSpeakOneProtocol is the contract between the webhook
// client and the sandbox portal.
func TestClientAndSandboxSpeakOneProtocol(t *testing.T) {
	ctx := context.Background()
	state := filepath.Join(t.TempDir(), "portal.jsonl")
	sb, url := startSandbox(t, "portal-secret", state)
	c := &portal.Client{URL: url, Secret: []byte("portal-secret")}

	if err := c.Send(ctx, portal.NewEvent(notice("c1", 1))); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(ctx, portal.NewEvent(notice("c1", 1))); err != nil {
		t.Fatalf("a duplicate is taken too: %v", err)
	}
	if err := c.Send(ctx, portal.NewEvent(notice("c1", 2))); err != nil {
		t.Fatal(err)
	}
	got := sb.Received()
	if len(got) != 2 || got[0].ID != "c1-1" || got[0].Deliveries != 2 || got[1].Deliveries != 1 ||
		got[0].Event.Data.Text != "Ihr Antrag ist eingegangen." {
		t.Fatalf("received %+v", got)
	}

	wrong := &portal.Client{URL: url, Secret: []byte("other-secret")}
	if err := wrong.Send(ctx, portal.NewEvent(notice("c1", 3))); statusOf(err) != http.StatusUnauthorized {
		t.Errorf("wrong secret: %v", err)
	}
	stale := &portal.Client{URL: url, Secret: []byte("portal-secret"), Now: func() time.Time { return time.Now().Add(-10 * time.Minute) }}
	if err := stale.Send(ctx, portal.NewEvent(notice("c1", 3))); statusOf(err) != http.StatusUnauthorized {
		t.Errorf("stale timestamp: %v", err)
	}
	broken := portal.NewEvent(notice("c1", 3))
	broken.SpecVersion = "0.3"
	if err := c.Send(ctx, broken); statusOf(err) != http.StatusBadRequest {
		t.Errorf("wrong specversion: %v", err)
	}

	sb.SetDown(true)
	err := c.Send(ctx, portal.NewEvent(notice("c1", 3)))
	if statusOf(err) != http.StatusServiceUnavailable || !strings.Contains(err.Error(), "503") {
		t.Errorf("during the outage: %v", err)
	}
	sb.SetDown(false)
	if n := len(sb.Received()); n != 2 {
		t.Errorf("refused events were recorded: %d", n)
	}

	// What arrived survives a restart of the sandbox, duplicates counted.
	again, _ := startSandbox(t, "portal-secret", state)
	if got := again.Received(); len(got) != 2 || got[0].Deliveries != 2 {
		t.Errorf("after restart %+v", got)
	}
}

func TestSandboxOverHTTP(t *testing.T) {
	sb, url := startSandbox(t, "portal-secret", "")
	base := strings.TrimSuffix(url, "/events")
	post := func(path, contentType, body string) int {
		t.Helper()
		res, err := http.Post(base+path, contentType, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := post("/outage", "application/json", `{"down": true}`); got != http.StatusOK || !sb.Down() {
		t.Fatalf("outage on: %d", got)
	}
	if got := post("/events", portal.ContentType, `{}`); got != http.StatusServiceUnavailable {
		t.Errorf("event during the outage: %d", got)
	}
	if got := post("/outage", "application/json", `{"down": false}`); got != http.StatusOK || sb.Down() {
		t.Fatalf("outage off: %d", got)
	}
	if got := post("/outage", "application/json", `{}`); got != http.StatusBadRequest {
		t.Errorf("outage without down: %d", got)
	}
	if got := post("/events", portal.ContentType, `{}`); got != http.StatusUnauthorized {
		t.Errorf("unsigned event: %d", got)
	}
	// Binary mode (plain JSON) is not what the portal speaks.
	body := `{"specversion":"1.0","id":"x"}`
	ts := time.Now()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(ozgflow.HeaderSignatureTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(ozgflow.HeaderSignature, ozgflow.SignBody([]byte("portal-secret"), ts, []byte(body)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("plain JSON: %d", res.StatusCode)
	}
}
