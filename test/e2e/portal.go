package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The stacks the suite runs against configure the portal dispatcher to give
// up after 20 attempts 50 ms to 500 ms apart (OZGFLOW_PORTAL_MAX_ATTEMPTS,
// OZGFLOW_PORTAL_BACKOFF_INITIAL, OZGFLOW_PORTAL_BACKOFF_MAX): a notice is
// retried for about 8 seconds before it is undeliverable.

// portalDeliveryThroughAnOutage: notices pile up while the portal is down
// and arrive once, with their stable IDs, when it is back; a notice that
// exhausts its attempts waits in the administrators' list until resent.
func portalDeliveryThroughAnOutage(t *testing.T, st *Stack) {
	st.setPortalDown(t, true)
	defer st.setPortalDown(t, false)
	cases := []Submitted{st.submit(t, hundesteuer(dresden)), st.submit(t, hundesteuer(leipzig))}
	ofCases := func(e map[string]any) bool { return e["caseId"] == cases[0].ID || e["caseId"] == cases[1].ID }
	waitFor(t, "notices piling up for the portal", 20*time.Second, func() bool {
		retried := map[string]bool{}
		for _, e := range st.portalEvents(t, "pending") {
			if ofCases(e) && e["attempts"].(float64) >= 2 && strings.Contains(fmt.Sprint(e["lastError"]), "503") {
				retried[e["caseId"].(string)] = true
			}
		}
		return len(retried) == 2
	})
	for _, c := range cases {
		if got := st.portalReceived(t, c.ID); len(got) != 0 {
			t.Errorf("the portal took %d events during its outage", len(got))
		}
	}
	st.setPortalDown(t, false)
	for _, c := range cases {
		st.waitPortalHasTimeline(t, st.waitStatus(t, c, "approved"))
	}
	for _, rec := range st.portalReceived(t, cases[0].ID) {
		e := rec["event"].(map[string]any)
		if e["specversion"] != "1.0" || e["type"] != "de.ozgflow.notice" || e["subject"] != cases[0].ID || e["time"] == "" ||
			!strings.HasPrefix(e["id"].(string), cases[0].ID+"-") || e["data"].(map[string]any)["portalAccount"] != "amt24-clara" {
			t.Errorf("event = %v", e)
		}
	}

	// A notice that exhausts its attempts is listed for the administrators
	// and arrives once resent.
	st.setPortalDown(t, true)
	s := st.submit(t, hundesteuer(dresden))
	final := st.waitStatus(t, s, "approved")
	ids := timelineIDs(final)
	var failed map[string]map[string]any
	waitFor(t, "notices undeliverable", 60*time.Second, func() bool {
		failed = map[string]map[string]any{}
		for _, e := range st.portalEvents(t, "failed") {
			if e["caseId"] == s.ID {
				failed[e["id"].(string)] = e
			}
		}
		return len(failed) == len(ids)
	})
	for _, id := range ids {
		e := failed[id]
		if e == nil || e["attempts"].(float64) < 2 || !strings.Contains(fmt.Sprint(e["lastError"]), "503") || e["failedAt"] == nil ||
			e["portalAccount"] != "amt24-clara" {
			t.Errorf("undeliverable %s = %v", id, e)
		}
	}
	if res := st.api(t, http.MethodGet, "/api/v1/portal-events?state=failed", "dev-portal", nil); res.Status != http.StatusForbidden {
		t.Errorf("a portal client lists the outbox: %d", res.Status)
	}
	st.setPortalDown(t, false)
	if got := st.portalReceived(t, s.ID); len(got) != 0 {
		t.Errorf("undeliverable notices arrived without a resend: %v", got)
	}
	for _, id := range ids {
		res := st.api(t, http.MethodPost, "/api/v1/portal-events/"+id+"/resend", "dev-admin", nil)
		if res.Status != http.StatusAccepted || res.JSON(t)["state"] != "pending" {
			t.Fatalf("resend %s: %d %s", id, res.Status, res.Body)
		}
	}
	st.waitPortalHasTimeline(t, final)
	for _, e := range st.portalEvents(t, "failed") {
		if e["caseId"] == s.ID {
			t.Errorf("still undeliverable after the resend: %v", e)
		}
	}
}

func timelineIDs(c map[string]any) []string {
	var ids []string
	for _, n := range c["timeline"].([]any) {
		ids = append(ids, n.(map[string]any)["id"].(string))
	}
	return ids
}

// waitPortalHasTimeline waits until the portal holds every notice of a
// final case, each once under its own ID with the notice's content, and
// nothing else of the case; a duplicate delivery is counted under the same ID.
func (st *Stack) waitPortalHasTimeline(t *testing.T, c map[string]any) {
	t.Helper()
	id := c["id"].(string)
	timeline := map[string]map[string]any{}
	for _, n := range c["timeline"].([]any) {
		timeline[n.(map[string]any)["id"].(string)] = n.(map[string]any)
	}
	if len(timeline) == 0 {
		t.Fatalf("case %s has no notices", id)
	}
	var got []map[string]any
	waitFor(t, "the notices of case "+id+" at the portal", 20*time.Second, func() bool {
		got = st.portalReceived(t, id)
		return len(got) >= len(timeline)
	})
	seen := map[string]bool{}
	for _, rec := range got {
		e := rec["event"].(map[string]any)
		data := e["data"].(map[string]any)
		n := timeline[rec["id"].(string)]
		switch {
		case n == nil:
			t.Errorf("the portal got %s, which is no notice of case %s", rec["id"], id)
		case seen[rec["id"].(string)]:
			t.Errorf("the portal recorded %s twice", rec["id"])
		case e["id"] != rec["id"] || data["title"] != n["title"] || data["text"] != n["text"] || data["status"] != n["status"]:
			t.Errorf("event %s = %v, notice %v", rec["id"], e, n)
		}
		seen[rec["id"].(string)] = true
	}
}

// setPortalDown switches the sandbox portal's outage over its HTTP API.
func (st *Stack) setPortalDown(t *testing.T, down bool) {
	t.Helper()
	res := Call(t, st.SandboxURL, http.MethodPost, "/sandbox/portal/outage", "", map[string]bool{"down": down})
	if res.Status != http.StatusOK {
		t.Fatalf("portal outage switch: %d %s", res.Status, res.Body)
	}
}

// portalReceived lists what the sandbox portal recorded of a case.
func (st *Stack) portalReceived(t *testing.T, caseID string) []map[string]any {
	t.Helper()
	res := Call(t, st.SandboxURL, http.MethodGet, "/sandbox/portal/events?caseId="+caseID, "", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("sandbox portal: %d %s", res.Status, res.Body)
	}
	var list struct {
		Events []map[string]any `json:"events"`
	}
	if err := json.Unmarshal(res.Body, &list); err != nil {
		t.Fatal(err)
	}
	return list.Events
}

// portalEvents lists the outbox in one state as an administrator sees it.
func (st *Stack) portalEvents(t *testing.T, state string) []map[string]any {
	t.Helper()
	res := st.api(t, http.MethodGet, "/api/v1/portal-events?limit=500&state="+state, "dev-admin", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("portal events: %d %s", res.Status, res.Body)
	}
	var page struct {
		Events []map[string]any `json:"events"`
	}
	if err := json.Unmarshal(res.Body, &page); err != nil {
		t.Fatal(err)
	}
	return page.Events
}
