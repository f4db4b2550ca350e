package gateway

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/locale"
)

// uploadPart is one part of a test multipart body.
type uploadPart struct {
	field, filename string
	data            []byte
}

func multipartBody(t *testing.T, parts ...uploadPart) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.filename != "" || p.field == "files" {
			h.Set("Content-Disposition", `form-data; name="`+p.field+`"; filename="`+p.filename+`"`)
			h.Set("Content-Type", "application/octet-stream")
		} else {
			h.Set("Content-Disposition", `form-data; name="`+p.field+`"`)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p.data)
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

var (
	testPDF = []byte("%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n")
	testPNG = append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 32)...)
)

// citizenServer is a server with a case projected into Redis, as the
// applicant's pages read it.
func citizenServer(t *testing.T, c ozgflow.Case) (*Server, string) {
	t.Helper()
	s, st := storeServer(t)
	if err := st.SaveCase(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return s, s.tokens.Issue(c.ID)
}

func citizenGet(s *Server, target string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, r)
	return rec
}

func testCase(status ozgflow.Status) ozgflow.Case {
	at := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	return ozgflow.Case{ID: uuid.NewString(), Revision: 5, Service: "99050035001000", ServiceName: "Gewerbeanmeldung",
		Authority: "147130000000", Status: status, SubmittedAt: at, PortalAccount: "amt24-anna",
		Payment: &ozgflow.Payment{ID: "p1", Amount: 2000, Currency: "EUR", Status: ozgflow.PaymentInitial,
			RedirectURL: "https://pay.example/p1", DeadlineAt: at.Add(72 * time.Hour)},
		Timeline: []ozgflow.Notice{{ID: "n1", Title: "Bitte Gebühr bezahlen", Text: "Bitte bezahlen Sie die Gebühr.",
			Easy: "Sie müssen Geld bezahlen.", At: at}}}
}

func TestStatusPageTokenCookieAndAccess(t *testing.T) {
	c := testCase(ozgflow.StatusAwaitingPayment)
	s, token := citizenServer(t, c)
	page := "/antraege/" + c.ID

	rec := citizenGet(s, page+"?token="+url.QueryEscape(token)+"&lang=en")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != page {
		t.Fatalf("opening with the token: %d to %q, want 303 to %s", rec.Code, rec.Header().Get("Location"), page)
	}
	cookies := map[string]*http.Cookie{}
	for _, ck := range rec.Result().Cookies() {
		cookies[ck.Name] = ck
	}
	if ck := cookies[web.ApplicantCookie]; ck == nil || ck.Value != token || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
		t.Errorf("token cookie = %+v", ck)
	}
	if ck := cookies[locale.CookieName]; ck == nil || ck.Value != "en" {
		t.Errorf("language cookie = %+v", ck)
	}

	rec = citizenGet(s, page, cookies[web.ApplicantCookie], cookies[locale.CookieName])
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.Contains(body, `<html lang="en">`) ||
		!strings.Contains(body, "Your application is waiting for the fee to be paid.") ||
		!strings.Contains(body, "EUR 20.00") || !strings.Contains(body, `href="https://pay.example/p1"`) {
		t.Errorf("status page in English: %d\n%s", rec.Code, body)
	}
	rec = citizenGet(s, page, cookies[web.ApplicantCookie])
	if body := rec.Body.String(); !strings.Contains(body, `<html lang="de">`) || !strings.Contains(body, "Bitte bezahlen Sie die Gebühr von 20,00 EUR bis 23.11.2026, 10:30 Uhr.") {
		t.Errorf("status page in German:\n%s", body)
	}

	other := testCase(ozgflow.StatusReceived)
	tests := []struct {
		name    string
		target  string
		cookies []*http.Cookie
		want    int
		text    string
	}{
		{"no token", page, nil, http.StatusForbidden, "Kein Zugang zu diesem Antrag"},
		{"a wrong token in the address", page + "?token=at_falsch", nil, http.StatusForbidden, "Kein Zugang"},
		{"the token of another case", "/antraege/" + other.ID, []*http.Cookie{cookies[web.ApplicantCookie]}, http.StatusForbidden, "Kein Zugang"},
		{"no case number", "/antraege/nichts", nil, http.StatusNotFound, "Antrag nicht gefunden"},
		{"a case that does not exist", "/antraege/" + other.ID + "?token=" + s.tokens.Issue(other.ID), nil, http.StatusSeeOther, ""},
		{"the events of another case", "/antraege/" + other.ID + "/ereignisse", []*http.Cookie{cookies[web.ApplicantCookie]}, http.StatusForbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := citizenGet(s, tt.target, tt.cookies...)
			if rec.Code != tt.want || !strings.Contains(rec.Body.String(), tt.text) {
				t.Errorf("got %d, want %d with %q:\n%s", rec.Code, tt.want, tt.text, rec.Body.String())
			}
			if rec.Code == http.StatusForbidden && !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
				t.Errorf("content type %q, want a page", rec.Header().Get("Content-Type"))
			}
		})
	}
}

func TestStatusPageStates(t *testing.T) {
	asked := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		edit  func(c *ozgflow.Case)
		want  []string
		avoid []string
	}{
		{"awaiting payment", func(c *ozgflow.Case) {}, []string{"Gebühr jetzt bezahlen", "Zu bezahlen bis", "Antrag zurückziehen"}, []string{"Zahlung erneut versuchen"}},
		{"failed payment", func(c *ozgflow.Case) { c.Payment.Status = ozgflow.PaymentFailed },
			[]string{"Zahlung erneut versuchen", `action="/antraege/`, `name="csrf"`}, []string{"Gebühr jetzt bezahlen"}},
		{"awaiting signature", func(c *ozgflow.Case) {
			c.Status, c.Payment = ozgflow.StatusAwaitingSignature, nil
			c.Signing = &ozgflow.Signing{ID: "s1", Status: ozgflow.SignaturePending, RedirectURL: "https://sign.example/s1"}
		}, []string{"Antrag jetzt unterschreiben", `href="https://sign.example/s1"`}, nil},
		{"information requested", func(c *ozgflow.Case) {
			c.Status = ozgflow.StatusInformationRequested
			c.Payment.Status, c.Payment.PaidAt = ozgflow.PaymentPayed, asked
			c.Seal = &ozgflow.Seal{JWS: "a.b.c", SealedAt: asked}
			c.Requests = []ozgflow.InformationRequest{{Question: "Bitte den Handelsregisterauszug nachreichen.",
				Fields: []string{"handelsregisterauszug"}, AskedAt: asked, DueAt: asked.Add(14 * 24 * time.Hour)}}
		}, []string{"Bitte den Handelsregisterauszug nachreichen.", "Bitte beantworten Sie die Frage der Behörde bis 05.12.2026, 09:00 Uhr.",
			`enctype="multipart/form-data"`, `<label for="answer-files">`, `/receipt.pdf"`, "ist am 21.11.2026, 09:00 Uhr bezahlt worden"}, []string{"token="}},
		{"approved", func(c *ozgflow.Case) {
			c.Status = ozgflow.StatusApproved
			c.Decision = &ozgflow.Decision{Outcome: ozgflow.OutcomeApprove, By: "sb-leipzig", Comment: "Alles in Ordnung.", At: asked}
			c.CaseNumber = "GEW-2026-000042"
		}, []string{"Ihre Gewerbeanmeldung ist bestätigt.", ">Bestätigt<", "Alles in Ordnung.", `id="case-number">GEW-2026-000042<`},
			[]string{"sb-leipzig", "Antrag zurückziehen", "bewilligt", "Bewilligt", "Rechtsbehelfsbelehrung"}},
		{"rejected", func(c *ozgflow.Case) {
			c.Status = ozgflow.StatusRejected
			c.Decision = &ozgflow.Decision{Outcome: ozgflow.OutcomeReject, By: "sb-leipzig", Comment: "Keine Erlaubnis.", At: asked}
			c.Timeline = append(c.Timeline, ozgflow.Notice{ID: "n2", Title: "Gewerbeanmeldung abgelehnt",
				Text: "Ihre Gewerbeanmeldung wurde abgelehnt.\n\nIhre Ansprechstelle:\nOrdnungsamt Leipzig\nTelefon: 0341 123-0", At: asked})
		}, []string{"Ihre Gewerbeanmeldung wurde abgelehnt.", ">Abgelehnt<", "Keine Erlaubnis.", "Rechtsbehelfsbelehrung",
			"innerhalb eines Monats nach seiner Bekanntgabe Widerspruch", "Ihre Ansprechstelle", "Ordnungsamt Leipzig<br>Prager Straße 118–136, 04317 Leipzig",
			"Telefon: 0341 123-0", "<p>Ihre Ansprechstelle:<br>Ordnungsamt Leipzig<br>Telefon: 0341 123-0</p>",
			// Without a case number the ID is the number.
			`id="case-number">`}, []string{"Antrag zurückziehen"}},
		{"withdrawn with refund", func(c *ozgflow.Case) {
			c.Status = ozgflow.StatusWithdrawn
			c.Payment.Status, c.Payment.Refund = ozgflow.PaymentPayed, ozgflow.RefundPending
		}, []string{"Sie haben Ihren Antrag zurückgezogen.", "Die bezahlte Gebühr von 20,00 EUR wird Ihnen erstattet."}, []string{"Antrag zurückziehen<"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testCase(ozgflow.StatusAwaitingPayment)
			tt.edit(&c)
			s, token := citizenServer(t, c)
			rec := citizenGet(s, "/antraege/"+c.ID, &http.Cookie{Name: web.ApplicantCookie, Value: token})
			body := rec.Body.String()
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d:\n%s", rec.Code, body)
			}
			for _, want := range tt.want {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			for _, avoid := range tt.avoid {
				if strings.Contains(body, avoid) {
					t.Errorf("page shows %q", avoid)
				}
			}
			if t.Failed() {
				t.Log(body)
			}
		})
	}
}

func TestStatusPageEasyViewAndFragment(t *testing.T) {
	c := testCase(ozgflow.StatusAwaitingPayment)
	s, token := citizenServer(t, c)
	session := &http.Cookie{Name: web.ApplicantCookie, Value: token}
	rec := citizenGet(s, "/antraege/"+c.ID+"?ansicht=einfach", session)
	var easy *http.Cookie
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == "ozgflow_ansicht" {
			easy = ck
		}
	}
	if rec.Code != http.StatusSeeOther || easy == nil || easy.Value != "einfach" {
		t.Fatalf("switching to easy-to-read: %d %+v", rec.Code, easy)
	}
	body := citizenGet(s, "/antraege/"+c.ID, session, easy).Body.String()
	for _, want := range []string{"Sie müssen Geld bezahlen.", "Sie müssen noch Geld bezahlen. Das Geld heißt Gebühr.", "Standard-Sprache"} {
		if !strings.Contains(body, want) {
			t.Errorf("the easy-to-read page lacks %q", want)
		}
	}
	fragment := citizenGet(s, "/antraege/"+c.ID+"?fragment=status", session)
	if fb := fragment.Body.String(); fragment.Code != http.StatusOK || strings.Contains(fb, "<html") ||
		!strings.Contains(fb, `data-revision="5"`) || !strings.Contains(fb, "Bitte bezahlen Sie die Gebühr.") {
		t.Errorf("fragment: %d\n%s", fragment.Code, fb)
	}
}

// TestEasyViewOfARejection: in the easy view the decision, the
// Rechtsbehelfsbelehrung and the notices speak easy-to-read German; no
// sentence of the page stays in standard language.
func TestEasyViewOfARejection(t *testing.T) {
	c := testCase(ozgflow.StatusRejected)
	c.Payment.Status, c.Payment.Refund = ozgflow.PaymentPayed, ""
	c.CaseNumber = "GEW-2026-000007"
	c.Decision = &ozgflow.Decision{Outcome: ozgflow.OutcomeReject, By: "sb", At: c.SubmittedAt}
	c.Timeline = append(c.Timeline, ozgflow.Notice{ID: "n2", Title: "Gewerbeanmeldung abgelehnt",
		Text: "Ihre Gewerbeanmeldung wurde abgelehnt.", Easy: "Das Amt hat Ihren Antrag abgelehnt.\n\nHier bekommen Sie Hilfe:\nOrdnungsamt Leipzig", At: c.SubmittedAt})
	s, token := citizenServer(t, c)
	body := citizenGet(s, "/antraege/"+c.ID, &http.Cookie{Name: web.ApplicantCookie, Value: token},
		&http.Cookie{Name: "ozgflow_ansicht", Value: "einfach"}).Body.String()
	for _, want := range []string{"Das Amt hat Ihren Antrag abgelehnt. Ihr Gewerbe ist nicht angemeldet.", "So können Sie sich wehren",
		"Dann können Sie Widerspruch einlegen.", "Hier bekommen Sie Hilfe", "Ordnungsamt Leipzig", "Nachrichten vom Amt",
		"Das Amt hat entschieden.", "Hier sehen Sie, wie es mit Ihrem Antrag steht.", "GEW-2026-000007"} {
		if !strings.Contains(body, want) {
			t.Errorf("the easy view lacks %q", want)
		}
	}
	for _, avoid := range []string{"Rechtsbehelfsbelehrung", "Gegen diesen Bescheid", "Ihre Gewerbeanmeldung wurde abgelehnt.",
		"Diese Seiten zeigen den Stand Ihres Antrags"} {
		if strings.Contains(body, avoid) {
			t.Errorf("the easy view says %q", avoid)
		}
	}
}

func TestCitizenFormsCheckCSRF(t *testing.T) {
	c := testCase(ozgflow.StatusAwaitingPayment)
	c.Payment.Status = ozgflow.PaymentFailed
	s, token := citizenServer(t, c)
	session := &http.Cookie{Name: web.ApplicantCookie, Value: token}
	for _, target := range []string{"/zahlung", "/zurueckziehen"} {
		r := httptest.NewRequest(http.MethodPost, "/antraege/"+c.ID+target, strings.NewReader("csrf=falsch"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(session)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, r)
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "Das Formular ist abgelaufen") {
			t.Errorf("%s without a valid CSRF token: %d", target, rec.Code)
		}
	}
	body, contentType := multipartBody(t, uploadPart{"csrf", "", []byte("falsch")}, uploadPart{"text", "", []byte("Antwort")})
	r := httptest.NewRequest(http.MethodPost, "/antraege/"+c.ID+"/antwort", body)
	r.Header.Set("Content-Type", contentType)
	r.AddCookie(session)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, r)
	if rec.Code != http.StatusForbidden {
		t.Errorf("answer without a valid CSRF token: %d", rec.Code)
	}
}

func TestWithdrawConfirmationPage(t *testing.T) {
	c := testCase(ozgflow.StatusInReview)
	c.Payment.Status = ozgflow.PaymentPayed
	s, token := citizenServer(t, c)
	rec := citizenGet(s, "/antraege/"+c.ID+"/zurueckziehen", &http.Cookie{Name: web.ApplicantCookie, Value: token})
	body := rec.Body.String()
	for _, want := range []string{"Antrag zurückziehen?", "bearbeitet die Behörde ihn nicht weiter",
		"Die bereits bezahlte Gebühr von 20,00 EUR wird Ihnen erstattet.", "Ja, Antrag zurückziehen", `name="csrf" value="` + formToken("citizen csrf", token)} {
		if !strings.Contains(body, want) {
			t.Errorf("confirmation lacks %q", want)
		}
	}
	if rec.Code != http.StatusOK || t.Failed() {
		t.Fatalf("%d\n%s", rec.Code, body)
	}
}

// TestCatalogNoticesHaveEasyToReadTexts keeps every notice of the shipped
// services (the load-test services aside) readable in Leichte Sprache.
func TestCatalogNoticesHaveEasyToReadTexts(t *testing.T) {
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	data := definitions.NoticeData{CaseID: "c-1", Amount: "20,00 EUR", Deadline: "24.11.2026 18:00",
		Question: "Bitte den Auszug nachreichen.", Comment: "Hinweis.", Refund: "20,00 EUR"}
	checked := 0
	for _, def := range reg.Published() {
		if strings.HasPrefix(def.ID, "lasttest") {
			continue
		}
		for key, tmpl := range def.Notices {
			easy, err := tmpl.RenderEasy(data)
			if err != nil || easy == "" {
				t.Errorf("%s: notice %s has no easy-to-read text (%v)", def.ID, key, err)
			}
			for _, sentence := range strings.FieldsFunc(easy, func(r rune) bool { return r == '.' || r == '!' || r == '?' }) {
				if words := len(strings.Fields(sentence)); words > 15 {
					t.Errorf("%s: notice %s has a sentence of %d words: %q", def.ID, key, words, sentence)
				}
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no notice checked")
	}
}

func TestVerifyPage(t *testing.T) {
	s := newTestServer(t)
	rec := citizenGet(s, "/pruefen")
	var visitor *http.Cookie
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == "ozgflow_pruefen" {
			visitor = ck
		}
	}
	body := rec.Body.String()
	if rec.Code != http.StatusOK || visitor == nil || !strings.Contains(body, `enctype="multipart/form-data"`) ||
		!strings.Contains(body, `<label for="verify-file">`) {
		t.Fatalf("GET /pruefen: %d, cookie %+v\n%s", rec.Code, visitor, body)
	}
	csrf := formToken("verify csrf", visitor.Value)
	post := func(cookie *http.Cookie, parts ...uploadPart) *httptest.ResponseRecorder {
		b, contentType := multipartBody(t, parts...)
		r := httptest.NewRequest(http.MethodPost, "/pruefen", b)
		r.Header.Set("Content-Type", contentType)
		if cookie != nil {
			r.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, r)
		return rec
	}
	tests := []struct {
		name   string
		cookie *http.Cookie
		parts  []uploadPart
		want   int
		text   string
	}{
		{"without the visitor's cookie", nil, []uploadPart{{"csrf", "", []byte(csrf)}, {"text", "", []byte("x")}}, http.StatusForbidden, "Das Formular ist abgelaufen"},
		{"with a wrong token", visitor, []uploadPart{{"csrf", "", []byte("falsch")}, {"text", "", []byte("x")}}, http.StatusForbidden, "Das Formular ist abgelaufen"},
		{"nothing to check", visitor, []uploadPart{{"csrf", "", []byte(csrf)}, {"text", "", []byte("  ")}}, http.StatusUnprocessableEntity,
			"Bitte fügen Sie den Text ein oder wählen Sie die PDF-Datei aus."},
		{"a file too large", visitor, []uploadPart{{"csrf", "", []byte(csrf)}, {"file", "gross.pdf", make([]byte, 5_000_001)}},
			http.StatusRequestEntityTooLarge, "Die Datei ist zu groß. Sie darf höchstens 5 MB groß sein."},
		{"text that holds no seal", visitor, []uploadPart{{"csrf", "", []byte(csrf)}, {"text", "", []byte("Eingangsbestätigung Nr. 42")}},
			http.StatusOK, `data-verdict="unknown"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := post(tt.cookie, tt.parts...)
			if rec.Code != tt.want || !strings.Contains(rec.Body.String(), tt.text) {
				t.Errorf("got %d, want %d with %q:\n%s", rec.Code, tt.want, tt.text, rec.Body.String())
			}
		})
	}
}

func TestSanitizeFileName(t *testing.T) {
	tests := []struct {
		name, in, contentType, want string
	}{
		{"plain", "Meldebescheinigung.pdf", "application/pdf", "Meldebescheinigung.pdf"},
		{"umlauts stay, the extension in lower case", "Gewerbeauszug März.PDF", "application/pdf", "Gewerbeauszug März.pdf"},
		{"Windows path", `C:\Users\anna\scan 1.png`, "image/png", "scan 1.png"},
		{"Unix path", "../../etc/passwd", "application/pdf", "passwd.pdf"},
		{"wrong extension", "foto.exe", "image/jpeg", "foto.exe.jpg"},
		{"jpeg extension", "foto.jpeg", "image/jpeg", "foto.jpeg"},
		{"control characters and markup", "a\x00b\u202e<script>.pdf", "application/pdf", "ab_script_.pdf"},
		{"nothing left", "...", "image/png", "dokument-3.png"},
		{"empty", "", "application/pdf", "dokument-3.pdf"},
		{"long", strings.Repeat("x", 300) + ".pdf", "application/pdf", strings.Repeat("x", 100) + ".pdf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := web.SanitizeFileName(tt.in, tt.contentType, 2); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadAnswerUpload(t *testing.T) {
	big := append([]byte("%PDF-1.4\n"), make([]byte, web.MaxUploadFileBytes)...)
	four := append([]byte("%PDF-1.4\n"), make([]byte, 4_000_000)...)
	tests := []struct {
		name     string
		parts    []uploadPart
		code     string
		pointers []string
		files    int
	}{
		{"text and a PDF", []uploadPart{{"text", "", []byte("Liegt bei.")}, {"files", "auszug.pdf", testPDF}}, "", nil, 1},
		{"documents alone", []uploadPart{{"files", "a.pdf", testPDF}, {"files", "b.png", testPNG}}, "", nil, 2},
		{"the same document twice is kept once", []uploadPart{{"files", "a.pdf", testPDF}, {"files", "kopie.pdf", testPDF}}, "", nil, 1},
		{"an empty file field is no file", []uploadPart{{"text", "", []byte("Antwort")}, {"files", "", nil}}, "", nil, 0},
		{"empty answer", []uploadPart{{"text", "", []byte("  ")}}, ozgflow.EUNPROCESSABLE, []string{"/text"}, 0},
		{"a text file named .pdf", []uploadPart{{"files", "echt.pdf", []byte("just text, not a PDF")}},
			ozgflow.EUNSUPPORTED, []string{"/files/0"}, 0},
		{"HTML among PDFs", []uploadPart{{"files", "a.pdf", testPDF}, {"files", "b.png", []byte("<html><script>")}},
			ozgflow.EUNSUPPORTED, []string{"/files/1"}, 0},
		{"a file too large", []uploadPart{{"text", "", []byte("x")}, {"files", "gross.pdf", big}},
			ozgflow.ETOOLARGE, []string{"/files/0"}, 0},
		{"too large together", []uploadPart{{"files", "1.pdf", four}, {"files", "2.pdf", append(four, 1)}, {"files", "3.pdf", append(four, 2)}},
			ozgflow.ETOOLARGE, []string{"/files"}, 0},
		{"too many files", []uploadPart{{"files", "1.pdf", testPDF}, {"files", "2.pdf", append(testPDF, 1)}, {"files", "3.pdf", append(testPDF, 2)},
			{"files", "4.pdf", append(testPDF, 3)}, {"files", "5.pdf", append(testPDF, 4)}, {"files", "6.pdf", append(testPDF, 5)}},
			ozgflow.EUNPROCESSABLE, []string{"/files"}, 0},
		{"an empty file", []uploadPart{{"files", "leer.pdf", []byte{}}}, ozgflow.EUNPROCESSABLE, []string{"/files/0"}, 0},
		{"data that is no object", []uploadPart{{"text", "", []byte("x")}, {"data", "", []byte("[1]")}}, ozgflow.EUNPROCESSABLE, []string{"/data"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, contentType := multipartBody(t, tt.parts...)
			r := httptest.NewRequest(http.MethodPost, "/", body)
			r.Header.Set("Content-Type", contentType)
			up, fail := web.ReadAnswerUpload(r)
			if tt.code == "" {
				if fail != nil {
					t.Fatalf("refused: %+v", fail)
				}
				if len(up.Files) != tt.files {
					t.Fatalf("%d files, want %d", len(up.Files), tt.files)
				}
				for _, f := range up.Files {
					if f.ContentType != "application/pdf" && f.ContentType != "image/png" || len(f.SHA256) != 64 {
						t.Errorf("file %s: %s %s", f.Name, f.ContentType, f.SHA256)
					}
				}
				return
			}
			if fail == nil {
				t.Fatalf("accepted, want %s", tt.code)
			}
			var pointers []string
			for _, p := range fail.Problems {
				pointers = append(pointers, p.Pointer)
			}
			if fail.Code != tt.code || strings.Join(pointers, " ") != strings.Join(tt.pointers, " ") {
				t.Errorf("got %s %v, want %s %v", fail.Code, pointers, tt.code, tt.pointers)
			}
			api := fail.APIError()
			if web.StatusOf(ozgflow.ErrorCode(api)) < 400 || len(ozgflow.ErrorFields(api)) != len(tt.pointers) {
				t.Errorf("API error %v %v", api, ozgflow.ErrorFields(api))
			}
		})
	}
}
