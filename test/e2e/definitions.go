package e2e

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

const parkDresden = "anwohnerparkausweis-dresden"

// parkausweisDresden is an application for a resident parking permit in a
// zone Dresden decides by rule.
func parkausweisDresden() map[string]any {
	app := Parkausweis("Altstadt", "amt24-ben")
	app["authority"] = Dresden
	app["data"].(map[string]any)["kennzeichen"] = "DD-AB 123"
	return app
}

func versionOf(t *testing.T, st *Stack, id string, number int) map[string]any {
	t.Helper()
	res := st.api(t, http.MethodGet, "/api/v1/definitions/"+id+"/versions/"+strconv.Itoa(number), "dev-admin", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("get version: %d %s", res.Status, res.Body)
	}
	return res.JSON(t)
}

// definitionLifecycle drafts, edits and publishes a new version while a case
// runs on the old one: new cases get the new version, the running case ends
// on the version it started with.
func definitionLifecycle(t *testing.T, st *Stack) {
	old := st.Submit(t, parkausweisDresden())
	if p := old.Body["payment"].(map[string]any); p["amount"] != 3000.0 {
		t.Fatalf("fee before = %v", p["amount"])
	}
	if res := st.api(t, http.MethodGet, "/api/v1/definitions", "dev-sb-dresden", nil); res.Status != http.StatusForbidden {
		t.Errorf("case worker reads definitions: %d, want 403", res.Status)
	}
	res := st.api(t, http.MethodPost, "/api/v1/definitions/"+parkDresden+"/drafts", "dev-admin", nil)
	if res.Status != http.StatusCreated {
		t.Fatalf("draft: %d %s", res.Status, res.Body)
	}
	doc := versionOf(t, st, parkDresden, 2)["document"].(map[string]any)
	doc["fee"] = map[string]any{"amount": 3500, "purpose": "Gebühr Bewohnerparkausweis Landeshauptstadt Dresden"}
	if res := st.api(t, http.MethodPut, "/api/v1/definitions/"+parkDresden+"/versions/1", "dev-admin", doc); res.Status != http.StatusConflict {
		t.Errorf("editing the published version: %d, want 409", res.Status)
	}
	if res := st.api(t, http.MethodPut, "/api/v1/definitions/"+parkDresden+"/versions/2", "dev-admin", doc); res.Status != http.StatusOK {
		t.Fatalf("edit draft: %d %s", res.Status, res.Body)
	}
	if res := st.api(t, http.MethodPost, "/api/v1/definitions/"+parkDresden+"/versions/2/publish", "dev-admin", nil); res.Status != http.StatusOK {
		t.Fatalf("publish: %d %s", res.Status, res.Body)
	}

	fresh := st.Submit(t, parkausweisDresden())
	if p := fresh.Body["payment"].(map[string]any); p["amount"] != 3500.0 {
		t.Errorf("fee of a new case = %v, want 3500", p["amount"])
	}
	WaitFor(t, "running cases counted per version", 10*time.Second, func() bool {
		entry := st.api(t, http.MethodGet, "/api/v1/definitions/"+parkDresden, "dev-admin", nil).JSON(t)
		versions := entry["versions"].([]any)
		v1, v2 := versions[0].(map[string]any), versions[1].(map[string]any)
		return entry["published"] == 2.0 && v1["status"] == "retired" && v1["runningCases"].(float64) >= 1 &&
			v2["status"] == "published" && v2["runningCases"].(float64) >= 1
	})

	Pay(t, old.PaymentURL, "pay")
	c := st.WaitStatus(t, old, "approved")
	if def := c["definition"].(map[string]any); def["version"] != 1.0 || c["payment"].(map[string]any)["amount"] != 3000.0 {
		t.Errorf("old case finished on %v with fee %v, want version 1 and 3000", def, c["payment"])
	}
	Pay(t, fresh.PaymentURL, "pay")
	if c := st.WaitStatus(t, fresh, "approved"); c["definition"].(map[string]any)["version"] != 2.0 {
		t.Errorf("new case ran on %v", c["definition"])
	}

	// A draft that would break the variant is refused, with the place named.
	st.api(t, http.MethodPost, "/api/v1/definitions/"+parkDresden+"/drafts", "dev-admin", nil)
	bad := versionOf(t, st, parkDresden, 3)["document"].(map[string]any)
	bad["steps"] = []any{map[string]any{"id": "review", "kind": "teleport"}}
	if res := st.api(t, http.MethodPut, "/api/v1/definitions/"+parkDresden+"/versions/3", "dev-admin", bad); res.Status != http.StatusOK {
		t.Fatalf("edit: %d %s", res.Status, res.Body)
	}
	res = st.api(t, http.MethodPost, "/api/v1/definitions/"+parkDresden+"/versions/3/publish", "dev-admin", nil)
	// The place is the draft's own step, in German with the field.
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(string(res.Body), `"/steps/0/kind"`) ||
		!strings.Contains(string(res.Body), "Schritt „review“ › Art (kind): unbekannte Art „teleport“") {
		t.Errorf("publishing a broken draft: %d %s, want 422 naming /steps/0/kind", res.Status, res.Body)
	}
	// A queue the authority does not have is refused, naming the queue.
	typo := versionOf(t, st, parkDresden, 3)["document"].(map[string]any)
	typo["steps"] = []any{map[string]any{"id": "deliver", "target": "parken-dresden"},
		map[string]any{"id": "check", "kind": "task", "title": "Prüfen", "queue": "parkn", "outcomes": []any{"approve", "reject"}}}
	if res := st.api(t, http.MethodPut, "/api/v1/definitions/"+parkDresden+"/versions/3", "dev-admin", typo); res.Status != http.StatusOK {
		t.Fatalf("edit: %d %s", res.Status, res.Body)
	}
	res = st.api(t, http.MethodPost, "/api/v1/definitions/"+parkDresden+"/versions/3/publish", "dev-admin", nil)
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(string(res.Body), `"/steps/1/queue"`) ||
		!strings.Contains(string(res.Body), "den Arbeitskorb „parkn“ gibt es bei Landeshauptstadt Dresden nicht") {
		t.Errorf("publishing an unknown queue: %d %s, want 422 naming the queue", res.Status, res.Body)
	}
	changes := st.api(t, http.MethodGet, "/api/v1/definitions/changes", "dev-admin", nil).JSON(t)["changes"].([]any)
	if first := changes[0].(map[string]any); first["by"] != "admin" || first["definitionId"] != parkDresden {
		t.Errorf("newest change = %v", first)
	}
}

// definitionsExcelRoundTrip exports a service to Excel, imports it unchanged
// (nothing happens), with an edited fee (a draft), and with a mistake (a
// report, nothing changed).
func definitionsExcelRoundTrip(t *testing.T, st *Stack) {
	res := st.api(t, http.MethodGet, "/api/v1/definitions/export.xlsx?service=anwohnerparkausweis", "dev-admin", nil)
	if res.Status != http.StatusOK || !strings.Contains(res.Header.Get("Content-Type"), "spreadsheetml") {
		t.Fatalf("export: %d %s", res.Status, res.Header.Get("Content-Type"))
	}
	workbook := res.Body
	before := st.api(t, http.MethodGet, "/api/v1/definitions/changes", "dev-admin", nil).JSON(t)["changes"].([]any)

	imported := importWorkbook(t, st, workbook)
	if imported.Status != http.StatusOK || len(imported.JSON(t)["drafts"].([]any)) != 0 {
		t.Fatalf("unchanged round trip: %d %s", imported.Status, imported.Body)
	}
	// The same as a multipart upload, as the page sends it.
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	part, _ := mw.CreateFormFile("file", "definitionen.xlsx")
	part.Write(workbook)
	mw.Close()
	imported = st.api(t, http.MethodPost, "/api/v1/definitions/import", "dev-admin", form.Bytes(),
		"Content-Type", mw.FormDataContentType())
	if imported.Status != http.StatusOK || len(imported.JSON(t)["drafts"].([]any)) != 0 {
		t.Fatalf("unchanged multipart round trip: %d %s", imported.Status, imported.Body)
	}
	after := st.api(t, http.MethodGet, "/api/v1/definitions/changes", "dev-admin", nil).JSON(t)["changes"].([]any)
	if len(after) != len(before) {
		t.Errorf("an unchanged round trip recorded %d changes", len(after)-len(before))
	}

	edited := editCell(t, workbook, "Gebühren", "anwohnerparkausweis", "B", "4200")
	imported = importWorkbook(t, st, edited)
	if imported.Status != http.StatusOK {
		t.Fatalf("edited import: %d %s", imported.Status, imported.Body)
	}
	answer := imported.JSON(t)
	drafts := answer["drafts"].([]any)
	if len(drafts) != 1 || drafts[0].(map[string]any)["id"] != "anwohnerparkausweis" {
		t.Errorf("drafts = %v, want one of the base", drafts)
	}
	changed := 0
	for _, r := range answer["report"].([]any) {
		if r.(map[string]any)["status"] == "changed" {
			changed++
		}
	}
	if changed != 1 {
		t.Errorf("%d rows reported changed, want 1", changed)
	}

	broken := editCell(t, workbook, "Gebühren", "anwohnerparkausweis", "B", "viel")
	res = importWorkbook(t, st, broken)
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(string(res.Body), "Gebühren") {
		t.Errorf("workbook with a mistake: %d %s", res.Status, res.Body)
	}
	if n := len(st.api(t, http.MethodGet, "/api/v1/definitions/changes", "dev-admin", nil).JSON(t)["changes"].([]any)); n != len(after)+2 {
		t.Errorf("%d changes after the broken import, want %d (draft and edit of the good one only)", n, len(after)+2)
	}
}

func importWorkbook(t *testing.T, st *Stack, workbook []byte) Response {
	t.Helper()
	return st.api(t, http.MethodPost, "/api/v1/definitions/import", "dev-admin", workbook,
		"Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
}

// editCell sets column col of the row whose first cell is id in sheet.
func editCell(t *testing.T, workbook []byte, sheet, id, col, value string) []byte {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(workbook))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range rows {
		if len(row) > 0 && row[0] == id {
			if err := f.SetCellValue(sheet, col+strconv.Itoa(i+1), value); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := f.Write(&buf); err != nil {
				t.Fatal(err)
			}
			return buf.Bytes()
		}
	}
	t.Fatalf("no row %s in %s", id, sheet)
	return nil
}

// caseReport downloads the case list as Excel, filtered, for the case worker's
// authority only.
func caseReport(t *testing.T, st *Stack) {
	s := st.Submit(t, Hundesteuer(Leipzig))
	st.WaitStatus(t, s, "approved")
	rowsOf := func(token, query string) [][]string {
		t.Helper()
		res := st.api(t, http.MethodGet, "/api/v1/reports/cases.xlsx"+query, token, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("report %s: %d %s", query, res.Status, res.Body)
		}
		f, err := excelize.OpenReader(bytes.NewReader(res.Body))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := f.GetRows("Vorgänge")
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	has := func(rows [][]string, id string) bool {
		for _, r := range rows {
			if len(r) > 4 && r[0] == id && r[4] == "Bewilligt" {
				return true
			}
		}
		return false
	}
	if !has(rowsOf("dev-sb-leipzig", "?status=approved&service=hundesteuer-anmeldung"), s.ID) {
		t.Error("the approved case is missing from Leipzig's report")
	}
	if has(rowsOf("dev-sb-leipzig", "?status=rejected"), s.ID) {
		t.Error("the status filter let an approved case through")
	}
	if has(rowsOf("dev-sb-dresden", ""), s.ID) {
		t.Error("Dresden's report shows a Leipzig case")
	}
	if !has(rowsOf("dev-admin", "?authority="+Leipzig), s.ID) {
		t.Error("the administrator's report for Leipzig misses the case")
	}
	for _, q := range []string{"?status=happy", "?from=gestern", "?service=nope"} {
		if res := st.api(t, http.MethodGet, "/api/v1/reports/cases.xlsx"+q, "dev-sb-leipzig", nil); res.Status != http.StatusBadRequest {
			t.Errorf("report %s: %d, want 400", q, res.Status)
		}
	}
	if res := st.api(t, http.MethodGet, "/api/v1/reports/cases.xlsx", s.Token, nil); res.Status != http.StatusUnauthorized {
		t.Errorf("applicant downloads the report: %d", res.Status)
	}

	res := st.api(t, http.MethodGet, "/api/v1/reports/statistics.xlsx", "dev-sb-leipzig", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("statistics: %d %s", res.Status, res.Body)
	}
	f, err := excelize.OpenReader(bytes.NewReader(res.Body))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("Auswertung")
	found := false
	for _, r := range rows {
		found = found || (len(r) > 4 && r[1] == "Hundesteuer-Anmeldung" && r[4] != "0")
	}
	if !found {
		t.Errorf("statistics lack decided Hundesteuer-Anmeldungen: %v", rows)
	}
}

// failingDeliveries reads "davon fehlgeschlagen" of a service from the
// statistics workbook of the case worker's authority.
func failingDeliveries(t *testing.T, st *Stack, token, service string) int {
	t.Helper()
	res := st.api(t, http.MethodGet, "/api/v1/reports/statistics.xlsx", token, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("statistics: %d %s", res.Status, res.Body)
	}
	f, err := excelize.OpenReader(bytes.NewReader(res.Body))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := f.GetRows("Auswertung")
	for _, r := range rows {
		if len(r) > 9 && r[1] == service {
			n, _ := strconv.Atoi(r[9])
			return n
		}
	}
	return 0
}
