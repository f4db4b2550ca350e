// Package httperr reads the error answers of the HTTP services the adapters
// call.
package httperr

import (
	"encoding/json"
	"strings"
)

// Text takes the message out of an {"error": "..."} body, or the body itself
// (shortened) when it has another shape.
func Text(b []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return e.Error
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
