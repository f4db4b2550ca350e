package e2e

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// At the door: the headers of every page and answer, forms that only this
// site can send, and the receipt's link without the access token.

// crossSite are the headers of a browser's request that another site made.
var crossSite = map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://boese.example"}

var (
	receiptLink    = regexp.MustCompile(`id="receipt-link" href="([^"]+)"`)
	definitionLink = regexp.MustCompile(`href="(/verwaltung/definitionen/[^"/?]+)"`)
	versionLink    = regexp.MustCompile(`href="(/verwaltung/definitionen/[^"/?]+/versionen/\d+)"`)
)

// checkPageHeaders checks the headers every page of ozgflow sends.
func checkPageHeaders(t *testing.T, what string, res pageResponse) {
	t.Helper()
	h := res.Header
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'nonce-") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("%s: Content-Security-Policy %q", what, csp)
	}
	for name, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
		"Cache-Control": "no-store", "Content-Type": "text/html; charset=utf-8"} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %s %q, want %q", what, name, got, want)
		}
	}
}

func atTheDoor(t *testing.T, st *Stack) {
	s := st.submit(t, gewerbeanmeldung(leipzig, "amt24-anna"))
	status := "/antraege/" + s.ID
	applicant := &page{t: t, base: st.URL, cookies: map[string]string{}}
	if res := applicant.get(status + "?token=" + url.QueryEscape(s.Token)); res.Status != http.StatusSeeOther {
		t.Fatalf("opening the status page with the token: %d", res.Status)
	}
	anyone := &page{t: t, base: st.URL, cookies: map[string]string{}}
	worker := &page{t: t, base: st.URL, cookies: map[string]string{"ozgflow_session": st.session(t, "dev-sb-leipzig")}}
	admin := &page{t: t, base: st.URL, cookies: map[string]string{"ozgflow_session": st.session(t, "dev-admin")}}
	pay(t, s.PaymentURL, "pay")
	st.WaitStatus(t, s, "in_review")

	t.Run("every page sends the security headers", func(t *testing.T) {
		pages := []struct {
			p    *page
			path string
		}{
			{anyone, "/anmelden"}, {anyone, "/pruefen"}, {applicant, status}, {applicant, status + "/zurueckziehen"},
			{worker, "/arbeitskorb"}, {worker, "/arbeitskorb/vorgaenge/" + s.ID},
			{admin, "/verwaltung"}, {admin, "/verwaltung/aenderungen"}, {admin, "/verwaltung/auswertung"},
			{admin, "/verwaltung/zustellungen"},
		}
		if m := definitionLink.FindStringSubmatch(admin.get("/verwaltung").Body); m != nil {
			pages = append(pages, struct {
				p    *page
				path string
			}{admin, m[1]})
			if v := versionLink.FindStringSubmatch(admin.get(m[1]).Body); v != nil {
				pages = append(pages, struct {
					p    *page
					path string
				}{admin, v[1]})
			} else {
				t.Error("the definition's page links no version")
			}
		} else {
			t.Error("/verwaltung links no definition")
		}
		for _, pg := range pages {
			res := pg.p.get(pg.path)
			if res.Status != http.StatusOK {
				t.Errorf("%s: %d", pg.path, res.Status)
			}
			checkPageHeaders(t, pg.path, res)
			if hsts := res.Header.Get("Strict-Transport-Security"); hsts != "" && strings.HasPrefix(st.URL, "http://") {
				t.Errorf("%s: Strict-Transport-Security %q over http", pg.path, hsts)
			}
		}
		for _, path := range []string{"/api/v1/applications/" + s.ID, "/api/v1/applications/" + s.ID + "/receipt.pdf", "/api/v1/nothing"} {
			res := call(t, st.URL, http.MethodGet, path, s.Token, nil)
			if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("%s (%d): %v", path, res.Status, res.Header)
			}
		}
	})

	t.Run("the receipt's link carries no token", func(t *testing.T) {
		var body string
		waitFor(t, "the receipt on the status page", 20*time.Second, func() bool {
			body = applicant.get(status).Body
			return receiptLink.MatchString(body)
		})
		link := strings.ReplaceAll(receiptLink.FindStringSubmatch(body)[1], "&amp;", "&")
		if strings.Contains(link, "token") || strings.Contains(body, s.Token) {
			t.Errorf("the page hands out the access token: %s", link)
		}
		if res := applicant.get(link); res.Status != http.StatusOK || res.Header.Get("Content-Type") != "application/pdf" {
			t.Errorf("the receipt with the page's cookie: %d %s", res.Status, res.Header.Get("Content-Type"))
		}
		if res := anyone.get(link); res.Status != http.StatusUnauthorized {
			t.Errorf("the receipt without the cookie: %d", res.Status)
		}
	})

	t.Run("forms only this site can send", func(t *testing.T) {
		m := csrfField.FindStringSubmatch(applicant.get(status + "/zurueckziehen").Body)
		if m == nil {
			t.Fatal("the confirmation page has no form token")
		}
		withdraw := url.Values{"reason": {"Versehen"}}
		noToken, noTokenType := Multipart(t, map[string]string{"reason": "Versehen"})
		if res := applicant.send(http.MethodPost, status+"/zurueckziehen", bytes.NewReader(noToken), noTokenType, nil); res.Status != http.StatusForbidden {
			t.Errorf("a multipart withdrawal without its token: %d", res.Status)
		}
		withdraw.Set("csrf", m[1])
		res := applicant.send(http.MethodPost, status+"/zurueckziehen", strings.NewReader(withdraw.Encode()),
			"application/x-www-form-urlencoded", crossSite)
		if res.Status != http.StatusForbidden || !strings.Contains(res.Body, "Anfrage von einer anderen Seite") {
			t.Errorf("a withdrawal from another site: %d", res.Status)
		}
		checkPageHeaders(t, "the cross-site refusal", res)
		if c := st.caseOf(t, s.ID, s.Token); c["status"] != "in_review" {
			t.Fatalf("after the refused forms the case is %v", c["status"])
		}
		signIn := anyone.send(http.MethodPost, "/anmelden", strings.NewReader("token=dev-admin"), "application/x-www-form-urlencoded", crossSite)
		if signIn.Status != http.StatusForbidden || strings.Contains(strings.Join(signIn.Header.Values("Set-Cookie"), ";"), "ozgflow_session") {
			t.Errorf("a sign-in from another site: %d, cookies %v", signIn.Status, signIn.Header.Values("Set-Cookie"))
		}
		signOut := worker.send(http.MethodPost, "/abmelden", nil, "application/x-www-form-urlencoded", crossSite)
		if signOut.Status != http.StatusForbidden || len(signOut.Header.Values("Set-Cookie")) > 0 {
			t.Errorf("a sign-out from another site: %d, cookies %v", signOut.Status, signOut.Header.Values("Set-Cookie"))
		}

		withToken, withTokenType := Multipart(t, map[string]string{"reason": "Doch kein Café.", "csrf": m[1]})
		res = applicant.send(http.MethodPost, status+"/zurueckziehen", bytes.NewReader(withToken), withTokenType,
			map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": st.URL})
		if res.Status != http.StatusSeeOther || res.Location != status+"?hinweis=zurueckgezogen" {
			t.Fatalf("a multipart withdrawal with its token: %d %q %s", res.Status, res.Location, res.Body)
		}
		st.WaitStatus(t, s, "withdrawn")
	})
}
