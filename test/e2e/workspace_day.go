package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// previewField finds the token that binds a preview to the text it shows.
var previewField = regexp.MustCompile(`name="vorschau" value="([0-9a-f]+)"`)

// staffPage signs a demo identity in to the staff pages and returns the
// page client with its form token.
func (st *Stack) staffPage(t *testing.T, token, path string) (*page, string) {
	t.Helper()
	p := &page{t: t, base: st.URL, cookies: map[string]string{"ozgflow_session": st.session(t, token)}}
	res := p.get(path)
	m := csrfField.FindStringSubmatch(res.Body)
	if res.Status != http.StatusOK || m == nil {
		t.Fatalf("%s as %s: %d without a form token", path, token, res.Status)
	}
	return p, m[1]
}

// caseWorkersWorkspace: the team lead finds a case in the Arbeitskorb by
// who applied, reads the applicant's contact details on the case, opens
// and downloads its document (each an entry of the case's trail), writes
// an internal note, previews the decision's message and proposes it; the
// applicant gets the message and none of the notes; the team lead sees the
// authority's dashboard, the colleague does not.
func caseWorkersWorkspace(t *testing.T, st *Stack) {
	document := SamplePDF("Handelsregisterauszug Cafe Anna")
	s := st.SubmitWithDocuments(t, gewerbeanmeldung(leipzig, "amt24-anna"), File{"Auszug.pdf", document})
	pay(t, s.PaymentURL, "pay")
	taskID := st.openTask(t, s.ID, "dev-sb-leipzig", "gewerbe")["id"].(string)
	lead, csrf := st.staffPage(t, "dev-sb-leipzig", "/arbeitskorb?queue=gewerbe")

	list := lead.get("/arbeitskorb?queue=gewerbe").Body
	i := strings.Index(list, `<tr data-task="`+taskID+`"`)
	if i < 0 {
		t.Fatalf("the task is not in the list")
	}
	row := list[i : i+strings.Index(list[i:], "</tr>")]
	if !strings.Contains(list, "im Arbeitskorb Gewerbeangelegenheiten") {
		t.Error("the list does not name its queue")
	}
	for _, want := range []string{s.ID[:8], "Café Anna", "Anna Muster", "Gewerbeanmeldung"} {
		if !strings.Contains(row, want) {
			t.Errorf("the row lacks %q: %s", want, row)
		}
	}

	casePage := lead.get("/arbeitskorb/vorgaenge/" + s.ID)
	for _, want := range []string{`<dd data-applicant="name">Anna Muster</dd>`, `href="mailto:anna@example.org"`,
		`<dd data-applicant="account">amt24-anna</dd>`, "Markt 1, 04109 Leipzig"} {
		if !strings.Contains(casePage.Body, want) {
			t.Errorf("the case page lacks %q", want)
		}
	}
	doc := "/arbeitskorb/vorgaenge/" + s.ID + "/dokumente/" + sha256Hex(document)
	for query, disposition := range map[string]string{"": "inline", "?herunterladen=1": "attachment"} {
		res := lead.get(doc + query)
		if res.Status != http.StatusOK || res.Body != string(document) || !strings.HasPrefix(res.Header.Get("Content-Disposition"), disposition) {
			t.Errorf("document%s: %d %q", query, res.Status, res.Header.Get("Content-Disposition"))
		}
	}
	trail := st.api(t, http.MethodGet, "/api/v1/applications/"+s.ID+"/trail", "dev-admin", nil)
	if n := strings.Count(string(trail.Body), `"action":"document.download"`); trail.Status != http.StatusOK || n != 2 {
		t.Errorf("the trail holds %d openings of the document, want 2: %d", n, trail.Status)
	}

	const note = "Betrieb ist uns bekannt; Auflagen von 2024 beachten."
	res := lead.post("/arbeitskorb/vorgaenge/"+s.ID+"/notizen", url.Values{"csrf": {csrf}, "note": {note}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("note: %d\n%s", res.Status, res.Body)
	}
	if res := lead.post("/arbeitskorb/aufgaben/"+taskID+"/uebernehmen", url.Values{"csrf": {csrf}}); res.Status != http.StatusSeeOther {
		t.Fatalf("claim: %d", res.Status)
	}
	// The selected task as a workbook: its queue and holder by name.
	export := lead.post("/arbeitskorb/sammelaktion", url.Values{"csrf": {csrf}, "action": {"export"}, "ids": {taskID}})
	if export.Status != http.StatusOK {
		t.Fatalf("export: %d", export.Status)
	}
	book := workbookText(t, []byte(export.Body))
	for _, want := range []string{"| Gewerbeangelegenheiten |", "| Sachbearbeitung Leipzig (Teamleitung) |", "| Gewerbeanmeldung |", "GEW-"} {
		if !strings.Contains(book, want) {
			t.Errorf("the workbook of the selected task lacks %q:\n%s", want, book)
		}
	}
	if strings.Contains(book, "| gewerbe |") || strings.Contains(book, "| sb-leipzig |") || strings.Contains(book, s.ID+" |") {
		t.Errorf("the workbook of the selected task shows keys:\n%s", book)
	}
	decision := url.Values{"csrf": {csrf}, "outcome": {"approve"}, "comment": {"Bitte hängen Sie die Anzeige aus."},
		"note": {"Telefonisch geklärt."}}
	preview := lead.post("/arbeitskorb/aufgaben/"+taskID+"/entscheiden", decision)
	if preview.Status != http.StatusOK || !strings.Contains(preview.Body, "Achtung: Diese Nachricht geht an die antragstellende Person") ||
		!strings.Contains(preview.Body, "Ihre Gewerbeanmeldung wurde bestätigt.") {
		t.Fatalf("preview: %d\n%s", preview.Status, preview.Body)
	}
	if c := st.caseOf(t, s.ID, s.Token); c["status"] != "in_review" {
		t.Errorf("the preview decided the case: %v", c["status"])
	}
	// Sending needs the preview of exactly this text: a form posted
	// directly, or changed after its preview, shows the preview again.
	decision.Set("schritt", "senden")
	direct := lead.post("/arbeitskorb/aufgaben/"+taskID+"/entscheiden", decision)
	if direct.Status != http.StatusOK || !strings.Contains(direct.Body, "Bitte prüfen Sie zuerst die Vorschau") ||
		!strings.Contains(direct.Body, "Ihre Gewerbeanmeldung wurde bestätigt.") {
		t.Errorf("a decision sent without its preview: %d\n%s", direct.Status, direct.Body)
	}
	m := previewField.FindStringSubmatch(preview.Body)
	if m == nil {
		t.Fatalf("the preview carries no token:\n%s", preview.Body)
	}
	changed := url.Values{}
	for k, v := range decision {
		changed[k] = v
	}
	changed.Set("vorschau", m[1])
	changed.Set("comment", "Ein anderer Text als in der Vorschau.")
	if res := lead.post("/arbeitskorb/aufgaben/"+taskID+"/entscheiden", changed); res.Status != http.StatusOK ||
		!strings.Contains(res.Body, "Bitte prüfen Sie zuerst die Vorschau") {
		t.Errorf("a decision changed after its preview: %d", res.Status)
	}
	if body := lead.get("/arbeitskorb/vorgaenge/" + s.ID).Body; strings.Contains(body, "Vorgeschlagen von") {
		t.Error("a decision without its preview was proposed")
	}
	decision.Set("vorschau", m[1])
	if res := lead.post("/arbeitskorb/aufgaben/"+taskID+"/entscheiden", decision); res.Status != http.StatusSeeOther ||
		!strings.Contains(res.Location, "hinweis=vorgeschlagen") {
		t.Fatalf("propose: %d %s", res.Status, res.Location)
	}
	colleague, csrf2 := st.staffPage(t, "dev-sb-leipzig-2", "/arbeitskorb/vorgaenge/"+s.ID)
	if res := colleague.post("/arbeitskorb/aufgaben/"+taskID+"/bestaetigen", url.Values{"csrf": {csrf2}, "approve": {"ja"}}); res.Status != http.StatusSeeOther {
		t.Fatalf("approve: %d\n%s", res.Status, res.Body)
	}
	c := st.waitStatus(t, s, "approved")
	for _, n := range c["timeline"].([]any) {
		if text := n.(map[string]any)["text"].(string); strings.Contains(text, "Auflagen") || strings.Contains(text, "Telefonisch") {
			t.Errorf("an internal note reached the applicant: %q", text)
		}
	}
	if body := colleague.get("/arbeitskorb/vorgaenge/" + s.ID).Body; !strings.Contains(body, note) || !strings.Contains(body, "Telefonisch geklärt.") {
		t.Error("the colleague does not see the notes")
	}

	if res := lead.get("/verwaltung/auswertung"); res.Status != http.StatusOK || !strings.Contains(res.Body, "Stadt Leipzig") ||
		strings.Contains(res.Body, "Landeshauptstadt Dresden") {
		t.Errorf("the team lead's dashboard: %d", res.Status)
	}
	if res := colleague.get("/verwaltung/auswertung"); res.Status != http.StatusForbidden {
		t.Errorf("the colleague's dashboard: %d, want 403", res.Status)
	}
}

// returningADecisionNeedsAReason: the second case worker of a four-eyes
// decision returns it without a reason; the page says that the reason is
// missing, beside the field.
func returningADecisionNeedsAReason(t *testing.T, st *Stack) {
	s, taskID := st.paidGewerbeTask(t, leipzig, "dev-sb-leipzig")
	for _, step := range []struct {
		path string
		body map[string]any
	}{
		{"/claim", nil}, {"/complete", map[string]any{"outcome": "approve"}},
	} {
		if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+step.path, "dev-sb-leipzig", step.body); res.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", step.path, res.Status, res.Body)
		}
	}
	colleague, csrf := st.staffPage(t, "dev-sb-leipzig-2", "/arbeitskorb/vorgaenge/"+s.ID)
	res := colleague.post("/arbeitskorb/aufgaben/"+taskID+"/bestaetigen", url.Values{"csrf": {csrf}, "approve": {"nein"}, "comment": {" "}})
	for _, want := range []string{"Die Entscheidung wurde nicht zurückgegeben.", "Die Begründung fehlt",
		`<p class="field-error" id="approval-comment-error">`} {
		if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, want) {
			t.Errorf("returning without a reason: %d, the page does not say %q", res.Status, want)
		}
	}
	if strings.Contains(res.Body, "Das hat nicht geklappt") {
		t.Error("the refusal does not say what is missing")
	}
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/approve", "dev-sb-leipzig-2", map[string]any{"approve": false}); res.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(string(res.Body), "/comment") {
		t.Errorf("the API's return without a reason: %d %s", res.Status, res.Body)
	}
}
