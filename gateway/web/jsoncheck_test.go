package web_test

import (
	"strings"
	"testing"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/gateway/web"
)

func TestDecodeJSONRefuses(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		code    string // "" when the body is accepted
		pointer string
	}{
		{"plain", `{"a":"x","b":{"c":[1,"y",{"d":null}]}}`, "", ""},
		{"same key in two objects", `{"a":{"k":1},"b":{"k":2}}`, "", ""},
		{"duplicate at the top", `{"comment":"a","comment":"b"}`, ozgflow.EINVALID, "/comment"},
		{"duplicate nested", `{"applicant":{"name":"a","email":"x","name":"b"}}`, ozgflow.EINVALID, "/applicant/name"},
		{"duplicate in an array element", `{"attachments":[{"sha256":"a"},{"name":"n","name":"m"}]}`, ozgflow.EINVALID, "/attachments/1/name"},
		{"duplicate after an array", `{"a":[1,[2,3]],"b":{"x":1,"x":2}}`, ozgflow.EINVALID, "/b/x"},
		{"duplicate key needing escapes", `{"d":{"a/b~":1,"a/b~":2}}`, ozgflow.EINVALID, "/d/a~1b~0"},
		{"escaped NUL in a value", `{"applicant":{"name":"Anna\u0000"}}`, ozgflow.EUNPROCESSABLE, "/applicant/name"},
		{"escaped NUL in data", `{"data":{"list":["ok","a\u0000"]}}`, ozgflow.EUNPROCESSABLE, "/data/list/1"},
		{"invalid UTF-8 in a value", "{\"comment\":\"caf\xe9\"}", ozgflow.EUNPROCESSABLE, "/comment"},
		{"invalid UTF-8 in a key", "{\"data\":{\"k\xff\":1}}", ozgflow.EUNPROCESSABLE, "/data/k\ufffd"},
		{"malformed", `{"a":`, ozgflow.EINVALID, ""},
		{"duplicate differing in case", `{"comment":"a","Comment":"b"}`, ozgflow.EINVALID, "/Comment"},
		{"duplicate by Unicode folding", `{"service":"a","\u017fervice":"b"}`, ozgflow.EINVALID, "/\u017fervice"},
		{"a DEL", `{"a":"x\u007f"}`, ozgflow.EUNPROCESSABLE, "/a"},
		{"a C1 control", `{"a":"x\u009b31m"}`, ozgflow.EUNPROCESSABLE, "/a"},
		{"an unpaired surrogate", `{"a":"\ud800"}`, ozgflow.EUNPROCESSABLE, "/a"},
		{"an unpaired surrogate after an escaped backslash", `{"a":"\\ufffd\ud800"}`, ozgflow.EUNPROCESSABLE, "/a"},
		{"a low surrogate alone", `{"a":"x\udc00"}`, ozgflow.EUNPROCESSABLE, "/a"},
		{"a surrogate pair", `{"a":"\ud83d\ude00 \\ud800 \ufffd"}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v map[string]any
			err := web.DecodeJSON([]byte(tt.body), &v)
			if got := ozgflow.ErrorCode(err); got != tt.code {
				t.Fatalf("code: got %q, want %q (%v)", got, tt.code, err)
			}
			if tt.pointer == "" {
				return
			}
			fields := ozgflow.ErrorFields(err)
			if len(fields) != 1 || fields[0].Pointer != tt.pointer {
				t.Errorf("fields: got %+v, want one at %s", fields, tt.pointer)
			}
			if p := web.NewProblem(err); len(p.Errors) != 1 || p.Status != web.StatusOf(tt.code) {
				t.Errorf("problem: got %+v", p)
			}
		})
	}
}

// BenchmarkCheckJSON measures the walk over a body near the largest an
// application's data may be.
func BenchmarkCheckJSON(b *testing.B) {
	body := []byte(`{"data":{"items":[` + strings.Repeat(`{"name":"Anna Muster","street":"Hauptstraße 1","n":12},`, 4000) + `{}]}}`)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := web.CheckJSON(body); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCheckJSONAgreesWithTheDecoder: whatever the decoder accepts, the
// check accepts unless a key repeats or a string holds NUL or invalid
// UTF-8; deep nesting and malformed input are left to the decoder.
func TestCheckJSONAgreesWithTheDecoder(t *testing.T) {
	for _, body := range []string{
		`{}`, `[]`, `{"a":[]}`, `{"":1,"b":""}`, `{"a":"\"}\\"}`, `{"a":-1.5e3,"b":true,"c":null,"d":false}`,
		`{"a":"\u00e4\ud83d\ude00"}`, " {\n\t\"a\" : [ 1 , 2 ] \r\n} ", strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
		`{"a":`, `{"a" 1}`, `{"a":1,}`, `{"a":"x`, "{\"a\":\"x\ny\"}",
	} {
		if err := web.CheckJSON([]byte(body)); err != nil {
			t.Errorf("%.40q: %v", body, err)
		}
	}
	if err := web.CheckJSON([]byte(`{"":{"":"\u0000"}}`)); ozgflow.ErrorCode(err) != ozgflow.EUNPROCESSABLE ||
		ozgflow.ErrorFields(err)[0].Pointer != "//" {
		t.Errorf("NUL under empty keys: %v", err)
	}
}
