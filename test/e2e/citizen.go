package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// The applicant's side: answers with documents, the portal mailbox and the
// status pages under /antraege.

// File is a document to upload in a multipart answer.
type File struct {
	Name string
	Data []byte
}

// SamplePDF is a small valid PDF document with the given line of text.
func SamplePDF(text string) []byte {
	stream := "BT /F1 12 Tf 72 720 Td (" + text + ") Tj ET"
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(stream), stream),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return b.Bytes()
}

// samplePNG is the smallest PNG: one transparent pixel.
var samplePNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" +
	"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// Multipart builds a multipart/form-data body of fields and files ("files").
func Multipart(t *testing.T, fields map[string]string, files ...File) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := mw.WriteField(k, fields[k]); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="files"; filename=%q`, f.Name))
		h.Set("Content-Type", "application/octet-stream") // the server looks at the bytes
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.Data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// AskApplicant has a Leipzig case worker claim the case's open task in the
// queue and ask the applicant a question; it waits for the question.
func (st *Stack) AskApplicant(t *testing.T, s Submitted, queue, question string) {
	t.Helper()
	taskID := st.OpenTask(t, s.ID, "dev-sb-leipzig", queue)["id"].(string)
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/claim", "dev-sb-leipzig", nil); res.Status != http.StatusOK {
		t.Fatalf("claim: %d %s", res.Status, res.Body)
	}
	if res := st.api(t, http.MethodPost, "/api/v1/tasks/"+taskID+"/complete", "dev-sb-leipzig",
		map[string]any{"outcome": "request_information", "comment": question}); res.Status != http.StatusOK {
		t.Fatalf("request information: %d %s", res.Status, res.Body)
	}
	st.WaitStatus(t, s, "information_requested")
}

func answersWithDocuments(t *testing.T, st *Stack) {
	s := st.submit(t, parkausweis("Plagwitz-Nord", "amt24-ben"))
	pay(t, s.PaymentURL, "pay")
	st.AskApplicant(t, s, "parken", "Bitte laden Sie die Meldebescheinigung hoch.")
	path := "/api/v1/applications/" + s.ID + "/responses"
	pdf := SamplePDF("Meldebescheinigung Ben Beispiel")
	big := append(SamplePDF("gross"), bytes.Repeat([]byte{' '}, 5_000_001)...)
	six := make([]File, 6)
	for i := range six {
		six[i] = File{Name: fmt.Sprintf("seite-%d.pdf", i+1), Data: SamplePDF(fmt.Sprint("Seite ", i+1))}
	}
	tests := []struct {
		name     string
		fields   map[string]string
		files    []File
		raw      []byte // instead of a multipart body
		rawType  string
		want     int
		pointers []string
	}{
		{"a text file named .pdf", map[string]string{"text": "Anbei."}, []File{{"meldebescheinigung.pdf", []byte("nur Text")}},
			nil, "", http.StatusUnsupportedMediaType, []string{"/files/0"}},
		{"an HTML file after a good one", nil, []File{{"a.pdf", pdf}, {"b.png", []byte("<!doctype html><script>alert(1)</script>")}},
			nil, "", http.StatusUnsupportedMediaType, []string{"/files/1"}},
		{"a file over 5 MB", map[string]string{"text": "Anbei."}, []File{{"gross.pdf", big}},
			nil, "", http.StatusRequestEntityTooLarge, []string{"/files/0"}},
		{"six files", nil, six, nil, "", http.StatusUnprocessableEntity, []string{"/files"}},
		{"nothing said, nothing attached", map[string]string{"text": " "}, nil, nil, "", http.StatusUnprocessableEntity, []string{"/text"}},
		{"data that is no object", map[string]string{"text": "x", "data": "[1]"}, nil, nil, "", http.StatusUnprocessableEntity, []string{"/data"}},
		{"plain text", nil, nil, []byte("Anbei."), "text/plain", http.StatusUnsupportedMediaType, nil},
		{"JSON naming a document never uploaded", nil, nil,
			[]byte(`{"text":"Anbei.","attachments":[{"name":"x.pdf","sha256":"` + strings.Repeat("ab", 32) + `"}]}`),
			"application/json", http.StatusUnprocessableEntity, []string{"/attachments/0/sha256"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, contentType := tt.raw, tt.rawType
			if body == nil {
				body, contentType = Multipart(t, tt.fields, tt.files...)
			}
			res := st.api(t, http.MethodPost, path, s.Token, body, "Content-Type", contentType)
			if res.Status != tt.want {
				t.Fatalf("got %d, want %d: %s", res.Status, tt.want, res.Body)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type %q", ct)
			}
			var p struct {
				Errors []struct{ Pointer string } `json:"errors"`
			}
			_ = json.Unmarshal(res.Body, &p)
			var got []string
			for _, e := range p.Errors {
				got = append(got, e.Pointer)
			}
			if tt.pointers != nil && strings.Join(got, " ") != strings.Join(tt.pointers, " ") {
				t.Errorf("pointers %v, want %v: %s", got, tt.pointers, res.Body)
			}
		})
	}
	if c := st.caseOf(t, s.ID, s.Token); c["status"] != "information_requested" {
		t.Fatalf("a refused upload changed the case: %v", c["status"])
	}

	body, contentType := Multipart(t, map[string]string{"text": "Die Meldebescheinigung und ein Foto liegen bei."},
		File{`C:\Scans\Meldebescheinigung <neu>.pdf`, pdf}, File{"foto.exe", samplePNG})
	res := st.api(t, http.MethodPost, path, s.Token, body, "Content-Type", contentType)
	if res.Status != http.StatusOK {
		t.Fatalf("answer with documents: %d %s", res.Status, res.Body)
	}
	sum := sha256.Sum256(pdf)
	want := []map[string]any{
		{"name": "Meldebescheinigung _neu_.pdf", "contentType": "application/pdf", "size": float64(len(pdf)), "sha256": hex.EncodeToString(sum[:])},
		{"name": "foto.exe.png", "contentType": "image/png", "size": float64(len(samplePNG))},
	}
	c := st.waitStatus(t, s, "in_review")
	req := c["informationRequests"].([]any)[0].(map[string]any)
	atts, _ := req["attachments"].([]any)
	if req["answer"] != "Die Meldebescheinigung und ein Foto liegen bei." || len(atts) != 2 {
		t.Fatalf("answer recorded: %v", req)
	}
	for i, w := range want {
		a := atts[i].(map[string]any)
		for k, v := range w {
			if a[k] != v {
				t.Errorf("attachment %d %s = %v, want %v", i, k, a[k], v)
			}
		}
		if len(a["sha256"].(string)) != 64 {
			t.Errorf("attachment %d without hash: %v", i, a)
		}
	}
	// The case worker sees the same documents on the case.
	staff := st.caseOf(t, s.ID, "dev-sb-leipzig")
	if got := staff["informationRequests"].([]any)[0].(map[string]any)["attachments"]; len(got.([]any)) != 2 {
		t.Errorf("the case worker sees attachments %v", got)
	}
}

func mailboxReadUnreadAndPaging(t *testing.T, st *Stack) {
	account := "amt24-" + uuid.NewString()[:8]
	var cases []Submitted
	for range 2 {
		app := hundesteuer(leipzig)
		app["applicant"].(map[string]any)["portalAccount"] = account
		cases = append(cases, st.submit(t, app))
	}
	for _, s := range cases {
		st.waitStatus(t, s, "approved")
	}
	path := "/api/v1/accounts/" + account + "/notices"
	var box map[string]any
	waitFor(t, "six notices in the mailbox", 20*time.Second, func() bool {
		box = st.api(t, http.MethodGet, path, "dev-portal", nil).JSON(t)
		return box["total"] == 6.0
	})
	if box["unread"] != 6.0 {
		t.Errorf("unread = %v, want 6", box["unread"])
	}

	first := st.api(t, http.MethodGet, path+"?limit=4", "dev-portal", nil).JSON(t)
	second := st.api(t, http.MethodGet, path+"?limit=4&offset=4", "dev-portal", nil).JSON(t)
	notices := append(first["notices"].([]any), second["notices"].([]any)...)
	if len(first["notices"].([]any)) != 4 || len(second["notices"].([]any)) != 2 || first["limit"] != 4.0 || second["offset"] != 4.0 {
		t.Fatalf("pages of 4: %v / %v", first, second)
	}
	seen, ofCase := map[string]bool{}, map[string]int{}
	var last time.Time
	for i, x := range notices {
		n := x.(map[string]any)
		at, _ := time.Parse(time.RFC3339Nano, n["at"].(string))
		// The mailbox orders by the millisecond; within one, any order.
		at = at.Truncate(time.Millisecond)
		if i > 0 && at.After(last) {
			t.Errorf("notice %d (%v) is newer than the one before", i, n["at"])
		}
		last = at
		if seen[n["id"].(string)] || n["read"] != false {
			t.Errorf("notice %v repeated or read", n)
		}
		seen[n["id"].(string)] = true
		ofCase[n["caseId"].(string)]++
		if n["easy"] == "" || n["easy"] == nil {
			t.Errorf("notice %s without easy-to-read text", n["id"])
		}
	}
	if ofCase[cases[0].ID] != 3 || ofCase[cases[1].ID] != 3 {
		t.Errorf("notices per case %v, want 3 of each", ofCase)
	}

	newest := notices[0].(map[string]any)["id"].(string)
	for range 2 { // marking twice changes nothing
		res := st.api(t, http.MethodPost, path+"/"+newest+"/read", "dev-portal", nil)
		if res.Status != http.StatusOK || res.JSON(t)["unread"] != 5.0 {
			t.Fatalf("mark read: %d %s", res.Status, res.Body)
		}
	}
	box = st.api(t, http.MethodGet, path+"?limit=1", "dev-portal", nil).JSON(t)
	if n := box["notices"].([]any)[0].(map[string]any); n["id"] != newest || n["read"] != true || box["unread"] != 5.0 || box["total"] != 6.0 {
		t.Errorf("after reading the newest: %v", box)
	}

	tests := []struct {
		name, method, path, token string
		want                      int
	}{
		{"a notice of no case", http.MethodPost, path + "/nichts-1/read", "dev-portal", http.StatusNotFound},
		{"a notice of another account", http.MethodPost, "/api/v1/accounts/amt24-someone-else/notices/" + newest + "/read", "dev-portal", http.StatusNotFound},
		{"a case worker may not mark", http.MethodPost, path + "/" + newest + "/read", "dev-sb-leipzig", http.StatusForbidden},
		{"an applicant's access token opens no mailbox", http.MethodGet, path, cases[0].Token, http.StatusUnauthorized},
		{"no token", http.MethodGet, path, "", http.StatusUnauthorized},
		{"a limit of 0", http.MethodGet, path + "?limit=0", "dev-portal", http.StatusBadRequest},
		{"a negative offset", http.MethodGet, path + "?offset=-1", "dev-portal", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if res := st.api(t, tt.method, tt.path, tt.token, nil); res.Status != tt.want {
				t.Errorf("got %d, want %d: %s", res.Status, tt.want, res.Body)
			}
		})
	}
}

// page is an HTTP client for the applicant's pages: it keeps cookies by hand
// and does not follow redirects, so that both can be checked.
type page struct {
	t       *testing.T
	base    string
	cookies map[string]string
	lang    string
}

type pageResponse struct {
	Status   int
	Header   http.Header
	Body     string
	Location string
}

func (p *page) do(method, path string, body io.Reader, contentType string) pageResponse {
	p.t.Helper()
	return p.send(method, path, body, contentType, nil)
}

// send is do with further headers, such as those a browser sets on a
// request from another site.
func (p *page) send(method, path string, body io.Reader, contentType string, header map[string]string) pageResponse {
	p.t.Helper()
	req, err := http.NewRequest(method, p.base+path, body)
	if err != nil {
		p.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if p.lang != "" {
		req.Header.Set("Accept-Language", p.lang)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	for k, v := range p.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	res, err := noRedirect.Do(forTest(req, p.t))
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 {
			delete(p.cookies, c.Name)
		} else {
			p.cookies[c.Name] = c.Value
		}
	}
	return pageResponse{Status: res.StatusCode, Header: res.Header, Body: string(b), Location: res.Header.Get("Location")}
}

func (p *page) get(path string) pageResponse {
	p.t.Helper()
	return p.do(http.MethodGet, path, nil, "")
}

func (p *page) post(path string, form url.Values) pageResponse {
	p.t.Helper()
	return p.do(http.MethodPost, path, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func statusPagesWithTokenAndCookie(t *testing.T, st *Stack) {
	s := st.submit(t, gewerbeanmeldung(leipzig, "amt24-anna"))
	other := st.submit(t, hundesteuer(leipzig))
	status := "/antraege/" + s.ID
	p := &page{t: t, base: st.URL, cookies: map[string]string{}}

	res := p.get(status + "?token=" + url.QueryEscape(s.Token))
	if res.Status != http.StatusSeeOther || res.Location != status || p.cookies["ozgflow_antrag"] != s.Token {
		t.Fatalf("opening with the token: %d to %q, cookies %v", res.Status, res.Location, p.cookies)
	}
	setCookie := strings.Join(res.Header.Values("Set-Cookie"), "\n")
	for _, want := range []string{"ozgflow_antrag=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(setCookie, want) {
			t.Errorf("Set-Cookie lacks %s: %s", want, setCookie)
		}
	}
	res = p.get(status)
	for _, want := range []string{`<html lang="de">`, "Ihr Antrag: Gewerbeanmeldung", "Bitte bezahlen Sie die Gebühr von 26,00 EUR",
		"Gebühr jetzt bezahlen", s.PaymentURL, "Antrag zurückziehen"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	if res.Status != http.StatusOK || strings.Contains(res.Body, s.Token) || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("status page: %d, cache %q, token shown: %v", res.Status, res.Header.Get("Cache-Control"), strings.Contains(res.Body, s.Token))
	}

	// English by the browser's preference, and by the switch.
	p.lang = "en-GB,en;q=0.9"
	if res := p.get(status); !strings.Contains(res.Body, `<html lang="en">`) || !strings.Contains(res.Body, "Pay the fee now") {
		t.Errorf("English by Accept-Language:\n%s", res.Body)
	}
	p.lang = ""
	if res := p.get(status + "?lang=en"); res.Status != http.StatusSeeOther || res.Location != status || p.cookies["ozgflow_lang"] != "en" {
		t.Errorf("language switch: %d %q %v", res.Status, res.Location, p.cookies)
	}
	if res := p.get(status); !strings.Contains(res.Body, "Your application is waiting for the fee to be paid.") {
		t.Errorf("English by the switch:\n%s", res.Body)
	}
	p.get(status + "?lang=de")

	// The live updates: an event when the case changes.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, st.URL+status+"/ereignisse", nil)
	req.AddCookie(&http.Cookie{Name: "ozgflow_antrag", Value: s.Token})
	stream, err := suiteClient.Do(forTest(req, t))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if stream.StatusCode != http.StatusOK || !strings.HasPrefix(stream.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("events: %d %s", stream.StatusCode, stream.Header.Get("Content-Type"))
	}
	lines := bufio.NewScanner(stream.Body)
	lines.Scan() // the stream is open once its first line arrived
	pay(t, s.PaymentURL, "pay")
	got := ""
	for got == "" && lines.Scan() {
		if strings.HasPrefix(lines.Text(), "data: ") {
			got = strings.TrimPrefix(lines.Text(), "data: ")
		}
	}
	if got != s.ID {
		t.Errorf("event data %q, want the case ID", got)
	}
	cancel()

	// Without the cookie, with another case's token, with no case number.
	anonymous := &page{t: t, base: st.URL, cookies: map[string]string{}}
	for _, tt := range []struct {
		name string
		p    *page
		path string
		want int
		text string
	}{
		{"no token", anonymous, status, http.StatusForbidden, "Kein Zugang zu diesem Antrag"},
		{"a wrong token", anonymous, status + "?token=at_falsch", http.StatusForbidden, "Kein Zugang"},
		{"another case", p, "/antraege/" + other.ID, http.StatusForbidden, "Kein Zugang"},
		{"no case number", anonymous, "/antraege/12345", http.StatusNotFound, "Antrag nicht gefunden"},
		{"events without the token", anonymous, status + "/ereignisse", http.StatusForbidden, "Kein Zugang"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.p.get(tt.path)
			if res.Status != tt.want || !strings.Contains(res.Body, tt.text) || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				t.Errorf("got %d %s, want %d with %q:\n%s", res.Status, res.Header.Get("Content-Type"), tt.want, tt.text, res.Body)
			}
		})
	}

	// Withdrawal through the confirmation page; a form without its CSRF
	// token is refused.
	waitFor(t, "the paid case to move on", 20*time.Second, func() bool {
		c := st.caseOf(t, s.ID, s.Token)
		return c["status"] == "forwarded" || c["status"] == "in_review"
	})
	confirm := p.get(status + "/zurueckziehen")
	m := csrfField.FindStringSubmatch(confirm.Body)
	if confirm.Status != http.StatusOK || m == nil || !strings.Contains(confirm.Body, "wird Ihnen erstattet") {
		t.Fatalf("confirmation page: %d\n%s", confirm.Status, confirm.Body)
	}
	if res := p.post(status+"/zurueckziehen", url.Values{"reason": {"Versehen"}}); res.Status != http.StatusForbidden {
		t.Errorf("withdrawal without CSRF token: %d", res.Status)
	}
	if res := anonymous.post(status+"/zurueckziehen", url.Values{"csrf": {m[1]}}); res.Status != http.StatusForbidden {
		t.Errorf("withdrawal without the cookie: %d", res.Status)
	}
	res = p.post(status+"/zurueckziehen", url.Values{"csrf": {m[1]}, "reason": {"Doch kein Café."}})
	if res.Status != http.StatusSeeOther || res.Location != status+"?hinweis=zurueckgezogen" {
		t.Fatalf("withdraw: %d %q %s", res.Status, res.Location, res.Body)
	}
	res = p.get(res.Location)
	for _, want := range []string{"Sie haben Ihren Antrag zurückgezogen.", "Sie haben Ihre Gewerbeanmeldung zurückgezogen. Die bezahlte Gebühr von 26,00 EUR wird erstattet."} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("after withdrawing the page lacks %q", want)
		}
	}
	if c := st.caseOf(t, s.ID, s.Token); c["status"] != "withdrawn" {
		t.Errorf("case status %v after withdrawing on the page", c["status"])
	}
	if res := p.get(status + "/zurueckziehen"); res.Status != http.StatusConflict || !strings.Contains(res.Body, "kann nicht mehr zurückgezogen werden") {
		t.Errorf("confirmation page of a withdrawn case: %d", res.Status)
	}
}
