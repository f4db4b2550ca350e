package web

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ozgflow/ozgflow"
)

// CheckJSON reads a JSON document once and refuses what decoding would
// silently accept: an object that names a key twice (400; which of the
// values counts differs between parsers, so a signature or a check could
// see another value than the case records), and a string holding NUL or
// invalid UTF-8 (422; decoding would keep the NUL, or replace the bytes
// without a word), control characters other than tab and line breaks, or
// an unpaired surrogate escape. Each refusal names the value by its JSON
// pointer. It
// scans the bytes itself, linear in the body (which MaxBodyBytes bounds);
// malformed JSON, and
// nesting deeper than the decoder takes, are left to the decoder to report.
func CheckJSON(body []byte) error {
	c := &jsonChecker{src: body}
	c.skipSpace()
	if err := c.value(0); err != nil && err != errMalformed {
		return err
	}
	return nil
}

// errMalformed stops a check the decoder will refuse anyway.
var errMalformed = errors.New("malformed JSON")

// maxJSONDepth is the nesting encoding/json accepts.
const maxJSONDepth = 10000

type jsonChecker struct {
	src  []byte
	pos  int
	path []string // JSON pointer segments of the value being read
	// at, if positive, asks for the pointer of the innermost value whose
	// bytes reach offset at; found is it.
	at    int
	found string
	seen  bool
}

// PointerAt returns the JSON pointer of the innermost value of body that
// spans offset (as encoding/json's errors report offsets), or "".
func PointerAt(body []byte, offset int64) string {
	c := &jsonChecker{src: body, at: int(offset)}
	c.skipSpace()
	_ = c.value(0)
	return c.found
}

func (c *jsonChecker) skipSpace() {
	for c.pos < len(c.src) {
		switch c.src[c.pos] {
		case ' ', '\t', '\n', '\r':
			c.pos++
		default:
			return
		}
	}
}

func (c *jsonChecker) pointer() string {
	var b strings.Builder
	for _, seg := range c.path {
		b.WriteByte('/')
		b.WriteString(escapePointer(seg))
	}
	return b.String()
}

// value reads one value at c.pos.
func (c *jsonChecker) value(depth int) error {
	start := c.pos
	err := c.readValue(depth)
	if c.at > 0 && !c.seen && start < c.at && c.at <= c.pos {
		c.found, c.seen = c.pointer(), true
	}
	return err
}

func (c *jsonChecker) readValue(depth int) error {
	if c.pos >= len(c.src) || depth > maxJSONDepth {
		return errMalformed
	}
	switch c.src[c.pos] {
	case '{':
		return c.object(depth)
	case '[':
		return c.array(depth)
	case '"':
		_, err := c.string(false)
		return err
	}
	// A number or a literal: up to the next delimiter.
	for c.pos < len(c.src) {
		switch c.src[c.pos] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return nil
		}
		c.pos++
	}
	return nil
}

func (c *jsonChecker) object(depth int) error {
	c.pos++ // {
	// Keys are compared folded too: encoding/json fills a struct field
	// from any key that matches it regardless of case.
	keys := map[string]bool{}
	c.skipSpace()
	if c.pos < len(c.src) && c.src[c.pos] == '}' {
		c.pos++
		return nil
	}
	for {
		c.skipSpace()
		if c.pos >= len(c.src) || c.src[c.pos] != '"' {
			return errMalformed
		}
		c.path = append(c.path, "")
		key, err := c.string(true)
		c.path[len(c.path)-1] = key
		if err != nil {
			return err
		}
		folded := strings.ToLower(strings.ToUpper(key))
		if keys[folded] {
			return &ozgflow.Error{Code: ozgflow.EINVALID, Message: "The body names a key twice.",
				Fields: []ozgflow.FieldError{{Pointer: c.pointer(), Detail: "is given more than once"}}}
		}
		keys[folded] = true
		c.skipSpace()
		if c.pos >= len(c.src) || c.src[c.pos] != ':' {
			return errMalformed
		}
		c.pos++
		c.skipSpace()
		if done, err := c.member(depth, '}'); done || err != nil {
			return err
		}
	}
}

func (c *jsonChecker) array(depth int) error {
	c.pos++ // [
	c.skipSpace()
	if c.pos < len(c.src) && c.src[c.pos] == ']' {
		c.pos++
		return nil
	}
	for i := 0; ; i++ {
		c.skipSpace()
		c.path = append(c.path, strconv.Itoa(i))
		if done, err := c.member(depth, ']'); done || err != nil {
			return err
		}
	}
}

// member reads a member's value (its path segment already pushed), pops
// the segment and reads what follows: a comma, or close, which ends the
// container (done).
func (c *jsonChecker) member(depth int, close byte) (done bool, err error) {
	if err := c.value(depth + 1); err != nil {
		return true, err
	}
	c.path = c.path[:len(c.path)-1]
	c.skipSpace()
	switch {
	case c.pos >= len(c.src):
		return true, errMalformed
	case c.src[c.pos] == ',':
		c.pos++
		return false, nil
	case c.src[c.pos] == close:
		c.pos++
		return true, nil
	}
	return true, errMalformed
}

// string reads a string at c.pos and returns it decoded; a string with NUL
// or invalid UTF-8 is refused, naming c.path (for a key, whose segment is a
// placeholder until it is read, the key itself).
func (c *jsonChecker) string(isKey bool) (string, error) {
	start := c.pos
	c.pos++ // "
	escaped := false
	for c.pos < len(c.src) {
		switch b := c.src[c.pos]; {
		case b == '\\':
			escaped = true
			c.pos += 2
			continue
		case b == '"':
			c.pos++
			raw := c.src[start:c.pos]
			text := string(raw[1 : len(raw)-1])
			if escaped {
				var decoded string
				if json.Unmarshal(raw, &decoded) != nil {
					return "", errMalformed
				}
				text = decoded
			}
			if !utf8.Valid(raw) || strings.ContainsFunc(text, ozgflow.ForbiddenInProse) || escaped && loneSurrogate(raw) {
				if isKey {
					c.path[len(c.path)-1] = strings.ToValidUTF8(text, "\ufffd")
				}
				return "", textError(c.pointer())
			}
			return text, nil
		case b < 0x20:
			return "", errMalformed
		}
		c.pos++
	}
	return "", errMalformed
}

// loneSurrogate reports whether a string's escapes hold a \uD800-\uDFFF
// without its pair, which decoding turns into U+FFFD without a word.
func loneSurrogate(raw []byte) bool {
	hex4 := func(i int) (rune, bool) {
		if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(string(raw[i+2:i+6]), 16, 16)
		return rune(n), err == nil
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		r, ok := hex4(i)
		switch {
		case !ok:
			i++ // another escape: skip the escaped character
		case r >= 0xD800 && r < 0xDC00:
			low, ok := hex4(i + 6)
			if !ok || low < 0xDC00 || low > 0xDFFF {
				return true
			}
			i += 11
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		default:
			i += 5
		}
	}
	return false
}

func textError(pointer string) error {
	return ozgflow.InvalidInput([]ozgflow.FieldError{{Pointer: pointer, Rule: ozgflow.RuleInvalidText,
		Detail: "must be UTF-8 text without NUL or control characters"}})
}

// escapePointer escapes a key for a JSON pointer (RFC 6901).
func escapePointer(key string) string {
	return strings.ReplaceAll(strings.ReplaceAll(key, "~", "~0"), "/", "~1")
}
