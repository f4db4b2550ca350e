package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/test/e2e"
)

// TestWebUIShowsTheInputToAnAdministratorOnly opens a case in the Temporal
// Web UI that dev serves, in one browser. Before anyone signs in at the
// gateway, and signed in as a case worker, the UI shows the case's input
// encrypted and says where to sign in; signed in as an administrator, it
// shows the applicant's name: the browser sent the session's cookie from
// the UI's port to the gateway's codec endpoint, and read the answer.
func TestWebUIShowsTheInputToAnAdministratorOnly(t *testing.T) {
	d := startDev(t)
	const name = "Berta Browsertest"
	application := e2e.Gewerbeanmeldung(e2e.Leipzig, "amt24-berta")
	application["applicant"].(map[string]any)["name"] = name
	body, _ := json.Marshal(application)
	req, _ := http.NewRequest(http.MethodPost, d.URL+"/api/v1/applications", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer dev-portal")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var submitted struct{ ID string }
	err = json.NewDecoder(res.Body).Decode(&submitted)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("submit: %d %v", res.StatusCode, err)
	}
	workflowID := ozgflow.CaseWorkflowID(submitted.ID)
	described, err := d.Client.DescribeWorkflowExecution(context.Background(), workflowID, "")
	if err != nil {
		t.Fatal(err)
	}
	page := d.UIURL + "/namespaces/" + ozgflow.Namespace + "/workflows/" + workflowID + "/" +
		described.WorkflowExecutionInfo.Execution.RunId + "/history"

	ctx := browser(t)
	// shows opens the case in the UI and returns its text once it shows
	// either the name or the codec's refusal.
	shows := func(what string) string {
		t.Helper()
		var text string
		run(t, ctx, what, chromedp.Navigate(page))
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			run(t, ctx, what, chromedp.Text("body", &text, chromedp.ByQuery))
			if strings.Contains(text, name) || strings.Contains(text, "Payloads are encrypted") {
				return text
			}
		}
		t.Fatalf("%s: the UI shows neither the input nor the codec's refusal:\n%s", what, text)
		return ""
	}
	signIn := func(who string) {
		t.Helper()
		run(t, ctx, "sign in as "+who,
			chromedp.Navigate(d.URL+"/anmelden"),
			chromedp.WaitVisible(`button[type=submit]`, chromedp.ByQuery),
			press(`//button[contains(., "`+who+`")]`, chromedp.BySearch),
			chromedp.WaitNotPresent(`//button[contains(., "`+who+`")]`, chromedp.BySearch),
		)
	}

	if text := shows("the case before signing in"); strings.Contains(text, name) {
		t.Errorf("the UI shows the input to a browser without a session:\n%s", text)
	}
	signIn("Sachbearbeitung Leipzig (Teamleitung)")
	if text := shows("the case as a case worker"); strings.Contains(text, name) {
		t.Errorf("the UI shows the input to a case worker:\n%s", text)
	}
	signIn("Fachadministration")
	if text := shows("the case as an administrator"); !strings.Contains(text, name) {
		t.Errorf("the UI does not show an administrator the input:\n%s", text)
	}
}
