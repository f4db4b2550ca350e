// Package sandbox holds what the in-process sandboxes of the adapters share:
// their journal, the list of what arrived, the outage switch and the JSON
// and HTML answers.
package sandbox

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
)

// WriteJSON answers v as JSON with the given status; the sandboxes share it.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError answers {"error": msg}.
func WriteError(w http.ResponseWriter, status int, msg string) {
	WriteJSON(w, status, map[string]string{"error": msg})
}

// WritePage renders a sandbox's HTML page with the given status. A template
// that fails sends a plain German error instead and returns the failure for
// the caller's log.
func WritePage(w http.ResponseWriter, status int, page *template.Template, data any) error {
	var buf bytes.Buffer
	if err := page.Execute(&buf, data); err != nil {
		http.Error(w, "Die Seite konnte nicht angezeigt werden.", http.StatusInternalServerError)
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}
