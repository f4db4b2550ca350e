package browser

import (
	"net/http"
	"regexp"
	"strconv"
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
		press(`//button[contains(., "Sachbearbeitung Dresden (Teamleitung)")]`, chromedp.BySearch),
		chromedp.WaitVisible(`tr[data-task="`+tasks[1]+`"]`, chromedp.ByQuery),
		chromedp.Text(`main`, &list, chromedp.ByQuery),
	)
	for _, want := range []string{"Arbeitskorb", "Gewerbeangelegenheiten (3 Aufgaben, 3 offen", "Gewerbeanmeldung prüfen", "Leistung",
		"Antragsteller/in", "Café Anna", "Anna Muster", "Eingegangen", "Bearbeitung"} {
		if !strings.Contains(list, want) {
			t.Errorf("the Arbeitskorb lacks %q:\n%s", want, list)
		}
	}

	var flash, page string
	run(t, ctx, "claim",
		press(`//tr[@data-task="`+tasks[0]+`"]//a`, chromedp.BySearch),
		chromedp.WaitVisible(`//button[text()="Übernehmen"]`, chromedp.BySearch),
		chromedp.Text(`main`, &page, chromedp.ByQuery),
		press(`//button[text()="Übernehmen"]`, chromedp.BySearch),
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

	run(t, ctx, "ask the applicant, after the preview",
		chromedp.SendKeys(`#question`, "Bitte reichen Sie den Handelsregisterauszug nach.", chromedp.ByID),
		chromedp.SendKeys(`#fields`, "handelsregisterauszug", chromedp.ByID),
		press(`//button[text()="Weiter zur Vorschau der Rückfrage"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//article[@id="nachricht"]//p[contains(., "Bitte reichen Sie den Handelsregisterauszug nach.")]`, chromedp.BySearch),
		press(`//button[text()="Rückfrage senden"]`, chromedp.BySearch),
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
		press(`#outcome-reject`, chromedp.ByID),
		chromedp.SendKeys(`#comment`, "Die Tätigkeit ist erlaubnispflichtig.", chromedp.ByID),
		press(`//button[text()="Weiter zur Vorschau der Entscheidung"]`, chromedp.BySearch),
		chromedp.WaitVisible(`#nachricht`, chromedp.ByID),
		press(`//button[text()="Entscheidung speichern und Nachricht senden"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//dd[@data-status="rejected"]`, chromedp.BySearch),
		chromedp.Text(`main`, &page, chromedp.ByQuery),
	)
	for _, want := range []string{"Rückfrage an die antragstellende Person", "Antwort der antragstellenden Person", "entschieden"} {
		if !strings.Contains(page, want) {
			t.Errorf("the audit trail lacks %q:\n%s", want, page)
		}
	}

	// A colleague claims the other task: it leaves the list of open tasks
	// while the page stays open, and the queue's counter goes down with it.
	var counter string
	run(t, ctx, "open tasks",
		chromedp.Navigate(d.URL+"/arbeitskorb?queue=gewerbe&status=open"),
		chromedp.WaitVisible(`tr[data-task="`+tasks[1]+`"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`body[data-live="on"]`, chromedp.ByQuery), // the event stream is connected
		chromedp.Text(`#arbeitskoerbe span[data-queue="gewerbe"]`, &counter, chromedp.ByQuery),
	)
	open := openCount(t, counter)
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
	run(t, ctx, "the counter updates with the list",
		chromedp.Text(`#arbeitskoerbe span[data-queue="gewerbe"]`, &counter, chromedp.ByQuery))
	if got := openCount(t, counter); got != open-1 {
		t.Errorf("the counter says %d open after the colleague's claim, want %d: %q", got, open-1, counter)
	}

	// Claiming a task a colleague holds says who holds it.
	var problems string
	run(t, ctx, "a conflict names the holder",
		chromedp.Navigate(d.URL+"/arbeitskorb?queue=gewerbe"),
		chromedp.WaitVisible(`#sel-`+cssEscape(tasks[1]), chromedp.ByQuery),
		press(`#sel-`+cssEscape(tasks[1]), chromedp.ByQuery),
		press(`//button[@value="claim"]`, chromedp.BySearch),
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
		press(`#sel-`+cssEscape(tasks[2]), chromedp.ByQuery),
		chromedp.SetValue(`#bulk-to`, "sb-dresden-2", chromedp.ByID),
		chromedp.SetValue(`#bulk-queue`, "gewerbe-leitung", chromedp.ByID),
		press(`//button[@value="handover"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//h2[contains(., "Sammelaktion")]`, chromedp.BySearch),
		chromedp.Text(`main`, &refused, chromedp.ByQuery),
	)
	if !strings.Contains(refused, "Sachbearbeitung Dresden 2 arbeitet nicht im Arbeitskorb „Gewerbe – Sachgebietsleitung“") ||
		strings.Contains(refused, "Internal error") {
		t.Errorf("the refused hand-over does not say why:\n%s", refused)
	}
}

// openCount reads the number of open tasks off a queue's counter, e.g.
// "(3 Aufgaben, 2 offen)".
func openCount(t *testing.T, counter string) int {
	t.Helper()
	m := regexp.MustCompile(`(\d+) offen`).FindStringSubmatch(counter)
	if m == nil {
		t.Fatalf("no open tasks in the counter %q", counter)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// cssEscape escapes the dots of a task ID for a CSS ID selector.
func cssEscape(id string) string { return strings.ReplaceAll(id, ".", `\.`) }

// TestCaseWorkersDay follows a Leipzig Gewerbeanmeldung through the
// workspace: the team lead finds it in the Arbeitskorb by who applied,
// opens it beside the list, sees the applicant's contact details, opens
// and downloads the uploaded document (both in the case's trail), writes
// an internal note, previews the message the decision sends and proposes
// it; the colleague who must confirm it is told that a return needs a
// reason, then confirms; the applicant reads the previewed message and
// nothing of the notes; the team lead sees the authority's dashboard.
// axe-core checks every page on the way.
func TestCaseWorkersDay(t *testing.T) {
	d := startDev(t)
	st := &e2e.Stack{URL: d.URL, SandboxURL: d.URL, Temporal: d.Client, Namespace: "ozgflow"}
	auszug := e2e.SamplePDF("Handelsregisterauszug Cafe Anna")
	s := st.SubmitWithDocuments(t, e2e.Gewerbeanmeldung(e2e.Leipzig, "amt24-anna"), e2e.File{Name: "Handelsregisterauszug.pdf", Data: auszug})
	e2e.Pay(t, s.PaymentURL, "pay")
	task := st.OpenTask(t, s.ID, "dev-sb-leipzig", "gewerbe")["id"].(string)
	const note = "Betrieb ist uns bekannt; Auflagen von 2024 beachten."
	const message = "Bitte hängen Sie die Gewerbeanzeige im Betrieb aus."

	ctx := browser(t)
	var row string
	run(t, ctx, "the team lead signs in and finds the case by who applied",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(d.URL+"/anmelden"),
		press(`//button[contains(., "Sachbearbeitung Leipzig (Teamleitung)")]`, chromedp.BySearch),
		chromedp.WaitVisible(`tr[data-task="`+task+`"]`, chromedp.ByQuery),
		chromedp.Text(`tr[data-task="`+cssEscape(task)+`"]`, &row, chromedp.ByQuery),
	)
	if !regexp.MustCompile(`GEW-\d{4}-\d{6}`).MatchString(row) {
		t.Errorf("the row lacks the short case number: %q", row)
	}
	for _, want := range []string{"Café Anna", "Anna Muster", "Gewerbeanmeldung", "Gewerbeangelegenheiten", "Offen", "niemand"} {
		if !strings.Contains(row, want) {
			t.Errorf("the row lacks %q: %q", want, row)
		}
	}
	assertAccessible(t, ctx, "Arbeitskorb")
	docScreenshot(t, ctx, "workspace-arbeitskorb.png", "")

	var page, contact string
	run(t, ctx, "open the case beside the list",
		press(`//tr[@data-task="`+task+`"]//a`, chromedp.BySearch),
		chromedp.WaitVisible(`#h-antragsteller`, chromedp.ByID),
		chromedp.WaitVisible(`//nav[@id="arbeitsliste"]//a[@aria-current="true" and @data-task="`+task+`"]`, chromedp.BySearch),
		chromedp.Text(`#h-antragsteller + dl`, &contact, chromedp.ByQuery),
		chromedp.Text(`main`, &page, chromedp.ByQuery),
	)
	for _, want := range []string{"Anna Muster", "anna@example.org", "amt24-anna", "Café Anna", "Markt 1, 04109 Leipzig"} {
		if !strings.Contains(contact, want) {
			t.Errorf("the applicant's details lack %q: %q", want, contact)
		}
	}
	if strings.Contains(page, "approve") || strings.Contains(page, ">gewerbe<") {
		t.Errorf("the case page shows raw IDs:\n%s", page)
	}
	assertAccessible(t, ctx, "case page")
	docScreenshot(t, ctx, "workspace-vorgang.png", "")

	// Open and download the document as the links do, from the page.
	var got []struct {
		Status      int
		Disposition string
		Size        int
	}
	run(t, ctx, "open and download the uploaded document",
		chromedp.Evaluate(`Promise.all(Array.prototype.map.call(document.querySelectorAll('#anlagen a[href*="/dokumente/"]'), function (a) {
  return fetch(a.href, {credentials: 'same-origin'}).then(function (r) { return r.arrayBuffer().then(function (b) {
    return {Status: r.status, Disposition: r.headers.get('Content-Disposition') || '', Size: b.byteLength}; }); });
}))`, &got, awaitPromise),
	)
	if len(got) != 2 || got[0].Status != 200 || !strings.HasPrefix(got[0].Disposition, "inline") || got[0].Size != len(auszug) ||
		got[1].Status != 200 || !strings.HasPrefix(got[1].Disposition, "attachment") || got[1].Size != len(auszug) {
		t.Errorf("the document's links answered %+v", got)
	}

	var notes, flash string
	run(t, ctx, "claim and write an internal note",
		press(`//button[text()="Übernehmen"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//p[contains(@class, "flash") and contains(., "übernommen")]`, chromedp.BySearch),
		chromedp.SendKeys(`#new-note`, note, chromedp.ByID),
		press(`//button[text()="Notiz speichern"]`, chromedp.BySearch),
		chromedp.WaitVisible(`li[data-note]`, chromedp.ByQuery),
		chromedp.Text(`.flash`, &flash, chromedp.ByQuery),
		chromedp.Text(`ul.notes`, &notes, chromedp.ByQuery),
	)
	if !strings.Contains(flash, "interne Notiz ist gespeichert") || !strings.Contains(notes, note) ||
		!strings.Contains(notes, "Sachbearbeitung Leipzig (Teamleitung)") {
		t.Errorf("the note: flash %q, notes %q", flash, notes)
	}

	var preview string
	run(t, ctx, "decide: the message is previewed as the applicant reads it",
		press(`#outcome-approve`, chromedp.ByID),
		chromedp.SendKeys(`#comment`, message, chromedp.ByID),
		chromedp.SendKeys(`#decide-note`, "Telefonisch mit Frau Muster geklärt.", chromedp.ByID),
		press(`//button[text()="Weiter zur Vorschau der Entscheidung"]`, chromedp.BySearch),
		chromedp.WaitVisible(`#nachricht`, chromedp.ByID),
		chromedp.Text(`section.preview`, &preview, chromedp.ByQuery),
	)
	for _, want := range []string{"Achtung: Diese Nachricht geht an die antragstellende Person (Anna Muster)",
		"sobald eine zweite Person Ihre Entscheidung bestätigt", "Gewerbeanmeldung bestätigt", "Hinweis: " + message,
		"Interne Notiz – wird nicht gesendet", "Telefonisch mit Frau Muster geklärt."} {
		if !strings.Contains(preview, want) {
			t.Errorf("the preview lacks %q:\n%s", want, preview)
		}
	}
	assertAccessible(t, ctx, "preview of the decision")
	docScreenshot(t, ctx, "workspace-vorschau.png", "section.actions")
	var comment string
	run(t, ctx, "change, preview again and propose",
		press(`//button[text()="Ändern"]`, chromedp.BySearch),
		chromedp.WaitVisible(`#comment`, chromedp.ByID),
		chromedp.Value(`#comment`, &comment, chromedp.ByID),
		press(`//button[text()="Weiter zur Vorschau der Entscheidung"]`, chromedp.BySearch),
		chromedp.WaitVisible(`#nachricht`, chromedp.ByID),
		press(`//button[text()="Entscheidung vorschlagen"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//p[contains(@class, "flash") and contains(., "vorgeschlagen")]`, chromedp.BySearch),
		chromedp.Text(`ul.notes`, &notes, chromedp.ByQuery),
	)
	if comment != message || !strings.Contains(notes, "Telefonisch mit Frau Muster geklärt.") {
		t.Errorf("after changing: comment %q, notes %q", comment, notes)
	}

	var refused, invalid string
	run(t, ctx, "the colleague returns the decision without a reason",
		press(`//header//button[text()="Abmelden"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//p[@class="flash" and text()="Sie sind abgemeldet."]`, chromedp.BySearch),
		chromedp.Navigate(d.URL+"/anmelden?next=%2Farbeitskorb%2Fvorgaenge%2F"+s.ID),
		press(`//button[contains(., "Sachbearbeitung Leipzig 2")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//legend[contains(., "Vier-Augen-Prinzip")]`, chromedp.BySearch),
		press(`//button[text()="Zurückgeben"]`, chromedp.BySearch),
		chromedp.WaitVisible(`.problems`, chromedp.ByQuery),
		chromedp.Text(`.problems`, &refused, chromedp.ByQuery),
		chromedp.AttributeValue(`#approval-comment`, "aria-invalid", &invalid, nil, chromedp.ByID),
	)
	if !strings.Contains(refused, "Die Entscheidung wurde nicht zurückgegeben.") || !strings.Contains(refused, "Die Begründung fehlt") ||
		strings.Contains(refused, "Das hat nicht geklappt") || invalid != "true" {
		t.Errorf("a return without a reason: %q, aria-invalid %q", refused, invalid)
	}
	assertAccessible(t, ctx, "refused return")
	docScreenshot(t, ctx, "workspace-zurueckgeben.png", "section.actions")
	run(t, ctx, "the colleague confirms",
		press(`//button[text()="Entscheidung bestätigen und Nachricht senden"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//dd[@data-status="approved"]`, chromedp.BySearch),
	)
	c := st.WaitStatus(t, s, "approved")
	var texts []string
	for _, n := range c["timeline"].([]any) {
		texts = append(texts, n.(map[string]any)["text"].(string))
	}
	all := strings.Join(texts, "\n")
	if !strings.Contains(all, "Hinweis: "+message) || strings.Contains(all, "Auflagen") || strings.Contains(all, "Telefonisch") {
		t.Errorf("the applicant's notices:\n%s", all)
	}

	var dashboard string
	run(t, ctx, "the team lead sees the authority's dashboard",
		press(`//header//button[text()="Abmelden"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//p[@class="flash" and text()="Sie sind abgemeldet."]`, chromedp.BySearch),
		press(`//button[contains(., "Sachbearbeitung Leipzig (Teamleitung)")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//header//a[text()="Auswertung"]`, chromedp.BySearch),
		press(`//header//a[text()="Auswertung"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//h2[text()="Gewerbeanmeldung"]`, chromedp.BySearch),
		chromedp.Text(`main`, &dashboard, chromedp.ByQuery),
	)
	if !strings.Contains(dashboard, "Stadt Leipzig") || strings.Contains(dashboard, "Dresden") {
		t.Errorf("the team lead's dashboard:\n%s", dashboard)
	}
	assertAccessible(t, ctx, "team lead's dashboard")
}
