package browser

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ozgflow/ozgflow/test/e2e"
)

// TestEveryStaffPageIsAccessible visits each page of the Arbeitskorb and
// the Verwaltung, as the role it is for, with the data a working day
// leaves on it, and has axe-core find no violations on any; the other
// browser tests check the rest on the way (the list, a case, its preview
// and refusal, the search, the dashboard, the variants and their drafts).
// With OZGFLOW_DOCS_SCREENSHOTS set it keeps each page for the README.
func TestEveryStaffPageIsAccessible(t *testing.T) {
	d := startDev(t)
	st := &e2e.Stack{URL: d.URL, SandboxURL: d.URL, Temporal: d.Client, Namespace: "ozgflow"}
	s := st.Submit(t, e2e.Gewerbeanmeldung(e2e.Dresden, "amt24-anna"))
	e2e.Pay(t, s.PaymentURL, "pay")
	task := st.OpenTask(t, s.ID, "dev-sb-dresden", "gewerbe")["id"].(string)
	if res := e2e.Call(t, d.URL, http.MethodPost, "/api/v1/tasks/"+task+"/claim", "dev-sb-dresden", nil); res.Status != http.StatusOK {
		t.Fatalf("claim: %d %s", res.Status, res.Body)
	}
	if res := e2e.Call(t, d.URL, http.MethodPost, "/api/v1/tasks/"+task+"/complete", "dev-sb-dresden",
		map[string]any{"outcome": "approve"}); res.Status != http.StatusOK {
		t.Fatalf("decide: %d %s", res.Status, res.Body)
	}
	st.WaitStatus(t, s, "approved")
	other := st.Submit(t, e2e.Gewerbeanmeldung(e2e.Dresden, "amt24-ben"))
	e2e.Pay(t, other.PaymentURL, "pay")
	open := st.OpenTask(t, other.ID, "dev-sb-dresden", "gewerbe")["id"].(string)

	ctx := browser(t)
	signIn := func(who string) {
		t.Helper()
		run(t, ctx, "sign in as "+who,
			chromedp.Navigate(d.URL+"/anmelden"),
			chromedp.WaitVisible(`//button[contains(., "`+who+`")]`, chromedp.BySearch),
			press(`//button[contains(., "`+who+`")]`, chromedp.BySearch),
			chromedp.WaitVisible(`//header//button[text()="Abmelden"]`, chromedp.BySearch),
		)
	}
	visit := func(path, heading, shot string) {
		t.Helper()
		var main string
		run(t, ctx, "open "+path,
			chromedp.Navigate(d.URL+path),
			chromedp.WaitVisible(`main h1`, chromedp.ByQuery),
			chromedp.Text(`main`, &main, chromedp.ByQuery),
		)
		if !strings.Contains(main, heading) {
			t.Errorf("%s does not show %q:\n%s", path, heading, main)
		}
		assertAccessible(t, ctx, path)
		if shot != "" {
			docScreenshot(t, ctx, shot+".jpg", "")
		}
	}

	run(t, ctx, "the sign-in page", chromedp.Navigate(d.URL+"/anmelden"), chromedp.WaitVisible(`main h1`, chromedp.ByQuery))
	assertAccessible(t, ctx, "sign-in page")
	docScreenshot(t, ctx, "staff-anmelden.jpg", "")

	signIn("Sachbearbeitung Dresden (Teamleitung)")
	visit("/arbeitskorb", "Arbeitskorb", "staff-arbeitskorb")
	visit("/arbeitskorb/vorgaenge/"+s.ID, "Gewerbeanmeldung", "staff-vorgang-entschieden")
	visit("/arbeitskorb/suche", "Vorgänge suchen", "staff-suche")
	visit("/arbeitskorb/suche?status=erledigt", "Erledigte Vorgänge", "staff-erledigt")
	visit("/verwaltung/auswertung", "Auswertung", "staff-auswertung-teamleitung")
	var result string
	run(t, ctx, "a bulk action's result",
		chromedp.Navigate(d.URL+"/arbeitskorb?queue=gewerbe"),
		chromedp.WaitVisible(`#sel-`+cssEscape(open), chromedp.ByQuery),
		press(`#sel-`+cssEscape(open), chromedp.ByQuery),
		press(`//button[@value="claim"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//h2[contains(., "Sammelaktion")]`, chromedp.BySearch),
		chromedp.Text(`main`, &result, chromedp.ByQuery),
	)
	if !strings.Contains(result, "übernommen") {
		t.Errorf("the bulk claim's result:\n%s", result)
	}
	assertAccessible(t, ctx, "bulk action's result")
	docScreenshot(t, ctx, "staff-sammelaktion.jpg", "")
	run(t, ctx, "sign out", press(`//header//button[text()="Abmelden"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//p[@class="flash" and text()="Sie sind abgemeldet."]`, chromedp.BySearch))
	assertAccessible(t, ctx, "signed out")

	signIn("Fachadministration")
	visit("/verwaltung", "Prozessvarianten", "staff-verwaltung")
	visit("/verwaltung/definitionen/gewerbeanmeldung-dresden", "gewerbeanmeldung-dresden", "staff-variante")
	visit("/verwaltung/definitionen/gewerbeanmeldung-dresden/versionen/1", "Version 1", "staff-version")
	visit("/verwaltung/aenderungen", "Änderungen", "staff-aenderungen")
	visit("/verwaltung/auswertung?authority="+e2e.Dresden, "Auswertung", "staff-auswertung")
	visit("/verwaltung/zustellungen", "Zustellungen", "staff-zustellungen")
	visit("/verwaltung/loeschung", "Personenbezogene Daten löschen", "staff-loeschung")

	// A draft saved by someone else while it was open: the save is refused
	// with what was typed kept and what differs from the draft now.
	const variant = "hundesteuer-anmeldung-dresden"
	res := e2e.Call(t, d.URL, http.MethodPost, "/api/v1/definitions/"+variant+"/drafts", "dev-admin", nil)
	if res.Status != http.StatusCreated {
		t.Fatalf("draft: %d %s", res.Status, res.Body)
	}
	draft := "/api/v1/definitions/" + variant + "/versions/2"
	visit("/verwaltung/definitionen/"+variant+"/versionen/2", "Version 2", "staff-entwurf")
	got := e2e.Call(t, d.URL, http.MethodGet, draft, "dev-admin", nil)
	doc := got.JSON(t)["document"].(map[string]any)
	doc["name"] = "Hundesteuer-Anmeldung (von einer Kollegin geändert)"
	if res := e2e.Call(t, d.URL, http.MethodPut, draft, "dev-admin", doc, "If-Match", got.Header.Get("ETag")); res.Status != http.StatusOK {
		t.Fatalf("the colleague's edit: %d %s", res.Status, res.Body)
	}
	var stale, kept string
	run(t, ctx, "save the text loaded before the colleague's edit",
		chromedp.Evaluate(`document.getElementById('document').value += "\nname: Hundesteuer (meine Änderung)\n"`, nil),
		press(`#yaml button[value="save"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#stale`, chromedp.ByID),
		chromedp.Text(`main`, &stale, chromedp.ByQuery),
		chromedp.Value(`#document`, &kept, chromedp.ByID),
	)
	if !strings.Contains(stale, "Nicht gespeichert: Jemand hat diesen Entwurf geändert") || !strings.Contains(stale, "von einer Kollegin geändert") ||
		!strings.Contains(kept, "Hundesteuer (meine Änderung)") {
		t.Errorf("the stale save:\n%s\ntext kept:\n%s", stale, kept)
	}
	assertAccessible(t, ctx, "stale save of a draft")
	docScreenshot(t, ctx, "staff-entwurf-veraltet.jpg", "")
	run(t, ctx, "sign out", press(`//header//button[text()="Abmelden"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//p[@class="flash" and text()="Sie sind abgemeldet."]`, chromedp.BySearch))

	signIn("Datenschutz")
	visit("/verwaltung/protokoll", "Protokoll", "staff-protokoll")
}
