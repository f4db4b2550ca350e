package test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/records"
	"github.com/ozgflow/ozgflow/test/e2e"
)

// webClient is a browser's plain HTTP, without the suite's contract check.
var webClient = &http.Client{Timeout: 30 * time.Second}

// TestWebUIShowsDecryptedPayloadsToAdministratorsOnly follows a case into
// the Temporal Web UI that dev serves: its input, as the UI's API hands it
// to the browser, is encrypted; the codec endpoint the UI's settings name
// decrypts it for a signed-in administrator, answering the UI's origin
// with CORS, and refuses a case worker, the applicant and anybody else
// without a word of it.
func TestWebUIShowsDecryptedPayloadsToAdministratorsOnly(t *testing.T) {
	if dev.UIURL == "" {
		t.Fatal("dev serves no Web UI")
	}
	settings := getJSON(t, dev.UIURL+"/api/v1/settings")
	codec, _ := settings["Codec"].(map[string]any)
	endpoint, _ := codec["Endpoint"].(string)
	if endpoint != dev.URL+"/api/v1/codec" || codec["IncludeCredentials"] != true {
		t.Fatalf("the UI's codec settings: %v", codec)
	}

	name := "Anna Codec-" + uuid.NewString()[:8]
	application := e2e.Gewerbeanmeldung(e2e.Leipzig, "amt24-webui")
	application["applicant"].(map[string]any)["name"] = name
	submitted := postJSON(t, dev.URL+"/api/v1/applications", "dev-portal", application)
	caseID, accessToken := submitted["id"].(string), submitted["accessToken"].(string)

	// The history as the UI's browser reads it.
	history := getJSON(t, dev.UIURL+"/api/v1/namespaces/"+url.PathEscape(ozgflow.Namespace)+
		"/workflows/"+url.PathEscape(ozgflow.CaseWorkflowID(caseID))+"/history")
	var input json.RawMessage
	for _, e := range history["history"].(map[string]any)["events"].([]any) {
		if attrs, ok := e.(map[string]any)["workflowExecutionStartedEventAttributes"].(map[string]any); ok {
			input, _ = json.Marshal(attrs["input"])
		}
	}
	var encrypted commonpb.Payloads
	if err := protojson.Unmarshal(input, &encrypted); err != nil || len(encrypted.Payloads) == 0 {
		t.Fatalf("the case's input in the UI: %s (%v)", input, err)
	}
	for _, p := range encrypted.Payloads {
		if bytes.Contains(p.Data, []byte(name)) || string(p.Metadata["encoding"]) != "binary/encrypted" {
			t.Fatalf("the UI shows the input unencrypted: %s", input)
		}
	}

	decode := func(origin string, bearer string, cookies ...*http.Cookie) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, endpoint+"/decode?preserveStorageRefs=true", bytes.NewReader(input))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Namespace", ozgflow.Namespace)
		req.Header.Set("Origin", origin)
		req.Header.Set("Sec-Fetch-Site", "same-site")
		req.Header.Set("Sec-Fetch-Mode", "cors")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		for _, c := range cookies {
			req.AddCookie(c)
		}
		res, err := webClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(body)
	}
	session := func(token string) *http.Cookie {
		return &http.Cookie{Name: "ozgflow_session", Value: e2e.SignIn(t, dev.URL, token)}
	}
	decodes := func() int {
		entries, err := dev.Records.Trail(context.Background(), records.TrailQuery{Actor: "admin", Newest: true})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range entries {
			if e.Action == "payload.decode" {
				n++
			}
		}
		return n
	}

	before := decodes()
	res, body := decode(dev.UIURL, "", session("dev-admin"))
	if res.StatusCode != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != dev.UIURL ||
		res.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("the administrator's decode: %d %v %s", res.StatusCode, res.Header, body)
	}
	var decoded commonpb.Payloads
	if err := protojson.Unmarshal([]byte(body), &decoded); err != nil || len(decoded.Payloads) != len(encrypted.Payloads) {
		t.Fatalf("decoded: %s (%v)", body, err)
	}
	if string(decoded.Payloads[0].Metadata["encoding"]) != "json/plain" || !bytes.Contains(decoded.Payloads[0].Data, []byte(name)) {
		t.Errorf("the decoded input lacks the applicant's name: %s", decoded.Payloads[0].Data)
	}
	if got := decodes(); got != before+1 {
		t.Errorf("the trail has %d new payload.decode entries by admin, want 1", got-before)
	}

	for _, refused := range []struct {
		who     string
		bearer  string
		cookies []*http.Cookie
		want    int
	}{
		{"a case worker of the case's authority", "", []*http.Cookie{session("dev-sb-leipzig")}, http.StatusForbidden},
		{"the applicant", accessToken, []*http.Cookie{{Name: "ozgflow_antrag", Value: accessToken}}, http.StatusUnauthorized},
		{"nobody", "", nil, http.StatusUnauthorized},
	} {
		res, body := decode(dev.UIURL, refused.bearer, refused.cookies...)
		if res.StatusCode != refused.want || res.Header.Get("Content-Type") != "application/problem+json" ||
			strings.Contains(body, name) {
			t.Errorf("%s: %d %s %s", refused.who, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
	}
	if got := decodes(); got != before+1 {
		t.Errorf("refused decodes wrote %d entries", got-before-1)
	}

	// The browser asks before it sends the cookie: the UI's origin is
	// answered, another is not.
	for origin, want := range map[string]bool{dev.UIURL: true, "http://localhost:1": false} {
		req, _ := http.NewRequest(http.MethodOptions, endpoint+"/decode", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type,x-namespace")
		res, err := webClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		allowed := res.Header.Get("Access-Control-Allow-Origin") == origin && res.Header.Get("Access-Control-Allow-Credentials") == "true" &&
			strings.Contains(strings.ToLower(res.Header.Get("Access-Control-Allow-Headers")), "x-namespace")
		if allowed != want {
			t.Errorf("preflight from %s: %d %v, want allowed %v", origin, res.StatusCode, res.Header, want)
		}
	}
}

func getJSON(t *testing.T, target string) map[string]any {
	t.Helper()
	res, err := webClient.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", target, res.StatusCode, err)
	}
	return out
}

func postJSON(t *testing.T, target, bearer string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, target, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	res, err := webClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode >= 300 {
		t.Fatalf("POST %s: %d %v %v", target, res.StatusCode, out, err)
	}
	return out
}
