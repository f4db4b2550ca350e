package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// emailNoticesReachTheApplicant: Dresden's Gewerbeanmeldung sends every
// notice to the applicant's email address too; the mail sink receives each
// once, with the notice ID in its Message-ID.
func emailNoticesReachTheApplicant(t *testing.T, st *Stack) {
	s := st.submit(t, gewerbeanmeldung(dresden, "amt24-anna"))
	pay(t, s.PaymentURL, "pay")
	c := st.waitStatus(t, s, "in_review")
	var notices []map[string]any
	for _, n := range c["timeline"].([]any) {
		notices = append(notices, n.(map[string]any))
	}
	var got map[string]map[string]any // by notice ID
	waitFor(t, "the notices in the mail sink", 20*time.Second, func() bool {
		res := call(t, st.SandboxURL, http.MethodGet, "/sandbox/mail", "", nil, "Accept", "application/json")
		var list struct {
			Mails []map[string]any `json:"mails"`
		}
		if res.Status != http.StatusOK || json.Unmarshal(res.Body, &list) != nil {
			return false
		}
		got = map[string]map[string]any{}
		for _, m := range list.Mails {
			for _, n := range notices {
				if strings.Contains(m["messageId"].(string), n["id"].(string)+"@") {
					got[n["id"].(string)] = m
				}
			}
		}
		return len(got) == len(notices)
	})
	for _, n := range notices {
		m := got[n["id"].(string)]
		if m["subject"] != n["title"] || !strings.Contains(m["text"].(string), n["text"].(string)) ||
			len(m["to"].([]any)) != 1 || m["to"].([]any)[0] != "anna@example.org" {
			t.Errorf("mail for notice %v = %v", n["id"], m)
		}
	}
}
