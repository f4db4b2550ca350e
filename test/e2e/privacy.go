package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// erasureAndAccessOnRequest: an administrator's erasure is refused while
// the case is open (409), for anyone else (403) and without a reason (with
// its pointer); the account's data is given as JSON and as a PDF naming the
// case; once the case closed, erasure leaves only statistics.
func erasureAndAccessOnRequest(t *testing.T, st *Stack) {
	account := "amt24-erase-" + uuid.NewString()[:8]
	s := st.submit(t, parkausweis("Südvorstadt", account))
	path := "/api/v1/applications/" + s.ID + "/erasure"
	reason := map[string]any{"reason": "Antrag der betroffenen Person vom 3. März"}

	if res := st.api(t, http.MethodPost, path, "dev-admin", reason); res.Status != http.StatusConflict ||
		!strings.Contains(string(res.Body), "still open") {
		t.Errorf("erasure of an open case: %d %s, want 409 still open", res.Status, res.Body)
	}
	if res := st.api(t, http.MethodPost, "/api/v1/accounts/"+account+"/erasure", "dev-admin", reason); res.Status != http.StatusConflict ||
		!strings.Contains(string(res.Body), s.ID) {
		t.Errorf("erasure of an account with an open case: %d %s, want 409 naming %s", res.Status, res.Body, s.ID)
	}
	pay(t, s.PaymentURL, "pay")
	st.waitStatus(t, s, "approved")
	// A case worker keeps an internal note on it; it goes with the erasure.
	worker, csrf := st.staffPage(t, "dev-sb-leipzig", "/arbeitskorb/vorgaenge/"+s.ID)
	const note = "Halter telefonisch bestätigt."
	if res := worker.post("/arbeitskorb/vorgaenge/"+s.ID+"/notizen", url.Values{"csrf": {csrf}, "note": {note}}); res.Status != http.StatusSeeOther {
		t.Fatalf("note: %d", res.Status)
	}
	if body := worker.get("/arbeitskorb/vorgaenge/" + s.ID).Body; !strings.Contains(body, note) || !strings.Contains(body, "Ben Beispiel") {
		t.Errorf("the case page lacks the note or the applicant before the erasure")
	}

	if res := st.api(t, http.MethodPost, path, "dev-sb-leipzig", reason); res.Status != http.StatusForbidden {
		t.Errorf("erasure by a case worker: %d, want 403", res.Status)
	}
	for _, bad := range []map[string]any{{"reason": ""}, {"reason": strings.Repeat("x", 501)}} {
		res := st.api(t, http.MethodPost, path, "dev-admin", bad)
		if res.Status != http.StatusBadRequest && res.Status != http.StatusUnprocessableEntity ||
			!strings.Contains(string(res.Body), `"/reason"`) {
			t.Errorf("erasure with reason of %d characters: %d %s, want 400/422 at /reason", len(bad["reason"].(string)), res.Status, res.Body)
		}
	}

	// Access: JSON and PDF, for the portal and the administrator.
	res := st.api(t, http.MethodGet, "/api/v1/accounts/"+account+"/data", "dev-portal", nil)
	if res.Status != http.StatusOK || !strings.Contains(string(res.Body), s.ID) || !strings.Contains(string(res.Body), "Südvorstadt") {
		t.Errorf("account data: %d %s", res.Status, res.Body)
	}
	res = st.api(t, http.MethodGet, "/api/v1/accounts/"+account+"/data?format=pdf", "dev-admin", nil)
	if res.Status != http.StatusOK || !bytes.HasPrefix(res.Body, []byte("%PDF-")) || !bytes.Contains(res.Body, []byte(s.ID)) {
		t.Errorf("account data as PDF: %d, %d bytes, PDF %v, names the case %v", res.Status, len(res.Body),
			bytes.HasPrefix(res.Body, []byte("%PDF-")), bytes.Contains(res.Body, []byte(s.ID)))
	}
	if res := st.api(t, http.MethodGet, "/api/v1/accounts/"+account+"/data", "dev-sb-leipzig", nil); res.Status != http.StatusForbidden {
		t.Errorf("account data for a case worker: %d, want 403", res.Status)
	}
	// The internal note is personal data about the applicant: the
	// administrator's export holds it, labelled as never sent; the
	// portal's self-service export does not.
	res = st.api(t, http.MethodGet, "/api/v1/accounts/"+account+"/data", "dev-admin", nil)
	var access struct {
		InternalNotes []struct{ CaseID, AuthorName, Text string }
	}
	if err := json.Unmarshal(res.Body, &access); err != nil || res.Status != http.StatusOK || len(access.InternalNotes) != 1 ||
		access.InternalNotes[0].Text != note || access.InternalNotes[0].CaseID != s.ID ||
		access.InternalNotes[0].AuthorName != "Sachbearbeitung Leipzig (Teamleitung)" {
		t.Errorf("the administrator's export lacks the internal note: %d %s", res.Status, res.Body)
	}
	if res := st.api(t, http.MethodGet, "/api/v1/accounts/"+account+"/data", "dev-portal", nil); strings.Contains(string(res.Body), note) {
		t.Errorf("the portal's export holds the internal note: %s", res.Body)
	}
	res = st.api(t, http.MethodGet, "/api/v1/accounts/"+account+"/data?format=pdf", "dev-admin", nil)
	if !bytes.Contains(res.Body, []byte("Interne Notizen der Sachbearbeitung")) || !bytes.Contains(res.Body, []byte("Halter telefonisch")) {
		t.Errorf("the administrator's PDF export lacks the internal note")
	}

	// The final record is written a moment after the last projection.
	var erased map[string]any
	waitFor(t, "erasure of the closed case", 10*time.Second, func() bool {
		res := st.api(t, http.MethodPost, path, "dev-admin", reason)
		if res.Status == http.StatusOK {
			erased = res.JSON(t)
		}
		return res.Status == http.StatusOK
	})
	if cases, _ := erased["cases"].([]any); len(cases) != 1 || cases[0] != s.ID {
		t.Errorf("erased %v", erased)
	}
	res = st.api(t, http.MethodGet, "/api/v1/applications/"+s.ID, "dev-admin", nil)
	if res.Status == http.StatusOK && (strings.Contains(string(res.Body), account) || strings.Contains(string(res.Body), "timeline\":[{")) {
		t.Errorf("erased case still shows personal data: %s", res.Body)
	}
	res = st.api(t, http.MethodGet, "/api/v1/accounts/"+account+"/data", "dev-admin", nil)
	if res.Status != http.StatusOK || strings.Contains(string(res.Body), "Südvorstadt") || strings.Contains(string(res.Body), s.ID+"-1") {
		t.Errorf("account data after the erasure: %d %s", res.Status, res.Body)
	}
	body := worker.get("/arbeitskorb/vorgaenge/" + s.ID).Body
	if i := strings.Index(body, `<nav class="worklist"`); i > 0 {
		body = body[:i] // the list beside the case shows other cases
	}
	if strings.Contains(body, note) || strings.Contains(body, "Ben Beispiel") || strings.Contains(body, "Karl-Liebknecht-Straße") {
		t.Errorf("the case page shows the erased case's note or applicant:\n%s", body)
	}
	res = st.api(t, http.MethodPost, "/api/v1/accounts/"+account+"/erasure", "dev-admin", reason)
	if res.Status != http.StatusOK {
		t.Errorf("account erasure: %d %s", res.Status, res.Body)
	}
	erasureOnTheStaffPage(t, st)
}

// erasureOnTheStaffPage: an administrator erases a closed case through the
// form of /verwaltung/loeschung; an open case is refused in German.
func erasureOnTheStaffPage(t *testing.T, st *Stack) {
	s := st.submit(t, parkausweis("Südvorstadt", "amt24-erase-page-"+uuid.NewString()[:8]))
	admin := &page{t: t, base: st.URL, cookies: map[string]string{"ozgflow_session": st.session(t, "dev-admin")}}
	form := admin.get("/verwaltung/loeschung")
	m := csrfField.FindStringSubmatch(form.Body)
	if form.Status != http.StatusOK || m == nil || !strings.Contains(form.Body, "Art. 17") {
		t.Fatalf("erasure page: %d", form.Status)
	}
	send := func(fields url.Values) pageResponse {
		fields.Set("csrf", m[1])
		return admin.post("/verwaltung/loeschung", fields)
	}
	open := send(url.Values{"vorgang": {s.ID}, "begruendung": {"Antrag vom 3. März"}})
	if open.Status != http.StatusConflict || !strings.Contains(open.Body, "Es wurde nichts gelöscht") {
		t.Errorf("open case on the page: %d %s", open.Status, open.Body)
	}
	if none := send(url.Values{"vorgang": {s.ID}, "begruendung": {" "}}); none.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(none.Body, "warum gelöscht wird") {
		t.Errorf("without a reason: %d", none.Status)
	}
	pay(t, s.PaymentURL, "pay")
	st.waitStatus(t, s, "approved")
	var done pageResponse
	waitFor(t, "the page's erasure of the closed case", 10*time.Second, func() bool {
		done = send(url.Values{"vorgang": {s.ID}, "begruendung": {"Antrag vom 3. März"}})
		return done.Status == http.StatusSeeOther
	})
	if shown := admin.get(done.Location); !strings.Contains(shown.Body, "Gelöscht: die personenbezogenen Daten von 1 Vorgang") {
		t.Errorf("after the erasure: %s %s", done.Location, shown.Body)
	}
}
