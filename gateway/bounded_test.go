package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/mocks"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/gateway/web"
)

// Bounded input: every path that takes text from outside refuses what is
// too long, holds control characters, NUL or invalid UTF-8, names a key
// twice or is no e-mail address, with a problem naming the field, and
// before anything reaches Temporal.

// submitBody is a valid application with one field of the applicant
// replaced by raw JSON.
func submitBody(field, raw string) string {
	applicant := map[string]string{"name": `"Anna Muster"`, "email": `"anna@example.org"`, "portalAccount": `"amt24-anna"`}
	applicant[field] = raw
	return `{"service":"gewerbeanmeldung","authority":"147130000000","applicant":{"name":` + applicant["name"] +
		`,"email":` + applicant["email"] + `,"portalAccount":` + applicant["portalAccount"] + `},"data":` + gewerbeData + `}`
}

const gewerbeData = `{"betrieb":{"name":"Muster GmbH","taetigkeit":"Handel","beginn":"2026-01-01","rechtsform":"gmbh"},` +
	`"anschrift":{"strasse":"Hauptstraße","hausnummer":"1","plz":"04109","ort":"Leipzig"}}`

// jsonString encodes s as a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestAPIRefusesUnboundedInput(t *testing.T) {
	tc := &mocks.Client{} // any call to Temporal fails the test: none is expected
	s, st := doorServer(t, Config{}, tc)
	c := testCase(ozgflow.StatusInformationRequested)
	if err := st.SaveCase(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	applicant := s.tokens.Issue(c.ID)
	task := "/api/v1/tasks/" + ozgflow.TaskID(c.ID, "review", 1)
	threeMB := strings.Repeat("Begründung ", 3<<20/12)
	bigData := `{"betrieb":{"name":"` + strings.Repeat("x", 300<<10) + `"}}`
	multipart := func(text string) (string, string) {
		const boundary = "boundedboundary"
		return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n" + text + "\r\n--" + boundary + "--\r\n",
			"multipart/form-data; boundary=" + boundary
	}
	type row struct {
		name    string
		q       doorRequest
		status  int
		pointer string
	}
	post := func(target, bearer, body string) doorRequest {
		return doorRequest{method: http.MethodPost, target: target, bearer: bearer, body: body, contentType: "application/json"}
	}
	rows := []row{
		{"submit: name too long", post("/api/v1/applications", "dev-portal", submitBody("name", jsonString(strings.Repeat("A", 201)))),
			422, "/applicant/name"},
		{"submit: line break in the name", post("/api/v1/applications", "dev-portal", submitBody("name", `"Anna\nMuster"`)),
			422, "/applicant/name"},
		{"submit: NUL in the name", post("/api/v1/applications", "dev-portal", submitBody("name", `"Anna\u0000"`)),
			422, "/applicant/name"},
		{"submit: invalid UTF-8 in the name", post("/api/v1/applications", "dev-portal", submitBody("name", "\"Anna \xff\"")),
			422, "/applicant/name"},
		{"submit: e-mail with a display name", post("/api/v1/applications", "dev-portal", submitBody("email", `"Anna <anna@example.org>"`)),
			422, "/applicant/email"},
		{"submit: two e-mail addresses", post("/api/v1/applications", "dev-portal", submitBody("email", `"a@example.org,b@example.org"`)),
			422, "/applicant/email"},
		{"submit: portal account outside its characters", post("/api/v1/applications", "dev-portal", submitBody("portalAccount", `"amt24-anna/../x"`)),
			422, "/applicant/portalAccount"},
		{"submit: duplicate key", post("/api/v1/applications", "dev-portal",
			strings.Replace(submitBody("name", `"Anna"`), `"name":"Anna"`, `"name":"Anna","name":"Ben"`, 1)), 400, "/applicant/name"},
		{"submit: data over 256 KiB", post("/api/v1/applications", "dev-portal",
			strings.Replace(submitBody("name", `"Anna"`), gewerbeData, bigData, 1)), 413, "/data"},
		{"complete: 3 MB comment", post(task+"/complete", "dev-sb-leipzig", `{"outcome":"approve","comment":`+jsonString(threeMB)+`}`),
			422, "/comment"},
		{"complete: NUL in the comment", post(task+"/complete", "dev-sb-leipzig", `{"outcome":"approve","comment":"ok\u0000"}`),
			422, "/comment"},
		{"complete: escape in the comment", post(task+"/complete", "dev-sb-leipzig", `{"outcome":"approve","comment":"rot\u001b[31m"}`),
			422, "/comment"},
		{"complete: duplicate outcome", post(task+"/complete", "dev-sb-leipzig", `{"outcome":"approve","outcome":"reject"}`),
			400, "/outcome"},
		{"complete: field name with a line break", post(task+"/complete", "dev-sb-leipzig",
			`{"outcome":"request_information","comment":"Bitte","fields":["a","b\nc"]}`), 422, "/fields/1"},
		{"handover: note too long", post(task+"/handover", "dev-sb-leipzig", `{"queue":"gewerbe","note":`+jsonString(strings.Repeat("n", 2001))+`}`),
			422, "/note"},
		{"approve: invalid UTF-8 in the comment", post(task+"/approve", "dev-sb-leipzig", "{\"approve\":true,\"comment\":\"\xc3\x28\"}"),
			422, "/comment"},
		{"bulk: note too long", post("/api/v1/tasks/bulk", "dev-sb-leipzig",
			`{"action":"handover","taskIds":["x"],"queue":"gewerbe","note":`+jsonString(strings.Repeat("n", 2001))+`}`), 422, "/note"},
		{"answer: text too long", post("/api/v1/applications/"+c.ID+"/responses", applicant, `{"text":`+jsonString(strings.Repeat("a", 10_001))+`}`),
			422, "/text"},
		{"answer: NUL in the text", post("/api/v1/applications/"+c.ID+"/responses", applicant, `{"text":"a\u0000"}`), 422, "/text"},
		{"answer: data over 64 KiB", post("/api/v1/applications/"+c.ID+"/responses", applicant,
			`{"text":"a","data":{"x":"`+strings.Repeat("x", 65<<10)+`"}}`), 413, "/data"},
		{"withdraw: reason too long", post("/api/v1/applications/"+c.ID+"/withdraw", applicant, `{"reason":`+jsonString(strings.Repeat("r", 2001))+`}`),
			422, "/reason"},
		{"withdraw: duplicate reason", post("/api/v1/applications/"+c.ID+"/withdraw", applicant, `{"reason":"a","reason":"b"}`),
			400, "/reason"},
		{"event: name with a line break", post("/api/v1/applications/"+c.ID+"/events", "dev-fachverfahren", `{"event":"geprüft\r\nX-Evil: 1"}`),
			422, "/event"},
		{"event: comment too long", post("/api/v1/applications/"+c.ID+"/events", "dev-fachverfahren",
			`{"event":"geprueft","comment":`+jsonString(strings.Repeat("c", 5001))+`}`), 422, "/comment"},
	}
	for _, text := range []struct{ name, text string }{{"control character", "Antwort\x07"}, {"NUL", "Antwort\x00"}, {"invalid UTF-8", "Antwort \xff"}} {
		body, ct := multipart(text.text)
		rows = append(rows, row{"answer as multipart: " + text.name,
			doorRequest{method: http.MethodPost, target: "/api/v1/applications/" + c.ID + "/responses", bearer: applicant, body: body, contentType: ct},
			422, "/text"})
	}
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			rec := s.serve(tt.q)
			assertProblemAt(t, rec, tt.status, tt.pointer)
		})
	}
	tc.AssertExpectations(t)
	if len(tc.Calls) > 0 {
		t.Errorf("Temporal was called: %v", tc.Calls)
	}
}

// assertProblemAt checks a problem document with status that names pointer.
func assertProblemAt(t *testing.T, rec *httptest.ResponseRecorder, status int, pointer string) {
	t.Helper()
	var p web.Problem
	if rec.Code != status || rec.Header().Get("Content-Type") != "application/problem+json" || json.Unmarshal(rec.Body.Bytes(), &p) != nil {
		t.Fatalf("HTTP %d %s, want %d problem: %.300s", rec.Code, rec.Header().Get("Content-Type"), status, rec.Body.String())
	}
	for _, e := range p.Errors {
		if e.Pointer == pointer && e.Detail != "" {
			return
		}
	}
	t.Errorf("problem names %+v, want %s", p.Errors, pointer)
}

// TestPagesRefuseUnboundedInput: the staff's task forms and the applicant's
// answer and withdrawal say in German what is wrong, and send no update.
func TestPagesRefuseUnboundedInput(t *testing.T) {
	tc := &mocks.Client{}
	// The case view shown again asks what the case started with; only that
	// is expected.
	input := &mocks.Value{}
	input.On("Get", mock.Anything).Return(nil)
	tc.On("QueryWorkflow", mock.Anything, mock.Anything, mock.Anything, ozgflow.QueryInput).Return(input, nil)
	s, st := doorServer(t, Config{}, tc)
	c := testCase(ozgflow.StatusInformationRequested)
	if err := st.SaveCase(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	token := s.tokens.Issue(c.ID)
	taskForm := "/arbeitskorb/aufgaben/" + ozgflow.TaskID(c.ID, "review", 1) + "/"
	tests := []struct {
		name      string
		path      string
		form      url.Values
		multipart bool
		status    int
		want      string
	}{
		{"decision with a 3 MB comment", taskForm + "entscheiden",
			url.Values{"outcome": {"approve"}, "comment": {strings.Repeat("x", 3<<20)}}, false, 422,
			"Der Kommentar ist zu lang: höchstens 5000 Zeichen sind möglich."},
		{"question with NUL", taskForm + "nachfragen", url.Values{"question": {"Bitte\x00"}}, false, 422,
			"Der Kommentar enthält ungültige Zeichen."},
		{"hand-over note too long", taskForm + "abgeben", url.Values{"queue": {"gewerbe"}, "note": {strings.Repeat("n", 2001)}}, false, 422,
			"Die Notiz ist zu lang: höchstens 2000 Zeichen sind möglich."},
		{"answer with a control character", "/antraege/" + c.ID + "/antwort", url.Values{"text": {"Antwort\x1b"}}, true, 422,
			"Ihre Antwort enthält Steuerzeichen."},
		{"withdrawal reason too long", "/antraege/" + c.ID + "/zurueckziehen", url.Values{"reason": {strings.Repeat("r", 2001)}}, false, 422,
			"Der Grund ist zu lang: höchstens 2000 Zeichen sind möglich."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cookies := credentialsFor(s, tt.path, token)
			tt.form.Set("csrf", pageFormToken(tt.path, cookies))
			rec := postForm(s, tt.path, tt.form, tt.multipart, cookies, nil)
			body := rec.Body.String()
			if rec.Code != tt.status || !strings.Contains(body, tt.want) {
				t.Errorf("HTTP %d, want %d saying %q: %.2000s", rec.Code, tt.status, tt.want, body)
			}
		})
	}
	tc.AssertNotCalled(t, "UpdateWorkflow", mock.Anything, mock.Anything)
	tc.AssertNotCalled(t, "SignalWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything)
}
