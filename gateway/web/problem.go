package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/ozgflow/ozgflow"
)

// MaxBodyBytes is the largest request body the API accepts.
const MaxBodyBytes = 10 << 20

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

// NewProblem is the problem document of an error; only the codes' status
// and the showable message and fields go out.
func NewProblem(err error) Problem {
	code := ozgflow.ErrorCode(err)
	status := StatusOf(code)
	return Problem{
		Type:   "urn:ozgflow:problem:" + strings.ToLower(strings.TrimPrefix(code, "E")),
		Title:  http.StatusText(status),
		Status: status,
		Detail: ozgflow.ErrorMessage(err),
		Errors: ozgflow.ErrorFields(err),
	}
}

// Errors writes errors as problem documents and logs internal ones.
type Errors struct{ Logger *slog.Logger }

// Write writes err as a problem document; only internal errors are logged.
func (e Errors) Write(w http.ResponseWriter, r *http.Request, err error) {
	if ozgflow.ErrorCode(err) == ozgflow.EINTERNAL {
		e.Logger.Error("Request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	WriteProblem(w, NewProblem(err))
}

// WriteProblem writes a problem document with its status.
func WriteProblem(w http.ResponseWriter, p Problem) { WriteProblemBody(w, p.Status, p) }

// WriteProblemBody writes a problem document that carries extension members
// besides those of Problem (a struct embedding Problem).
func WriteProblemBody(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// WriteJSON writes v with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// MethodNotAllowed is the problem for a known path with the wrong method.
var MethodNotAllowed = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	WriteProblem(w, Problem{Type: "urn:ozgflow:problem:method", Title: http.StatusText(http.StatusMethodNotAllowed),
		Status: http.StatusMethodNotAllowed, Detail: "Method " + r.Method + " is not allowed here."})
})

// ReadJSONBody checks content type and size and returns the body.
func ReadJSONBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return nil, ozgflow.Errorf(ozgflow.EUNSUPPORTED, "The body must be application/json.")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, ozgflow.Errorf(ozgflow.ETOOLARGE, "The body is larger than %d MiB.", MaxBodyBytes>>20)
	} else if err != nil {
		return nil, ozgflow.Errorf(ozgflow.EINVALID, "The body could not be read.")
	}
	return body, nil
}

// DecodeJSON decodes a JSON object, answering EINVALID for malformed JSON
// and for a key given twice, and EUNPROCESSABLE for NUL or invalid UTF-8
// in a string (see CheckJSON).
func DecodeJSON(body []byte, v any) error {
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
		return ozgflow.Errorf(ozgflow.EINVALID, "The body must be a JSON object.")
	}
	if err := CheckJSON(body); err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: "A field has the wrong type.",
				Fields: []ozgflow.FieldError{{Pointer: typePointer(body, typeErr),
					Detail: "must be " + typeErr.Type.String()}}}
		}
		return ozgflow.Errorf(ozgflow.EINVALID, "The body is not valid JSON: %v", err)
	}
	return nil
}

// typePointer names the value of a type error: by its offset, which knows
// the array indexes the error's Field leaves out, else by the Field.
func typePointer(body []byte, err *json.UnmarshalTypeError) string {
	if p := PointerAt(body, err.Offset); p != "" {
		return p
	}
	return "/" + strings.ReplaceAll(err.Field, ".", "/")
}

// ReadJSON reads and decodes a JSON body.
func ReadJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := ReadJSONBody(w, r)
	if err != nil {
		return err
	}
	return DecodeJSON(body, v)
}

// Paging reads offset and limit (default 50, at most 500).
func Paging(r *http.Request) (offset, limit int64, err error) {
	limit = 50
	q := r.URL.Query()
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.ParseInt(v, 10, 64); err != nil || offset < 0 {
			return 0, 0, ozgflow.BadParam("offset", "must be a number of 0 or more")
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.ParseInt(v, 10, 64); err != nil || limit < 1 || limit > 500 {
			return 0, 0, ozgflow.BadParam("limit", "must be a number from 1 to 500")
		}
	}
	return offset, limit, nil
}
