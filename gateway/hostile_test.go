package gateway

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"go.temporal.io/sdk/mocks"

	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/internal/recordstest"
	"github.com/ozgflow/ozgflow/internal/redistest"
)

// The hostile-input suite: every field of a submission, and the body as a
// whole, meets what attackers send. Each case must get a 4xx problem
// document that names the field, start no case (Temporal, a mock without
// expectations, is never called) and store nothing; the server stays
// healthy after all of them.

// hostileFields are the places of a valid Gewerbeanmeldung, as JSON
// pointers, that take a string.
var hostileFields = []string{
	"/service", "/authority", "/applicant/name", "/applicant/email", "/applicant/portalAccount",
	"/data/betrieb/name", "/data/betrieb/taetigkeit", "/data/betrieb/beginn", "/data/betrieb/rechtsform",
	"/data/anschrift/strasse", "/data/anschrift/hausnummer", "/data/anschrift/plz", "/data/anschrift/ort",
	"/attachments/0/name", "/attachments/0/sha256", "/attachments/0/contentType",
}

// hostileValues replace a field's value (raw JSON, or raw bytes where JSON
// cannot say them); each is wrong for every field above.
var hostileValues = []struct{ name, raw string }{
	{"oversized", `"` + strings.Repeat("A", 300<<10) + `"`},
	{"NUL", `"Anna\u0000Muster"`},
	{"invalid UTF-8", "\"Anna \xff\xfe Muster\""},
	{"invalid UTF-8 as an escape pair", `"\ud800"`},
	{"a number", `42`},
	{"an array", `["Anna"]`},
	{"an object", `{"name":"Anna"}`},
	{"true", `true`},
	{"nested a hundred deep", strings.Repeat("[", 100) + strings.Repeat("]", 100)},
	{"nested objects", strings.Repeat(`{"a":`, 50) + `1` + strings.Repeat("}", 50)},
	{"header injection", `"x\r\nX-Injected: 1"`},
	{"a bell", `"Anna\u0007"`},
	{"escape", `"\u001b[31mrot"`},
}

// hostileSubmission is a valid application whose field at pointer is raw,
// or given twice when raw is "" (the duplicate-key case).
func hostileSubmission(pointer, raw string) string {
	values := map[string]string{
		"/service": `"99050035001000"`, "/authority": `"147130000000"`,
		"/applicant/name": `"Anna Muster"`, "/applicant/email": `"anna@example.org"`, "/applicant/portalAccount": `"amt24-anna"`,
		"/data/betrieb/name": `"Muster GmbH"`, "/data/betrieb/taetigkeit": `"Handel"`, "/data/betrieb/beginn": `"2026-01-01"`,
		"/data/betrieb/rechtsform": `"gmbh"`, "/data/anschrift/strasse": `"Hauptstraße"`, "/data/anschrift/hausnummer": `"1"`,
		"/data/anschrift/plz": `"04109"`, "/data/anschrift/ort": `"Leipzig"`,
		"/attachments/0/name": `"nachweis.pdf"`, "/attachments/0/sha256": `"` + strings.Repeat("ab", 32) + `"`,
		"/attachments/0/contentType": `"application/pdf"`,
	}
	member := func(p string) string {
		key := p[strings.LastIndex(p, "/")+1:]
		if p != pointer {
			return `"` + key + `":` + values[p]
		}
		if raw == "" {
			return `"` + key + `":` + values[p] + `,"` + key + `":` + values[p]
		}
		return `"` + key + `":` + raw
	}
	return `{` + member("/service") + `,` + member("/authority") +
		`,"applicant":{` + member("/applicant/name") + `,` + member("/applicant/email") + `,` + member("/applicant/portalAccount") + `}` +
		`,"data":{"betrieb":{` + member("/data/betrieb/name") + `,` + member("/data/betrieb/taetigkeit") + `,` +
		member("/data/betrieb/beginn") + `,` + member("/data/betrieb/rechtsform") + `},"anschrift":{` +
		member("/data/anschrift/strasse") + `,` + member("/data/anschrift/hausnummer") + `,` + member("/data/anschrift/plz") + `,` +
		member("/data/anschrift/ort") + `}}` +
		`,"attachments":[{` + member("/attachments/0/name") + `,` + member("/attachments/0/sha256") + `,` +
		member("/attachments/0/contentType") + `}]}`
}

// hostileBodies are bodies that are wrong as a whole.
var hostileBodies = []struct{ name, contentType, body string }{
	{"empty", "application/json", ``},
	{"not JSON", "application/json", `Antrag`},
	{"a JSON array", "application/json", `[{"service":"99050035001000"}]`},
	{"a JSON string", "application/json", `"Antrag"`},
	{"null", "application/json", `null`},
	{"truncated", "application/json", `{"service":"99050035001000","data":{`},
	{"two documents", "application/json", `{"service":"x"}{"service":"y"}`},
	{"trailing comma", "application/json", `{"service":"x",}`},
	{"a byte order mark", "application/json", "\ufeff{}"},
	{"deeper than the decoder takes", "application/json", strings.Repeat("[", 20000) + strings.Repeat("]", 20000)},
	{"NUL bytes", "application/json", "{\x00}"},
	{"form encoded", "application/x-www-form-urlencoded", `service=99050035001000`},
	{"XML", "application/xml", `<antrag/>`},
	{"no content type", "", `{}`},
	{"larger than any body", "application/json", `{"data":"` + strings.Repeat("x", web.MaxBodyBytes) + `"}`},
	{"a valid body with an unknown field", "application/json", `{"service":"99050035001000","authority":"147130000000","admin":true}`},
}

func TestHostileInputSuite(t *testing.T) {
	tc := &mocks.Client{} // any call to Temporal fails the test: nothing may start
	st := redistest.Store(t, "hostile:")
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Secret: testSecret, Records: recordstest.Open(t, "sqlite")}, tc, st, casework.StaticDefinitions{Reg: reg}, DevTokens(),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	cases := 0
	check := func(t *testing.T, rec problemAnswer, pointer string) {
		t.Helper()
		cases++
		if rec.status < 400 || rec.status >= 500 {
			t.Fatalf("HTTP %d, want a refusal: %.300s", rec.status, rec.body)
		}
		var p web.Problem
		if rec.contentType != "application/problem+json" || json.Unmarshal([]byte(rec.body), &p) != nil || p.Status != rec.status {
			t.Fatalf("HTTP %d without a problem document: %.300s", rec.status, rec.body)
		}
		if pointer == "" {
			return
		}
		for _, e := range p.Errors {
			if strings.HasPrefix(pointer, e.Pointer) && e.Pointer != "" {
				return
			}
		}
		t.Errorf("HTTP %d names %+v, want %s: %.200s", rec.status, p.Errors, pointer, p.Detail)
	}
	for _, field := range hostileFields {
		for _, v := range append(hostileValues, struct{ name, raw string }{"given twice", ""}) {
			if v.name == "header injection" && strings.HasPrefix(field, "/data/") {
				continue // the variant's free text may span lines; its schema says where not
			}
			t.Run(field+" "+v.name, func(t *testing.T) {
				check(t, submitRaw(s, "application/json", hostileSubmission(field, v.raw)), field)
			})
		}
	}
	for _, b := range hostileBodies {
		t.Run("body "+b.name, func(t *testing.T) { check(t, submitRaw(s, b.contentType, b.body), "") })
	}
	for name, key := range map[string]string{"newline": "k\nX-Injected: 1", "NUL": "k\x00", "oversized": strings.Repeat("k", 300),
		"a bell": "k\a"} {
		t.Run("Idempotency-Key "+name, func(t *testing.T) {
			rec := serveRaw(s, doorRequest{method: http.MethodPost, target: "/api/v1/applications", bearer: "dev-portal",
				contentType: "application/json", body: hostileSubmission("", "x"), header: map[string]string{"Idempotency-Key": key}})
			check(t, rec, "")
		})
	}
	t.Logf("hostile-input suite: %d cases", cases)
	if cases < 200 {
		t.Errorf("the suite has %d cases, want at least 200", cases)
	}
	if keys, err := st.Client().Keys(context.Background(), "hostile:*").Result(); err != nil || len(keys) != 0 {
		t.Errorf("cases stored: %v %v", keys, err)
	}
	if rec := s.serve(doorRequest{method: http.MethodGet, target: "/healthz"}); rec.Code != http.StatusOK {
		t.Errorf("after the suite /healthz answers %d", rec.Code)
	}
}

// problemAnswer is what a refusal brought back.
type problemAnswer struct {
	status            int
	contentType, body string
}

func submitRaw(s *Server, contentType, body string) problemAnswer {
	return serveRaw(s, doorRequest{method: http.MethodPost, target: "/api/v1/applications", bearer: "dev-portal",
		contentType: contentType, body: body})
}

func serveRaw(s *Server, q doorRequest) problemAnswer {
	rec := s.serve(q)
	return problemAnswer{status: rec.Code, contentType: rec.Header().Get("Content-Type"), body: rec.Body.String()}
}
