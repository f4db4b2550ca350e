package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow/locale"
	"github.com/ozgflow/ozgflow/receipt"
)

// caseNumberPattern is a Gewerbeanmeldung's short case number this year.
func caseNumberPattern() *regexp.Regexp {
	return regexp.MustCompile(`^GEW-` + time.Now().In(locale.Berlin).Format("2006") + `-[0-9]{6}$`)
}

// mailsOf returns the mails the sink holds for a case, by notice ID.
func (st *Stack) mailsOf(t *testing.T, caseID string) map[string]map[string]any {
	t.Helper()
	res := Call(t, st.SandboxURL, http.MethodGet, "/sandbox/mail", "", nil, "Accept", "application/json")
	var list struct {
		Mails []map[string]any `json:"mails"`
	}
	if res.Status != http.StatusOK || json.Unmarshal(res.Body, &list) != nil {
		t.Fatalf("mail sink: %d %s", res.Status, res.Body)
	}
	out := map[string]map[string]any{}
	for _, m := range list.Mails {
		if id, _ := m["messageId"].(string); strings.HasPrefix(id, "<"+caseID+"-") {
			out[strings.TrimPrefix(strings.Split(id, "@")[0], "<")] = m
		}
	}
	return out
}

// applicantKnowsTheCaseByItsNumber: a case draws its short number at the
// start; the submit answer, the case JSON, every notice and mail, the
// delivery to the Fachverfahren, the status page and the receipt show it.
// The payment page returns to the status page; every mail links there
// with an address that opens it; the rejection reads in the variant's
// words with its Rechtsbehelfsbelehrung and the office's contact.
func applicantKnowsTheCaseByItsNumber(t *testing.T, st *Stack) {
	s := st.submit(t, gewerbeanmeldung(dresden, "amt24-anna"))
	number, _ := s.Body["caseNumber"].(string)
	if !caseNumberPattern().MatchString(number) {
		t.Fatalf("submit answer's caseNumber %q, want GEW-<year>-<6 digits>: %v", number, s.Body)
	}
	if s.Body["id"] != s.ID || number == s.ID {
		t.Errorf("the UUID stays the ID: %v", s.Body)
	}

	// Paying returns to the status page on the gateway.
	back := pay(t, s.PaymentURL, "pay")
	if want := st.URL + "/antraege/" + s.ID + "?hinweis=bezahlt&rueckkehr=zahlung"; back != want {
		t.Errorf("after paying the browser goes to %q, want %q", back, want)
	}
	c := st.waitStatus(t, s, "in_review")
	if c["caseNumber"] != number {
		t.Errorf("case JSON caseNumber %v, want %s", c["caseNumber"], number)
	}
	for _, n := range c["timeline"].([]any) {
		if n.(map[string]any)["caseNumber"] != number {
			t.Errorf("notice without the case number: %v", n)
		}
	}
	if first := c["timeline"].([]any)[0].(map[string]any); !strings.Contains(first["text"].(string), number) {
		t.Errorf("the received notice does not quote the number: %v", first)
	}
	recs := st.receivedBy(t, s.ID)
	if len(recs) != 1 || recs[0]["submission"].(map[string]any)["caseNumber"] != number {
		t.Errorf("the Fachverfahren received %v, want the case number in the submission", recs)
	}

	// The case worker rejects; the notice says how to object and whom to ask.
	task := st.openTask(t, s.ID, "dev-sb-dresden", "gewerbe")
	taskID := task["id"].(string)
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/claim", "dev-sb-dresden", nil); res.Status != http.StatusOK {
		t.Fatalf("claim: %d %s", res.Status, res.Body)
	}
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/complete", "dev-sb-dresden",
		map[string]any{"outcome": "reject", "comment": "Die Tätigkeit ist erlaubnispflichtig."}); res.Status != http.StatusOK {
		t.Fatalf("complete: %d %s", res.Status, res.Body)
	}
	c = st.waitStatus(t, s, "rejected")
	timeline := c["timeline"].([]any)
	rejection := timeline[len(timeline)-1].(map[string]any)
	for _, want := range []string{"Die Tätigkeit ist erlaubnispflichtig.", "Rechtsbehelfsbelehrung:", "Widerspruch",
		"Bürgeramt Dresden", "Theaterstraße 11, 01067 Dresden"} {
		if !strings.Contains(rejection["text"].(string), want) {
			t.Errorf("the rejection lacks %q: %s", want, rejection["text"])
		}
	}

	// Every notice arrived by mail with the number and a link that opens
	// the status page.
	var mails map[string]map[string]any
	waitFor(t, "every notice in the mail sink", 20*time.Second, func() bool {
		mails = st.mailsOf(t, s.ID)
		return len(mails) == len(timeline)
	})
	linkPattern := regexp.MustCompile(regexp.QuoteMeta(st.URL+"/antraege/"+s.ID+"?token=") + `\S+`)
	var link string
	for id, m := range mails {
		text := m["text"].(string)
		if !strings.Contains(text, "Antragsnummer: "+number) {
			t.Errorf("mail %s does not name the case number: %s", id, text)
		}
		if link = linkPattern.FindString(text); link == "" {
			t.Errorf("mail %s does not link to the status page: %s", id, text)
		}
	}
	if rej := mails[rejection["id"].(string)]; rej == nil || !strings.Contains(rej["text"].(string), "Rechtsbehelfsbelehrung") {
		t.Errorf("the rejection's mail lacks the Rechtsbehelfsbelehrung: %v", rej)
	}
	p := &page{t: t, base: st.URL, cookies: map[string]string{}}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	res := p.get(u.RequestURI())
	if res.Status != http.StatusSeeOther || res.Location != "/antraege/"+s.ID {
		t.Fatalf("the mail's link: %d to %q", res.Status, res.Location)
	}
	res = p.get("/antraege/" + s.ID)
	for _, want := range []string{`id="case-number">` + number + "<", "Ihre Gewerbeanmeldung wurde abgelehnt.", ">Abgelehnt<",
		"Rechtsbehelfsbelehrung", "Bürgeramt Dresden", "Telefon: 0351 488-0"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("the status page lacks %q", want)
		}
	}
	if strings.Contains(res.Body, "bewilligt") {
		t.Error("the status page says bewilligt")
	}
	flash := p.get("/antraege/" + s.ID + "?hinweis=bezahlt")
	if !strings.Contains(flash.Body, "Ihre Zahlung ist abgeschlossen") {
		t.Errorf("back from the payment the page does not say so")
	}

	// The receipt names the applicant and the number and prints the
	// check's absolute address.
	pdf := st.api(t, http.MethodGet, "/api/v1/applications/"+s.ID+"/receipt.pdf", s.Token, nil)
	if pdf.Status != http.StatusOK {
		t.Fatalf("receipt: %d", pdf.Status)
	}
	lines := strings.Join(receipt.Lines(pdf.Body), "\n")
	for _, want := range []string{number, "Anna Muster", "(" + st.URL + "/pruefen)"} {
		if !strings.Contains(lines, want) {
			t.Errorf("the receipt does not print %q:\n%s", want, lines)
		}
	}
	check := st.api(t, http.MethodPost, "/api/v1/receipts/verify", "", pdf.Body, "Content-Type", "application/pdf")
	if v := check.JSON(t); v["verdict"] != "valid" || v["caseNumber"] != number {
		t.Errorf("the receipt checks %v", v)
	}
}

// casesCountTheirNumbers: consecutive cases of a service and authority
// draw consecutive numbers; another authority counts on its own.
func casesCountTheirNumbers(t *testing.T, st *Stack) {
	var numbers []string
	for range 2 {
		s := st.submit(t, gewerbeanmeldung(leipzig, "amt24-anna"))
		numbers = append(numbers, s.Body["caseNumber"].(string))
	}
	seq := func(n string) int {
		i := strings.LastIndexByte(n, '-')
		v := 0
		for _, r := range n[i+1:] {
			v = v*10 + int(r-'0')
		}
		return v
	}
	if seq(numbers[1]) != seq(numbers[0])+1 {
		t.Errorf("consecutive Leipzig numbers %v", numbers)
	}
	hund := st.submit(t, hundesteuer(leipzig))
	c := st.waitStatus(t, hund, "approved")
	if n, _ := c["caseNumber"].(string); !strings.HasPrefix(n, "HST-") {
		t.Errorf("a Hundesteuer-Anmeldung's number %q", n)
	}
}
