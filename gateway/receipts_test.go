package gateway

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/receipt"
)

// sealingKey seals test cases the way the signer does.
type sealingKey struct{ jwk jose.JSONWebKey }

func newSealingKey(t *testing.T) sealingKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return sealingKey{jose.JSONWebKey{Key: priv, KeyID: "test-key-" + uuid.NewString()[:8], Algorithm: "ES256", Use: "sig"}}
}

func (k sealingKey) keys() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.jwk.Public()}}
}

// seal signs the canonical receipt payload of c (ozgflow.SealedPayload).
func (k sealingKey) seal(t *testing.T, c ozgflow.Case, data string) *ozgflow.Seal {
	t.Helper()
	payload, _ := json.Marshal(ozgflow.SealedPayload{CaseID: c.ID, Service: c.Service, Authority: c.Authority,
		DefinitionID: c.DefinitionID, DefinitionVersion: c.DefinitionVersion, SubmittedAt: c.SubmittedAt.UTC().Truncate(time.Second),
		Data: json.RawMessage(data), Attachments: []ozgflow.Attachment{}})
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.jwk}, nil)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	jws, _ := obj.CompactSerialize()
	return &ozgflow.Seal{JWS: jws, KeyID: k.jwk.KeyID, SealedAt: c.SubmittedAt.Add(time.Minute)}
}

// receiptServer is a server on Redis with a sealed and an unsealed case.
func receiptServer(t *testing.T) (s *Server, key sealingKey, sealed, unsealed ozgflow.Case) {
	t.Helper()
	s, st := storeServer(t)
	key = newSealingKey(t)
	s.receipts.Keys = func(context.Context) (jose.JSONWebKeySet, error) { return key.keys(), nil }
	sealed = testCase(ozgflow.StatusInReview)
	sealed.DefinitionID, sealed.DefinitionVersion = "gewerbeanmeldung-leipzig", 1
	sealed.Payment.Status, sealed.Payment.PaidAt = ozgflow.PaymentPayed, sealed.SubmittedAt.Add(time.Minute)
	sealed.Seal = key.seal(t, sealed, `{"betrieb":{"name":"Café Anna","rechtsform":"einzelunternehmen"}}`)
	unsealed = testCase(ozgflow.StatusAwaitingPayment)
	for _, c := range []ozgflow.Case{sealed, unsealed} {
		if err := st.SaveCase(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	return s, key, sealed, unsealed
}

func TestReceiptPDFDownload(t *testing.T) {
	s, key, sealed, unsealed := receiptServer(t)
	token := s.tokens.Issue(sealed.ID)
	path := "/api/v1/applications/" + sealed.ID + "/receipt.pdf"
	tests := []struct {
		name   string
		target string
		header map[string]string
		cookie *http.Cookie
		want   int
	}{
		{"access token as bearer", path, map[string]string{"Authorization": "Bearer " + token}, nil, http.StatusOK},
		{"access token in the link", path + "?token=" + url.QueryEscape(token), nil, nil, http.StatusOK},
		{"the applicant's cookie", path, nil, &http.Cookie{Name: web.ApplicantCookie, Value: token}, http.StatusOK},
		{"a case worker of the authority", path, map[string]string{"Authorization": "Bearer dev-sb-leipzig"}, nil, http.StatusOK},
		{"no token", path, nil, nil, http.StatusUnauthorized},
		{"a staff token in the link", path + "?token=dev-admin", nil, nil, http.StatusUnauthorized},
		{"the cookie of another case", path, nil, &http.Cookie{Name: web.ApplicantCookie, Value: s.tokens.Issue(unsealed.ID)}, http.StatusUnauthorized},
		{"the token of another case", path + "?token=" + url.QueryEscape(s.tokens.Issue(unsealed.ID)), nil, nil, http.StatusNotFound},
		{"a case worker of another authority", path, map[string]string{"Authorization": "Bearer dev-sb-dresden"}, nil, http.StatusNotFound},
		{"not sealed yet", "/api/v1/applications/" + unsealed.ID + "/receipt.pdf?token=" + url.QueryEscape(s.tokens.Issue(unsealed.ID)),
			nil, nil, http.StatusConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tt.target, nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			if tt.cookie != nil {
				req.AddCookie(tt.cookie)
			}
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("HTTP %d %s, want %d", rec.Code, rec.Body.String(), tt.want)
			}
			if tt.want != http.StatusOK {
				if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type %q, want a problem document", ct)
				}
				return
			}
			h := rec.Header()
			if h.Get("Content-Type") != "application/pdf" ||
				h.Get("Content-Disposition") != `attachment; filename="eingangsbestaetigung-`+sealed.ID+`.pdf"` ||
				h.Get("Content-Length") != strconv.Itoa(rec.Body.Len()) {
				t.Errorf("headers %v", h)
			}
			pdf := rec.Body.Bytes()
			if jws, err := receipt.Extract(pdf); err != nil || jws != sealed.Seal.JWS {
				t.Errorf("the PDF carries %q (%v), want the case's seal", jws, err)
			}
			for _, want := range []string{"Stadt Leipzig", "Einzelunternehmen", "Name des Betriebs", "20,00 EUR"} {
				if !bytes.Contains(pdf, []byte(want)) {
					t.Errorf("the PDF does not show %q", want)
				}
			}
			if res := receipt.Verify(pdf, key.keys()); res.Verdict != receipt.Valid {
				t.Errorf("the downloaded receipt checks as %s", res.Verdict)
			}
		})
	}
}

func postVerify(s *Server, contentType string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/api/v1/receipts/verify", bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

func TestVerifyReceiptAPI(t *testing.T) {
	s, _, sealed, _ := receiptServer(t)
	pdf := receiptPDF(t, s, sealed)
	jws := sealed.Seal.JWS
	// The stored seal in the PDF changed by one character.
	at := bytes.Index(pdf, []byte("/OzgflowJWS ("+jws[:60]))
	if at < 0 {
		t.Fatal("no stored seal in the PDF")
	}
	tampered := bytes.Clone(pdf)
	i := at + len("/OzgflowJWS (") + 50
	tampered[i] = map[bool]byte{true: 'A', false: 'B'}[tampered[i] != 'A']
	var wrapped strings.Builder
	for rest := jws; rest != ""; {
		n := min(70, len(rest))
		wrapped.WriteString(rest[:n] + "\n")
		rest = rest[n:]
	}
	asJSON, _ := json.Marshal(map[string]string{"receipt": "Siegel: " + jws})

	tests := []struct {
		name        string
		contentType string
		body        []byte
		status      int
		verdict     receipt.Verdict
	}{
		{"the PDF", "application/pdf", pdf, http.StatusOK, receipt.Valid},
		{"the seal as text, wrapped", "text/plain; charset=utf-8", []byte(wrapped.String()), http.StatusOK, receipt.Valid},
		{"the seal in JSON", "application/json", asJSON, http.StatusOK, receipt.Valid},
		{"a changed PDF", "application/pdf", tampered, http.StatusOK, receipt.Tampered},
		{"text without a seal", "text/plain", []byte("Wo ist meine Bestätigung?"), http.StatusOK, receipt.Unknown},
		{"JSON without receipt", "application/json", []byte(`{"jws":"x"}`), http.StatusUnprocessableEntity, ""},
		{"broken JSON", "application/json", []byte(`{"receipt":`), http.StatusBadRequest, ""},
		{"empty", "text/plain", nil, http.StatusBadRequest, ""},
		{"an image", "image/png", []byte("\x89PNG"), http.StatusUnsupportedMediaType, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := postVerify(s, tt.contentType, tt.body)
			if rec.Code != tt.status {
				t.Fatalf("HTTP %d %s, want %d", rec.Code, rec.Body.String(), tt.status)
			}
			if tt.status != http.StatusOK {
				if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type %q, want a problem document", ct)
				}
				return
			}
			var res receipt.Result
			if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tt.verdict || res.Message == "" || res.MessageEN == "" {
				t.Fatalf("answer %+v, want verdict %s with messages", res, tt.verdict)
			}
			if tt.verdict == receipt.Valid && (res.CaseID != sealed.ID || res.ServiceName != "Gewerbeanmeldung" ||
				res.AuthorityName != "Stadt Leipzig" || !res.SubmittedAt.Equal(sealed.SubmittedAt)) {
				t.Errorf("a valid receipt answers %+v", res)
			}
		})
	}

	s.receipts.Keys = func(context.Context) (jose.JSONWebKeySet, error) {
		return jose.JSONWebKeySet{}, errors.New("signer down")
	}
	if res := s.receipts.Verify(context.Background(), pdf); res.Verdict != receipt.Unknown || res.Reason != receipt.ReasonKeysUnavailable {
		t.Errorf("without keys: %s (%s), want unknown, keys unavailable", res.Verdict, res.Reason)
	}
}

// TestVerifyComparesThePrintedContent: a receipt whose seal is genuine but
// whose printed fee was changed by one byte is tampered, naming the line;
// the unchanged receipt stays valid.
func TestVerifyComparesThePrintedContent(t *testing.T) {
	s, _, sealed, _ := receiptServer(t)
	pdf := receiptPDF(t, s, sealed)
	at := bytes.Index(pdf, []byte("(20,00 EUR"))
	if at < 0 {
		t.Fatalf("no printed fee in the receipt")
	}
	changed := bytes.Clone(pdf)
	changed[at+1] = '9' // 90,00 EUR
	for name, tt := range map[string]struct {
		body    []byte
		verdict receipt.Verdict
	}{"the receipt": {pdf, receipt.Valid}, "a changed fee": {changed, receipt.Tampered}} {
		var res receipt.Result
		if err := json.Unmarshal(postVerify(s, "application/pdf", tt.body).Body.Bytes(), &res); err != nil {
			t.Fatal(err)
		}
		if res.Verdict != tt.verdict {
			t.Errorf("%s: %+v, want %s", name, res, tt.verdict)
		}
		if tt.verdict == receipt.Tampered && (res.Reason != receipt.ReasonContent || len(res.Differences) != 1 ||
			!strings.HasPrefix(res.Differences[0].Shown, "90,00 EUR") || strings.Contains(fmt.Sprint(res.Differences), "20,00") ||
			!strings.Contains(res.Message, "aufgedruckte Inhalt")) {
			t.Errorf("%s: %+v, want the fee named", name, res)
		}
	}
}

// TestVerifyPageNamesWhatDiffers: /pruefen shows the changed lines of an
// altered receipt.
func TestVerifyPageNamesWhatDiffers(t *testing.T) {
	s, _, sealed, _ := receiptServer(t)
	changed := bytes.Clone(receiptPDF(t, s, sealed))
	at := bytes.Index(changed, []byte("(20,00 EUR"))
	if at < 0 {
		t.Fatal("no printed fee in the receipt")
	}
	changed[at+1] = '9'
	page := citizenGet(s, "/pruefen")
	var visitor *http.Cookie
	for _, ck := range page.Result().Cookies() {
		if ck.Name == "ozgflow_pruefen" {
			visitor = ck
		}
	}
	if visitor == nil {
		t.Fatal("no visitor cookie")
	}
	b, contentType := multipartBody(t, uploadPart{"csrf", "", []byte(formToken("verify csrf", visitor.Value))},
		uploadPart{"file", "quittung.pdf", changed})
	r := httptest.NewRequest(http.MethodPost, "/pruefen", b)
	r.Header.Set("Content-Type", contentType)
	r.AddCookie(visitor)
	res := httptest.NewRecorder()
	s.Handler().ServeHTTP(res, r)
	body := res.Body.String()
	if res.Code != http.StatusOK || !strings.Contains(body, `data-verdict="tampered"`) || !strings.Contains(body, "Was abweicht") ||
		!strings.Contains(body, "Aufgedruckt, aber nicht so in der Eingangsbestätigung des Antrags: „90,00 EUR") {
		t.Errorf("page: %d\n%s", res.Code, body)
	}
}

// receiptPDF downloads a case's receipt as its applicant.
func receiptPDF(t *testing.T, s *Server, c ozgflow.Case) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/api/v1/applications/"+c.ID+"/receipt.pdf", nil)
	req.Header.Set("Authorization", "Bearer "+s.tokens.Issue(c.ID))
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("receipt.pdf: %d %s", rec.Code, rec.Body.String())
	}
	return rec.Body.Bytes()
}

// TestReceiptNamesApplicantNumberAndCheck: the receipt names the
// applicant and the case number and prints the check's absolute address;
// it verifies, and so does a receipt fetched before receipts printed them.
func TestReceiptNamesApplicantNumberAndCheck(t *testing.T) {
	s, st := storeServer(t)
	key := newSealingKey(t)
	s.receipts.Keys = func(context.Context) (jose.JSONWebKeySet, error) { return key.keys(), nil }
	s.receipts.PublicURL = "https://antrag.leipzig.example/"
	c := testCase(ozgflow.StatusInReview)
	c.DefinitionID, c.DefinitionVersion = "gewerbeanmeldung-leipzig", 1
	c.CaseNumber = "GEW-2026-000123"
	c.Applicant = &ozgflow.CaseApplicant{Name: "Erika Mustermann", Email: "erika@example.org"}
	c.Payment.Status, c.Payment.PaidAt = ozgflow.PaymentPayed, c.SubmittedAt.Add(time.Minute)
	c.Seal = key.seal(t, c, `{"betrieb":{"name":"Café Anna","rechtsform":"einzelunternehmen"}}`)
	if err := st.SaveCase(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	pdf := receiptPDF(t, s, c)
	text := strings.Join(receipt.Lines(pdf), "\n")
	for _, want := range []string{"Antragsnummer", "GEW-2026-000123", "Antragsteller/in", "Erika Mustermann",
		"(https://antrag.leipzig.example/pruefen)", "https://antrag.leipzig.example/api/v1/keys", "Antrag GEW-2026-000123"} {
		if !strings.Contains(text, want) {
			t.Errorf("the receipt does not print %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "(/pruefen)") {
		t.Errorf("the receipt prints the relative path:\n%s", text)
	}
	var res receipt.Result
	if err := json.Unmarshal(postVerify(s, "application/pdf", pdf).Body.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Verdict != receipt.Valid || res.CaseNumber != "GEW-2026-000123" {
		t.Errorf("the receipt checks %+v", res)
	}
	// The receipt as it was printed before.
	rc, err := receipt.FromCase(c, s.cases.Definition(c), "Stadt Leipzig")
	if err != nil {
		t.Fatal(err)
	}
	old, err := receipt.Render(rc.Legacy())
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(postVerify(s, "application/pdf", old).Body.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Verdict != receipt.Valid {
		t.Errorf("an earlier receipt checks %+v", res)
	}
}
