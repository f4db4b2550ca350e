package health

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestProbes(t *testing.T) {
	answers := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("connection refused") }
	tests := []struct {
		name       string
		checks     Checks
		path       string
		wantStatus int
		wantBody   string
	}{
		{"live", Checks{"redis": down}, "/healthz", http.StatusOK, `{"status":"ok"}` + "\n"},
		{"ready", Checks{"temporal": answers, "redis": answers}, "/readyz", http.StatusOK,
			`{"redis":"ok","temporal":"ok"}` + "\n"},
		{"redis down", Checks{"temporal": answers, "redis": down}, "/readyz", http.StatusServiceUnavailable,
			`{"redis":"connection refused","temporal":"ok"}` + "\n"},
		{"nothing to check", nil, "/readyz", http.StatusOK, `{"status":"ok"}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			Register(mux, tt.checks)
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
			if got, want := rec.Code, tt.wantStatus; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
			if got, want := rec.Body.String(), tt.wantBody; got != want {
				t.Errorf("body = %q, want %q", got, want)
			}
			if got := rec.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("content type = %q", got)
			}
		})
	}
}
