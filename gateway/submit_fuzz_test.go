package gateway

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/mocks"

	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
	"github.com/ozgflow/ozgflow/internal/recordstest"
	"github.com/ozgflow/ozgflow/internal/redistest"
)

// FuzzSubmit posts any body to POST /api/v1/applications as a portal
// client. The decoder, the checks of the submission and the variant's
// schema must answer every input with a 4xx problem (or 503 from the engine,
// which is down here); never 500, never a panic.
func FuzzSubmit(f *testing.F) {
	st := redistest.Store(f, "fuzzsubmit:")
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		f.Fatal(err)
	}
	tc := &mocks.Client{}
	down := serviceerror.NewUnavailable("temporal is down for the fuzz test")
	tc.On("NewWithStartWorkflowOperation", mock.Anything, mock.Anything, mock.Anything).Return(nil)
	tc.On("UpdateWithStartWorkflow", mock.Anything, mock.Anything).Return(nil, down)
	tc.On("QueryWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(nil, down)
	s := New(Config{Secret: testSecret, Records: recordstest.Open(f, "sqlite")}, tc, st, casework.StaticDefinitions{Reg: reg}, DevTokens(),
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, seed := range []string{
		`{"service":"99050035001000","authority":"147130000000","applicant":{"name":"Anna","email":"anna@example.org","portalAccount":"amt24-anna"},"data":{"betrieb":{"name":"Café","rechtsform":"einzelunternehmen"}}}`,
		`{"service":"99050035001000","authority":"147130000000","data":[]}`,
		`{"service":1,"data":{"a":{"a":{"a":{"a":null}}}}}`,
		`{"service":"x","service":"y"}`,
		`{"applicant":{"name":"\u0000"},"attachments":[{"name":"../../etc/passwd","sha256":"zz"}]}`,
		`[]`, `null`, `"`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/applications", bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer dev-portal")
		r.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, r)
		if rec.Code == http.StatusInternalServerError || rec.Code < 400 && rec.Code != http.StatusCreated {
			t.Fatalf("body %q answered %d: %s", body, rec.Code, rec.Body.String())
		}
		var problem struct {
			Status int `json:"status"`
		}
		if rec.Code >= 400 && (rec.Header().Get("Content-Type") != "application/problem+json" ||
			json.Unmarshal(rec.Body.Bytes(), &problem) != nil || problem.Status != rec.Code) {
			t.Fatalf("body %q: %d without a problem document: %s", body, rec.Code, rec.Body.String())
		}
	})
}
