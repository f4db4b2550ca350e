package browser

import (
	"context"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/ozgflow/ozgflow/internal/fitconnecttest"
	"github.com/ozgflow/ozgflow/internal/oidctest"
	"github.com/ozgflow/ozgflow/process"
	"github.com/ozgflow/ozgflow/test/e2e"
)

// TestCaseWorkerSignsInAtTheIdentityProvider: a Leipzig case worker opens
// the sign-in page, goes to the identity provider, signs in on its login
// page, lands in the Arbeitskorb under their name, and signs out, at the
// provider too, back on the sign-in page.
func TestCaseWorkerSignsInAtTheIdentityProvider(t *testing.T) {
	d, provider := startDevWithProvider(t)
	ctx := browser(t)
	var location, header string
	run(t, ctx, "go to the identity provider",
		chromedp.Navigate(d.URL+"/anmelden"),
		chromedp.WaitVisible(`#anmelden-idp`, chromedp.ByID),
		press(`#anmelden-idp`, chromedp.ByID),
		chromedp.WaitVisible(`#username`, chromedp.ByID),
		chromedp.Location(&location),
	)
	if !strings.HasPrefix(location, provider.Issuer()+"/login") {
		t.Fatalf("the sign-in link leads to %s, want the provider's login page", location)
	}
	person := e2e.People["dev-sb-leipzig"]
	run(t, ctx, "sign in at the provider",
		chromedp.SendKeys(`#username`, person.Username, chromedp.ByID),
		chromedp.SendKeys(`#password`, person.Password, chromedp.ByID),
		press(`#anmelden`, chromedp.ByID),
		chromedp.WaitVisible(`//h1[contains(., "Arbeitskorb")]`, chromedp.BySearch),
		chromedp.Location(&location),
		chromedp.Text(`header`, &header, chromedp.ByQuery),
	)
	if location != d.URL+"/arbeitskorb" || !strings.Contains(header, person.Name) {
		t.Errorf("signed in at %s with the header %q, want the Arbeitskorb naming %s", location, header, person.Name)
	}

	var flash string
	run(t, ctx, "sign out",
		press(`//header//button[text()="Abmelden"]`, chromedp.BySearch),
		chromedp.WaitVisible(`.flash`, chromedp.ByQuery),
		chromedp.Text(`.flash`, &flash, chromedp.ByQuery),
		chromedp.Location(&location),
	)
	if flash != "Sie sind abgemeldet." || location != d.URL+"/anmelden?hinweis=abgemeldet" {
		t.Errorf("after signing out: %q at %s", flash, location)
	}
	if got := provider.SignOuts(); !slices.Contains(got, person.Username) {
		t.Errorf("the provider ended the sessions of %v, want %s's", got, person.Username)
	}
	run(t, ctx, "the Arbeitskorb asks to sign in again",
		chromedp.Navigate(d.URL+"/arbeitskorb"),
		chromedp.WaitVisible(`#anmelden-idp`, chromedp.ByID),
		chromedp.Location(&location),
	)
	if u, err := url.Parse(location); err != nil || u.Path != "/anmelden" {
		t.Errorf("after signing out, the Arbeitskorb leads to %s, want the sign-in page", location)
	}
}

// startDevWithProvider starts an identity provider with the demo people
// and an in-process dev that signs staff in there. The gateway is reached
// as localhost and the provider as 127.0.0.1, so the browser goes from one
// site to another and back, as it does in production.
func startDevWithProvider(t *testing.T) (*process.Dev, *oidctest.Provider) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	publicURL := "http://localhost:" + strconv.Itoa(port)
	provider := oidctest.StartT(t, e2e.RealmConfig(publicURL))

	cfg := process.DefaultConfig()
	// The FIT-Connect keys take seconds to make: every test binary shares them.
	cfg.FITConnectKeysDir = fitconnecttest.Dir()
	if v := os.Getenv("REDIS_URL"); v != "" {
		cfg.RedisURL = v
	}
	dir := t.TempDir()
	cfg.Addr, cfg.PublicURL, cfg.DataDir, cfg.Secret = "127.0.0.1:"+strconv.Itoa(port), publicURL, dir, "browser-secret-0123456789abcdef"
	cfg.RedisPrefix = "browser:" + uuid.NewString() + ":"
	cfg.OIDCIssuer, cfg.OIDCClientID, cfg.OIDCClientSecret = provider.Issuer(), e2e.StaffClientID, e2e.StaffSecret
	cfg.APIClientsFile = e2e.WriteAPIClients(t, dir)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	d, err := process.StartDev(context.Background(), cfg, process.DevOptions{InMemory: true, RequireRedis: true}, logger)
	if err != nil {
		t.Fatalf("start dev with an identity provider (needs Redis: make test starts one): %v", err)
	}
	t.Cleanup(d.Close)
	return d, provider
}
