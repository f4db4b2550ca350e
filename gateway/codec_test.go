package gateway

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/mocks"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/internal/recordstest"
	"github.com/ozgflow/ozgflow/internal/redistest"
	"github.com/ozgflow/ozgflow/records"
)

// sealingCodec stands in for the workers' codec: a payload whose encoding
// is binary/sealed holds its data reversed; "broken" cannot be opened.
type sealingCodec struct{}

func (sealingCodec) Encode(p []*commonpb.Payload) ([]*commonpb.Payload, error) { return p, nil }

func (sealingCodec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.Metadata["encoding"]) != "binary/sealed" {
			out[i] = p
			continue
		}
		if string(p.Data) == "broken" {
			return nil, errors.New("payload: decrypt: message authentication failed")
		}
		plain := []byte(string(p.Data))
		for l, r := 0, len(plain)-1; l < r; l, r = l+1, r-1 {
			plain[l], plain[r] = plain[r], plain[l]
		}
		out[i] = &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: plain}
	}
	return out, nil
}

// webUIOrigin is the Web UI's origin the codec servers let in.
const webUIOrigin = "http://localhost:8233"

// codecServer is a gateway with the stand-in codec, Redis for sessions and
// its own audit trail.
func codecServer(t *testing.T) (*Server, *records.DB) {
	t.Helper()
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	db := recordstest.Open(t, "sqlite")
	s := New(Config{Secret: testSecret, Records: db, Codec: sealingCodec{}, CodecOrigins: []string{webUIOrigin}},
		&mocks.Client{}, redistest.Store(t, "gwcodec:"), casework.StaticDefinitions{Reg: reg}, DevTokens(),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	return s, db
}

// sealed is the request body of one sealed payload holding the JSON string plain.
func sealed(plain string) string {
	reversed := []byte(`"` + plain + `"`)
	for l, r := 0, len(reversed)-1; l < r; l, r = l+1, r-1 {
		reversed[l], reversed[r] = reversed[r], reversed[l]
	}
	b64 := base64.StdEncoding.EncodeToString
	return `{"payloads":[{"metadata":{"encoding":"` + b64([]byte("binary/sealed")) + `"},"data":"` + b64(reversed) + `"}]}`
}

// decodeRequest is a decode as the Web UI sends it, with the caller's
// credential added by the test.
func decodeRequest(body string) doorRequest {
	return doorRequest{method: http.MethodPost, target: "/api/v1/codec/decode?preserveStorageRefs=true", body: body,
		contentType: "application/json", header: map[string]string{"X-Namespace": "ozgflow"}}
}

// TestCodecDecodesForAdministratorsOnly: an administrator, by session or
// bearer token, gets the payload decoded, and the trail an entry naming
// them; everybody else a problem document without the data, and the trail
// nothing.
func TestCodecDecodesForAdministratorsOnly(t *testing.T) {
	s, db := codecServer(t)
	session := func(token string) []*http.Cookie {
		return []*http.Cookie{{Name: web.SessionCookie, Value: sessionOf(s, token)}}
	}
	tests := []struct {
		name    string
		bearer  string
		cookies []*http.Cookie
		want    int
	}{
		{"an administrator's session", "", session("dev-admin"), http.StatusOK},
		{"an administrator's bearer token", "dev-admin", nil, http.StatusOK},
		{"a case worker's session", "", session("dev-sb-leipzig"), http.StatusForbidden},
		{"a case worker's bearer token", "dev-sb-leipzig", nil, http.StatusForbidden},
		{"the data protection officer", "", session("dev-datenschutz"), http.StatusForbidden},
		{"a portal client", "dev-portal", nil, http.StatusForbidden},
		{"a back-office system", "dev-fachverfahren", nil, http.StatusForbidden},
		{"an applicant", s.tokens.Issue("0b9c7a1e-1d1f-4c3e-9a53-6e0f2d3c4b5a"), []*http.Cookie{
			{Name: web.ApplicantCookie, Value: s.tokens.Issue("0b9c7a1e-1d1f-4c3e-9a53-6e0f2d3c4b5a")}}, http.StatusUnauthorized},
		{"an ended session", "", []*http.Cookie{{Name: web.SessionCookie, Value: "not-a-session"}}, http.StatusUnauthorized},
		{"nobody", "", nil, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, err := db.Trail(context.Background(), records.TrailQuery{})
			if err != nil {
				t.Fatal(err)
			}
			q := decodeRequest(sealed("Anna Muster"))
			q.bearer, q.cookies = tt.bearer, tt.cookies
			q.header["Origin"], q.header["Sec-Fetch-Site"] = webUIOrigin, "same-site"
			rec := s.serve(q)
			after, err := db.Trail(context.Background(), records.TrailQuery{})
			if err != nil {
				t.Fatal(err)
			}
			added := after[len(before):]
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.want, rec.Body)
			}
			if tt.want != http.StatusOK {
				if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type %q, want a problem document", ct)
				}
				if strings.Contains(rec.Body.String(), "Anna") || strings.Contains(rec.Body.String(), base64.StdEncoding.EncodeToString([]byte(`"Anna Muster"`))) {
					t.Errorf("a refusal shows the payload: %s", rec.Body)
				}
				if len(added) != 0 {
					t.Errorf("a refusal wrote %d entries to the trail: %+v", len(added), added)
				}
				return
			}
			var got commonpb.Payloads
			if err := protojson.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if len(got.Payloads) != 1 || string(got.Payloads[0].Data) != `"Anna Muster"` ||
				string(got.Payloads[0].Metadata["encoding"]) != "json/plain" {
				t.Errorf("decoded %s", rec.Body)
			}
			if len(added) != 1 || added[0].Action != "payload.decode" || added[0].Actor != "admin" || added[0].Role != "admin" ||
				added[0].Detail != "POST /api/v1/codec/decode; 1 payloads" {
				t.Errorf("trail entries %+v, want one payload.decode by admin", added)
			}
		})
	}
}

// TestCodecAnswersTheWebUIsOriginOnly: the Web UI's browser, on another
// port, asks first (preflight) and then sends the session's cookie; the
// gateway answers that origin with CORS, no other.
func TestCodecAnswersTheWebUIsOriginOnly(t *testing.T) {
	s, _ := codecServer(t)
	preflight := func(origin string) *http.Response {
		return s.serve(doorRequest{method: http.MethodOptions, target: "/api/v1/codec/decode", header: map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-namespace",
			"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "cors"}}).Result()
	}
	res := preflight(webUIOrigin)
	h := res.Header
	if res.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != webUIOrigin ||
		h.Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight of the Web UI: %d %v", res.StatusCode, h)
	}
	for _, want := range []string{"Content-Type", "X-Namespace"} {
		if !strings.Contains(h.Get("Access-Control-Allow-Headers"), want) {
			t.Errorf("preflight allows headers %q, without %s", h.Get("Access-Control-Allow-Headers"), want)
		}
	}
	for _, origin := range []string{"http://localhost:8234", "http://127.0.0.1:8233", "https://localhost:8233", "https://evil.example", "null"} {
		res := preflight(origin)
		if res.Header.Get("Access-Control-Allow-Origin") != "" || res.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("preflight of %s: %d %v", origin, res.StatusCode, res.Header)
		}
	}

	admin := []*http.Cookie{{Name: web.SessionCookie, Value: sessionOf(s, "dev-admin")}}
	q := decodeRequest(sealed("Anna Muster"))
	q.cookies, q.header["Origin"], q.header["Sec-Fetch-Site"] = admin, webUIOrigin, "same-site"
	rec := s.serve(q)
	if rec.Code != http.StatusOK || rec.Header().Get("Access-Control-Allow-Origin") != webUIOrigin ||
		rec.Header().Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(rec.Header().Get("Vary"), "Origin") {
		t.Errorf("decode from the Web UI: %d %v", rec.Code, rec.Header())
	}
	// Another site's page in the administrator's browser: refused before
	// anything is decoded, and nothing it could read.
	for _, site := range []struct{ origin, fetchSite string }{{"https://evil.example", "cross-site"}, {"http://localhost:9999", "same-site"}} {
		q := decodeRequest(sealed("Anna Muster"))
		q.cookies, q.header["Origin"], q.header["Sec-Fetch-Site"] = admin, site.origin, site.fetchSite
		rec := s.serve(q)
		if rec.Code != http.StatusForbidden || rec.Header().Get("Access-Control-Allow-Origin") != "" ||
			strings.Contains(rec.Body.String(), "Anna") {
			t.Errorf("decode from %s: %d %v %s", site.origin, rec.Code, rec.Header(), rec.Body)
		}
	}
	// A gateway that names no Web UI answers none.
	reg, _ := definitions.LoadCatalog(catalog.FS)
	plain := New(Config{Secret: testSecret, Records: recordstest.Open(t, "sqlite"), Codec: sealingCodec{}}, &mocks.Client{}, nil,
		casework.StaticDefinitions{Reg: reg}, DevTokens(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	res = plain.serve(doorRequest{method: http.MethodOptions, target: "/api/v1/codec/decode", header: map[string]string{
		"Origin": webUIOrigin, "Access-Control-Request-Method": "POST"}}).Result()
	if res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a gateway without Web UIs answered a preflight: %v", res.Header)
	}
}

// TestCodecRefusesWhatIsNotPayloads: whatever an administrator's client
// sends that is not payloads of ozgflow's namespace gets a 4xx problem
// document, never a 5xx.
func TestCodecRefusesWhatIsNotPayloads(t *testing.T) {
	s, _ := codecServer(t)
	b64 := base64.StdEncoding.EncodeToString
	bodies := []struct{ name, contentType, body string }{
		{"a payload that is not base64", "application/json", `{"payloads":[{"data":"not base64!"}]}`},
		{"metadata that is not base64", "application/json", `{"payloads":[{"metadata":{"encoding":"*"}}]}`},
		{"payloads as a string", "application/json", `{"payloads":"Anna"}`},
		{"a null payload", "application/json", `{"payloads":[null]}`},
		{"a payload as a number", "application/json", `{"payloads":[1]}`},
		{"an unknown field", "application/json", `{"payloads":[],"namespace":"ozgflow"}`},
		{"payloads given twice", "application/json", `{"payloads":[],"payloads":[]}`},
		{"a payload that cannot be opened", "application/json",
			`{"payloads":[{"metadata":{"encoding":"` + b64([]byte("binary/sealed")) + `"},"data":"` + b64([]byte("broken")) + `"}]}`},
	}
	bodies = append(bodies, hostileBodies...)
	admin := []*http.Cookie{{Name: web.SessionCookie, Value: sessionOf(s, "dev-admin")}}
	for _, b := range bodies {
		t.Run(b.name, func(t *testing.T) {
			q := decodeRequest(b.body)
			q.contentType, q.cookies = b.contentType, admin
			got := serveRaw(s, q)
			if got.status < 400 || got.status >= 500 || got.contentType != "application/problem+json" {
				t.Errorf("%d %s: %.300s", got.status, got.contentType, got.body)
			}
		})
	}
	t.Run("another namespace", func(t *testing.T) {
		q := decodeRequest(sealed("Anna Muster"))
		q.cookies, q.header["X-Namespace"] = admin, "default"
		got := serveRaw(s, q)
		if got.status != http.StatusBadRequest || got.contentType != "application/problem+json" || strings.Contains(got.body, "Anna") {
			t.Errorf("%d %s: %s", got.status, got.contentType, got.body)
		}
	})
	t.Run("no payloads at all", func(t *testing.T) {
		q := decodeRequest(`{}`)
		q.cookies = admin
		if got := serveRaw(s, q); got.status != http.StatusOK || strings.TrimSpace(got.body) != `{"payloads":[]}` {
			t.Errorf("%d %s", got.status, got.body)
		}
	})
}
