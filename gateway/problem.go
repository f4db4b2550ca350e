package gateway

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type   string               `json:"type"`
	Title  string               `json:"title"`
	Status int                  `json:"status"`
	Detail string               `json:"detail,omitempty"`
	Errors []ozgflow.FieldError `json:"errors,omitempty"`
}

var codeStatus = map[string]int{
	ozgflow.EINVALID:       http.StatusBadRequest,
	ozgflow.EUNAUTHORIZED:  http.StatusUnauthorized,
	ozgflow.EFORBIDDEN:     http.StatusForbidden,
	ozgflow.ENOTFOUND:      http.StatusNotFound,
	ozgflow.ECONFLICT:      http.StatusConflict,
	ozgflow.ETOOLARGE:      http.StatusRequestEntityTooLarge,
	ozgflow.EUNSUPPORTED:   http.StatusUnsupportedMediaType,
	ozgflow.EUNPROCESSABLE: http.StatusUnprocessableEntity,
	ozgflow.EUNAVAILABLE:   http.StatusServiceUnavailable,
	ozgflow.EINTERNAL:      http.StatusInternalServerError,
}

// StatusOf maps an error code to its HTTP status.
func StatusOf(code string) int {
	if s, ok := codeStatus[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// fromTemporal turns errors of Temporal calls into ozgflow errors: update
// refusals carry their code as the application error type.
func fromTemporal(err error) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		if _, known := codeStatus[appErr.Type()]; known {
			e := &ozgflow.Error{Code: appErr.Type(), Message: appErr.Message()}
			if appErr.HasDetails() {
				_ = appErr.Details(&e.Fields)
			}
			return e
		}
	}
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return ozgflow.Errorf(ozgflow.ENOTFOUND, "Application not found.")
	}
	var unavailable *serviceerror.Unavailable
	if errors.As(err, &unavailable) {
		return ozgflow.Errorf(ozgflow.EUNAVAILABLE, "The processing engine is not reachable; please try again.")
	}
	if isClosedError(err) {
		return ozgflow.Errorf(ozgflow.ECONFLICT, "The case is already closed.")
	}
	return err
}

// writeError writes err as a problem document; only internal errors are logged.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := ozgflow.ErrorCode(err)
	if code == ozgflow.EINTERNAL {
		s.logger.Error("Request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	status := StatusOf(code)
	writeProblem(w, Problem{
		Type:   "urn:ozgflow:problem:" + strings.ToLower(strings.TrimPrefix(code, "E")),
		Title:  http.StatusText(status),
		Status: status,
		Detail: ozgflow.ErrorMessage(err),
		Errors: ozgflow.ErrorFields(err),
	})
}

func writeProblem(w http.ResponseWriter, p Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeJSON writes v with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeJSONBody writes v as JSON keeping a content type set before.
func writeJSONBody(w http.ResponseWriter, v any) {
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(v)
}

// problemHandler answers every request with one problem, for unknown routes.
func problemHandler(code, message string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := StatusOf(code)
		writeProblem(w, Problem{Type: "urn:ozgflow:problem:" + strings.ToLower(strings.TrimPrefix(code, "E")),
			Title: http.StatusText(status), Status: status, Detail: message})
	})
}

// methodNotAllowed is the problem for a known path with the wrong method.
var methodNotAllowed = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, Problem{Type: "urn:ozgflow:problem:method", Title: http.StatusText(http.StatusMethodNotAllowed),
		Status: http.StatusMethodNotAllowed, Detail: "Method " + r.Method + " is not allowed here."})
})
