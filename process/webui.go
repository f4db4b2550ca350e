package process

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/ozgflow/ozgflow/devserver"
	"github.com/ozgflow/ozgflow/gateway/api"
)

// The Temporal Web UI shows the cases as Temporal holds them: their
// payloads encrypted. The gateway's codec endpoint (api.CodecEndpoint)
// decrypts them for administrators; `dev` serves a Web UI configured for
// it, and production operators point their own at it
// (OZGFLOW_WEB_UI_ORIGINS lets its origin call it from the browser).

// startWebUI serves the Temporal Web UI on 127.0.0.1 (--ui-port) over the
// embedded frontend, with the gateway's codec endpoint, and lets the UI's
// origin call that endpoint (cfg.WebUIOrigins).
func (d *Dev) startWebUI(cfg *Config) error {
	ui, err := devserver.StartUI(devserver.UIOptions{TemporalAddress: d.TemporalAddr, Port: d.Options.UIPort,
		Host: uiHost(d.URL), Namespace: cfg.TemporalNamespace,
		CodecEndpoint: d.URL + api.CodecEndpoint, SignInURL: d.URL + "/anmelden"})
	if err != nil && d.Options.UIPort != 0 {
		return fmt.Errorf("start the Temporal Web UI on 127.0.0.1:%d (--ui-port chooses another port): %w", d.Options.UIPort, err)
	}
	if err != nil {
		return err
	}
	d.stops.addFunc(ui.Stop)
	d.UIURL = ui.URL()
	cfg.WebUIOrigins = strings.Trim(cfg.WebUIOrigins+","+d.UIURL, ",")
	return nil
}

// uiHost is the host name of the Web UI's URL: the gateway's, where that
// names this machine as the UI listens on it, so that a browser counts
// both as one site and sends the staff session's cookie (SameSite=Lax)
// from the UI to the codec endpoint; else localhost.
func uiHost(gatewayURL string) string {
	if u, err := url.Parse(gatewayURL); err == nil && (u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1") {
		return u.Hostname()
	}
	return "localhost"
}

// webUIOrigins parses OZGFLOW_WEB_UI_ORIGINS: the origins of Temporal Web
// UIs whose browsers call the codec endpoint, comma-separated, each as a
// browser sends it (scheme://host[:port], nothing after).
func (c Config) webUIOrigins() ([]string, error) {
	var out []string
	for _, o := range strings.Split(c.WebUIOrigins, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "?") {
			return nil, fmt.Errorf("OZGFLOW_WEB_UI_ORIGINS: %q is no origin; want scheme://host[:port], e.g. https://temporal.example.de", o)
		}
		out = append(out, u.Scheme+"://"+strings.ToLower(u.Host)) // as browsers send it
	}
	return out, nil
}
