package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/uuid"

	"github.com/ozgflow/ozgflow/process"
	"github.com/ozgflow/ozgflow/test/e2e"
)

// The applicant's pages in Chromium: the whole walk from the status page
// to the verified receipt, keyboard use, small screens and zoom, and axe-core
// over every page in every state.

// axeTags are the rules checked: WCAG 2.0 and 2.1, levels A and AA.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

var (
	axeOnce   sync.Once
	axeSource string
	axeErr    error
)

// axeScript is axe-core as `make test` installs it (npm ci in test/browser).
func axeScript(t *testing.T) string {
	t.Helper()
	axeOnce.Do(func() {
		var b []byte
		b, axeErr = os.ReadFile(filepath.Join("node_modules", "axe-core", "axe.min.js"))
		axeSource = string(b)
	})
	if axeErr != nil {
		t.Fatalf("the accessibility checks need axe-core in test/browser/node_modules (make test runs npm ci there): %v", axeErr)
	}
	return axeSource
}

// axeViolation is what axe reports of a rule a page breaks.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  string `json:"target"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

func awaitPromise(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }

// axeCheck runs axe-core over the page as it is.
func axeCheck(t *testing.T, ctx context.Context, state string) (violations []axeViolation, passes int) {
	t.Helper()
	tags, _ := json.Marshal(axeTags)
	var result struct {
		Violations []axeViolation
		Passes     int
	}
	// One evaluation loads axe-core where the page lacks it and runs it, so
	// that run may do it again whole on a page that replaced the one before.
	run(t, ctx, "axe: "+state,
		chromedp.Evaluate(`(typeof axe === 'undefined' ? (function () { `+axeScript(t)+`
; return true; })() : true) && axe.run(document, {runOnly: {type: 'tag', values: `+string(tags)+`}})
  .then(function (r) { return {Passes: r.passes.length, Violations: r.violations.map(function (v) {
    return {id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map(function (n) { return {target: n.target.join(' '), summary: n.failureSummary}; })}; })}; })`,
			&result, awaitPromise),
	)
	return result.Violations, result.Passes
}

// assertAccessible fails the test with every violation of WCAG 2.1 A and AA
// that axe-core finds on the page, keeping a screenshot.
func assertAccessible(t *testing.T, ctx context.Context, state string) {
	t.Helper()
	violations, passes := axeCheck(t, ctx, state)
	if passes < 10 {
		t.Errorf("%s: axe passed only %d rules; did it check the page?", state, passes)
	}
	if len(violations) == 0 {
		t.Logf("%s: no accessibility violations, %d rules passed", state, passes)
		return
	}
	var b strings.Builder
	for _, v := range violations {
		fmt.Fprintf(&b, "\n- %s (%s): %s", v.ID, v.Impact, v.Help)
		for _, n := range v.Nodes {
			fmt.Fprintf(&b, "\n    %s: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " "))
		}
	}
	screenshot(t, ctx, "axe "+state)
	t.Errorf("%s: %d accessibility violations (WCAG 2.1 A/AA):%s", state, len(violations), b.String())
}

// TestAxeFindsViolations keeps the accessibility check honest: a page with
// known faults must be reported.
func TestAxeFindsViolations(t *testing.T) {
	ctx := browser(t)
	run(t, ctx, "a faulty page", chromedp.Navigate(`data:text/html,<!doctype html><html><title>x</title><body>`+
		`<img src="data:,"><input type="text"><p style="color:%23ccc;background:%23fff">faint</p></body></html>`))
	violations, _ := axeCheck(t, ctx, "faulty page")
	found := map[string]bool{}
	for _, v := range violations {
		found[v.ID] = true
	}
	for _, id := range []string{"html-has-lang", "image-alt", "label", "color-contrast"} {
		if !found[id] {
			t.Errorf("axe did not report %s; it reported %v", id, found)
		}
	}
}

// screenshot keeps the page under test/artifacts.
func screenshot(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	var shot []byte
	if chromedp.Run(ctx, chromedp.FullScreenshot(&shot, 80)) != nil {
		return
	}
	dir := filepath.Join("..", "artifacts")
	_ = os.MkdirAll(dir, 0o755)
	name := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_", ":", "_").Replace(t.Name()+"-"+what)+".jpg")
	if os.WriteFile(name, shot, 0o644) == nil {
		t.Logf("screenshot: %s", name)
	}
}

// docScreenshot keeps the page for the README as docs/screenshots/<file>
// when OZGFLOW_DOCS_SCREENSHOTS is set: a .jpg holds the whole page (JPEG
// quality 60, small enough to commit), a .png the element sel, or the
// viewport without one.
// (OZGFLOW_DOCS_SCREENSHOTS=1 go test ./test/browser -run TestRejectionInTheVariantsWords)
func docScreenshot(t *testing.T, ctx context.Context, file, sel string) {
	t.Helper()
	if os.Getenv("OZGFLOW_DOCS_SCREENSHOTS") == "" {
		return
	}
	var shot []byte
	var action chromedp.Action
	switch {
	case strings.HasSuffix(file, ".jpg"):
		action = chromedp.FullScreenshot(&shot, 60)
	case sel != "":
		action = chromedp.Screenshot(sel, &shot, chromedp.ByQuery)
	default:
		action = chromedp.CaptureScreenshot(&shot)
	}
	if err := chromedp.Run(ctx, action); err != nil {
		t.Errorf("screenshot %s: %v", file, err)
		return
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), shot, 0o644); err != nil {
		t.Fatal(err)
	}
}

// germanBrowser is a headless Chromium whose user reads German, as the
// browser of most applicants asks for.
func germanBrowser(t *testing.T) context.Context {
	t.Helper()
	ctx := browser(t)
	run(t, ctx, "German browser", network.Enable(),
		network.SetExtraHTTPHeaders(network.Headers{"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}))
	return ctx
}

// tabTo presses Tab until the element with the id has the focus.
func tabTo(id string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var focused string
		for range 80 {
			if err := chromedp.KeyEvent(kb.Tab).Do(ctx); err != nil {
				return err
			}
			if err := chromedp.Evaluate(`document.activeElement ? document.activeElement.id : ''`, &focused).Do(ctx); err != nil {
				return err
			}
			if focused == id {
				return nil
			}
		}
		return fmt.Errorf("#%s was not reached with 80 presses of Tab (focus on #%s)", id, focused)
	})
}

// fitsWidth fails when the page scrolls sideways or an element of the page
// sticks out of the viewport.
func fitsWidth(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	var report struct {
		ScrollWidth, ClientWidth int
		Outside                  []string
		HeadingVisible           bool
	}
	run(t, ctx, "measure "+what, chromedp.Evaluate(`(function () {
  var doc = document.documentElement, out = [];
  document.querySelectorAll('header *, main *, footer *').forEach(function (e) {
    var r = e.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && (r.left < -1 || r.right > doc.clientWidth + 1)) out.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : ''));
  });
  var h = document.querySelector('h1').getBoundingClientRect();
  return {ScrollWidth: doc.scrollWidth, ClientWidth: doc.clientWidth, Outside: out,
    HeadingVisible: h.width > 0 && h.left >= 0 && h.right <= doc.clientWidth};
})()`, &report))
	if report.ScrollWidth > report.ClientWidth || len(report.Outside) > 0 || !report.HeadingVisible {
		screenshot(t, ctx, "width "+what)
		t.Errorf("%s: scroll width %d in a viewport of %d, sticking out: %v, heading visible: %v",
			what, report.ScrollWidth, report.ClientWidth, report.Outside, report.HeadingVisible)
	}
}

// checkLayouts looks at the page at 200 % zoom of a 1280 px window and on a
// phone (375×667), then returns to the desktop.
func checkLayouts(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	run(t, ctx, "zoom 200 % "+what, chromedp.EmulateViewport(640, 400, chromedp.EmulateScale(2)))
	fitsWidth(t, ctx, what+" at 200 %")
	run(t, ctx, "phone "+what, chromedp.EmulateViewport(375, 667, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	fitsWidth(t, ctx, what+" on a phone")
	run(t, ctx, "desktop "+what, chromedp.EmulateViewport(1280, 900))
}

// documents are the files the applicant uploads.
type documents struct{ Auszug, TooLarge, NotAPDF string }

func writeDocuments(t *testing.T) documents {
	t.Helper()
	dir := t.TempDir()
	d := documents{Auszug: filepath.Join(dir, "Handelsregisterauszug.pdf"), TooLarge: filepath.Join(dir, "Scan gross.pdf"),
		NotAPDF: filepath.Join(dir, "Notiz.pdf")}
	for path, data := range map[string][]byte{
		d.Auszug:   e2e.SamplePDF("Handelsregisterauszug Cafe Anna"),
		d.TooLarge: append(e2e.SamplePDF("gross"), make([]byte, 6_000_000)...),
		d.NotAPDF:  []byte("Nur eine Notiz, kein PDF."),
	} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// status waits until the status page shows the status.
func status(st string) chromedp.Action {
	return chromedp.WaitVisible(`#status-sentence[data-status="`+st+`"]`, chromedp.ByQuery)
}

// TestApplicantFollowsTheCaseFromPaymentToVerifiedReceipt walks an applicant
// through a Gewerbeanmeldung: the status page opened with the token, payment
// on the sandbox's page, a question answered with a PDF (after a file too
// large and one that is no PDF were refused readably), the decision arriving
// while the page stays open, the receipt downloaded and verified.
func TestApplicantFollowsTheCaseFromPaymentToVerifiedReceipt(t *testing.T) {
	d := startDev(t)
	st := &e2e.Stack{URL: d.URL, SandboxURL: d.URL, Temporal: d.Client, Namespace: "ozgflow"}
	s := st.Submit(t, e2e.Gewerbeanmeldung(e2e.Leipzig, "amt24-anna"))
	docs := writeDocuments(t)
	ctx := germanBrowser(t)
	page := d.URL + "/antraege/" + s.ID

	var location, text string
	run(t, ctx, "open the status page with the token",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(page+"?token="+s.Token),
		status("awaiting_payment"),
		chromedp.Location(&location),
		chromedp.Text(`main`, &text, chromedp.ByQuery),
	)
	if location != page {
		t.Errorf("the address keeps %q, want %s without the token", location, page)
	}
	number, _ := s.Body["caseNumber"].(string)
	if !strings.HasPrefix(number, "GEW-") {
		t.Fatalf("no case number in the submit answer: %v", s.Body)
	}
	for _, want := range []string{"Ihr Antrag: Gewerbeanmeldung", "Ihr Antrag wartet auf die Bezahlung der Gebühr.",
		"Bitte bezahlen Sie die Gebühr von 26,00 EUR bis", "Zu bezahlen bis", "Gebühr jetzt bezahlen", "Bitte Gebühr bezahlen",
		"Antragsnummer", number} {
		if !strings.Contains(text, want) {
			t.Errorf("the status page lacks %q:\n%s", want, text)
		}
	}
	assertAccessible(t, ctx, "awaiting payment")
	docScreenshot(t, ctx, "antrag-zahlung-offen.jpg", "")

	// The sandbox's page sends the browser back to the status page.
	var back, flash string
	run(t, ctx, "pay on the sandbox's page",
		press(`#pay-link`, chromedp.ByQuery),
		chromedp.WaitVisible(`//button[@value="pay"]`, chromedp.BySearch),
		press(`//button[@value="pay"]`, chromedp.BySearch),
		chromedp.WaitVisible(`.flash`, chromedp.ByQuery),
		chromedp.Location(&back),
		chromedp.Text(`.flash`, &flash, chromedp.ByQuery),
	)
	if back != page+"?hinweis=bezahlt&rueckkehr=zahlung" || !strings.Contains(flash, "Ihre Zahlung ist abgeschlossen") {
		t.Errorf("after paying the browser is at %q saying %q, want the status page", back, flash)
	}
	assertAccessible(t, ctx, "back from the payment")
	run(t, ctx, "the payment confirmed",
		chromedp.Navigate(page),
		status("in_review"),
		chromedp.WaitVisible(`#receipt-link`, chromedp.ByQuery),
		chromedp.WaitVisible(`body[data-live="on"]`, chromedp.ByQuery),
	)

	// The case worker asks; the open page shows the question by itself.
	st.AskApplicant(t, s, "gewerbe", "Bitte reichen Sie den Handelsregisterauszug als PDF nach.")
	var live string
	run(t, ctx, "the question arrives without a reload",
		status("information_requested"),
		chromedp.WaitVisible(`#answer-form`, chromedp.ByQuery),
		chromedp.Text(`#request-question`, &text, chromedp.ByQuery),
		chromedp.Text(`#live`, &live, chromedp.ByQuery),
	)
	if !strings.Contains(text, "Handelsregisterauszug als PDF") || !strings.Contains(live, "Der Stand Ihres Antrags hat sich geändert.") {
		t.Errorf("question %q, announcement %q", text, live)
	}
	assertAccessible(t, ctx, "information requested with the answer form")
	docScreenshot(t, ctx, "antrag-rueckfrage.jpg", "")

	var problems string
	run(t, ctx, "a file too large is refused readably",
		chromedp.SendKeys(`#answer-text`, "Der Auszug liegt bei.", chromedp.ByQuery),
		chromedp.SetUploadFiles(`#answer-files`, []string{docs.TooLarge}, chromedp.ByQuery),
		press(`#answer-submit`, chromedp.ByQuery),
		chromedp.WaitVisible(`#problems`, chromedp.ByQuery),
		chromedp.Text(`#problems`, &problems, chromedp.ByQuery),
		chromedp.Value(`#answer-text`, &text, chromedp.ByQuery),
	)
	if !strings.Contains(problems, "Die Datei „Scan gross.pdf“ ist zu groß. Jede Datei darf höchstens 5 MB groß sein.") || text != "Der Auszug liegt bei." {
		t.Errorf("problems %q, the answer kept as %q", problems, text)
	}
	assertAccessible(t, ctx, "answer refused")
	docScreenshot(t, ctx, "antrag-antwort-abgelehnt.jpg", "")
	run(t, ctx, "a file that is no PDF is refused readably",
		chromedp.SetUploadFiles(`#answer-files`, []string{docs.NotAPDF}, chromedp.ByQuery),
		press(`#answer-submit`, chromedp.ByQuery),
		chromedp.WaitVisible(`//div[@id="problems"]//a[contains(., "Notiz.pdf")]`, chromedp.BySearch),
		chromedp.Text(`#problems`, &problems, chromedp.ByQuery),
	)
	if !strings.Contains(problems, "Die Datei „Notiz.pdf“ ist kein PDF, JPEG oder PNG.") {
		t.Errorf("problems %q", problems)
	}
	flash = ""
	run(t, ctx, "answer with the PDF",
		chromedp.SetUploadFiles(`#answer-files`, []string{docs.Auszug}, chromedp.ByQuery),
		press(`#answer-submit`, chromedp.ByQuery),
		chromedp.WaitVisible(`.flash`, chromedp.ByQuery),
		chromedp.Text(`.flash`, &flash, chromedp.ByQuery),
		chromedp.WaitVisible(`body[data-live="on"]`, chromedp.ByQuery),
		chromedp.Text(`main`, &text, chromedp.ByQuery),
	)
	if !strings.Contains(flash, "Ihre Antwort ist angekommen") || !strings.Contains(text, "Handelsregisterauszug.pdf") {
		t.Errorf("after answering: flash %q\n%s", flash, text)
	}
	c := st.Case(t, s.ID, "dev-sb-leipzig")
	req := c["informationRequests"].([]any)[0].(map[string]any)
	if atts, _ := req["attachments"].([]any); len(atts) != 1 || atts[0].(map[string]any)["contentType"] != "application/pdf" {
		t.Errorf("the case records %v", req)
	}

	// The case worker approves (four-eyes in Leipzig) while the page stays open.
	task := st.OpenTask(t, s.ID, "dev-sb-leipzig", "gewerbe")["id"].(string)
	for _, call := range []struct{ path, token string }{
		{"/claim", "dev-sb-leipzig"}, {"/complete", "dev-sb-leipzig"}, {"/approve", "dev-sb-leipzig-2"},
	} {
		body := map[string]any{"outcome": "approve", "comment": "Die Anmeldung ist vollständig.", "approve": true}
		if res := e2e.Call(t, d.URL, http.MethodPost, "/api/v1/tasks/"+task+call.path, call.token, body); res.Status != http.StatusOK &&
			!(call.path == "/claim" && res.Status == http.StatusConflict) {
			t.Fatalf("%s: %d %s", call.path, res.Status, res.Body)
		}
	}
	// The live updates may replace the status region again while it is
	// read, so the page is read in one go once the decision shows.
	var decided struct{ Decision, Live, Receipt string }
	run(t, ctx, "the decision arrives without a reload",
		chromedp.Poll(`(() => {
			const d = document.querySelector('#decision[data-outcome="approve"]');
			const l = document.querySelector('#live');
			const a = document.querySelector('#receipt-link');
			if (!d || !a || !l || !l.innerText.includes('bestätigt')) return null;
			return {Decision: d.innerText, Live: l.innerText, Receipt: a.getAttribute('href')};
		})()`, &decided, chromedp.WithPollingTimeout(15*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)),
	)
	decision, live, receipt := decided.Decision, decided.Live, decided.Receipt
	// A Gewerbeanmeldung is confirmed, in its variant's words.
	if !strings.Contains(decision, "Bestätigt") || !strings.Contains(decision, "Die Anmeldung ist vollständig.") ||
		!strings.Contains(live, "Ihre Gewerbeanmeldung ist bestätigt.") || strings.Contains(decision+live, "ewilligt") {
		t.Errorf("decision %q, announcement %q", decision, live)
	}
	assertAccessible(t, ctx, "decided")
	docScreenshot(t, ctx, "antrag-entschieden.jpg", "")

	// The receipt: downloaded, verified, and a tampered copy recognised.
	// The link carries no token; the browser's cookie opens it, this
	// client shows the access token instead.
	if strings.Contains(receipt, "token") {
		t.Errorf("the receipt's link carries the access token: %s", receipt)
	}
	res := e2e.Call(t, d.URL, http.MethodGet, receipt, s.Token, nil)
	if res.Status != http.StatusOK || res.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(res.Body), "%PDF-") {
		t.Fatalf("receipt %s: %d %s", receipt, res.Status, res.Header.Get("Content-Type"))
	}
	verifyReceipts(t, ctx, d, res.Body)
}

// verifyReceipts checks a receipt at /pruefen as a PDF, a tampered copy of
// it, and text that is no receipt of ours; each verdict is accessible.
func verifyReceipts(t *testing.T, ctx context.Context, d *process.Dev, pdf []byte) {
	t.Helper()
	dir := t.TempDir()
	genuine, tampered := filepath.Join(dir, "Eingangsbestaetigung.pdf"), filepath.Join(dir, "Eingangsbestaetigung-geaendert.pdf")
	changed := tamper(t, pdf)
	for path, data := range map[string][]byte{genuine: pdf, tampered: changed} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name, file, text, verdict, want string
	}{
		{"genuine", genuine, "", "valid", "Echt"},
		{"tampered", tampered, "", "tampered", "Verändert"},
		{"unknown", "", "Eingangsbestätigung Nr. 42, ausgestellt von niemandem", "unknown", "Unbekannt"},
	} {
		var result string
		actions := []chromedp.Action{chromedp.Navigate(d.URL + "/pruefen"), chromedp.WaitVisible(`#verify-submit`, chromedp.ByQuery)}
		if tt.file != "" {
			actions = append(actions, chromedp.SetUploadFiles(`#verify-file`, []string{tt.file}, chromedp.ByQuery))
		} else {
			actions = append(actions, chromedp.SendKeys(`#verify-text`, tt.text, chromedp.ByQuery))
		}
		actions = append(actions, press(`#verify-submit`, chromedp.ByQuery),
			chromedp.WaitVisible(`#verdict[data-verdict="`+tt.verdict+`"]`, chromedp.ByQuery),
			chromedp.Text(`#verdict`, &result, chromedp.ByQuery))
		run(t, ctx, "verify a "+tt.name+" receipt", actions...)
		if !strings.Contains(result, tt.want) {
			t.Errorf("%s receipt: verdict %q, want %q", tt.name, result, tt.want)
		}
		assertAccessible(t, ctx, "/pruefen "+tt.name)
		docScreenshot(t, ctx, "pruefen-"+strings.ReplaceAll(tt.name, " ", "-")+".jpg", "")
	}
}

// tamper changes one character of the seal the receipt carries for
// machines (the /OzgflowJWS entry of its document information), as someone
// editing the document's data would; the printed seal then disagrees.
func tamper(t *testing.T, pdf []byte) []byte {
	t.Helper()
	out := append([]byte(nil), pdf...)
	key := bytes.LastIndex(out, []byte("/OzgflowJWS"))
	if key < 0 {
		t.Fatal("the receipt PDF carries no /OzgflowJWS entry to tamper with")
	}
	dot := bytes.IndexByte(out[key:], '.')
	if dot < 0 {
		t.Fatal("the receipt's seal has no payload")
	}
	at := key + dot + 20 // a character inside the payload
	if out[at] == 'A' {
		out[at] = 'B'
	} else {
		out[at] = 'A'
	}
	return out
}

// TestApplicantPagesWorkByKeyboardAndOnSmallScreens answers a question and
// withdraws with Tab and Enter only, checks the pages at 200 % zoom and on a
// phone, and runs axe over the English page, the confirmation of the
// withdrawal and the page of someone without access.
func TestApplicantPagesWorkByKeyboardAndOnSmallScreens(t *testing.T) {
	d := startDev(t)
	st := &e2e.Stack{URL: d.URL, SandboxURL: d.URL, Temporal: d.Client, Namespace: "ozgflow"}
	s := st.Submit(t, e2e.Gewerbeanmeldung(e2e.Leipzig, "amt24-anna"))
	e2e.Pay(t, s.PaymentURL, "pay")
	st.AskApplicant(t, s, "gewerbe", "Seit wann betreiben Sie das Café?")
	ctx := germanBrowser(t)
	page := d.URL + "/antraege/" + s.ID

	run(t, ctx, "open the status page",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(page+"?token="+s.Token),
		status("information_requested"),
	)
	checkLayouts(t, ctx, "status page with the answer form")

	var flash string
	run(t, ctx, "answer by keyboard",
		tabTo("answer-text"),
		chromedp.KeyEvent("Seit dem 1. Dezember 2026."),
		tabTo("answer-submit"),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(`.flash`, chromedp.ByQuery),
		chromedp.Text(`.flash`, &flash, chromedp.ByQuery),
	)
	if !strings.Contains(flash, "Ihre Antwort ist angekommen") {
		t.Errorf("flash after the keyboard answer: %q", flash)
	}
	if got := st.Case(t, s.ID, s.Token)["informationRequests"].([]any)[0].(map[string]any)["answer"]; got != "Seit dem 1. Dezember 2026." {
		t.Errorf("answer recorded %q", got)
	}

	var text string
	run(t, ctx, "to the confirmation by keyboard",
		tabTo("withdraw-link"),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(`#withdraw-confirm`, chromedp.ByQuery),
		chromedp.Text(`main`, &text, chromedp.ByQuery),
	)
	if !strings.Contains(text, "bearbeitet die Behörde ihn nicht weiter") || !strings.Contains(text, "Die bereits bezahlte Gebühr von 26,00 EUR wird Ihnen erstattet.") {
		t.Errorf("the confirmation does not say what withdrawing means:\n%s", text)
	}
	assertAccessible(t, ctx, "withdraw confirmation")
	docScreenshot(t, ctx, "antrag-zurueckziehen.jpg", "")
	checkLayouts(t, ctx, "withdraw confirmation")
	run(t, ctx, "confirm by keyboard",
		tabTo("withdraw-confirm"),
		chromedp.KeyEvent(kb.Enter),
		status("withdrawn"),
		chromedp.Text(`.flash`, &flash, chromedp.ByQuery),
	)
	if !strings.Contains(flash, "Sie haben Ihren Antrag zurückgezogen.") {
		t.Errorf("flash after withdrawing: %q", flash)
	}

	var lang string
	run(t, ctx, "switch to English",
		press(`#switch-lang`, chromedp.ByQuery),
		chromedp.WaitVisible(`html[lang="en"]`, chromedp.ByQuery),
		chromedp.Text(`#status-sentence`, &text, chromedp.ByQuery),
		chromedp.AttributeValue(`html`, "lang", &lang, nil, chromedp.ByQuery),
	)
	if text != "You have withdrawn your application." || lang != "en" {
		t.Errorf("English page: lang %q, status %q", lang, text)
	}
	assertAccessible(t, ctx, "English status page")
	docScreenshot(t, ctx, "antrag-englisch.jpg", "")
	checkLayouts(t, ctx, "English status page")

	run(t, ctx, "easy-to-read German",
		press(`#switch-easy`, chromedp.ByQuery),
		chromedp.WaitVisible(`html[lang="de"]`, chromedp.ByQuery),
		chromedp.Text(`#timeline`, &text, chromedp.ByQuery),
	)
	if !strings.Contains(text, "Sie haben Ihren Antrag zurückgenommen. Das Amt bearbeitet ihn nicht mehr.") {
		t.Errorf("the easy-to-read timeline:\n%s", text)
	}
	assertAccessible(t, ctx, "easy-to-read status page")

	run(t, ctx, "a case without access",
		chromedp.Navigate(d.URL+"/antraege/"+uuid.NewString()),
		chromedp.WaitVisible(`#problem-text`, chromedp.ByQuery),
		chromedp.Text(`h1`, &text, chromedp.ByQuery),
	)
	if text != "Kein Zugang zu diesem Antrag" {
		t.Errorf("page without access: %q", text)
	}
	assertAccessible(t, ctx, "403 page")
	docScreenshot(t, ctx, "antrag-kein-zugang.jpg", "")
	checkLayouts(t, ctx, "403 page")

	run(t, ctx, "the verification page", chromedp.Navigate(d.URL+"/pruefen"), chromedp.WaitVisible(`#verify-submit`, chromedp.ByQuery))
	assertAccessible(t, ctx, "/pruefen")
	docScreenshot(t, ctx, "pruefen.jpg", "")
	checkLayouts(t, ctx, "/pruefen")
}

// TestApplicantSignsFromTheStatusPage follows the link to the signing
// service from the status page of a listed dog's registration, signs there,
// comes back to the status page and sees the case move on.
func TestApplicantSignsFromTheStatusPage(t *testing.T) {
	d := startDev(t)
	st := &e2e.Stack{URL: d.URL, SandboxURL: d.URL, Temporal: d.Client, Namespace: "ozgflow"}
	s := st.Submit(t, e2e.DangerousDog(e2e.Dresden))
	st.WaitStatus(t, s, "awaiting_signature")
	ctx := germanBrowser(t)
	page := d.URL + "/antraege/" + s.ID

	var text string
	run(t, ctx, "open the status page",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(page+"?token="+s.Token),
		status("awaiting_signature"),
		chromedp.WaitVisible(`#sign-link`, chromedp.ByQuery),
		chromedp.Text(`#next`, &text, chromedp.ByQuery),
	)
	if !strings.Contains(text, "Bitte unterschreiben Sie Ihren Antrag beim Signaturdienst.") {
		t.Errorf("what to do: %q", text)
	}
	assertAccessible(t, ctx, "awaiting signature")
	docScreenshot(t, ctx, "antrag-unterschrift.jpg", "")
	checkLayouts(t, ctx, "awaiting signature")

	var location string
	run(t, ctx, "sign at the signing service and come back",
		press(`#sign-link`, chromedp.ByQuery),
		chromedp.WaitVisible(`//button[@value="sign"]`, chromedp.BySearch),
		press(`//button[@value="sign"]`, chromedp.BySearch),
		chromedp.WaitVisible(`#status-sentence`, chromedp.ByQuery),
		chromedp.Location(&location),
		chromedp.WaitNotPresent(`#status-sentence[data-status="awaiting_signature"]`, chromedp.ByQuery),
		chromedp.Text(`#status-sentence`, &text, chromedp.ByQuery),
	)
	if location != page {
		t.Errorf("back at %q, want the status page %s", location, page)
	}
	if strings.Contains(text, "Unterschrift") {
		t.Errorf("still waiting for the signature: %q", text)
	}
}

// TestRejectionInTheVariantsWordsAndEasyLanguage: an applicant pays from
// the status page and comes back to it; the rejection arrives with the
// Rechtsbehelfsbelehrung and the office's contact, in standard and in
// easy-to-read German, both accessible.
func TestRejectionInTheVariantsWordsAndEasyLanguage(t *testing.T) {
	d := startDev(t)
	st := &e2e.Stack{URL: d.URL, SandboxURL: d.URL, Temporal: d.Client, Namespace: "ozgflow"}
	s := st.Submit(t, e2e.Gewerbeanmeldung(e2e.Dresden, "amt24-anna"))
	number, _ := s.Body["caseNumber"].(string)
	ctx := germanBrowser(t)
	page := d.URL + "/antraege/" + s.ID

	var shown, back string
	run(t, ctx, "open the status page and cancel the payment",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(page+"?token="+s.Token),
		status("awaiting_payment"),
		chromedp.Text(`#case-number`, &shown, chromedp.ByQuery),
		press(`#pay-link`, chromedp.ByQuery),
		chromedp.WaitVisible(`#return-link`, chromedp.ByQuery),
		press(`//button[@value="cancel"]`, chromedp.BySearch),
		chromedp.WaitVisible(`.flash`, chromedp.ByQuery),
		chromedp.Location(&back),
	)
	if shown != number || number == "" {
		t.Errorf("the page shows number %q, the case has %q", shown, number)
	}
	docScreenshot(t, ctx, "antrag-zahlung-abgebrochen.jpg", "")
	if back != page+"?hinweis=zahlung-abgebrochen&rueckkehr=zahlung" {
		t.Errorf("after cancelling the browser is at %q", back)
	}
	run(t, ctx, "pay after all",
		chromedp.WaitVisible(`#pay-retry`, chromedp.ByQuery),
		press(`#pay-retry`, chromedp.ByQuery),
		chromedp.WaitVisible(`#pay-link`, chromedp.ByQuery),
		press(`#pay-link`, chromedp.ByQuery),
		chromedp.WaitVisible(`//button[@value="pay"]`, chromedp.BySearch),
	)
	docScreenshot(t, ctx, "antrag-bezahl-sandbox.jpg", "")
	run(t, ctx, "pay",
		press(`//button[@value="pay"]`, chromedp.BySearch),
		chromedp.WaitVisible(`.flash`, chromedp.ByQuery),
		chromedp.Location(&back),
	)
	if back != page+"?hinweis=bezahlt&rueckkehr=zahlung" {
		t.Errorf("after paying the browser is at %q", back)
	}
	docScreenshot(t, ctx, "antrag-bezahlt.jpg", "")
	task := st.OpenTask(t, s.ID, "dev-sb-dresden", "gewerbe")["id"].(string)
	for _, path := range []string{"/claim", "/complete"} {
		body := map[string]any{"outcome": "reject", "comment": "Die Tätigkeit ist erlaubnispflichtig."}
		if res := e2e.Call(t, d.URL, http.MethodPost, "/api/v1/tasks/"+task+path, "dev-sb-dresden", body); res.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, res.Status, res.Body)
		}
	}
	st.WaitStatus(t, s, "rejected") // the page rendered before would learn it only live, without the decision
	var decision string
	run(t, ctx, "the rejection",
		chromedp.Navigate(page),
		status("rejected"),
		chromedp.Text(`#decision`, &decision, chromedp.ByQuery),
	)
	for _, want := range []string{"Abgelehnt", "Rechtsbehelfsbelehrung", "innerhalb eines Monats", "Widerspruch",
		"Ihre Ansprechstelle", "Bürgeramt Dresden", "Theaterstraße 11, 01067 Dresden"} {
		if !strings.Contains(decision, want) {
			t.Errorf("the decision lacks %q:\n%s", want, decision)
		}
	}
	assertAccessible(t, ctx, "rejected")
	docScreenshot(t, ctx, "antrag-abgelehnt.jpg", "")
	checkLayouts(t, ctx, "rejected")

	var easy string
	run(t, ctx, "the rejection in easy-to-read German",
		chromedp.EmulateViewport(1280, 900),
		press(`#switch-easy`, chromedp.ByQuery),
		chromedp.WaitVisible(`#h-remedy`, chromedp.ByQuery),
		chromedp.Text(`main`, &easy, chromedp.ByQuery),
	)
	for _, want := range []string{"Das Amt hat Ihren Antrag abgelehnt.", "So können Sie sich wehren", "Dann können Sie Widerspruch einlegen.",
		"Hier bekommen Sie Hilfe", "Bürgeramt Dresden", "Nachrichten vom Amt"} {
		if !strings.Contains(easy, want) {
			t.Errorf("the easy view lacks %q:\n%s", want, easy)
		}
	}
	for _, avoid := range []string{"Gegen diesen Bescheid", "Ihre Gewerbeanmeldung wurde abgelehnt.", "Diese Seiten zeigen"} {
		if strings.Contains(easy, avoid) {
			t.Errorf("the easy view says %q in standard language", avoid)
		}
	}
	assertAccessible(t, ctx, "rejected, easy-to-read")
	docScreenshot(t, ctx, "antrag-abgelehnt-einfache-sprache.jpg", "")
}
