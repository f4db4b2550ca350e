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
// external system during a Fachverfahren outage, beside a delivery the
// FIT-Connect destination rejected, checks it with axe-core with both
// rows' actions open, and sends each case again from its row: the failing
// call once the Fachverfahren is back, the rejected delivery as a new
// submission the destination accepts.
func TestAdministratorResendsAStuckCase(t *testing.T) {
	d := startDev(t)
	d.Fachverfahren.SetDown(true)
	defer d.Fachverfahren.SetDown(false)
	st := &e2e.Stack{URL: d.URL, SandboxURL: d.URL, Temporal: d.Client, Namespace: "ozgflow"}
	if res := e2e.Call(t, d.URL, http.MethodPut, "/sandbox/fitconnect/reject", "", map[string]int{"next": 1}); res.Status != http.StatusOK {
		t.Fatalf("sandbox reject: %d %s", res.Status, res.Body)
	}
	s := st.Submit(t, e2e.Hundesteuer(e2e.Dresden))
	rejected := st.Submit(t, map[string]any{
		"service": "lasttest-fitconnect", "authority": e2e.Chemnitz,
		"applicant": map[string]any{"name": "Lasttest", "portalAccount": "amt24-lasttest"},
		"data":      map[string]any{"betreff": "Zustellung über FIT-Connect"},
	})
	e2e.WaitFor(t, "the case stuck and the delivery rejected", 30*time.Second, func() bool {
		res := e2e.Call(t, d.URL, http.MethodGet, "/api/v1/operations/stuck", "dev-admin", nil)
		return strings.Contains(string(res.Body), s.ID) && strings.Contains(string(res.Body), rejected.ID)
	})
	ctx := browser(t)
	var page string
	run(t, ctx, "page of stuck cases",
		chromedp.Navigate(d.URL+"/anmelden?next=%2Fverwaltung%2Fstoerungen"),
		press(`//button[contains(., "Fachadministration")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//caption[contains(., "gestörtes System")]`, chromedp.BySearch),
		press(`//tr[contains(., "steueramt-dresden")]//summary`, chromedp.BySearch),
		press(`//tr[contains(., "Von der Empfangsstelle abgelehnt")]//summary`, chromedp.BySearch),
		chromedp.WaitVisible(`#erneut-`+s.ID+`-steueramt-dresden`, chromedp.ByID),
		chromedp.WaitVisible(`#erneut-`+rejected.ID+`-fitconnect-chemnitz`, chromedp.ByID),
		chromedp.Text(`main`, &page, chromedp.ByQuery),
	)
	for _, want := range []string{"Hundesteuer", "steueramt-dresden", "Aufruf schlägt fehl", "Das Zielsystem meldet einen Fehler",
		"Lasttest (FIT-Connect)", "fitconnect-chemnitz", "Von der Empfangsstelle abgelehnt", "Inhalt nicht angenommen", "Sendung 1",
		"Beheben Sie zuerst die Ursache", "Erneut senden", "Abbrechen"} {
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
		press(`#erneut-`+s.ID+`-steueramt-dresden`, chromedp.ByID),
		press(`//form[contains(@action, "/`+s.ID+`/erneut")]//button`, chromedp.BySearch),
		chromedp.WaitVisible(`p.flash, .problem, [role="alert"]`, chromedp.ByQuery),
		chromedp.Location(&url),
		chromedp.Text(`main`, &page, chromedp.ByQuery),
	)
	if !strings.Contains(page, "wird jetzt erneut gesendet") {
		t.Errorf("after the resend (%s):\n%s", url, page)
	}
	d.Fachverfahren.SetDown(false)
	st.WaitStatus(t, s, "approved")

	// The rejected delivery's row sends it as a new submission.
	run(t, ctx, "resend the rejected delivery from the page",
		chromedp.Navigate(d.URL+"/verwaltung/stoerungen"),
		chromedp.WaitVisible(`//caption[contains(., "gestörtes System")]`, chromedp.BySearch),
		press(`//tr[contains(., "Von der Empfangsstelle abgelehnt")]//summary`, chromedp.BySearch),
		press(`#erneut-`+rejected.ID+`-fitconnect-chemnitz`, chromedp.ByID),
		press(`//form[contains(@action, "/`+rejected.ID+`/erneut")]//button`, chromedp.BySearch),
		chromedp.WaitVisible(`p.flash, .problem, [role="alert"]`, chromedp.ByQuery),
		chromedp.Text(`main`, &page, chromedp.ByQuery),
	)
	if !strings.Contains(page, "wird jetzt erneut gesendet") || strings.Contains(page, "Von der Empfangsstelle abgelehnt") {
		t.Errorf("after the rejected delivery's resend:\n%s", page)
	}
	st.WaitStatus(t, rejected, "approved")
}
