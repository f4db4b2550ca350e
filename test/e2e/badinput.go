package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
)

func badSubmissionsGetProblemsAndNoCase(t *testing.T, st *Stack) {
	valid := func() map[string]any { return gewerbeanmeldung(leipzig, "amt24-anna") }
	with := func(change func(m map[string]any)) map[string]any {
		m := valid()
		change(m)
		return m
	}
	huge := bytes.Repeat([]byte(" "), 10<<20+1)
	copy(huge, []byte(`{"service":"gewerbeanmeldung"`))
	tests := []struct {
		name        string
		token       string
		contentType string
		body        any
		wantStatus  int
		wantPointer []string
	}{
		{"malformed JSON", "dev-portal", "application/json", []byte(`{"service": "gewerbe`), http.StatusBadRequest, nil},
		{"not an object", "dev-portal", "application/json", []byte(`[1,2]`), http.StatusBadRequest, nil},
		{"wrong content type", "dev-portal", "text/plain", []byte(`{}`), http.StatusUnsupportedMediaType, nil},
		{"body over 10 MiB", "dev-portal", "application/json", huge, http.StatusRequestEntityTooLarge, nil},
		{"no token", "", "application/json", valid(), http.StatusUnauthorized, nil},
		{"case worker may not submit", "dev-sb-leipzig", "application/json", valid(), http.StatusForbidden, nil},
		{"unknown service", "dev-portal", "application/json",
			with(func(m map[string]any) { m["service"] = "99999999999999" }), http.StatusNotFound, nil},
		{"unknown authority", "dev-portal", "application/json",
			with(func(m map[string]any) { m["authority"] = "999999999999" }), http.StatusNotFound, nil},
		{"no variant for the pair", "dev-portal", "application/json",
			with(func(m map[string]any) { m["authority"] = chemnitz }), http.StatusNotFound, nil},
		{"missing fields", "dev-portal", "application/json", map[string]any{"data": map[string]any{}},
			http.StatusUnprocessableEntity, []string{"/service", "/authority", "/applicant/name"}},
		{"wrong type", "dev-portal", "application/json",
			with(func(m map[string]any) { m["service"] = 42 }), http.StatusUnprocessableEntity, []string{"/service"}},
		{"schema violations, one per field", "dev-portal", "application/json", with(func(m map[string]any) {
			d := m["data"].(map[string]any)
			b := d["betrieb"].(map[string]any)
			b["rechtsform"] = "verein"
			b["beginn"] = "nächste Woche"
			delete(b, "name")
			d["anschrift"].(map[string]any)["plz"] = "4109"
		}), http.StatusUnprocessableEntity, []string{"/data/betrieb/beginn", "/data/betrieb/name",
			"/data/betrieb/rechtsform", "/data/anschrift/plz"}},
		{"name too long", "dev-portal", "application/json", with(func(m map[string]any) {
			m["applicant"].(map[string]any)["name"] = strings.Repeat("A", ozgflow.MaxNameRunes+1)
		}), http.StatusUnprocessableEntity, []string{"/applicant/name"}},
		{"line break in the name", "dev-portal", "application/json", with(func(m map[string]any) {
			m["applicant"].(map[string]any)["name"] = "Anna\r\nMuster"
		}), http.StatusUnprocessableEntity, []string{"/applicant/name"}},
		{"NUL in the name", "dev-portal", "application/json", with(func(m map[string]any) {
			m["applicant"].(map[string]any)["name"] = "Anna\x00"
		}), http.StatusUnprocessableEntity, []string{"/applicant/name"}},
		{"invalid UTF-8 in the name", "dev-portal", "application/json",
			[]byte("{\"service\":\"gewerbeanmeldung\",\"authority\":\"" + leipzig + "\",\"applicant\":{\"name\":\"Anna \xff\"},\"data\":{}}"),
			http.StatusUnprocessableEntity, []string{"/applicant/name"}},
		{"e-mail with a display name", "dev-portal", "application/json", with(func(m map[string]any) {
			m["applicant"].(map[string]any)["email"] = "Anna <anna@example.org>"
		}), http.StatusUnprocessableEntity, []string{"/applicant/email"}},
		{"portal account outside its characters", "dev-portal", "application/json", with(func(m map[string]any) {
			m["applicant"].(map[string]any)["portalAccount"] = "amt24-anna muster"
		}), http.StatusUnprocessableEntity, []string{"/applicant/portalAccount"}},
		{"duplicate key", "dev-portal", "application/json",
			[]byte(`{"service":"gewerbeanmeldung","service":"hundesteuer-anmeldung","authority":"` + leipzig + `"}`),
			http.StatusBadRequest, []string{"/service"}},
		{"data over 256 KiB", "dev-portal", "application/json", with(func(m map[string]any) {
			m["data"].(map[string]any)["betrieb"].(map[string]any)["taetigkeit"] = strings.Repeat("x", ozgflow.MaxDataBytes)
		}), http.StatusRequestEntityTooLarge, []string{"/data"}},
	}
	before := st.countCases(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := st.api(t, http.MethodPost, "/api/v1/applications", tt.token, tt.body, "Content-Type", tt.contentType)
			var p struct {
				Status int                  `json:"status"`
				Detail string               `json:"detail"`
				Errors []ozgflow.FieldError `json:"errors"`
			}
			if err := json.Unmarshal(res.Body, &p); err != nil {
				t.Fatalf("problem body: %v", err)
			}
			if res.Status != tt.wantStatus || p.Status != tt.wantStatus {
				t.Fatalf("status %d (body %d: %s), want %d", res.Status, p.Status, p.Detail, tt.wantStatus)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type %q", ct)
			}
			if p.Detail == "" {
				t.Error("problem without detail")
			}
			if tt.wantPointer != nil {
				got := map[string]bool{}
				for _, e := range p.Errors {
					got[e.Pointer] = true
				}
				for _, ptr := range tt.wantPointer {
					if !got[ptr] {
						t.Errorf("no error at %s: %+v", ptr, p.Errors)
					}
				}
				if len(p.Errors) != len(tt.wantPointer) {
					t.Errorf("%d errors, want %d: %+v", len(p.Errors), len(tt.wantPointer), p.Errors)
				}
			}
		})
	}
	if after := st.countCases(t); after != before {
		t.Errorf("bad submissions started %d cases", after-before)
	}
}

func badRequestsToOtherEndpoints(t *testing.T, st *Stack) {
	s := st.submit(t, hundesteuer(dresden))
	tests := []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		{"unknown route", http.MethodGet, "/api/v1/nothing", "dev-admin", nil, http.StatusNotFound},
		{"wrong method", http.MethodDelete, "/api/v1/applications/" + s.ID, s.Token, nil, http.StatusMethodNotAllowed},
		{"unknown case", http.MethodGet, "/api/v1/applications/00000000-0000-4000-8000-000000000000", "dev-admin", nil, http.StatusNotFound},
		{"malformed case id", http.MethodGet, "/api/v1/applications/..%2f..", "dev-admin", nil, http.StatusNotFound},
		{"unknown task", http.MethodPost, "/api/v1/tasks/nope/claim", "dev-sb-dresden", nil, http.StatusNotFound},
		{"task of a case that has none", http.MethodPost, "/api/v1/tasks/" + s.ID + ".review.1/complete", "dev-sb-dresden",
			map[string]any{}, http.StatusNotFound},
		{"applicant may not list tasks", http.MethodGet, "/api/v1/tasks", s.Token, nil, http.StatusUnauthorized},
		{"portal may not list tasks", http.MethodGet, "/api/v1/tasks", "dev-portal", nil, http.StatusForbidden},
		{"bad paging", http.MethodGet, "/api/v1/tasks?limit=0", "dev-sb-dresden", nil, http.StatusBadRequest},
		{"admin without authority", http.MethodGet, "/api/v1/tasks", "dev-admin", nil, http.StatusBadRequest},
		{"unsigned payment webhook", http.MethodPost, "/api/v1/webhooks/payments", "",
			map[string]any{"paymentId": "p", "caseId": s.ID, "status": "PAYED"}, http.StatusUnauthorized},
		{"event without name", http.MethodPost, "/api/v1/applications/" + s.ID + "/events", "dev-fachverfahren",
			map[string]any{}, http.StatusUnprocessableEntity},
		{"applicant may not send events", http.MethodPost, "/api/v1/applications/" + s.ID + "/events", s.Token,
			map[string]any{"event": "x"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, devOnly := DevOnly[tt.token]; devOnly && !st.InDev(t, tt.token) {
				return
			}
			res := st.api(t, tt.method, tt.path, tt.token, tt.body)
			if res.Status != tt.want {
				t.Fatalf("got %d, want %d: %s", res.Status, tt.want, res.Body)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type %q", ct)
			}
		})
	}
	// The case went on untouched by all of that.
	st.waitStatus(t, s, "approved")
}

// oversizedTaskActionsAreRefused: a 3 MB decision comment, a comment with
// NUL and a body naming the outcome twice are refused with a problem
// naming the field, and send no update: the case's workflow stays well and
// takes the valid decision right after.
func oversizedTaskActionsAreRefused(t *testing.T, st *Stack) {
	s, taskID := st.paidGewerbeTask(t, leipzig, "dev-sb-leipzig")
	task := "/api/v1/tasks/" + taskID
	if res := st.api(t, http.MethodPost, task+"/claim", "dev-sb-leipzig", nil); res.Status != http.StatusOK {
		t.Fatalf("claim: %d %s", res.Status, res.Body)
	}
	tests := []struct {
		name    string
		body    any
		status  int
		pointer string
	}{
		{"3 MB comment", map[string]any{"outcome": "approve", "comment": strings.Repeat("Begründung ", 3<<20/12)},
			http.StatusUnprocessableEntity, "/comment"},
		{"NUL in the comment", map[string]any{"outcome": "approve", "comment": "ok\x00"}, http.StatusUnprocessableEntity, "/comment"},
		{"outcome given twice", []byte(`{"outcome":"reject","outcome":"approve"}`), http.StatusBadRequest, "/outcome"},
		{"too many fields asked", map[string]any{"outcome": "request_information", "comment": "Bitte",
			"fields": strings.Split(strings.Repeat("f,", ozgflow.MaxFieldsAsked+1), ",")}, http.StatusUnprocessableEntity, "/fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := st.api(t, http.MethodPost, task+"/complete", "dev-sb-leipzig", tt.body)
			var p struct {
				Errors []ozgflow.FieldError `json:"errors"`
			}
			_ = json.Unmarshal(res.Body, &p)
			if res.Status != tt.status || len(p.Errors) == 0 || p.Errors[0].Pointer != tt.pointer {
				t.Fatalf("got %d %+v, want %d naming %s", res.Status, p.Errors, tt.status, tt.pointer)
			}
		})
	}
	start := time.Now()
	if res := st.api(t, http.MethodPost, task+"/complete", "dev-sb-leipzig",
		map[string]any{"outcome": "approve", "comment": "Alles in Ordnung."}); res.Status != http.StatusOK {
		t.Fatalf("valid decision after the refusals: %d %s", res.Status, res.Body)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the valid decision took %s: the workflow task was failing", took)
	}
	// Leipzig decides with four eyes.
	if res := st.api(t, http.MethodPost, task+"/approve", "dev-sb-leipzig-2", map[string]any{"approve": true}); res.Status != http.StatusOK {
		t.Fatalf("approval: %d %s", res.Status, res.Body)
	}
	st.waitStatus(t, s, "approved")
}
