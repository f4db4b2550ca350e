package browser

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ozgflow/ozgflow/test/e2e"
)

// TestCaseWorkerClaimsAsksAndDecides signs in as a Dresden case worker,
// claims a task from the Arbeitskorb, asks the applicant a question, sees the
// answer arrive, rejects the application, and watches the list drop a task a
// colleague claims meanwhile, without reloading.
func TestCaseWorkerClaimsAsksAndDecides(t *testing.T) {
	d := startDev(t)
	st := &e2e.Stack{URL: d.URL, SandboxURL: d.URL, Temporal: d.Client, Namespace: "ozgflow"}
	var cases []e2e.Submitted
	var tasks []string
	for range 3 {
		s := st.Submit(t, e2e.Gewerbeanmeldung(e2e.Dresden, "amt24-anna"))
		e2e.Pay(t, s.PaymentURL, "pay")
		cases = append(cases, s)
		tasks = append(tasks, st.OpenTask(t, s.ID, "dev-sb-dresden", "gewerbe")["id"].(string))
	}
	ctx := browser(t)
	var list string
	run(t, ctx, "sign in and open the Arbeitskorb",
		chromedp.Navigate(d.URL+"/anmelden"),
		chromedp.Click(`//button[contains(., "Sachbearbeitung Dresden (Teamleitung)")]`, chromedp.BySearch),
		chromedp.WaitVisible(`tr[data-task="`+tasks[1]+`"]`, chromedp.ByQuery),
		chromedp.Text(`main`, &list, chromedp.ByQuery),
	)
	for _, want := range []string{"Arbeitskorb", "gewerbe (3 Aufgaben, 3 offen", "Gewerbeanmeldung prüfen", "Leistung"} {
		if !strings.Contains(list, want) {
			t.Errorf("the Arbeitskorb lacks %q:\n%s", want, list)
		}
	}

	var flash, page string
	run(t, ctx, "claim",
		chromedp.Click(`//tr[@data-task="`+tasks[0]+`"]//a`, chromedp.BySearch),
		chromedp.WaitVisible(`//button[text()="Übernehmen"]`, chromedp.BySearch),
		chromedp.Text(`main`, &page, chromedp.ByQuery),
		chromedp.Click(`//button[text()="Übernehmen"]`, chromedp.BySearch),
		chromedp.WaitVisible(`.flash`, chromedp.ByQuery),
		chromedp.Text(`.flash`, &flash, chromedp.ByQuery),
	)
	if !strings.Contains(flash, "übernommen") {
		t.Errorf("flash after claim: %q", flash)
	}
	for _, want := range []string{"Betrieb – Name des Betriebs", "Angemeldete Tätigkeit", "gesiegelt", "bezahlt", "Protokoll"} {
		if !strings.Contains(page, want) {
			t.Errorf("the case view lacks %q:\n%s", want, page)
		}
	}

	run(t, ctx, "ask the applicant",
		chromedp.SendKeys(`#question`, "Bitte reichen Sie den Handelsregisterauszug nach.", chromedp.ByID),
		chromedp.SendKeys(`#fields`, "handelsregisterauszug", chromedp.ByID),
		chromedp.Click(`//button[text()="Rückfrage senden"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//p[contains(@class, "flash") and contains(., "Rückfrage")]`, chromedp.BySearch),
	)
	st.WaitStatus(t, cases[0], "information_requested")
	if res := e2e.Call(t, d.URL, http.MethodPost, "/api/v1/applications/"+cases[0].ID+"/responses", cases[0].Token,
		map[string]any{"text": "Der Auszug liegt bei."}); res.Status != http.StatusOK {
		t.Fatalf("answer: %d %s", res.Status, res.Body)
	}
	st.WaitStatus(t, cases[0], "in_review")
	run(t, ctx, "the answer arrives and the case worker rejects",
		chromedp.Reload(),
		chromedp.WaitVisible(`//p[@data-answer and contains(., "Der Auszug liegt bei.")]`, chromedp.BySearch),
		chromedp.Click(`#outcome-reject`, chromedp.ByID),
		chromedp.SendKeys(`#comment`, "Die Tätigkeit ist erlaubnispflichtig.", chromedp.ByID),
		chromedp.Click(`//button[text()="Entscheidung speichern"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//dd[@data-status="rejected"]`, chromedp.BySearch),
		chromedp.Text(`main`, &page, chromedp.ByQuery),
	)
	for _, want := range []string{"Rückfrage an die antragstellende Person", "Antwort der antragstellenden Person", "entschieden"} {
		if !strings.Contains(page, want) {
			t.Errorf("the audit trail lacks %q:\n%s", want, page)
		}
	}

	// A colleague claims the other task: it leaves the list of open tasks
	// while the page stays open.
	run(t, ctx, "open tasks",
		chromedp.Navigate(d.URL+"/arbeitskorb?queue=gewerbe&status=open"),
		chromedp.WaitVisible(`tr[data-task="`+tasks[1]+`"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`body[data-live="on"]`, chromedp.ByQuery), // the event stream is connected
	)
	if res := e2e.Call(t, d.URL, http.MethodPost, "/api/v1/tasks/"+tasks[1]+"/claim", "dev-sb-dresden-2", nil); res.Status != http.StatusOK {
		t.Fatalf("colleague's claim: %d %s", res.Status, res.Body)
	}
	var live string
	run(t, ctx, "the list updates without a reload",
		chromedp.Poll(`!document.querySelector('tr[data-task="`+tasks[1]+`"]')`, nil,
			chromedp.WithPollingTimeout(10*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)),
		chromedp.Text(`#live`, &live, chromedp.ByID),
	)
	if !strings.Contains(live, "aktualisiert") {
		t.Errorf("no announcement of the update: %q", live)
	}

	// Claiming a task a colleague holds says who holds it.
	var problems string
	run(t, ctx, "a conflict names the holder",
		chromedp.Navigate(d.URL+"/arbeitskorb?queue=gewerbe"),
		chromedp.WaitVisible(`#sel-`+cssEscape(tasks[1]), chromedp.ByQuery),
		chromedp.Click(`#sel-`+cssEscape(tasks[1]), chromedp.ByQuery),
		chromedp.Click(`//button[@value="claim"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//h2[contains(., "Sammelaktion")]`, chromedp.BySearch),
		chromedp.Text(`main`, &problems, chromedp.ByQuery),
	)
	if !strings.Contains(problems, "bearbeitet bereits Sachbearbeitung Dresden 2") {
		t.Errorf("the bulk claim does not name the holder:\n%s", problems)
	}

	// A refused bulk hand-over says why, in the words of its refusal: the
	// colleague does not work the queue the task would go to.
	var refused string
	run(t, ctx, "a refused bulk hand-over says why",
		chromedp.Navigate(d.URL+"/arbeitskorb?queue=gewerbe"),
		chromedp.WaitVisible(`#sel-`+cssEscape(tasks[2]), chromedp.ByQuery),
		chromedp.Click(`#sel-`+cssEscape(tasks[2]), chromedp.ByQuery),
		chromedp.SetValue(`#bulk-to`, "sb-dresden-2", chromedp.ByID),
		chromedp.SetValue(`#bulk-queue`, "gewerbe-leitung", chromedp.ByID),
		chromedp.Click(`//button[@value="handover"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//h2[contains(., "Sammelaktion")]`, chromedp.BySearch),
		chromedp.Text(`main`, &refused, chromedp.ByQuery),
	)
	if !strings.Contains(refused, "Sachbearbeitung Dresden 2 arbeitet nicht im Arbeitskorb „gewerbe-leitung“") ||
		strings.Contains(refused, "Internal error") {
		t.Errorf("the refused hand-over does not say why:\n%s", refused)
	}
}

// cssEscape escapes the dots of a task ID for a CSS ID selector.
func cssEscape(id string) string { return strings.ReplaceAll(id, ".", `\.`) }
