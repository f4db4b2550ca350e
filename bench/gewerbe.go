package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ozgflow/ozgflow"
)

// The gewerbe phase runs the shipped Gewerbeanmeldung of Leipzig: the fee
// paid on the sandbox's payment page, the application sealed, delivered to
// the Fachverfahren simulator, reviewed by one case worker and approved by a
// second (four eyes), archived, and every notice posted to the portal. The
// benchmark publishes a version of it that also mails every notice to the
// applicant, as Dresden's variant does, so that one case has every kind of
// work the shipped variants do.
const (
	gewerbeDefinition = "gewerbeanmeldung-leipzig"
	gewerbeService    = "99050035001000"
	leipzig           = "147130000000"
	gewerbeQueueStep  = "review"
)

// gewerbeApplication is a Gewerbeanmeldung as the portal submits it.
func gewerbeApplication() map[string]any {
	return map[string]any{
		"service": gewerbeService, "authority": leipzig,
		"applicant": map[string]any{"name": "Lasttest", "email": "lasttest@example.org", "portalAccount": "amt24-lasttest"},
		"data": map[string]any{
			"betrieb": map[string]any{"name": "Lasttest GmbH", "taetigkeit": "Lasttest", "beginn": "2027-01-04",
				"rechtsform": "gmbh"},
			"anschrift": map[string]any{"strasse": "Markt", "hausnummer": "1", "plz": "04109", "ort": "Leipzig"},
		},
	}
}

// publishEmailNotices publishes, as the administrator would, a version of
// Leipzig's Gewerbeanmeldung whose notices also go by email.
func (r *runner) publishEmailNotices(ctx context.Context) error {
	path := "/api/v1/definitions/" + gewerbeDefinition
	status, b, err := r.call(ctx, http.MethodPost, path+"/drafts", "dev-admin", nil)
	if err != nil || status != http.StatusCreated {
		return fmt.Errorf("draft %s: %d %s %v", gewerbeDefinition, status, b, err)
	}
	var entry struct {
		Versions []struct {
			Number int `json:"number"`
		} `json:"versions"`
	}
	if err := json.Unmarshal(b, &entry); err != nil || len(entry.Versions) == 0 {
		return fmt.Errorf("draft %s: %s", gewerbeDefinition, b)
	}
	version := fmt.Sprintf("%s/versions/%d", path, entry.Versions[len(entry.Versions)-1].Number)
	status, b, err = r.call(ctx, http.MethodGet, version, "dev-admin", nil)
	if err != nil || status != http.StatusOK {
		return fmt.Errorf("read draft: %d %s %v", status, b, err)
	}
	var draft struct {
		Document map[string]any `json:"document"`
	}
	if err := json.Unmarshal(b, &draft); err != nil || draft.Document == nil {
		return fmt.Errorf("read draft: %s", b)
	}
	draft.Document["emailNotices"] = true
	if status, b, err = r.call(ctx, http.MethodPut, version, "dev-admin", draft.Document); err != nil || status != http.StatusOK {
		return fmt.Errorf("edit draft: %d %s %v", status, b, err)
	}
	if status, b, err = r.call(ctx, http.MethodPost, version+"/publish", "dev-admin", nil); err != nil || status != http.StatusOK {
		return fmt.Errorf("publish draft: %d %s %v", status, b, err)
	}
	return nil
}

// measureGewerbe publishes the variant, runs one case through and counts
// what its history holds, which the gewerbe baseline then mirrors.
func (r *runner) measureGewerbe(ctx context.Context) (BaselineShape, error) {
	if err := r.publishEmailNotices(ctx); err != nil {
		return BaselineShape{}, err
	}
	id, err := r.gewerbeThrough(ctx, nil)
	if err != nil {
		return BaselineShape{}, fmt.Errorf("warm-up Gewerbeanmeldung: %w", err)
	}
	shape, err := historyShape(ctx, r.dev.Client, ozgflow.CaseWorkflowID(id), "")
	if err != nil {
		return shape, err
	}
	return r.mirror(ctx, shape)
}

// gewerbeCase runs one Gewerbeanmeldung from submit to its end.
func (r *runner) gewerbeCase(ctx context.Context) (caseRun, error) {
	var run caseRun
	id, err := r.gewerbeThrough(ctx, &run.submit)
	run.workflowID = ozgflow.CaseWorkflowID(id)
	return run, err
}

// gewerbeThrough submits a Gewerbeanmeldung as the portal, pays its fee on
// the payment page as the applicant, and once it is in review claims and
// proposes approval as one case worker and approves as a second; then it
// waits for the case's end, after the archive and the last notices.
func (r *runner) gewerbeThrough(ctx context.Context, latency *time.Duration) (string, error) {
	s, err := r.submitApplication(ctx, gewerbeApplication(), latency)
	if err != nil {
		return "", err
	}
	if s.Payment == nil || s.Payment.RedirectURL == "" {
		return s.ID, fmt.Errorf("case %s: no payment link in the submit answer", s.ID)
	}
	if err := r.pay(ctx, s.Payment.RedirectURL); err != nil {
		return s.ID, err
	}
	if err := r.awaitReview(ctx, s.ID); err != nil {
		return s.ID, err
	}
	if err := r.taskAction(ctx, s.ID, gewerbeQueueStep, "claim", "dev-sb-leipzig", nil); err != nil {
		return s.ID, err
	}
	if err := r.taskAction(ctx, s.ID, gewerbeQueueStep, "complete", "dev-sb-leipzig",
		map[string]any{"outcome": "approve", "comment": "Vollständig."}); err != nil {
		return s.ID, err
	}
	if err := r.taskAction(ctx, s.ID, gewerbeQueueStep, "approve", "dev-sb-leipzig-2", map[string]any{"approve": true}); err != nil {
		return s.ID, err
	}
	return s.ID, r.awaitFinal(ctx, s.ID)
}

// pay pays on the sandbox's payment page, as the applicant's browser does.
func (r *runner) pay(ctx context.Context, pageURL string) error {
	form := url.Values{"action": {"pay"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, pageURL, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// The page sends the browser back to the status page, which the
	// benchmark does not need.
	c := *r.http
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("payment page: %s", res.Status)
	}
	return nil
}
