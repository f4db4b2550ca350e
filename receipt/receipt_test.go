package receipt

import (
	"bytes"
	"compress/zlib"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
)

// testKey is a sealing key as the signer has one: P-256, kid = thumbprint.
type testKey struct {
	jwk jose.JSONWebKey
}

func newKey(t *testing.T) testKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: priv, Algorithm: "ES256", Use: "sig"}
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	return testKey{jwk}
}

func (k testKey) set() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.jwk.Public()}}
}

// sign makes a compact JWS of payload with the key, with extra headers.
func (k testKey) sign(t *testing.T, payload []byte, headers map[jose.HeaderKey]any) string {
	t.Helper()
	opts := &jose.SignerOptions{ExtraHeaders: headers}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.jwk}, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var submitted = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

func gewerbe(t *testing.T) definitions.Definition {
	t.Helper()
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	def, err := reg.Resolve("99050035001000", "147130000000")
	if err != nil {
		t.Fatal(err)
	}
	return def
}

// sealedCase is a Gewerbeanmeldung sealed with key, its seal made over the
// canonical receipt payload exactly as the workflow makes it.
func sealedCase(t *testing.T, key testKey, data string, attachments ...ozgflow.Attachment) ozgflow.Case {
	t.Helper()
	id := "2f1c7a52-8d7e-4d7a-9a53-4b6f0e0c1a11"
	payload, err := activities.ReceiptPayload(activities.SealRequest{
		CaseID: id, DefinitionID: "gewerbeanmeldung-leipzig", DefinitionVersion: 1, SubmittedAt: submitted,
		Application: ozgflow.Application{Service: "99050035001000", Authority: "147130000000",
			Data: json.RawMessage(data), Attachments: attachments},
	})
	if err != nil {
		t.Fatal(err)
	}
	return ozgflow.Case{ID: id, Service: "99050035001000", ServiceName: "Gewerbeanmeldung", Authority: "147130000000",
		DefinitionID: "gewerbeanmeldung-leipzig", DefinitionVersion: 1, SubmittedAt: submitted,
		Payment: &ozgflow.Payment{Amount: 2000, Currency: "EUR", Status: ozgflow.PaymentPayed,
			PaidAt: submitted.Add(5 * time.Minute), Kassenzeichen: "202612345678", Reference: id + "-1"},
		Seal: &ozgflow.Seal{JWS: key.sign(t, payload, nil), KeyID: key.jwk.KeyID, SealedAt: submitted.Add(6 * time.Minute)}}
}

const gewerbeData = `{"betrieb":{"name":"Café Müller & Söhne (Straßenverkauf)","taetigkeit":"Ausschank von Getränken, Verkauf von Speisen zum Mitnehmen, Catering für Feiern und Veranstaltungen aller Art im Stadtgebiet Leipzig und im Umland, auch an Sonn- und Feiertagen, Preise ab 5 €","beginn":"2026-12-01","rechtsform":"einzelunternehmen"},"anschrift":{"strasse":"Grimmaische Straße","hausnummer":"1","plz":"04109","ort":"Leipzig"}}`

func renderCase(t *testing.T, c ozgflow.Case) []byte {
	t.Helper()
	def := gewerbe(t)
	r, err := FromCase(c, &def, "Stadt Leipzig")
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := Render(r)
	if err != nil {
		t.Fatal(err)
	}
	return pdf
}

// shown is how a text appears in a content stream.
func shown(s string) string { return literal(encode(s)) }

func TestRenderShowsTheReceipt(t *testing.T) {
	key := newKey(t)
	c := sealedCase(t, key, gewerbeData, ozgflow.Attachment{Name: "Personalausweis.pdf", SHA256: strings.Repeat("ab", 32)})
	pdf := renderCase(t, c)
	checkStructure(t, pdf)
	text := string(pdf)
	for _, want := range []string{
		shown("Eingangsbestätigung"),
		shown("Gewerbeanmeldung · Stadt Leipzig"),
		shown(c.ID),
		shown("Gewerbeanmeldung (Leistungsschlüssel 99050035001000)"),
		shown("Stadt Leipzig (ARS 147130000000)"),
		shown("20.11.2026, 10:30 Uhr"), // submitted 09:30 UTC is 10:30 in Leipzig
		shown("20,00 EUR, bezahlt am 20.11.2026, 10:35 Uhr"),
		shown("Kassenzeichen"), shown("202612345678"), // the cash office's references of the payment
		shown("Zahlungsreferenz"), shown(c.ID + "-1"),
		shown("Betrieb\u00a0– Name des Betriebs"), // the dash stays with the word before it
		shown("Café Müller & Söhne (Straßenverkauf)"),
		shown("01.12.2026"),
		shown("Einzelunternehmen"),
		shown("Postleitzahl"),
		shown("Personalausweis.pdf"),
		"/BaseFont /Helvetica /Encoding /WinAnsiEncoding",
		"/BaseFont /Courier /Encoding /WinAnsiEncoding",
		"/Lang (de-DE)",
		"Seite 1 von ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF does not show %q", want)
		}
	}
	if !strings.Contains(text, `\200)`) {
		t.Error("the euro sign is not written as WinAnsi 0x80")
	}
	// The long activity is wrapped: no shown line is wider than the text area.
	for _, line := range shownLines(t, pdf) {
		if w := textWidth(line.font, line.size, line.text); line.x+w > pageWidth-marginX+0.01 {
			t.Errorf("line %q runs over the margin (%.1f > %.1f)", line.text, line.x+w, pageWidth-marginX)
		}
	}
	got, err := Extract(pdf)
	if err != nil || got != c.Seal.JWS {
		t.Fatalf("Extract = %q, %v; want the seal", got, err)
	}
}

func TestRenderIsStable(t *testing.T) {
	key := newKey(t)
	c := sealedCase(t, key, gewerbeData)
	if a, b := renderCase(t, c), renderCase(t, c); !bytes.Equal(a, b) {
		t.Error("rendering the same receipt twice gave different files")
	}
}

func TestRenderRefuses(t *testing.T) {
	tests := []struct {
		name string
		r    Receipt
	}{
		{"no case", Receipt{Seal: ozgflow.Seal{JWS: "a.b.c"}}},
		{"no seal", Receipt{CaseID: "x"}},
		{"seal that would break the file", Receipt{CaseID: "x", Seal: ozgflow.Seal{JWS: "a.b).c"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Render(tt.r); err == nil {
				t.Error("rendered")
			}
		})
	}
	if _, err := FromCase(ozgflow.Case{ID: "x"}, nil, ""); err != ErrNotSealed {
		t.Errorf("FromCase without seal: %v, want ErrNotSealed", err)
	}
}

func TestLongReceiptTakesSeveralPages(t *testing.T) {
	key := newKey(t)
	extra := map[string]string{}
	for i := range 80 {
		extra[fmt.Sprintf("feld%02d", i)] = strings.Repeat("Langer Wert mit Umlauten äöü ", 6)
	}
	var data map[string]any
	_ = json.Unmarshal([]byte(gewerbeData), &data)
	data["zusatz"] = extra
	b, _ := json.Marshal(data)
	c := sealedCase(t, key, string(b))
	pdf := renderCase(t, c)
	checkStructure(t, pdf)
	pages := strings.Count(string(pdf), "/Type /Page ")
	if pages < 3 {
		t.Fatalf("%d pages, want several", pages)
	}
	for i := 1; i <= pages; i++ {
		if want := fmt.Sprintf("Seite %d von %d", i, pages); !strings.Contains(string(pdf), want) {
			t.Errorf("no footer %q", want)
		}
	}
	if n := strings.Count(string(pdf), "/"+sealTag+" << /Part "); n < 2 {
		t.Errorf("the seal is printed in %d part(s); with this much data it should span pages", n)
	}
	got, err := Extract(pdf)
	if err != nil || got != c.Seal.JWS {
		t.Fatalf("Extract from a seal over several pages: %v", err)
	}
	if res := Verify(pdf, key.set()); res.Verdict != Valid {
		t.Errorf("Verify = %+v", res)
	}
}

func TestPrintedSealIsReadInPartOrder(t *testing.T) {
	key := newKey(t)
	jws := key.sign(t, bytes.Repeat([]byte(`{"caseId":"x","data":"Füllung"}`), 150), nil)
	l := &layout{}
	l.newPage()
	l.gap(600) // little room left: the seal continues on a second page
	l.seal(jws)
	pages := l.finish("Test")
	if len(pages) < 2 {
		t.Fatalf("%d pages, want the seal over two", len(pages))
	}
	// A tool that writes the pages' objects in another order.
	reversed := writePDF([][]byte{pages[1], pages[0]}, nil)
	got, err := Extract(reversed)
	if err != nil || got != jws {
		t.Errorf("Extract = %v; the printed parts were not joined in order", err)
	}
}

// flip replaces the first occurrence of old in pdf after offset from with
// new of the same length, so that offsets stay as they were.
func flip(t *testing.T, pdf []byte, from int, old, new string) []byte {
	t.Helper()
	if len(old) != len(new) {
		t.Fatal("flip needs equal lengths")
	}
	i := bytes.Index(pdf[from:], []byte(old))
	if i < 0 {
		t.Fatalf("%q not in the PDF", old)
	}
	out := bytes.Clone(pdf)
	copy(out[from+i:], new)
	return out
}

func TestVerify(t *testing.T) {
	key := newKey(t)
	c := sealedCase(t, key, gewerbeData)
	jws := c.Seal.JWS
	pdf := renderCase(t, c)
	parts := strings.Split(jws, ".")
	infoAt := bytes.Index(pdf, []byte("/"+infoSealKey))

	// A byte of the payload flipped where the seal is stored and in the
	// first printed line, which holds the start of the payload.
	payloadByte := len(parts[0]) + 1 + 20
	orig := jws[payloadByte : payloadByte+1]
	other := "A"
	if orig == "A" {
		other = "B"
	}
	embeddedFlipped := flip(t, pdf, infoAt, jws[:payloadByte+1], jws[:payloadByte]+other)
	const perLine = 100 // characters of the seal per printed line
	start := payloadByte / perLine * perLine
	printed := jws[start:min(start+perLine, len(jws))]
	k := payloadByte - start
	changed := printed[:k] + other + printed[k+1:]
	printedFlipped := flip(t, pdf, 0, "("+printed+")", "("+changed+")")
	bothFlipped := flip(t, embeddedFlipped, 0, "("+printed+")", "("+changed+")")
	// The case number changed in the payload, consistently in print and store.
	forged := strings.Replace(string(mustDecode(t, parts[1])), c.ID, "00000000-0000-0000-0000-000000000000", 1)
	forgedJWS := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2]

	sig := mustDecode(t, parts[2])
	sig[10] ^= 0x01
	badSig := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	stranger := newKey(t)
	applicant := key.sign(t, mustDecode(t, parts[1]), map[jose.HeaderKey]any{"typ": ApplicantSignatureType})
	hmacWithOurKid := func() string {
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")},
			(&jose.SignerOptions{}).WithHeader("kid", key.jwk.KeyID))
		obj, _ := s.Sign(mustDecode(t, parts[1]))
		out, _ := obj.CompactSerialize()
		return out
	}()
	noKid := func() string {
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key.jwk.Key}, nil)
		obj, _ := s.Sign([]byte("{}"))
		out, _ := obj.CompactSerialize()
		return out
	}()
	wrapped := func(s string, n int) string {
		var b strings.Builder
		for len(s) > n {
			b.WriteString(s[:n] + " \n  ")
			s = s[n:]
		}
		return b.String() + s
	}
	emptyPDF := writePDF([][]byte{[]byte("BT /F1 10 Tf 56 700 Td (Hallo) Tj ET\n")}, nil)

	tests := []struct {
		name   string
		input  []byte
		want   Verdict
		reason string
	}{
		{"the PDF", pdf, Valid, ReasonSealed},
		{"the seal pasted", []byte(jws), Valid, ReasonSealed},
		{"the seal wrapped in text", []byte("Siegel der Behörde:\n" + wrapped(jws, 64) + "\nBitte aufbewahren."), Valid, ReasonSealed},
		{"the seal wrapped before text on the same line", []byte(wrapped(jws, 100) + " Ende"), Valid, ReasonSealed},
		{"the receipt API's JSON", []byte(`{"caseId":"x","jws":"` + jws + `"}`), Valid, ReasonSealed},
		{"the seal after a word that looks like one", []byte("eyJunk\n" + wrapped(jws, 80)), Valid, ReasonSealed},
		{"PDF with a payload byte flipped in print and store", bothFlipped, Tampered, ReasonSignature},
		{"PDF with the stored seal changed", embeddedFlipped, Tampered, ReasonMismatch},
		{"PDF with the printed seal changed", printedFlipped, Tampered, ReasonMismatch},
		{"case number changed in the payload", []byte(forgedJWS), Tampered, ReasonSignature},
		{"signature changed", []byte(badSig), Tampered, ReasonSignature},
		{"HS256 naming our key", []byte(hmacWithOurKid), Tampered, ReasonSignature},
		{"sealed with a key that is not ours", []byte(stranger.sign(t, mustDecode(t, parts[1]), nil)), Unknown, ReasonUnknownKey},
		{"no key named", []byte(noKid), Unknown, ReasonUnknownKey},
		{"the applicant's signature", []byte(applicant), Unknown, ReasonNotASeal},
		{"signature cut short", []byte(jws[:len(jws)-10]), Unknown, ReasonMalformed},
		{"header broken", []byte("eyJhbGciOi." + parts[1] + "." + parts[2]), Unknown, ReasonNoSeal},
		{"plain text", []byte("Ich habe meine Bestätigung verloren."), Unknown, ReasonNoSeal},
		{"nothing", nil, Unknown, ReasonNoSeal},
		{"a PDF without a seal", emptyPDF, Unknown, ReasonNoSeal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Verify(tt.input, key.set())
			if res.Verdict != tt.want || res.Reason != tt.reason {
				t.Fatalf("Verify = %s (%s), want %s (%s)", res.Verdict, res.Reason, tt.want, tt.reason)
			}
			if res.Message == "" || res.MessageEN == "" || res.Message == res.MessageEN {
				t.Errorf("messages %q / %q, want a German and an English sentence", res.Message, res.MessageEN)
			}
			if tt.want != Valid && res.CaseID != "" {
				t.Errorf("a %s receipt names case %s", res.Verdict, res.CaseID)
			}
		})
	}

	res := Verify(pdf, key.set())
	if res.CaseID != c.ID || res.Service != c.Service || res.Authority != c.Authority ||
		!res.SubmittedAt.Equal(submitted) || res.DefinitionID != c.DefinitionID || res.KeyID != key.jwk.KeyID {
		t.Errorf("a valid receipt covers %+v", res)
	}
	if !strings.Contains(res.Message, c.ID) || !strings.Contains(res.Message, "20.11.2026, 10:30 Uhr") {
		t.Errorf("message %q does not name the case and its time", res.Message)
	}
	if got := Verify(pdf, jose.JSONWebKeySet{}); got.Verdict != Unknown {
		t.Errorf("without keys: %s, want unknown", got.Verdict)
	}
	if KeysUnavailable().Verdict != Unknown || KeysUnavailable().Message == "" {
		t.Error("KeysUnavailable")
	}
}

func TestExtractPrintedSealWhenTheStoredOneIsGone(t *testing.T) {
	key := newKey(t)
	c := sealedCase(t, key, gewerbeData)
	pdf := renderCase(t, c)
	stripped := flip(t, pdf, 0, "/"+infoSealKey, "/OzgflowXYZ")
	got, err := Extract(stripped)
	if err != nil || got != c.Seal.JWS {
		t.Errorf("Extract = %v; want the printed seal", err)
	}
}

func TestEncode(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
	}{
		{"äöüÄÖÜß", []byte{0xE4, 0xF6, 0xFC, 0xC4, 0xD6, 0xDC, 0xDF}},
		{"20 € – „gut“", []byte{'2', '0', ' ', 0x80, ' ', 0x96, ' ', 0x84, 'g', 'u', 't', 0x93}},
		{"Dvořák", []byte("Dvor\xE1k")},
		{"漢", []byte("?")},
	}
	for _, tt := range tests {
		if got := encode(tt.in); !bytes.Equal(got, tt.want) {
			t.Errorf("encode(%q) = %x, want %x", tt.in, got, tt.want)
		}
	}
	if len(latinBase) != 64 {
		t.Errorf("latinBase has %d entries, want 64 (0xC0–0xFF)", len(latinBase))
	}
	if w := textWidth(regular, 10, "Wä"); w != 15 { // W 944 + ä 556
		t.Errorf("width of Wä at 10 pt = %v, want 15", w)
	}
	if w := textWidth(mono, 10, "abc"); w != 18 {
		t.Errorf("Courier width = %v, want 18", w)
	}
}

func TestWrap(t *testing.T) {
	lines := wrap(regular, 10, 100, "Ein Satz, der länger ist als eine Zeile von hundert Punkten.\nZweiter Absatz")
	if len(lines) < 3 || lines[len(lines)-1] != "Zweiter Absatz" {
		t.Errorf("wrap = %q", lines)
	}
	for _, l := range lines {
		if textWidth(regular, 10, l) > 100 {
			t.Errorf("line %q is wider than 100 pt", l)
		}
	}
	long := strings.Repeat("x", 200)
	if got := strings.Join(wrap(regular, 10, 100, long), ""); got != long {
		t.Error("a word wider than the line lost characters")
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkStructure checks what a reader relies on: header, every object where
// the cross-reference table says, the trailer and its startxref.
func checkStructure(t *testing.T, pdf []byte) {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(pdf, []byte("%%EOF\n")) {
		t.Fatal("no PDF header or end marker")
	}
	m := regexp.MustCompile(`startxref\n(\d+)\n%%EOF\n$`).FindSubmatch(pdf)
	if m == nil {
		t.Fatal("no startxref")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(pdf[xref:], []byte("xref\n0 ")) {
		t.Fatalf("startxref %d does not point at the xref table", xref)
	}
	rows := regexp.MustCompile(`(\d{10}) 00000 n \n`).FindAllSubmatch(pdf[xref:], -1)
	for i, row := range rows {
		off, _ := strconv.Atoi(string(row[1]))
		if want := fmt.Sprintf("%d 0 obj\n", i+1); !bytes.HasPrefix(pdf[off:], []byte(want)) {
			t.Errorf("xref entry %d points at %q", i+1, pdf[off:min(off+12, len(pdf))])
		}
	}
	for _, s := range findStreams(pdf) {
		dict := pdf[bytes.LastIndex(pdf[:s.start], []byte(" obj")):s.start]
		if want := fmt.Sprintf("/Length %d ", s.end-s.start); !bytes.Contains(dict, []byte(want)) {
			t.Errorf("stream length %d not in its dictionary %q", s.end-s.start, dict)
		}
	}
	if bytes.IndexFunc(pdf[15:], func(r rune) bool { return r > 0x7E }) >= 0 {
		t.Error("the PDF body is not 7-bit text")
	}
}

type line struct {
	font    font
	size, x float64
	text    string
}

var showOp = regexp.MustCompile(`BT /F(\d) ([\d.]+) Tf ([\d.]+) [\d.]+ Td `)

// shownLines reads back the text lines of the content streams, decoded.
func shownLines(t *testing.T, pdf []byte) []line {
	t.Helper()
	var out []line
	for _, s := range findStreams(pdf) {
		data := pdf[s.start:s.end]
		for _, loc := range showOp.FindAllSubmatchIndex(data, -1) {
			f, _ := strconv.Atoi(string(data[loc[2]:loc[3]]))
			size, _ := strconv.ParseFloat(string(data[loc[4]:loc[5]]), 64)
			x, _ := strconv.ParseFloat(string(data[loc[6]:loc[7]]), 64)
			lx := &lexer{src: data, pos: loc[1]}
			tok, _ := lx.next()
			out = append(out, line{font(f - 1), size, x, decodeWinAnsi(tok.value)})
		}
	}
	if len(out) == 0 {
		t.Fatal("no text shown")
	}
	return out
}

func TestFindingNoSealStaysFast(t *testing.T) {
	inputs := map[string]string{
		"words that start like a seal": strings.Repeat("eyJ ", 2<<20),
		"one long header":              "eyJ" + strings.Repeat("A", 8<<20),
		"headers without a payload":    strings.Repeat("eyJhbGciOiJFUzI1NiJ9.\n", 1<<18),
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, _ = Extract([]byte(in))
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// flatePDF is a PDF with one Flate-compressed content stream, the way tools
// that save a PDF again often write it.
func flatePDF(t *testing.T, content []byte) []byte {
	t.Helper()
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	_, _ = w.Write(content)
	_ = w.Close()
	return []byte(fmt.Sprintf("%%PDF-1.5\n4 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream\nendobj\n%%%%EOF\n",
		z.Len(), z.Bytes()))
}

func TestExtractReadsCompressedStreams(t *testing.T) {
	key := newKey(t)
	jws := key.sign(t, []byte(`{"caseId":"x"}`), nil)
	l := &layout{}
	l.newPage()
	l.seal(jws)
	pages := l.finish("Test")
	if got, err := Extract(flatePDF(t, pages[0])); err != nil || got != jws {
		t.Errorf("Extract from a compressed stream = %q, %v", got, err)
	}
	// A compression bomb is read only so far.
	bomb := flatePDF(t, bytes.Repeat([]byte("/OzgflowSeal "), 8<<20))
	start := time.Now()
	if _, err := Extract(bytes.Repeat(bomb, 8)); err == nil {
		t.Error("found a seal in a compression bomb")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("a compression bomb took %v", d)
	}
}
