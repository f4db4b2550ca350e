package e2e

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestContractFindsDrift keeps the contract honest: a server that answers
// what its document does not describe is caught, one that keeps to it is not.
func TestContractFindsDrift(t *testing.T) {
	const doc = `openapi: 3.1.0
info: {title: t, version: "1"}
servers: [{url: /api/v1}]
paths:
  /things/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200":
          description: A thing
          content:
            application/json:
              schema:
                type: object
                properties:
                  name: {type: string}
                  due: {type: [string, "null"], format: date-time}
`
	answers := map[string]struct {
		status int
		body   string
	}{
		"/api/v1/things/kept":        {200, `{"name": "a", "due": null}`},
		"/api/v1/things/kept-too":    {200, `{"due": "2026-01-02T03:04:05Z"}`},
		"/api/v1/things/status":      {500, `{"name": "a"}`},
		"/api/v1/things/extra-field": {200, `{"name": "a", "colour": "red"}`},
		"/api/v1/things/wrong-type":  {200, `{"name": 1}`},
		"/api/v1/things/null":        {200, `{"name": null}`},
		"/api/v1/undescribed":        {200, `{}`},
		"/api/v1/unrouted":           {404, `{}`},
		"/outside-the-api":           {200, `{"anything": true}`},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/openapi.yaml" {
			w.Write([]byte(doc))
			return
		}
		a := answers[r.URL.Path]
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		w.Write([]byte(a.body))
	}))
	defer srv.Close()

	for path, wantDrift := range map[string]bool{
		"/api/v1/things/kept": false, "/api/v1/things/kept-too": false, "/api/v1/unrouted": false, "/outside-the-api": false,
		"/api/v1/things/status": true, "/api/v1/things/extra-field": true, "/api/v1/things/wrong-type": true,
		"/api/v1/things/null": true, "/api/v1/undescribed": true,
	} {
		res, err := suiteClient.Get(srv.URL + path)
		if err == nil {
			res.Body.Close()
		}
		if gotDrift := err != nil; gotDrift != wantDrift {
			t.Errorf("GET %s: drift %v, want %v (%v)", path, gotDrift, wantDrift, err)
		}
		if err != nil && !strings.Contains(err.Error(), "GET "+path+" answered") {
			t.Errorf("GET %s: the error does not say what was asked: %v", path, err)
		}
	}
}
