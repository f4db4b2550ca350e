package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// SubmitWithDocuments posts an application with its documents as
// multipart/form-data, as the demo portal, and expects 201.
func (st *Stack) SubmitWithDocuments(t *testing.T, body map[string]any, files ...File) Submitted {
	t.Helper()
	payload, contentType := submitMultipart(t, body, files...)
	res := st.api(t, http.MethodPost, "/api/v1/applications", "dev-portal", payload, "Content-Type", contentType)
	if res.Status != http.StatusCreated {
		t.Fatalf("submit with documents: %d %s", res.Status, res.Body)
	}
	m := res.JSON(t)
	s := Submitted{ID: m["id"].(string), Token: m["accessToken"].(string), Body: m}
	if p, ok := m["payment"].(map[string]any); ok {
		s.PaymentURL, _ = p["redirectUrl"].(string)
	}
	return s
}

// submitMultipart builds a multipart application: the JSON in the part
// "application", the files in parts "files".
func submitMultipart(t *testing.T, body map[string]any, files ...File) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	app, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := mw.WriteField("application", string(app)); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		w, err := mw.CreateFormFile("files", f.Name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(f.Data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// documentsWithTheApplication: a portal submits an application with its
// documents; the applicant and the case worker open them, nobody else
// does, and bad documents leave no case behind.
func documentsWithTheApplication(t *testing.T, st *Stack) {
	pdf := SamplePDF("Gewerbeanmeldung Anlage Handelsregister")
	body := gewerbeanmeldung(leipzig, "amt24-docs")
	body["attachments"] = []map[string]any{{"name": "Handelsregisterauszug.pdf", "sha256": sha256Hex(pdf)}}
	s := st.SubmitWithDocuments(t, body, File{"hr.pdf", pdf}, File{"foto.png", samplePNG})
	// The applicant's status page links both documents, under the names
	// the application gave.
	applicant := &page{t: t, base: st.URL, cookies: map[string]string{}}
	applicant.get("/antraege/" + s.ID + "?token=" + url.QueryEscape(s.Token))
	status := applicant.get("/antraege/" + s.ID)
	for _, name := range []string{"Handelsregisterauszug.pdf", "foto.png", "/documents/" + sha256Hex(pdf)} {
		if !strings.Contains(status.Body, name) {
			t.Errorf("status page without %q", name)
		}
	}
	list := st.api(t, http.MethodGet, "/api/v1/applications/"+s.ID+"/documents", s.Token, nil)
	if list.Status != http.StatusOK {
		t.Fatalf("list documents: %d %s", list.Status, list.Body)
	}
	docs, _ := list.JSON(t)["documents"].([]any)
	if len(docs) != 2 {
		t.Fatalf("documents %s", list.Body)
	}
	pay(t, s.PaymentURL, "pay")
	st.openTask(t, s.ID, "dev-sb-leipzig", "gewerbe")
	for _, who := range []string{s.Token, "dev-sb-leipzig", "dev-admin"} {
		res := st.api(t, http.MethodGet, "/api/v1/applications/"+s.ID+"/documents/"+sha256Hex(pdf), who, nil)
		if res.Status != http.StatusOK || !bytes.Equal(res.Body, pdf) {
			t.Errorf("download: %d, %d bytes", res.Status, len(res.Body))
			continue
		}
		if ct, cd := res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"); ct != "application/pdf" ||
			!strings.HasPrefix(cd, "inline") || res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("download headers %q %q", ct, cd)
		}
	}
	for _, who := range []string{"dev-sb-dresden", "dev-portal"} {
		if res := st.api(t, http.MethodGet, "/api/v1/applications/"+s.ID+"/documents/"+sha256Hex(pdf), who, nil); res.Status != http.StatusNotFound && res.Status != http.StatusForbidden {
			t.Errorf("%s downloads another authority's document: %d", who, res.Status)
		}
	}
	if res := st.api(t, http.MethodGet, "/api/v1/applications/"+s.ID+"/documents/"+strings.Repeat("0", 64), s.Token, nil); res.Status != http.StatusNotFound {
		t.Errorf("a document the case does not hold: %d", res.Status)
	}

	// A document of the wrong type refuses the whole application.
	before := st.countCases(t)
	payload, contentType := submitMultipart(t, gewerbeanmeldung(leipzig, "amt24-docs"), File{"x.pdf", []byte("kein PDF")})
	res := st.api(t, http.MethodPost, "/api/v1/applications", "dev-portal", payload, "Content-Type", contentType)
	if res.Status != http.StatusUnsupportedMediaType || !strings.Contains(string(res.Body), "/files/0") {
		t.Errorf("wrong type: %d %s", res.Status, res.Body)
	}
	payload, contentType = Multipart(t, map[string]string{"text": "nur Text"})
	if res := st.api(t, http.MethodPost, "/api/v1/applications", "dev-portal", payload, "Content-Type", contentType); res.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(string(res.Body), "/application") {
		t.Errorf("without the application part: %d %s", res.Status, res.Body)
	}
	if after := st.countCases(t); after != before {
		t.Errorf("refused applications started %d cases", after-before)
	}
}
