package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/mocks"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
	"github.com/ozgflow/ozgflow/records"
)

// workspaceCase is a Leipzig Gewerbeanmeldung in review with its task in
// the gewerbe queue, held by sb-leipzig-2, and the applicant as the
// workflow records them.
func workspaceCase(number string) ozgflow.Case {
	c := testCase(ozgflow.StatusInReview)
	c.CaseNumber = number
	c.Applicant = &ozgflow.CaseApplicant{Name: "Anna Muster", Email: "anna@example.org", BusinessName: "Café Anna",
		Address: "Markt 1, 04109 Leipzig"}
	c.Tasks = []ozgflow.Task{{ID: ozgflow.TaskID(c.ID, "review", 1), CaseID: c.ID, StepID: "review", Title: "Gewerbeanmeldung prüfen",
		Authority: c.Authority, Queue: "gewerbe", Service: c.Service, Status: ozgflow.TaskClaimed, Assignee: "sb-leipzig-2",
		Outcomes: []string{"approve", "reject", "request_information"}, CreatedAt: c.SubmittedAt, DueAt: c.SubmittedAt.Add(240 * time.Hour)}}
	return c
}

// TestTaskListShowsWhoAppliedAndTheShortNumber: each row of the
// Arbeitskorb names the case by its short number (the technical ID
// shortened while it has none), who applied and for which business, the
// service, when it came in, when it is due, its status and who holds it;
// queues by their names. The live refresh answers the counters and the
// list together.
func TestTaskListShowsWhoAppliedAndTheShortNumber(t *testing.T) {
	s, st := storeServer(t)
	numbered, plain := workspaceCase("GEW-2026-000123"), workspaceCase("")
	plain.Applicant = &ozgflow.CaseApplicant{Name: "Ben Beispiel"}
	plain.Tasks[0].Status, plain.Tasks[0].Assignee = ozgflow.TaskOpen, ""
	for _, c := range []ozgflow.Case{numbered, plain} {
		if err := st.SaveCase(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	body := get(s, "/arbeitskorb?queue=gewerbe", "dev-sb-leipzig").Body.String()
	row := rowOf(t, body, numbered.Tasks[0].ID)
	for _, want := range []string{">GEW-2026-000123<", "Café Anna", "Anna Muster", "Gewerbeanmeldung", "20.11.2026 10:30",
		"30.11.2026 10:30", "In Bearbeitung", "Sachbearbeitung Leipzig 2", `href="/arbeitskorb/vorgaenge/` + numbered.ID + `?queue=gewerbe&amp;sort=due"`} {
		if !strings.Contains(row, want) {
			t.Errorf("the row lacks %q:\n%s", want, row)
		}
	}
	if row := rowOf(t, body, plain.Tasks[0].ID); !strings.Contains(row, ">"+plain.ID[:8]+"<") || !strings.Contains(row, "Ben Beispiel") ||
		!strings.Contains(row, "niemand") {
		t.Errorf("the row of a case without a number:\n%s", row)
	}
	if !strings.Contains(body, "Gewerbeangelegenheiten <span") || strings.Contains(body, ">gewerbe<") {
		t.Errorf("queues are not named by their display names:\n%s", body)
	}
	live := get(s, "/arbeitskorb?queue=gewerbe&fragment=liste", "dev-sb-leipzig").Body.String()
	for _, want := range []string{`id="arbeitskoerbe" data-live-part`, `data-queue="gewerbe">(2 Aufgaben, 1 offen`,
		`id="aufgabenliste" data-live-part`, `data-task="` + plain.Tasks[0].ID + `"`} {
		if !strings.Contains(live, want) {
			t.Errorf("the live refresh lacks %q:\n%s", want, live)
		}
	}
}

// rowOf returns the list's row of a task.
func rowOf(t *testing.T, body, taskID string) string {
	t.Helper()
	i := strings.Index(body, `<tr data-task="`+taskID+`"`)
	if i < 0 {
		t.Fatalf("no row of %s:\n%s", taskID, body)
	}
	return body[i : i+strings.Index(body[i:], "</tr>")]
}

// caseInput answers the input query with an application as submitted.
func caseInput(t *testing.T, c ozgflow.Case, attachments ...ozgflow.Attachment) *mocks.Client {
	t.Helper()
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	def, err := reg.Resolve("gewerbeanmeldung", c.Authority)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(map[string]any{
		"betrieb":   map[string]any{"name": "Café Anna", "taetigkeit": "Betrieb eines Cafés", "beginn": "2026-12-01", "rechtsform": "einzelunternehmen"},
		"anschrift": map[string]any{"strasse": "Markt", "hausnummer": "1", "plz": "04109", "ort": "Leipzig"},
	})
	in := definitions.CaseInput{CaseID: c.ID, Definition: def, SubmittedAt: c.SubmittedAt, Application: ozgflow.Application{
		Service: c.Service, Authority: c.Authority, Data: data, Attachments: attachments,
		Applicant: ozgflow.Applicant{Name: "Anna Muster", Email: "anna@example.org", PortalAccount: c.PortalAccount}}}
	tc := &mocks.Client{}
	tc.On("QueryWorkflow", mock.Anything, mock.Anything, mock.Anything, ozgflow.QueryInput).Return(encodedInput{in}, nil)
	return tc
}

// TestCasePageShowsTheApplicantAndOpensEveryDocument: the case page names
// who applied and how to reach them, before the actions; every document
// ozgflow keeps opens in the browser or downloads, and each opening is an
// entry of the case's trail.
func TestCasePageShowsTheApplicantAndOpensEveryDocument(t *testing.T) {
	c := workspaceCase("GEW-2026-000124")
	pdf := []byte("%PDF-1.4 Handelsregisterauszug")
	sha := records.SumSHA256(pdf)
	tc := caseInput(t, c, ozgflow.Attachment{Name: "Auszug.pdf", ContentType: "application/pdf", Size: int64(len(pdf)), SHA256: sha},
		ozgflow.Attachment{Name: "Nur beim Portal.pdf", ContentType: "application/pdf", Size: 10, SHA256: strings.Repeat("ab", 32)})
	s, db, _ := trailServer(t, tc)
	if err := s.store.SaveCase(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutDocument(context.Background(), records.Document{CaseID: c.ID, SHA256: sha, Name: "Auszug.pdf",
		ContentType: "application/pdf", Data: pdf}); err != nil {
		t.Fatal(err)
	}
	rec := get(s, "/arbeitskorb/vorgaenge/"+c.ID, "dev-sb-leipzig")
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("case page: %d\n%s", rec.Code, body)
	}
	for _, want := range []string{"Vorgang GEW-2026-000124", `<dd data-applicant="name">Anna Muster</dd>`,
		`<a href="mailto:anna@example.org">anna@example.org</a>`, `<dd data-applicant="account">amt24-anna</dd>`, "Café Anna",
		"Markt 1, 04109 Leipzig", `href="/arbeitskorb/vorgaenge/` + c.ID + `/dokumente/` + sha + `"`,
		`href="/arbeitskorb/vorgaenge/` + c.ID + `/dokumente/` + sha + `?herunterladen=1"`, "liegt nur beim Portal"} {
		if !strings.Contains(body, want) {
			t.Errorf("the case page lacks %q", want)
		}
	}
	if a, d := strings.Index(body, `id="h-angaben"`), strings.Index(body, `id="h-notizen"`); a < 0 || d < a ||
		strings.Index(body, `id="h-antragsteller"`) > a {
		t.Error("the application data does not come first")
	}
	for _, tc := range []struct{ query, disposition, how string }{
		{"", "inline", "(open)"}, {"?herunterladen=1", "attachment", "(download)"},
	} {
		rec := get(s, "/arbeitskorb/vorgaenge/"+c.ID+"/dokumente/"+sha+tc.query, "dev-sb-leipzig")
		if rec.Code != http.StatusOK || rec.Body.String() != string(pdf) || !strings.HasPrefix(rec.Header().Get("Content-Disposition"), tc.disposition) {
			t.Errorf("document%s: %d %q", tc.query, rec.Code, rec.Header().Get("Content-Disposition"))
		}
		entries, _ := db.Trail(context.Background(), records.TrailQuery{CaseID: c.ID, Actor: "sb-leipzig", Newest: true, Limit: 1})
		if len(entries) != 1 || entries[0].Action != "document.download" || !strings.Contains(entries[0].Detail, sha+" "+tc.how) {
			t.Errorf("the trail of the document%s: %+v", tc.query, entries)
		}
	}
	if rec := get(s, "/arbeitskorb/vorgaenge/"+c.ID+"/dokumente/"+sha, "dev-sb-dresden"); rec.Code != http.StatusNotFound {
		t.Errorf("another authority's case worker: %d", rec.Code)
	}
	if rec := get(s, "/arbeitskorb/vorgaenge/"+c.ID+"/dokumente/"+strings.Repeat("ab", 32), "dev-sb-leipzig"); rec.Code != http.StatusNotFound {
		t.Errorf("a document ozgflow does not keep: %d", rec.Code)
	}
}

// TestInternalNotesStayWithColleagues: a note is kept on the case and shown
// to colleagues, never in the case's state or notices; an empty one says
// that its text is missing.
func TestInternalNotesStayWithColleagues(t *testing.T) {
	c := workspaceCase("GEW-2026-000125")
	s, db, _ := trailServer(t, caseInput(t, c))
	if err := s.store.SaveCase(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	path := "/arbeitskorb/vorgaenge/" + c.ID + "/notizen?queue=gewerbe"
	cookies := credentialsFor(s, path, "")
	form := url.Values{"csrf": {pageFormToken(path, cookies)}, "note": {"  "}}
	rec := postForm(s, path, form, false, cookies, nil)
	if body := rec.Body.String(); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(body, "Die Notiz wurde nicht gespeichert.") ||
		!strings.Contains(body, "Der Text der Notiz fehlt") || !strings.Contains(body, `aria-invalid="true"`) {
		t.Errorf("an empty note: %d\n%s", rec.Code, body)
	}
	form.Set("note", "Betrieb ist uns bekannt; Auflagen von 2024 prüfen.")
	rec = postForm(s, path, form, false, cookies, nil)
	if loc := rec.Header().Get("Location"); rec.Code != http.StatusSeeOther || loc != "/arbeitskorb/vorgaenge/"+c.ID+"?hinweis=notiz&queue=gewerbe#notizen" {
		t.Fatalf("note: %d to %q", rec.Code, loc)
	}
	body := get(s, "/arbeitskorb/vorgaenge/"+c.ID, "dev-sb-leipzig-2").Body.String()
	if i := strings.Index(body, `id="h-notizen"`); i < 0 || !strings.Contains(body[i:], "Sachbearbeitung Leipzig (Teamleitung):") ||
		!strings.Contains(body[i:], "Auflagen von 2024 prüfen.") {
		t.Errorf("the colleague does not see the note:\n%s", body)
	}
	stored, _ := s.store.Case(context.Background(), c.ID)
	if b, _ := json.Marshal(stored); strings.Contains(string(b), "Auflagen") {
		t.Error("the note is in the case's state")
	}
	if entries, _ := db.Trail(context.Background(), records.TrailQuery{CaseID: c.ID, Actor: "sb-leipzig"}); len(entries) != 1 || entries[0].Action != "case.note" {
		t.Errorf("the note's trail: %+v", entries)
	}
	if rec := postForm(s, "/arbeitskorb/vorgaenge/"+c.ID+"/notizen", form, false,
		[]*http.Cookie{{Name: "ozgflow_session", Value: sessionOf(s, "dev-sb-dresden")}}, nil); rec.Code != http.StatusForbidden &&
		rec.Code != http.StatusNotFound {
		t.Errorf("another authority's case worker writes a note: %d", rec.Code)
	}
}

// TestDecisionsArePreviewedBeforeTheyAreSent: deciding shows the message as
// the applicant will read it, with the warning that it goes to them, and
// sends nothing; without a decision it says that the decision is missing.
func TestDecisionsArePreviewedBeforeTheyAreSent(t *testing.T) {
	c := workspaceCase("GEW-2026-000126")
	c.Tasks[0].Assignee = "sb-leipzig"
	tc := caseInput(t, c)
	s, _, _ := trailServer(t, tc)
	if err := s.store.SaveCase(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	path := "/arbeitskorb/aufgaben/" + c.Tasks[0].ID + "/entscheiden"
	cookies := credentialsFor(s, path, "")
	form := url.Values{"csrf": {pageFormToken(path, cookies)}, "comment": {"Die Tätigkeit ist erlaubnispflichtig."},
		"note": {"Mit dem Ordnungsamt abgestimmt."}}
	rec := postForm(s, path, form, false, cookies, nil)
	if body := rec.Body.String(); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(body, "Die Entscheidung fehlt") ||
		!strings.Contains(body, "Die Entscheidung wurde nicht gespeichert, nichts wurde gesendet.") ||
		!strings.Contains(body, "Die Tätigkeit ist erlaubnispflichtig.</textarea>") {
		t.Errorf("a decision without an outcome: %d\n%s", rec.Code, body)
	}
	form.Set("outcome", "reject")
	rec = postForm(s, path, form, false, cookies, nil)
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("preview: %d\n%s", rec.Code, body)
	}
	for _, want := range []string{"Vorschau: So liest die antragstellende Person Ihre Nachricht",
		"Achtung: Diese Nachricht geht an die antragstellende Person (Anna Muster)",
		"Gewerbeanmeldung abgelehnt", "Ihre Gewerbeanmeldung wurde abgelehnt. Begründung: Die Tätigkeit ist erlaubnispflichtig.",
		"Interne Notiz – wird nicht gesendet", "Mit dem Ordnungsamt abgestimmt.", `name="schritt" value="senden"`,
		"sobald eine zweite Person Ihre Entscheidung bestätigt", "Entscheidung vorschlagen"} {
		if !strings.Contains(body, want) {
			t.Errorf("the preview lacks %q", want)
		}
	}
	// A form sent without its preview, or changed after it, sends nothing:
	// it shows the preview of what it would send.
	token := regexp.MustCompile(`name="vorschau" value="([0-9a-f]+)"`).FindStringSubmatch(body)
	if token == nil {
		t.Fatal("the preview carries no token binding it to its text")
	}
	direct := url.Values{"schritt": {"senden"}}
	changed := url.Values{"schritt": {"senden"}, "vorschau": {token[1]}, "comment": {"Ein anderer Text."}}
	for name, extra := range map[string]url.Values{"without its preview": direct, "changed after its preview": changed} {
		sent := url.Values{}
		for k, v := range form {
			sent[k] = v
		}
		for k, v := range extra {
			sent[k] = v
		}
		rec := postForm(s, path, sent, false, cookies, nil)
		if body := rec.Body.String(); rec.Code != http.StatusOK || !strings.Contains(body, "Bitte prüfen Sie zuerst die Vorschau") ||
			!strings.Contains(body, "Vorschau: So liest die antragstellende Person Ihre Nachricht") {
			t.Errorf("a decision sent %s: %d\n%s", name, rec.Code, body)
		}
	}
	tc.AssertNotCalled(t, "UpdateWorkflow", mock.Anything, mock.Anything)
}
