package process

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities/fachverfahren"
)

// callbackURL is where Fachverfahren report back on the cases delivered
// to them, as every delivery names it: OZGFLOW_FACHVERFAHREN_CALLBACK_URL,
// else the gateway's callback route under OZGFLOW_PUBLIC_URL, else none.
func (c Config) callbackURL() string {
	switch {
	case c.FachverfahrenCallbackURL != "":
		return c.FachverfahrenCallbackURL
	case c.PublicURL != "":
		return strings.TrimSuffix(c.PublicURL, "/") + ozgflow.CallbackPath
	}
	return ""
}

// validateCallbacks checks the callback URL and the simulator's settings.
func (c Config) validateCallbacks() []error {
	var errs []error
	if c.FachverfahrenCallbackURL != "" {
		if u, err := url.Parse(c.FachverfahrenCallbackURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("OZGFLOW_FACHVERFAHREN_CALLBACK_URL %q: want an http(s) URL", c.FachverfahrenCallbackURL))
		}
	}
	if _, err := fachverfahren.ParseCallbackMode(c.SimulatorCallbacks); err != nil {
		errs = append(errs, fmt.Errorf("OZGFLOW_SIMULATOR_CALLBACKS: %w", err))
	}
	if _, err := fachverfahren.ParseFaults(c.SimulatorFaults); err != nil {
		errs = append(errs, fmt.Errorf("OZGFLOW_SIMULATOR_FAULTS: %w", err))
	}
	return errs
}

// simulatorConfig is the Fachverfahren simulator's configuration: its
// secret, callback mode and faults, keeping its records in stateFile.
func (c Config) simulatorConfig(stateFile string) fachverfahren.SimulatorConfig {
	mode, _ := fachverfahren.ParseCallbackMode(c.SimulatorCallbacks) // Validate refused a bad one
	faults, _ := fachverfahren.ParseFaults(c.SimulatorFaults)
	return fachverfahren.SimulatorConfig{Secret: []byte(c.FachverfahrenSecret), StateFile: stateFile,
		Callbacks: mode, Faults: faults}
}
