package ozgflow

import (
	"errors"
	"fmt"
)

// Error codes shared by every layer; the gateway maps each to an HTTP status.
const (
	ECONFLICT      = "ECONFLICT"
	EINTERNAL      = "EINTERNAL"
	EINVALID       = "EINVALID"
	ENOTFOUND      = "ENOTFOUND"
	EUNAUTHORIZED  = "EUNAUTHORIZED"
	EFORBIDDEN     = "EFORBIDDEN"
	EUNPROCESSABLE = "EUNPROCESSABLE"
	ETOOLARGE      = "ETOOLARGE"
	EUNSUPPORTED   = "EUNSUPPORTED"
	EUNAVAILABLE   = "EUNAVAILABLE"
)

// IsErrorCode reports whether code is one of the error codes above.
func IsErrorCode(code string) bool {
	switch code {
	case ECONFLICT, EINTERNAL, EINVALID, ENOTFOUND, EUNAUTHORIZED, EFORBIDDEN, EUNPROCESSABLE, ETOOLARGE, EUNSUPPORTED, EUNAVAILABLE:
		return true
	}
	return false
}

// FieldError names one violation inside a request body by its JSON pointer.
type FieldError struct {
	Pointer string `json:"pointer"`
	Detail  string `json:"detail"`
	// Rule, if set, names the bound of input.go the value broke and Limit
	// its number, so that the pages can say it in their language.
	Rule  string `json:"-"`
	Limit int    `json:"-"`
}

// Error is an error whose message is safe to show to the caller.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	// Refusal, if set, says why in words every room can translate.
	Refusal *Refusal
}

func (e *Error) Error() string {
	return fmt.Sprintf("ozgflow error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any
// other error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the showable message of err, or a generic one for
// internal errors so that nothing internal leaks.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorFields returns the field violations carried by err, if any.
func ErrorFields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// BadParam is the error for a query parameter that is not acceptable.
func BadParam(name, detail string) *Error {
	return &Error{Code: EINVALID, Message: "Query parameter " + name + " " + detail + ".",
		Fields: []FieldError{{Pointer: "?" + name, Detail: detail}}}
}
