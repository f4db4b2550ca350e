package browser

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ozgflow/ozgflow/test/e2e"
)

// TestAdministratorResendsARejectedFITConnectDelivery: the sandbox
// FIT-Connect destination rejects a case; its delivery page shows the
// destination's reason to the administrator, who sends it again; the
// destination accepts and the case goes on. Every state passes axe-core.
func TestAdministratorResendsARejectedFITConnectDelivery(t *testing.T) {
	d := startDev(t)
	st := &e2e.Stack{URL: d.URL, SandboxURL: d.URL, Temporal: d.Client, Namespace: "ozgflow"}
	if res := e2e.Call(t, d.URL, http.MethodPut, "/sandbox/fitconnect/reject", "", map[string]int{"next": 1}); res.Status != http.StatusOK {
		t.Fatalf("sandbox reject: %d %s", res.Status, res.Body)
	}
	s := st.Submit(t, map[string]any{
		"service": "lasttest-fitconnect", "authority": e2e.Chemnitz,
		"applicant": map[string]any{"name": "Lasttest", "portalAccount": "amt24-lasttest"},
		"data":      map[string]any{"betreff": "Zustellung über FIT-Connect"},
	})
	delivery := func() map[string]any {
		res := e2e.Call(t, d.URL, http.MethodGet, "/api/v1/applications/"+s.ID, "dev-admin", nil)
		m, _ := res.JSON(t)["delivery"].(map[string]any)
		return m
	}
	e2e.WaitFor(t, "the destination's rejection", 30*time.Second, func() bool {
		dl := delivery()
		return dl != nil && dl["state"] == "rejected"
	})
	// The applicant is not shown the destination's reason.
	if dl, _ := st.Case(t, s.ID, s.Token)["delivery"].(map[string]any); dl == nil || dl["state"] != "pending" || dl["rejected"] != nil {
		t.Errorf("the applicant's view of the delivery = %v", dl)
	}

	ctx := browser(t)
	page := "/verwaltung/vorgaenge/" + s.ID + "/zustellung"
	var text string
	run(t, ctx, "sign in and open the delivery",
		chromedp.Navigate(d.URL+"/verwaltung"),
		press(`//button[contains(., "Fachadministration")]`, chromedp.BySearch),
		chromedp.WaitVisible(`table`, chromedp.ByQuery),
		chromedp.Navigate(d.URL+page),
		chromedp.WaitVisible(`//button[contains(., "erneut senden")]`, chromedp.BySearch),
		chromedp.Text(`main`, &text, chromedp.ByQuery),
	)
	for _, want := range []string{"Von der Empfangsstelle abgelehnt", "Inhalt nicht angenommen", "fitconnect-chemnitz", "FIT-Connect", "Stadt Chemnitz"} {
		if !strings.Contains(text, want) {
			t.Errorf("the delivery page lacks %q:\n%s", want, text)
		}
	}
	assertAccessible(t, ctx, "rejected delivery")
	docScreenshot(t, ctx, "staff-zustellung-abgelehnt.jpg", "")

	run(t, ctx, "send again",
		press(`//button[contains(., "erneut senden")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//p[contains(@class, "flash") and contains(., "erneut")]`, chromedp.BySearch),
	)
	st.WaitStatus(t, s, "approved")
	run(t, ctx, "see it accepted",
		chromedp.Navigate(d.URL+page),
		chromedp.WaitVisible(`//td[contains(., "Angenommen am")]`, chromedp.BySearch),
		chromedp.Text(`main`, &text, chromedp.ByQuery),
	)
	if strings.Contains(text, "erneut senden") || !strings.Contains(text, "2.") {
		t.Errorf("after the resend the page shows:\n%s", text)
	}
	assertAccessible(t, ctx, "accepted delivery")
	if dl := delivery(); dl["state"] != "delivered" || dl["round"] != float64(2) || dl["rejected"] != nil {
		t.Errorf("delivery after the resend = %v", dl)
	}

	// Once accepted there is nothing to resend: the page says so in German.
	res := e2e.Call(t, d.URL, http.MethodPost, "/api/v1/cases/"+s.ID+"/delivery/resend", "dev-admin", nil)
	if res.Status != http.StatusConflict {
		t.Errorf("resend of an accepted delivery: %d %s", res.Status, res.Body)
	}
}
