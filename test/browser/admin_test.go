// Package browser drives ozgflow's pages in headless Chromium (Debian's
// chromium package, which `make test` installs when it is missing).
package browser

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/ozgflow/ozgflow/internal/fitconnecttest"
	"github.com/ozgflow/ozgflow/locale"
	"github.com/ozgflow/ozgflow/process"
	"github.com/ozgflow/ozgflow/test/e2e"
)

// startDev starts an in-process dev for the browser tests.
func startDev(t *testing.T) *process.Dev {
	t.Helper()
	cfg := process.DefaultConfig()
	// The FIT-Connect keys take seconds to make: every test binary shares them.
	cfg.FITConnectKeysDir = fitconnecttest.Dir()
	if v := os.Getenv("REDIS_URL"); v != "" {
		cfg.RedisURL = v
	}
	cfg.Addr, cfg.DataDir, cfg.Secret = "127.0.0.1:0", t.TempDir(), "browser-secret-0123456789abcdef"
	cfg.RedisPrefix = "browser:" + uuid.NewString() + ":"
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	d, err := process.StartDev(context.Background(), cfg, process.DevOptions{InMemory: true, RequireRedis: true}, logger)
	if err != nil {
		t.Fatalf("start dev (needs Redis: make test starts one): %v", err)
	}
	t.Cleanup(d.Close)
	return d
}

// browser opens a headless Chromium; it fails when none is installed.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("browser tests need Debian's chromium (make test installs it): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
	)
	// The profile is removed after Chromium is gone; its helper processes
	// may still write into it for a moment after the browser exits, which
	// t.TempDir's own cleanup would report as a failure.
	profile, err := os.MkdirTemp("", "ozgflow-browser-")
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts, chromedp.UserDataDir(profile))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		cancelAlloc()
		removeProfile(t, profile)
	})
	return ctx
}

// removeProfile removes a browser profile, retrying while Chromium's
// helper processes finish writing into it.
func removeProfile(t *testing.T, dir string) {
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err = os.RemoveAll(dir); err == nil {
			return
		}
	}
	t.Logf("browser profile %s not removed: %v", dir, err)
}

// run performs browser actions one after the other; on failure it saves a
// screenshot under test/artifacts and fails the test.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	if err := runEach(ctx, actions); err != nil {
		var shot []byte
		if chromedp.Run(ctx, chromedp.FullScreenshot(&shot, 80)) == nil {
			dir := filepath.Join("..", "artifacts")
			_ = os.MkdirAll(dir, 0o755)
			name := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()+"-"+what)+".jpg")
			if os.WriteFile(name, shot, 0o644) == nil {
				t.Logf("screenshot: %s", name)
			}
		}
		t.Fatalf("%s: %v", what, err)
	}
}

// runEach performs the actions in order. An action that failed because the
// page replaced its nodes meanwhile (a live update of a region, or the next
// page loading after a form was sent) is done again on the page as it is now.
// For a query action (press, SendKeys, SetValue, a read) such a failure
// comes before any input reaches the page, so no click or key is repeated;
// an action of several steps is done again whole (tabTo presses Tab until
// the focus is where it wants it, the accessibility check is one
// evaluation).
func runEach(ctx context.Context, actions []chromedp.Action) error {
	for _, action := range actions {
		err := chromedp.Run(ctx, action)
		for tries := 0; err != nil && pageReplaced(err) && tries < 20 && ctx.Err() == nil; tries++ {
			time.Sleep(100 * time.Millisecond)
			err = chromedp.Run(ctx, action)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// press activates the first visible element the selector finds, as a
// click does, but on the element itself rather than at the place on the
// screen where it was a moment before: a live update that moves the page
// (a notice shown above a form) cannot make it miss.
func press(sel string, opts ...chromedp.QueryOption) chromedp.QueryAction {
	return chromedp.QueryAfter(sel, func(ctx context.Context, _ runtime.ExecutionContextID, nodes ...*cdp.Node) error {
		if len(nodes) == 0 {
			return fmt.Errorf("selector %q did not return any nodes", sel)
		}
		obj, err := dom.ResolveNode().WithNodeID(nodes[0].NodeID).Do(ctx)
		if err != nil {
			return err
		}
		return chromedp.CallFunctionOn(`function () { this.click(); }`, nil,
			func(p *runtime.CallFunctionOnParams) *runtime.CallFunctionOnParams {
				return p.WithObjectID(obj.ObjectID)
			}).Do(ctx)
	}, append(opts, chromedp.NodeVisible)...)
}

// pageReplaced tells whether Chromium refused an action because the node or
// the script context it addressed belongs to a document that is gone.
func pageReplaced(err error) bool {
	for _, gone := range []string{"No node with given id found", "Could not find node with given id",
		"Cannot find context with specified id", "Node with given id does not belong to the document",
		"Execution context was destroyed"} {
		if strings.Contains(err.Error(), gone) {
			return true
		}
	}
	return false
}

// TestAdministratorEditsAndPublishesAVariant signs in, makes a draft of the
// Leipzig parking permit, raises its fee in the editor, publishes it, and
// checks that new applications pay the new fee; a broken draft is refused
// with the problem named on the page.
func TestAdministratorEditsAndPublishesAVariant(t *testing.T) {
	d := startDev(t)
	ctx := browser(t)
	const variant = "anwohnerparkausweis-leipzig"
	var listing, flash, status, document string
	run(t, ctx, "sign in",
		chromedp.Navigate(d.URL+"/verwaltung"),
		chromedp.WaitVisible(`button[type=submit]`, chromedp.ByQuery),
		press(`//button[contains(., "Fachadministration")]`, chromedp.BySearch),
		chromedp.WaitVisible(`table`, chromedp.ByQuery),
		chromedp.Text(`main`, &listing, chromedp.ByQuery),
	)
	if !strings.Contains(listing, variant) || !strings.Contains(listing, "Prozessvarianten") {
		t.Fatalf("the list of definitions lacks %s:\n%s", variant, listing)
	}
	run(t, ctx, "make a draft",
		press(`//a[text()="`+variant+`"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//button[contains(., "Neuen Entwurf")]`, chromedp.BySearch),
		press(`//button[contains(., "Neuen Entwurf")]`, chromedp.BySearch),
		chromedp.WaitVisible(`#document`, chromedp.ByID),
		chromedp.Text(`.flash`, &flash, chromedp.ByQuery),
		chromedp.Value(`#document`, &document, chromedp.ByID),
	)
	if !strings.Contains(flash, "Entwurf wurde angelegt") || !strings.Contains(document, "extends: anwohnerparkausweis") {
		t.Fatalf("draft page: flash %q, document:\n%s", flash, document)
	}
	edited := strings.TrimRight(document, "\n") + "\nfee:\n    amount: 4000\n    purpose: Gebühr Anwohnerparkausweis Stadt Leipzig\n"
	run(t, ctx, "edit and publish",
		chromedp.SetValue(`#document`, edited, chromedp.ByID),
		press(`#yaml button[value="publish"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//p[contains(@class, "flash") and contains(., "veröffentlicht")]`, chromedp.BySearch),
		chromedp.Text(`.flash`, &flash, chromedp.ByQuery),
		chromedp.Text(`.status-published`, &status, chromedp.ByQuery),
	)
	if !strings.Contains(flash, "veröffentlicht") || status != "veröffentlicht" {
		t.Fatalf("after publishing: flash %q, status %q", flash, status)
	}
	st := &e2e.Stack{URL: d.URL, SandboxURL: d.URL, Temporal: d.Client, Namespace: "ozgflow"}
	s := st.Submit(t, e2e.Parkausweis("Südvorstadt", "amt24-ben"))
	if p := s.Body["payment"].(map[string]any); p["amount"] != 4000.0 {
		t.Errorf("a new application pays %v, want the published 4000", p["amount"])
	}

	var problems string
	run(t, ctx, "a broken draft is refused",
		chromedp.Navigate(d.URL+"/verwaltung/definitionen/"+variant),
		press(`//button[contains(., "Neuen Entwurf")]`, chromedp.BySearch),
		chromedp.WaitVisible(`#document`, chromedp.ByID),
		chromedp.SetValue(`#document`, "id: "+variant+"\nextends: anwohnerparkausweis\nauthority: \"147130000000\"\nsteps:\n  - id: review\n    kind: teleport\n", chromedp.ByID),
		press(`#yaml button[value="publish"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`.problems`, chromedp.ByQuery),
		chromedp.Text(`.problems`, &problems, chromedp.ByQuery),
	)
	if !strings.Contains(problems, "Zeile 6: Schritt „review“ › Art (kind): unbekannte Art „teleport“") || strings.Contains(problems, "/steps/4") {
		t.Errorf("problems shown: %q", problems)
	}

	// The page refuses a form without its CSRF token.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodPost, d.URL+"/verwaltung/definitionen/"+variant+"/entwurf", strings.NewReader(""))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "ozgflow_session", Value: e2e.SignIn(t, d.URL, "dev-admin")})
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("form without CSRF token: %d, want 403", res.StatusCode)
	}
}

// TestAdministratorUsesTheFormSeesTheDiffAndIsRefusedAnUnknownQueue is an
// administrator's working session on a variant: a draft of Leipzig's
// Gewerbeanmeldung, the fee and a reminder changed in the form (the YAML
// keeps its comments and order), the difference to the published version
// with the cases running on it, a queue mistyped in the YAML refused at
// publishing with the queue, the field and the line named once, a YAML
// mistake named once with its line; every page passes axe-core.
func TestAdministratorUsesTheFormSeesTheDiffAndIsRefusedAnUnknownQueue(t *testing.T) {
	d := startDev(t)
	st := &e2e.Stack{URL: d.URL, SandboxURL: d.URL, Temporal: d.Client, Namespace: "ozgflow"}
	running := st.Submit(t, e2e.Gewerbeanmeldung(e2e.Leipzig, "amt24-anna"))
	ctx := browser(t)
	const variant = "gewerbeanmeldung-leipzig"
	var page string
	run(t, ctx, "sign in and open the variants",
		chromedp.Navigate(d.URL+"/verwaltung"),
		press(`//button[contains(., "Fachadministration")]`, chromedp.BySearch),
		chromedp.WaitVisible(`table`, chromedp.ByQuery),
		chromedp.Text(`main`, &page, chromedp.ByQuery),
	)
	for _, want := range []string{"Stadt Leipzig", "Landeshauptstadt Dresden", "Version 1: veröffentlicht"} {
		if !strings.Contains(page, want) {
			t.Errorf("the list of variants lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "147130000000") || strings.Contains(page, "published") {
		t.Errorf("the list shows a 12-digit key or an English status:\n%s", page)
	}
	assertAccessible(t, ctx, "list of variants")

	var document string
	run(t, ctx, "make a draft",
		press(`//a[text()="`+variant+`"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//button[contains(., "Neuen Entwurf")]`, chromedp.BySearch),
		chromedp.Text(`main`, &page, chromedp.ByQuery),
	)
	assertAccessible(t, ctx, "variant")
	run(t, ctx, "open the draft",
		press(`//button[contains(., "Neuen Entwurf")]`, chromedp.BySearch),
		chromedp.WaitVisible(`#settings`, chromedp.ByID),
		chromedp.Value(`#document`, &document, chromedp.ByID),
	)
	if !strings.HasPrefix(document, "# Gewerbeanmeldung in Leipzig") || strings.Index(document, "id:") > strings.Index(document, "extends:") {
		t.Errorf("the draft's text lost the file's comment or order:\n%s", document)
	}
	assertAccessible(t, ctx, "draft with form")

	var flash, diff, runningText string
	run(t, ctx, "change fee and reminder in the form",
		chromedp.SetValue(`#fee\.amount`, "31,00", chromedp.ByQuery),
		chromedp.SetValue(`#step\.review\.remindBefore`, "3d", chromedp.ByQuery),
		press(`#settings button[value="save"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//p[contains(@class, "flash") and contains(., "gespeichert")]`, chromedp.BySearch),
		chromedp.Text(`.flash`, &flash, chromedp.ByQuery),
		chromedp.Value(`#document`, &document, chromedp.ByID),
		chromedp.Text(`#diff`, &diff, chromedp.ByQuery),
		chromedp.Text(`#running`, &runningText, chromedp.ByQuery),
	)
	if !strings.Contains(document, "amount: 3100") || !strings.Contains(document, "remindBefore: 3d") ||
		!strings.HasPrefix(document, "# Gewerbeanmeldung in Leipzig") || strings.Index(document, "id:") > strings.Index(document, "extends:") {
		t.Errorf("the form's changes are not in the text, or the text lost its order:\n%s", document)
	}
	for _, want := range []string{"Gebühr (fee) › Betrag in Cent (amount)", "2600", "3100", "Schritt „review“ › Erinnerung vor Fristende (remindBefore)", "2d", "3d"} {
		if !strings.Contains(diff, want) {
			t.Errorf("the diff lacks %q:\n%s", want, diff)
		}
	}
	if !strings.Contains(runningText, "Veröffentlicht ist Version 1; auf ihr laufen") {
		t.Errorf("the running cases are not counted: %q", runningText)
	}
	e2e.WaitFor(t, "the running case counted on version 1", 15*time.Second, func() bool {
		var text string
		_ = chromedp.Run(ctx, chromedp.Reload(), chromedp.WaitVisible(`#running`, chromedp.ByID), chromedp.Text(`#running`, &text, chromedp.ByID))
		return strings.Contains(text, "laufen 1 Vorgänge") || strings.Contains(text, "laufen 2 Vorgänge")
	})
	_ = running

	var problems, status string
	typo := strings.Replace(document, "    fourEyes: true\n", "    fourEyes: true\n    queue: gewerbe-typo\n", 1)
	line := 0
	for i, l := range strings.Split(typo, "\n") {
		if strings.Contains(l, "gewerbe-typo") {
			line = i + 1
		}
	}
	run(t, ctx, "publish a mistyped queue",
		chromedp.SetValue(`#document`, typo, chromedp.ByID),
		press(`#yaml button[value="publish"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`.problems`, chromedp.ByQuery),
		chromedp.Text(`.problems`, &problems, chromedp.ByQuery),
		chromedp.Text(`.status-draft`, &status, chromedp.ByQuery),
	)
	want := fmt.Sprintf("Zeile %d: Schritt „review“ › Arbeitskorb (queue): den Arbeitskorb „gewerbe-typo“ gibt es bei Stadt Leipzig nicht", line)
	if !strings.Contains(problems, "kann so nicht veröffentlicht werden") || !strings.Contains(problems, want) ||
		strings.Count(problems, "gewerbe-typo") != 1 || status != "Entwurf" {
		t.Errorf("refusal %q (status %q), want once %q", problems, status, want)
	}
	assertAccessible(t, ctx, "refused publish")

	run(t, ctx, "a YAML mistake",
		chromedp.SetValue(`#document`, "id: "+variant+"\nextends: gewerbeanmeldung\nsteps:\n  - id: review\n   queue: gewerbe\n", chromedp.ByID),
		press(`#yaml button[value="save"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//div[contains(@class, "problems") and contains(., "YAML")]`, chromedp.BySearch),
		chromedp.Text(`.problems`, &problems, chromedp.ByQuery),
	)
	if !strings.Contains(problems, "Der Text ist kein gültiges YAML.") || !strings.Contains(problems, "Zeile 5:") ||
		strings.Count(problems, "Zeile") != 1 || strings.Contains(problems, "yaml:") {
		t.Errorf("YAML mistake shown as %q, want it once, in German, with line 5", problems)
	}

	run(t, ctx, "the record of changes",
		chromedp.Navigate(d.URL+"/verwaltung/aenderungen"),
		chromedp.WaitVisible(`table`, chromedp.ByQuery),
		chromedp.Text(`main`, &page, chromedp.ByQuery),
	)
	if !strings.Contains(page, "Entwurf angelegt") || !strings.Contains(page, "aus Version 1") || strings.Contains(page, "drafted") {
		t.Errorf("the record of changes is not German:\n%s", page)
	}
	assertAccessible(t, ctx, "record of changes")
}

// TestDashboardShowsCasesByStatus checks the administrators' dashboard of an
// authority after cases ran.
func TestDashboardShowsCasesByStatus(t *testing.T) {
	d := startDev(t)
	st := &e2e.Stack{URL: d.URL, SandboxURL: d.URL, Temporal: d.Client, Namespace: "ozgflow"}
	st.WaitStatus(t, st.Submit(t, e2e.Hundesteuer(e2e.Dresden)), "approved")
	ctx := browser(t)
	var page string
	run(t, ctx, "dashboard",
		chromedp.Navigate(d.URL+"/anmelden?next=%2Fverwaltung%2Fauswertung%3Fauthority%3D146120000000"),
		press(`//button[contains(., "Fachadministration")]`, chromedp.BySearch),
		chromedp.WaitVisible(`svg`, chromedp.ByQuery),
		chromedp.Text(`main`, &page, chromedp.ByQuery),
	)
	for _, want := range []string{"Hundesteuer-Anmeldung", "Eingegangen", "Entschieden", "Bewilligt", "gesamter Zeitraum"} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %q:\n%s", want, page)
		}
	}
	assertAccessible(t, ctx, "dashboard")

	// A time range: the days ahead hold no cases; today holds this one.
	tomorrow := time.Now().In(locale.Berlin).AddDate(0, 0, 1).Format("2006-01-02")
	var period, casesLink string
	run(t, ctx, "a range without cases",
		chromedp.Navigate(d.URL+"/verwaltung/auswertung?authority=146120000000&from="+tomorrow),
		chromedp.WaitVisible(`#period`, chromedp.ByID),
		chromedp.Text(`#period`, &period, chromedp.ByID),
		chromedp.Text(`main`, &page, chromedp.ByQuery),
		chromedp.AttributeValue(`//a[contains(., "Vorgangsliste als Excel")]`, "href", &casesLink, nil, chromedp.BySearch),
	)
	if !strings.Contains(period, "ab ") || !strings.Contains(page, "keine Vorgänge") || !strings.Contains(casesLink, "from="+tomorrow) {
		t.Errorf("range from %s: period %q, link %q, page:\n%s", tomorrow, period, casesLink, page)
	}
	run(t, ctx, "the last 7 days",
		press(`//a[text()="Letzte 7 Tage"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//a[text()="Letzte 7 Tage" and @aria-current]`, chromedp.BySearch),
		chromedp.Text(`main`, &page, chromedp.ByQuery),
	)
	if !strings.Contains(page, "Hundesteuer-Anmeldung") {
		t.Errorf("the last 7 days lack today's case:\n%s", page)
	}
}
