package process

import (
	"strings"
	"testing"

	"github.com/ozgflow/ozgflow/activities/fachverfahren"
)

func TestCallbackSettings(t *testing.T) {
	cfg, err := FromEnv(env(map[string]string{
		"OZGFLOW_FACHVERFAHREN_CALLBACK_URL": "https://ozgflow.example/api/v1/fachverfahren/callbacks",
		"OZGFLOW_SIMULATOR_CALLBACKS":        "all", "OZGFLOW_SIMULATOR_FAULTS": "slow,repeated-key",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate("dev"); err != nil {
		t.Fatal(err)
	}
	sim := cfg.simulatorConfig("")
	if cfg.callbackURL() != "https://ozgflow.example/api/v1/fachverfahren/callbacks" || sim.Callbacks != fachverfahren.CallbacksAll ||
		sim.Faults != (fachverfahren.Faults{SlowAnswers: fachverfahren.SlowAnswer, RepeatedKeyIsNew: true}) {
		t.Errorf("callback URL %q, simulator %+v", cfg.callbackURL(), sim)
	}
	// Without a callback URL of its own, the worker names the gateway's under the public URL.
	if got := (Config{PublicURL: "https://ozgflow.leipzig.de/"}).callbackURL(); got != "https://ozgflow.leipzig.de/api/v1/fachverfahren/callbacks" {
		t.Errorf("callback URL from the public URL: %q", got)
	}
	if got := (Config{}).callbackURL(); got != "" {
		t.Errorf("callback URL without either: %q", got)
	}
	if sim := DefaultConfig().simulatorConfig(""); sim.Callbacks != fachverfahren.CallbacksDecisions || sim.Faults.Any() {
		t.Errorf("default simulator %+v", sim)
	}
	for name, value := range map[string]string{
		"OZGFLOW_FACHVERFAHREN_CALLBACK_URL": "gateway:8080/callbacks",
		"OZGFLOW_SIMULATOR_CALLBACKS":        "sometimes",
		"OZGFLOW_SIMULATOR_FAULTS":           "lazy",
	} {
		cfg, _ := FromEnv(env(map[string]string{name: value}))
		if err := cfg.Validate("dev"); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: %v, want an error naming the variable", name, value, err)
		}
	}
}
