package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow/activities/fachverfahren"
)

// simulatorAt serves a Fachverfahren simulator with faults and returns its base URL.
func simulatorAt(t *testing.T, secret string, faults fachverfahren.Faults) string {
	t.Helper()
	sim, err := fachverfahren.NewSimulator(fachverfahren.SimulatorConfig{Secret: []byte(secret), Faults: faults,
		CallbackDelay: 10 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	sim.Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(func() {
		srv.Close()
		sim.Close()
	})
	return srv.URL + fachverfahren.Path
}

func TestConformanceCommand(t *testing.T) {
	const secret = "vendor-secret-0123456789"
	broken := fachverfahren.BrokenFaults
	broken.SlowAnswers = 800 * time.Millisecond
	good, bad := simulatorAt(t, secret, fachverfahren.Faults{}), simulatorAt(t, secret, broken)
	flags := []string{"--timeout", "500ms", "--wait", "15s"}

	t.Run("the simulator passes", func(t *testing.T) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"conformance", "--target", good, "--secret", secret}, flags...),
			func(string) string { return "" }, &out, &errOut)
		if err != nil {
			t.Fatalf("err = %v\n%s%s", err, out.String(), errOut.String())
		}
		if !strings.Contains(out.String(), "10 of 10 requirements met.") {
			t.Errorf("report:\n%s", out.String())
		}
	})
	t.Run("the broken simulator fails, exit code 1", func(t *testing.T) {
		var out, errOut bytes.Buffer
		// The secret comes from the environment, as ozgflow's processes take it.
		env := func(k string) string {
			if k == "OZGFLOW_FACHVERFAHREN_SECRET" {
				return secret
			}
			return ""
		}
		err := run(context.Background(), append([]string{"conformance", "--target", bad, "--json"}, flags...), env, &out, &errOut)
		if !errors.Is(err, errRequirementsFailed) ||
			!strings.Contains(err.Error(), "4 of 10 requirements not met: signature-checked, idempotent, timely, callbacks-signed") {
			t.Fatalf("err = %v", err)
		}
		var report struct {
			Passed       bool `json:"passed"`
			Requirements []struct {
				ID     string `json:"id"`
				Passed bool   `json:"passed"`
			} `json:"requirements"`
		}
		if err := json.Unmarshal(out.Bytes(), &report); err != nil || report.Passed || len(report.Requirements) != 10 {
			t.Fatalf("JSON report (%v):\n%s", err, out.String())
		}
	})
	t.Run("target and secret are required", func(t *testing.T) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"conformance", "--target", good}, func(string) string { return "" }, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "--target and --secret are required") ||
			!strings.Contains(errOut.String(), "Usage: ozgflow conformance") {
			t.Fatalf("err = %v\n%s", err, errOut.String())
		}
	})
}
