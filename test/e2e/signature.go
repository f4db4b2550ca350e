package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// DangerousDog is a Hundesteuer-Anmeldung for a listed dog, which the
// applicant must sign.
func DangerousDog(authority string) map[string]any {
	body := hundesteuer(authority)
	body["data"].(map[string]any)["gefaehrlicherHund"] = true
	return body
}

// Sign acts on the signing sandbox's page like the applicant would; the page
// sends the browser back to the status page.
func Sign(t *testing.T, signURL, action string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, signURL, strings.NewReader(url.Values{"action": {action}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := noRedirect.Do(forTest(req, t))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "/antraege/") {
		t.Fatalf("signature page %s: %d to %q, want 303 to the status page", action, res.StatusCode, res.Header.Get("Location"))
	}
}

// applicantSignsThenTheCaseGoesOn: a listed dog's keeper signs through the
// signing sandbox; the case leaves awaiting_signature and is approved. A
// declined signature cancels the case.
func applicantSignsThenTheCaseGoesOn(t *testing.T, st *Stack) {
	s := st.submit(t, DangerousDog(dresden))
	c := st.waitStatus(t, s, "awaiting_signature")
	signing, _ := c["signing"].(map[string]any)
	link, _ := signing["redirectUrl"].(string)
	if signing["status"] != "PENDING" || link == "" {
		t.Fatalf("signing = %v", signing)
	}
	Sign(t, link, "sign")
	c = st.waitStatus(t, s, "approved")
	if signing := c["signing"].(map[string]any); signing["status"] != "SIGNED" || signing["signedAt"] == nil {
		t.Errorf("after signing: %v", signing)
	}
	if got := statusesOf(c); strings.Join(got, ",") != "received,awaiting_signature,forwarded,approved" {
		t.Errorf("statuses %v", got)
	}

	declined := st.submit(t, DangerousDog(leipzig))
	c = st.waitStatus(t, declined, "awaiting_signature")
	Sign(t, c["signing"].(map[string]any)["redirectUrl"].(string), "decline")
	c = st.waitStatus(t, declined, "cancelled")
	if c["signing"].(map[string]any)["status"] != "DECLINED" {
		t.Errorf("declined signing: %v", c["signing"])
	}
	if recs := st.receivedBy(t, declined.ID); len(recs) != 0 {
		t.Errorf("an unsigned application reached the Fachverfahren: %v", recs)
	}
}
