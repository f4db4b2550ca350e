package browser

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ozgflow/ozgflow/test/e2e"
)

// TestAdministratorResendsAStuckCase opens the page of cases stuck on an
// external system during a Fachverfahren outage, checks it with axe-core
// with a case's actions open, and sends the case again from the page once
// the Fachverfahren is back.
func TestAdministratorResendsAStuckCase(t *testing.T) {
	d := startDev(t)
	d.Fachverfahren.SetDown(true)
	defer d.Fachverfahren.SetDown(false)
	st := &e2e.Stack{URL: d.URL, SandboxURL: d.URL, Temporal: d.Client, Namespace: "ozgflow"}
	s := st.Submit(t, e2e.Hundesteuer(e2e.Dresden))
	e2e.WaitFor(t, "the case stuck", 30*time.Second, func() bool {
		res := e2e.Call(t, d.URL, http.MethodGet, "/api/v1/operations/stuck", "dev-admin", nil)
		return strings.Contains(string(res.Body), s.ID)
	})
	ctx := browser(t)
	var page string
	run(t, ctx, "page of stuck cases",
		chromedp.Navigate(d.URL+"/anmelden?next=%2Fverwaltung%2Fstoerungen"),
		chromedp.Click(`//button[contains(., "Fachadministration")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//caption[contains(., "gestörtes System")]`, chromedp.BySearch),
		chromedp.Click(`summary`, chromedp.ByQuery),
		chromedp.WaitVisible(`#erneut-`+s.ID+`-steueramt-dresden`, chromedp.ByID),
		chromedp.Text(`main`, &page, chromedp.ByQuery),
	)
	for _, want := range []string{"Hundesteuer", "steueramt-dresden", "Das Zielsystem meldet einen Fehler", "Erneut senden", "Abbrechen"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	assertAccessible(t, ctx, "stuck cases")
	docScreenshot(t, ctx, "staff-stoerungen.jpg", "")

	// The Fachverfahren comes back only after the click: were it back
	// before, the case's own next attempt could deliver it first and
	// there would be nothing left to resend.
	var url string
	run(t, ctx, "resend from the page",
		chromedp.Click(`#erneut-`+s.ID+`-steueramt-dresden`, chromedp.ByID),
		chromedp.Click(`//form[contains(@action, "/erneut")]//button`, chromedp.BySearch),
		chromedp.WaitVisible(`p.flash, .problem, [role="alert"]`, chromedp.ByQuery),
		chromedp.Location(&url),
		chromedp.Text(`main`, &page, chromedp.ByQuery),
	)
	if !strings.Contains(page, "wird jetzt erneut gesendet") {
		t.Errorf("after the resend (%s):\n%s", url, page)
	}
	d.Fachverfahren.SetDown(false)
	st.WaitStatus(t, s, "approved")
}
