package ozgflow

import (
	"net/mail"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds of what is taken from outside. Every value a case records travels
// to Temporal as part of a payload (warned about at 512 KiB, refused at
// 2 MiB by default) and into the Redis projections; bounding each field,
// and a request's text as a whole, keeps a refusal at the door (422 or 413
// naming the field) instead of a failed workflow task. Lengths count
// characters (runes), sizes count bytes as encoded.
const (
	MaxNameRunes          = 200    // the applicant's name
	MaxEmailRunes         = 254    // an e-mail address (RFC 5321's path limit)
	MaxPortalAccountRunes = 200    // a portal account
	MaxCodeRunes          = 100    // keys and names: service, authority, outcome, queue, event, field names
	MaxSubjectRunes       = 200    // a colleague's subject, a task ID
	MaxCommentRunes       = 5000   // decision comments and reasons, questions, approvals, event comments
	MaxNoteRunes          = 2000   // hand-over notes
	MaxAnswerRunes        = 10_000 // the applicant's answer
	MaxWithdrawalRunes    = 2000   // the reason of a withdrawal
	MaxFileNameRunes      = 255    // an attachment's name
	MaxIdempotencyKey     = 255    // the Idempotency-Key header
	MaxAttachments        = 100    // attachments of one application or answer
	MaxFieldsAsked        = 100    // fields a question asks the applicant to correct
	MaxSearchRunes        = 200    // what a case worker types into the case search

	MaxDataBytes       = 256 << 10 // an application's data and attachment list, encoded
	MaxAnswerDataBytes = 64 << 10  // the data of an answer, encoded
	MaxActionBytes     = 32 << 10  // the text of one task action together
)

// Rules a field broke, carried by FieldError.Rule so that every room can
// word the violation in its language.
const (
	RuleTooLong     = "too_long"     // more than Limit characters
	RuleTooLarge    = "too_large"    // more than Limit bytes
	RuleControl     = "control"      // control characters in a one-line field
	RuleInvalidText = "invalid_text" // NUL or invalid UTF-8
	RuleCharset     = "charset"      // characters outside the field's set
	RuleEmail       = "email"        // not a single plain e-mail address
)

// Text is one field of text taken from outside: where it is in the request,
// its value and its bounds.
type Text struct {
	Pointer string
	Value   string
	Max     int  // characters
	OneLine bool // a name or code: no control characters, not even line breaks
	// Allowed, if set, is the only characters the field may hold, and
	// Charset says them in words for the API.
	Allowed func(rune) bool
	Charset string
}

// CheckText returns the violations of the fields, one at most per field:
// NUL and invalid UTF-8 are refused everywhere, control characters other
// than tab and line breaks everywhere and those too in one-line fields.
func CheckText(fields ...Text) []FieldError {
	var errs []FieldError
	for _, f := range fields {
		if fe, bad := checkText(f); bad {
			errs = append(errs, fe)
		}
	}
	return errs
}

func checkText(f Text) (FieldError, bool) {
	fe := FieldError{Pointer: f.Pointer}
	if !utf8.ValidString(f.Value) || strings.IndexByte(f.Value, 0) >= 0 {
		fe.Rule, fe.Detail = RuleInvalidText, "must be UTF-8 text without NUL characters"
		return fe, true
	}
	if n := utf8.RuneCountInString(f.Value); n > f.Max {
		fe.Rule, fe.Limit = RuleTooLong, f.Max
		fe.Detail = "is longer than " + strconv.Itoa(f.Max) + " characters"
		return fe, true
	}
	for _, r := range f.Value {
		if forbidden(r, f.OneLine) {
			fe.Rule = RuleControl
			fe.Detail = "must not contain control characters"
			if !f.OneLine {
				fe.Detail += " other than tabs and line breaks"
			}
			return fe, true
		}
		if f.Allowed != nil && !f.Allowed(r) {
			fe.Rule, fe.Detail = RuleCharset, "may contain only "+f.Charset
			return fe, true
		}
	}
	return fe, false
}

// forbidden reports a control character a field may not hold: in free text
// every one but tab, CR and LF; in one-line fields every one, and the
// Unicode line and paragraph separators.
// ForbiddenInProse reports the characters no text of a request may hold:
// control characters (NUL, DEL and C1 included) other than tab and line
// breaks.
func ForbiddenInProse(r rune) bool { return forbidden(r, false) }

func forbidden(r rune, oneLine bool) bool {
	if oneLine {
		return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
	}
	return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r'
}

// Line is a one-line field (a name, a code) of at most max characters.
func Line(pointer, value string, max int) Text {
	return Text{Pointer: pointer, Value: value, Max: max, OneLine: true}
}

// Prose is a free-text field (a comment, an answer) of at most max
// characters; it may hold tabs and line breaks.
func Prose(pointer, value string, max int) Text {
	return Text{Pointer: pointer, Value: value, Max: max}
}

// PortalAccount is the field of a portal account: ASCII letters, digits
// and - _ . @ : only.
func PortalAccount(pointer, value string) Text {
	return Text{Pointer: pointer, Value: value, Max: MaxPortalAccountRunes, OneLine: true,
		Allowed: accountRune, Charset: "letters, digits and - _ . @ :"}
}

func accountRune(r rune) bool {
	return r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		strings.ContainsRune("-_.@:", r))
}

// CheckEmail returns the violation of an e-mail address, if any: it must be
// one plain address as net/mail reads it (no display name, no angle
// brackets, no list) of at most MaxEmailRunes characters.
func CheckEmail(pointer, value string) (FieldError, bool) {
	if fe, bad := checkText(Line(pointer, value, MaxEmailRunes)); bad {
		return fe, true
	}
	addr, err := mail.ParseAddress(value)
	if err != nil || addr.Name != "" || addr.Address != value {
		return FieldError{Pointer: pointer, Rule: RuleEmail, Detail: "is not a single e-mail address (name@example.org)"}, true
	}
	return FieldError{}, false
}

// CheckSize returns the violation of an encoded value larger than max bytes.
func CheckSize(pointer string, size, max int) (FieldError, bool) {
	if size <= max {
		return FieldError{}, false
	}
	return FieldError{Pointer: pointer, Rule: RuleTooLarge, Limit: max,
		Detail: "is larger than " + strconv.Itoa(max>>10) + " KiB encoded"}, true
}

// InvalidInput is the error for violations of the bounds above: 413 when a
// size is exceeded, else 422.
func InvalidInput(fields []FieldError) error {
	if len(fields) == 0 {
		return nil
	}
	code, message := EUNPROCESSABLE, "Some fields are not acceptable."
	for _, f := range fields {
		if f.Rule == RuleTooLarge {
			code, message = ETOOLARGE, "The request is too large."
		}
	}
	return &Error{Code: code, Message: message, Fields: fields}
}
