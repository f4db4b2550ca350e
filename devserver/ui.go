package devserver

import (
	"fmt"
	"net"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
)

// UIOptions configure the Temporal Web UI that `dev` serves beside the
// embedded server, as `temporal server start-dev` does.
type UIOptions struct {
	// TemporalAddress is the frontend the UI talks to (host:port).
	TemporalAddress string
	// Port on 127.0.0.1; 0 picks a free one.
	Port int
	// Host is the name of this machine in the UI's URL: a browser sends a
	// staff session's cookie from the UI to the codec endpoint only when
	// both are on the same site, so it is the gateway's host name when
	// that is a loopback name. Default localhost.
	Host string
	// Namespace the UI opens first.
	Namespace string
	// CodecEndpoint is the remote codec the UI asks to decode payloads
	// (it appends /decode); the browser calls it with its cookies.
	CodecEndpoint string
	// SignInURL is where the UI sends whoever sees no decoded payloads.
	SignInURL string
}

// UI is a running Temporal Web UI.
type UI struct {
	server *uiserver.Server
	url    string
	done   chan struct{}
}

// StartUI starts the Web UI and returns once it answers.
//
// The UI server binds its port itself and ends the process when it
// cannot, so the port is found free just before (as the embedded server's
// are): a port taken in between is the only way to that end.
func StartUI(opts UIOptions) (*UI, error) {
	if opts.Host == "" {
		opts.Host = "localhost"
	}
	port := opts.Port
	if port == 0 {
		ports, err := freePorts(1)
		if err != nil {
			return nil, err
		}
		port = ports[0]
	} else if err := portFree(port); err != nil {
		return nil, err
	}
	cfg := &uiconfig.Config{
		TemporalGRPCAddress: opts.TemporalAddress,
		Host:                "127.0.0.1",
		Port:                port,
		EnableUI:            true,
		DefaultNamespace:    opts.Namespace,
		HideLogs:            true,
		// The UI's own CSRF cookie must reach it over plain http.
		CORS: uiconfig.CORS{CookieInsecure: true},
		Codec: uiconfig.Codec{
			Endpoint:           opts.CodecEndpoint,
			IncludeCredentials: true,
			DefaultErrorMessage: "Payloads are encrypted. To see them decrypted, sign in as an administrator " +
				"at ozgflow's sign-in page, then reload this page.",
			DefaultErrorLink: opts.SignInURL,
		},
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("temporal web ui: %w", err)
	}
	srv, err := newUIServer(cfg)
	if err != nil {
		return nil, err
	}
	ui := &UI{server: srv, url: "http://" + net.JoinHostPort(opts.Host, strconv.Itoa(port)), done: make(chan struct{})}
	go func() {
		defer close(ui.done)
		_ = srv.Start()
	}()
	if err := waitForPort(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 10*time.Second); err != nil {
		srv.Stop() // not waiting: a server that never bound may never return
		return nil, fmt.Errorf("temporal web ui on 127.0.0.1:%d: %w", port, err)
	}
	return ui, nil
}

// newUIServer builds the UI server, which panics on what it cannot build.
func newUIServer(cfg *uiconfig.Config) (srv *uiserver.Server, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("temporal web ui: %v", v)
		}
	}()
	return uiserver.NewServer(uioptions.WithConfigProvider(cfg)), nil
}

// portFree reports, with an error that names it, a port of 127.0.0.1
// another process listens on.
func portFree(port int) error {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("port %d of 127.0.0.1 is taken: %w", port, err)
	}
	return ln.Close()
}

// URL is the UI's address for a browser on this machine.
func (u *UI) URL() string { return u.url }

// Stop stops the UI and waits until it no longer serves.
func (u *UI) Stop() {
	u.server.Stop()
	<-u.done
}
