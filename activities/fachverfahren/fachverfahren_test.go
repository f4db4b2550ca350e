package fachverfahren_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/gorilla/mux"
	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/activities/fachverfahren"
)

var secret = []byte("shared-secret")

func newSimulator(t *testing.T, stateFile string) (*fachverfahren.Simulator, *httptest.Server) {
	t.Helper()
	sim, err := fachverfahren.NewSimulator(fachverfahren.SimulatorConfig{Secret: secret, StateFile: stateFile})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	sim.Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return sim, srv
}

func client(srv *httptest.Server, key []byte) *fachverfahren.Client {
	return fachverfahren.NewClient(fachverfahren.ClientConfig{DefaultURL: srv.URL + "/sandbox/fachverfahren", Secret: key})
}

var submission = activities.Submission{CaseID: "c1", Service: "99050035001000", Authority: "147130000000"}

func TestDeliveryIsRecordedOncePerCaseAndKind(t *testing.T) {
	ctx := context.Background()
	sim, srv := newSimulator(t, "")
	c := client(srv, secret)
	first, err := c.Deliver(ctx, "gewerbe", "case", submission)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Deliver(ctx, "gewerbe", "case", submission)
	if err != nil || again.Reference != first.Reference {
		t.Fatalf("redelivery: %+v %v, want reference %s", again, err, first.Reference)
	}
	if _, err := c.Deliver(ctx, "dms", "archive", submission); err != nil {
		t.Fatal(err)
	}
	if got := sim.Received(); len(got) != 2 || got[0].Target != "gewerbe" || got[1].Kind != "archive" {
		t.Fatalf("received %+v", got)
	}
	if err := c.Withdraw(ctx, "gewerbe", "c1", "Umzug"); err != nil {
		t.Fatal(err)
	}
	if got := sim.Received()[0]; !got.Withdrawn || got.WithdrawalReason != "Umzug" {
		t.Errorf("after withdrawal: %+v", got)
	}
	if err := c.Withdraw(ctx, "gewerbe", "never-delivered", ""); err != nil {
		t.Errorf("withdrawing an undelivered case: %v", err)
	}
}

func TestRefusalsAndOutages(t *testing.T) {
	ctx := context.Background()
	sim, srv := newSimulator(t, "")
	var appErr *temporal.ApplicationError
	if _, err := client(srv, []byte("wrong")).Deliver(ctx, "gewerbe", "case", submission); !errors.As(err, &appErr) ||
		!appErr.NonRetryable() || appErr.Type() != "DeliveryRejected" {
		t.Errorf("bad signature: %v, want non-retryable DeliveryRejected", err)
	}
	sim.SetDown(true)
	_, err := client(srv, secret).Deliver(ctx, "gewerbe", "case", submission)
	if err == nil || errors.As(err, &appErr) {
		t.Fatalf("outage: %v, want a retryable error", err)
	}
	sim.SetDown(false)
	if _, err := client(srv, secret).Deliver(ctx, "gewerbe", "case", submission); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	noURL := fachverfahren.NewClient(fachverfahren.ClientConfig{Secret: secret})
	if _, err := noURL.Deliver(ctx, "nowhere", "case", submission); !errors.As(err, &appErr) || appErr.Type() != "UnknownTarget" {
		t.Errorf("unknown target: %v", err)
	}
	res, err := http.Post(srv.URL+"/sandbox/fachverfahren/cases", "application/json", bytes.NewReader([]byte(`{}`)))
	if err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned POST: %v %v", res, err)
	}
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/sandbox/fachverfahren/outage", bytes.NewReader([]byte(`{"down": true}`)))
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("outage switch: %v %v", res, err)
	}
	if _, err := client(srv, secret).Deliver(ctx, "gewerbe", "case", activities.Submission{CaseID: "c2"}); err == nil {
		t.Error("delivered during an outage switched on over HTTP")
	}
}

func TestRecordsSurviveRestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "fv.json")
	_, srv := newSimulator(t, file)
	first, err := client(srv, secret).Deliver(context.Background(), "gewerbe", "case", submission)
	if err != nil {
		t.Fatal(err)
	}
	sim, srv2 := newSimulator(t, file)
	again, err := client(srv2, secret).Deliver(context.Background(), "gewerbe", "case", submission)
	if err != nil || again.Reference != first.Reference || len(sim.Received()) != 1 {
		t.Errorf("after restart: %+v %v, %d records", again, err, len(sim.Received()))
	}
}
