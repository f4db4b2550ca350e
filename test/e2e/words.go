package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ozgflow/ozgflow/locale"
)

// englishStatus matches the statuses' English keys and words as the code
// and the API carry them: people read German words instead.
var englishStatus = regexp.MustCompile(`(?i)\b(published|retired|draft|received|awaiting[_ ]payment|awaiting[_ ]signature|` +
	`forwarded|in[_ ]review|information[_ ]requested|approved|rejected|withdrawn|cancell?ed|payed|paid|refunded|` +
	`unchanged|changed)\b|\b(INITIAL|FAILED|PAYED|CANCELED|REFUNDED)\b|\b(open|claimed|done)\b`)

// utcTime matches a time written in UTC or as a machine timestamp.
var utcTime = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\bUTC\b|\bGMT\b|[+-]0000\b|\d{2}:\d{2}(:\d{2})?Z\b`)

var (
	hiddenBlocks = regexp.MustCompile(`(?is)<(script|style|textarea|pre|code)\b.*?</(script|style|textarea|pre|code)>`)
	anyTag       = regexp.MustCompile(`(?s)<[^>]*>`)
)

// visibleText is what a person reads on a page: no markup, no scripts, and
// none of the YAML and code the administrators' pages show as such.
func visibleText(page string) string {
	page = hiddenBlocks.ReplaceAllString(page, " ")
	page = anyTag.ReplaceAllString(page, " ")
	return strings.Join(strings.Fields(html.UnescapeString(page)), " ")
}

// wordsChecker collects the texts people read and what is wrong with them.
type wordsChecker struct {
	t *testing.T
	// utcForms are moments of the run written as a person would read them
	// in UTC; none of them may appear (their German local form differs).
	utcForms []string
}

func (w *wordsChecker) moment(at time.Time) {
	u := at.UTC()
	if u.Format("15:04") == at.In(locale.Berlin).Format("15:04") {
		return
	}
	w.utcForms = append(w.utcForms, u.Format("02.01.2006 15:04"), u.Format("02.01.2006, 15:04"))
}

func (w *wordsChecker) check(where, text string) {
	w.t.Helper()
	for _, m := range englishStatus.FindAllStringIndex(text, 3) {
		w.t.Errorf("%s shows the English status word %q: …%s…", where, text[m[0]:m[1]], around(text, m))
	}
	for _, m := range utcTime.FindAllStringIndex(text, 3) {
		w.t.Errorf("%s shows a UTC or machine time %q: …%s…", where, text[m[0]:m[1]], around(text, m))
	}
	for _, u := range w.utcForms {
		if i := strings.Index(text, u); i >= 0 {
			w.t.Errorf("%s shows %q, a time of the run in UTC, not German local time: …%s…", where, u, around(text, []int{i, i + len(u)}))
		}
	}
}

func around(text string, m []int) string {
	from, to := max(m[0]-60, 0), min(m[1]+60, len(text))
	return text[from:to]
}

// workbookText is every cell of every sheet of a workbook as Excel shows it.
func workbookText(t *testing.T, body []byte) string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("workbook: %v", err)
	}
	var b strings.Builder
	for _, sheet := range f.GetSheetList() {
		rows, _ := f.GetRows(sheet)
		for _, r := range rows {
			b.WriteString(strings.Join(r, " | ") + "\n")
		}
	}
	return b.String()
}

// noEnglishStatusWordsOrUTCTimes renders the pages of cases in each state
// (awaiting payment, in review, a question to the applicant, rejected,
// withdrawn, approved) as the applicant and the case workers see them, the
// administrators' pages, the Excel reports and the mails the applicant got,
// and finds in none of them a status word in English or a time in UTC.
func noEnglishStatusWordsOrUTCTimes(t *testing.T, st *Stack) {
	w := &wordsChecker{t: t}
	unpaid := st.submit(t, gewerbeanmeldung(dresden, "amt24-anna"))
	inReview := st.submit(t, gewerbeanmeldung(dresden, "amt24-anna"))
	asked := st.submit(t, gewerbeanmeldung(dresden, "amt24-anna"))
	rejected := st.submit(t, gewerbeanmeldung(dresden, "amt24-anna"))
	withdrawn := st.submit(t, gewerbeanmeldung(dresden, "amt24-anna"))
	approved := st.submit(t, hundesteuer(dresden))
	for _, s := range []Submitted{inReview, asked, rejected, withdrawn} {
		pay(t, s.PaymentURL, "pay")
	}
	decide := func(s Submitted, outcome, comment string) {
		taskID := st.openTask(t, s.ID, "dev-sb-dresden", "gewerbe")["id"].(string)
		if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/claim", "dev-sb-dresden", nil); res.Status != http.StatusOK {
			t.Fatalf("claim: %d %s", res.Status, res.Body)
		}
		if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/complete", "dev-sb-dresden",
			map[string]any{"outcome": outcome, "comment": comment}); res.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", outcome, res.Status, res.Body)
		}
	}
	decide(asked, "request_information", "Bitte reichen Sie den Mietvertrag nach.")
	decide(rejected, "reject", "Die Tätigkeit ist nicht erlaubnisfrei.")
	st.waitStatus(t, withdrawn, "in_review")
	if res := st.api(t, http.MethodPost, "/api/v1/applications/"+withdrawn.ID+"/withdraw", withdrawn.Token, map[string]any{"reason": "Umzug"}); res.Status != http.StatusOK {
		t.Fatalf("withdraw: %d %s", res.Status, res.Body)
	}
	states := map[string]Submitted{"awaiting_payment": unpaid, "in_review": inReview, "information_requested": asked,
		"rejected": rejected, "withdrawn": withdrawn, "approved": approved}
	for status, s := range states {
		c := st.waitStatus(t, s, status)
		if at, err := time.Parse(time.RFC3339, c["submittedAt"].(string)); err == nil {
			w.moment(at)
		}
		if p, ok := c["payment"].(map[string]any); ok {
			if at, err := time.Parse(time.RFC3339, p["deadlineAt"].(string)); err == nil {
				w.moment(at)
			}
		}
	}

	// The applicant's status page of each case.
	for status, s := range states {
		p := &page{t: t, base: st.URL, cookies: map[string]string{}}
		p.get("/antraege/" + s.ID + "?token=" + url.QueryEscape(s.Token))
		res := p.get("/antraege/" + s.ID)
		if res.Status != http.StatusOK {
			t.Fatalf("status page (%s): %d", status, res.Status)
		}
		w.check("the applicant's page of a case "+status, visibleText(res.Body))
	}

	// The case workers' pages.
	worker := &page{t: t, base: st.URL, cookies: map[string]string{"ozgflow_session": st.session(t, "dev-sb-dresden")}}
	for _, path := range []string{"/arbeitskorb", "/arbeitskorb?queue=gewerbe", "/arbeitskorb/suche?status=erledigt", "/arbeitskorb/suche?q=Anna"} {
		res := worker.get(path)
		if res.Status != http.StatusOK {
			t.Fatalf("%s: %d", path, res.Status)
		}
		w.check("the case workers' page "+path, visibleText(res.Body))
	}
	for status, s := range states {
		res := worker.get("/arbeitskorb/vorgaenge/" + s.ID)
		if res.Status != http.StatusOK {
			continue // a case without a task of the worker's queues is not theirs to open
		}
		w.check("the case workers' page of a case "+status, visibleText(res.Body))
	}

	// The administrators' pages, a draft with its form and diff among them.
	const drafted = "hundesteuer-anmeldung-leipzig"
	res := st.api(t, http.MethodPost, "/api/v1/definitions/"+drafted+"/drafts", "dev-admin", nil)
	if res.Status != http.StatusCreated {
		t.Fatalf("draft: %d %s", res.Status, res.Body)
	}
	number := int(res.JSON(t)["versions"].([]any)[1].(map[string]any)["number"].(float64))
	draftPath := fmt.Sprintf("/definitions/%s/versions/%d", drafted, number)
	doc := st.api(t, http.MethodGet, "/api/v1"+draftPath, "dev-admin", nil).JSON(t)["document"].(map[string]any)
	doc["notices"] = map[string]any{"approved": map[string]any{"title": "Hund angemeldet"}}
	if res := st.api(t, http.MethodPut, "/api/v1"+draftPath, "dev-admin", doc); res.Status != http.StatusOK {
		t.Fatalf("edit the draft: %d %s", res.Status, res.Body)
	}
	admin := &page{t: t, base: st.URL, cookies: map[string]string{"ozgflow_session": st.session(t, "dev-admin")}}
	for _, path := range []string{fmt.Sprintf("/verwaltung/definitionen/%s/versionen/%d", drafted, number), "/verwaltung/definitionen/" + drafted, "/verwaltung", "/verwaltung/definitionen/gewerbeanmeldung-dresden",
		"/verwaltung/definitionen/gewerbeanmeldung-dresden/versionen/1", "/verwaltung/aenderungen",
		"/verwaltung/auswertung?authority=" + dresden, "/verwaltung/zustellungen", "/verwaltung/loeschung", "/verwaltung/stoerungen"} {
		res := admin.get(path)
		if res.Status != http.StatusOK {
			t.Fatalf("%s: %d", path, res.Status)
		}
		text := visibleText(res.Body)
		w.check("the administrators' page "+path, text)
		if strings.Contains(text, dresden) {
			t.Errorf("the administrators' page %s shows the authority as its key %s", path, dresden)
		}
	}

	// The audit trail, for the data protection officer.
	protection := &page{t: t, base: st.URL, cookies: map[string]string{"ozgflow_session": st.session(t, "dev-datenschutz")}}
	if res := protection.get("/verwaltung/protokoll"); res.Status != http.StatusOK {
		t.Fatalf("/verwaltung/protokoll: %d", res.Status)
	} else {
		w.check("the data protection officer's page /verwaltung/protokoll", visibleText(res.Body))
	}

	// A case's delivery page, in every state the cases above are in.
	for status, s := range states {
		path := "/verwaltung/vorgaenge/" + s.ID + "/zustellung"
		res := admin.get(path)
		if res.Status != http.StatusOK {
			t.Fatalf("%s: %d", path, res.Status)
		}
		w.check("the administrators' delivery page of a case "+status, visibleText(res.Body))
	}

	// The Excel reports.
	for _, path := range []string{"/api/v1/reports/cases.xlsx?authority=" + dresden, "/api/v1/reports/statistics.xlsx?authority=" + dresden} {
		res := st.api(t, http.MethodGet, path, "dev-admin", nil)
		if res.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, res.Status, res.Body)
		}
		text := workbookText(t, res.Body)
		w.check("the workbook "+path, text)
		if strings.Contains(text, dresden) {
			t.Errorf("the workbook %s shows the authority as its key", path)
		}
	}
	var ids []string
	list := st.api(t, http.MethodGet, "/api/v1/tasks?queue=gewerbe", "dev-sb-dresden", nil).JSON(t)
	for _, task := range list["tasks"].([]any) {
		ids = append(ids, "id="+task.(map[string]any)["id"].(string))
	}
	if len(ids) > 0 {
		res := st.api(t, http.MethodGet, "/api/v1/tasks/export.xlsx?"+strings.Join(ids, "&"), "dev-sb-dresden", nil)
		if res.Status == http.StatusOK {
			w.check("the task workbook", workbookText(t, res.Body))
		}
	}

	// The mails (Dresden's Gewerbeanmeldung mails every notice): all the
	// sink holds.
	var mails []map[string]any
	waitFor(t, "the mails of the cases", 20*time.Second, func() bool {
		res := call(t, st.SandboxURL, http.MethodGet, "/sandbox/mail", "", nil, "Accept", "application/json")
		var got struct {
			Mails []map[string]any `json:"mails"`
		}
		if res.Status != http.StatusOK || json.Unmarshal(res.Body, &got) != nil {
			return false
		}
		mails = got.Mails
		return len(mails) >= 5
	})
	for _, m := range mails {
		w.check("the mail "+m["subject"].(string), m["subject"].(string)+"\n"+m["text"].(string))
		if d, _ := m["date"].(string); strings.HasSuffix(d, "+0000") || strings.Contains(d, "UTC") || strings.Contains(d, "GMT") {
			t.Errorf("the mail %q is dated in UTC: %s", m["subject"], d)
		}
	}
}
