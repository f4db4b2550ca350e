package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ozgflow/ozgflow"
)

// CheckJSON walks a JSON document's tokens once and refuses what decoding
// would silently accept: an object that names a key twice (400; which of
// the values counts differs between parsers, so a signature or a check
// could see another value than the case records), and a string holding NUL
// or invalid UTF-8 (422; decoding would keep the NUL, or replace the bytes
// without a word). Each refusal names the value by its JSON pointer. The
// walk is linear in the body, which MaxBodyBytes bounds; malformed JSON is
// left to the decoder to report.
func CheckJSON(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		object bool
		keys   map[string]bool
		key    string // the key whose value comes next (objects)
		index  int    // the next element's index (arrays)
		inKey  bool   // the next string token is a key
	}
	var stack []*frame
	pointer := func(last string) string {
		var b strings.Builder
		for _, f := range stack {
			if f == stack[len(stack)-1] && last != "" {
				break
			}
			b.WriteByte('/')
			if f.object {
				b.WriteString(escapePointer(f.key))
			} else {
				b.WriteString(strconv.Itoa(f.index))
			}
		}
		if last != "" {
			b.WriteString("/" + escapePointer(last))
		}
		return b.String()
	}
	// valueDone moves the enclosing container past the value just read.
	valueDone := func() {
		if len(stack) == 0 {
			return
		}
		if f := stack[len(stack)-1]; f.object {
			f.inKey = true
		} else {
			f.index++
		}
	}
	start := int64(0)
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil // malformed: the decoder says how
		}
		end := dec.InputOffset()
		raw := body[start:end]
		start = end
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, &frame{object: true, keys: map[string]bool{}, inKey: true})
			case '[':
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
				valueDone()
			}
		case string:
			top := len(stack) > 0 && stack[len(stack)-1].object && stack[len(stack)-1].inKey
			if top {
				f := stack[len(stack)-1]
				if !utf8.Valid(raw) || strings.IndexByte(t, 0) >= 0 {
					return textError(pointer(t))
				}
				if f.keys[t] {
					return &ozgflow.Error{Code: ozgflow.EINVALID, Message: "The body names a key twice.",
						Fields: []ozgflow.FieldError{{Pointer: pointer(t), Detail: "is given more than once"}}}
				}
				f.keys[t], f.key, f.inKey = true, t, false
				continue
			}
			if !utf8.Valid(raw) || strings.IndexByte(t, 0) >= 0 {
				return textError(pointer(""))
			}
			valueDone()
		default:
			valueDone()
		}
	}
}

func textError(pointer string) error {
	return ozgflow.InvalidInput([]ozgflow.FieldError{{Pointer: pointer, Rule: ozgflow.RuleInvalidText,
		Detail: "must be UTF-8 text without NUL characters"}})
}

// escapePointer escapes a key for a JSON pointer (RFC 6901).
func escapePointer(key string) string {
	return strings.ReplaceAll(strings.ReplaceAll(key, "~", "~0"), "/", "~1")
}
