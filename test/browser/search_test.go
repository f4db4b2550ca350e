package browser

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ozgflow/ozgflow/locale"
	"github.com/ozgflow/ozgflow/test/e2e"
)

// TestCaseWorkerSetsAFollowUpAndFindsTheClosedCase signs in as a Dresden
// case worker, sets a follow-up (Wiedervorlage) on a task with an internal
// note, sees it marked in the Arbeitskorb, removes it, decides, and finds
// the case again under "Erledigt" with its decision and through the
// search's period of receipt. The search page and the case page with the
// follow-up form have no accessibility violations.
func TestCaseWorkerSetsAFollowUpAndFindsTheClosedCase(t *testing.T) {
	d := startDev(t)
	st := &e2e.Stack{URL: d.URL, SandboxURL: d.URL, Temporal: d.Client, Namespace: "ozgflow"}
	s := st.Submit(t, e2e.Gewerbeanmeldung(e2e.Dresden, "amt24-anna"))
	e2e.Pay(t, s.PaymentURL, "pay")
	task := st.OpenTask(t, s.ID, "dev-sb-dresden", "gewerbe")["id"].(string)
	now := time.Now().In(locale.Berlin)
	day := now.AddDate(0, 0, 3)
	ctx := browser(t)

	var page string
	run(t, ctx, "sign in, open the case and claim it",
		chromedp.Navigate(d.URL+"/anmelden"),
		press(`//button[contains(., "Sachbearbeitung Dresden (Teamleitung)")]`, chromedp.BySearch),
		chromedp.WaitVisible(`tr[data-task="`+task+`"]`, chromedp.ByQuery),
		chromedp.Navigate(d.URL+"/arbeitskorb/vorgaenge/"+s.ID),
		press(`//button[text()="Übernehmen"]`, chromedp.BySearch),
		chromedp.WaitVisible(`#followup-date`, chromedp.ByID),
	)
	run(t, ctx, "set a follow-up in three days with a note",
		chromedp.SetValue(`#followup-date`, day.Format("2006-01-02"), chromedp.ByID),
		chromedp.SendKeys(`#followup-note`, "Gewerbezentralregister abfragen", chromedp.ByID),
		press(`//button[text()="Wiedervorlage setzen"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//p[contains(@class, "flash") and contains(., "Wiedervorlage ist gesetzt")]`, chromedp.BySearch),
		chromedp.Text(`main`, &page, chromedp.ByQuery),
	)
	for _, want := range []string{"Wiedervorlage am " + day.Format("02.01.2006"), "Interne Notiz: Gewerbezentralregister abfragen",
		"Wiedervorlage gesetzt"} {
		if !strings.Contains(page, want) {
			t.Errorf("the case view lacks %q:\n%s", want, page)
		}
	}
	for _, n := range st.Case(t, s.ID, s.Token)["timeline"].([]any) {
		if text := n.(map[string]any)["text"].(string); strings.Contains(text, "Gewerbezentralregister") {
			t.Errorf("the internal note reached the applicant: %q", text)
		}
	}
	assertAccessible(t, ctx, "case view with a follow-up")
	pageShot(t, ctx, "case view with a follow-up")

	var mark string
	run(t, ctx, "the Arbeitskorb marks the day",
		chromedp.Navigate(d.URL+"/arbeitskorb?queue=gewerbe"),
		chromedp.Text(`tr[data-task="`+task+`"] [data-followup]`, &mark, chromedp.ByQuery),
	)
	pageShot(t, ctx, "Arbeitskorb with a follow-up")
	if mark != "Wiedervorlage am "+day.Format("02.01.2006") {
		t.Errorf("mark in the list: %q", mark)
	}

	var refused string
	run(t, ctx, "a day in the past is refused in German",
		chromedp.Navigate(d.URL+"/arbeitskorb/vorgaenge/"+s.ID),
		chromedp.WaitVisible(`#followup-date`, chromedp.ByID),
		// The browser's own check of min would stop the form; the server must refuse too.
		chromedp.Evaluate(`document.getElementById('followup-date').removeAttribute('min')`, nil),
		chromedp.SetValue(`#followup-date`, now.AddDate(0, 0, -1).Format("2006-01-02"), chromedp.ByID),
		press(`//button[text()="Wiedervorlage setzen"]`, chromedp.BySearch),
		chromedp.WaitVisible(`.problems`, chromedp.ByQuery),
		chromedp.Text(`.problems`, &refused, chromedp.ByQuery),
	)
	if !strings.Contains(refused, "liegt nicht in der Zukunft") {
		t.Errorf("refusal of a past day: %q", refused)
	}

	run(t, ctx, "remove it, then decide",
		chromedp.Navigate(d.URL+"/arbeitskorb/vorgaenge/"+s.ID),
		press(`//button[contains(., "Wiedervorlage erledigt")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//p[contains(@class, "flash") and contains(., "Wiedervorlage ist entfernt")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//p[text()="Keine Wiedervorlage gesetzt."]`, chromedp.BySearch),
		press(`#outcome-approve`, chromedp.ByID),
		press(`//button[text()="Weiter zur Vorschau der Entscheidung"]`, chromedp.BySearch),
		press(`//button[text()="Entscheidung speichern und Nachricht senden"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//dd[@data-status="approved"]`, chromedp.BySearch),
	)
	st.WaitStatus(t, s, "approved")

	var closed string
	run(t, ctx, "the case is under Erledigt with its decision",
		press(`//nav//a[text()="Erledigt"]`, chromedp.BySearch),
		chromedp.WaitVisible(`tr[data-case="`+s.ID+`"]`, chromedp.ByQuery),
		chromedp.Text(`tr[data-case="`+s.ID+`"]`, &closed, chromedp.ByQuery),
	)
	if !strings.Contains(closed, "Bestätigt") || !strings.Contains(closed, now.Format("02.01.2006")) {
		t.Errorf("the erledigt row: %q", closed)
	}
	assertAccessible(t, ctx, "erledigt view")
	pageShot(t, ctx, "erledigt view")

	var found string
	run(t, ctx, "search by the period of receipt",
		press(`//nav//a[text()="Suche"]`, chromedp.BySearch),
		chromedp.WaitVisible(`#q`, chromedp.ByID),
		chromedp.SetValue(`#von`, now.Format("2006-01-02"), chromedp.ByID),
		chromedp.SetValue(`#bis`, now.Format("2006-01-02"), chromedp.ByID),
		press(`//button[text()="Suchen"]`, chromedp.BySearch),
		chromedp.WaitVisible(`#treffer`, chromedp.ByID),
		chromedp.Text(`#treffer`, &found, chromedp.ByQuery),
	)
	pageShot(t, ctx, "search by period")
	assertAccessible(t, ctx, "search results")
	run(t, ctx, "open a case found",
		press(`tr[data-case="`+s.ID+`"] a`, chromedp.ByQuery),
		chromedp.WaitVisible(`//dd[@data-status="approved"]`, chromedp.BySearch),
	)
	if !strings.Contains(found, "1 Vorgang gefunden") {
		t.Errorf("search by period: %q", found)
	}
	if res := e2e.Call(t, d.URL, http.MethodGet, "/api/v1/cases?status=closed&from="+now.Format("2006-01-02"), "dev-sb-dresden", nil); res.Status != http.StatusOK ||
		!strings.Contains(string(res.Body), `"outcomeText":"Bestätigt"`) {
		t.Errorf("the API's erledigt view: %d %s", res.Status, res.Body)
	}
}

// pageShot keeps a screenshot of the page as PNG in the directory
// OZGFLOW_SCREENSHOTS names, if set, to look at what a case worker sees.
func pageShot(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	dir := os.Getenv("OZGFLOW_SCREENSHOTS")
	if dir == "" {
		return
	}
	var png []byte
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(1280, 900), chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Logf("no screenshot of %s: %v", what, err)
		return
	}
	name := filepath.Join(dir, strings.ReplaceAll(what, " ", "-")+".png")
	if err := os.WriteFile(name, png, 0o644); err != nil {
		t.Logf("no screenshot of %s: %v", what, err)
	}
}
