package activities_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
)

// The bytes of the sealed payload are a contract: seals already issued are
// checked against them, so any change of the encoding must be deliberate.
func TestReceiptPayloadIsCanonical(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	tests := []struct {
		name        string
		data        string
		attachments []ozgflow.Attachment
		want        string
	}{
		{"keys sorted, time in UTC to the second, no attachments", `{"b": 1.50, "a": {"y": true, "x": "ä"}}`, nil,
			`{"caseId":"c-1","service":"99050035001000","authority":"147130000000","definitionId":"gewerbeanmeldung-leipzig","definitionVersion":3,"submittedAt":"2026-11-20T09:30:15Z","data":{"a":{"x":"ä","y":true},"b":1.50},"attachments":[]}`},
		{"attachments by name and hash only", `{}`,
			[]ozgflow.Attachment{{Name: "Ausweis.pdf", ContentType: "application/pdf", Size: 2048, SHA256: "ab12"}},
			`{"caseId":"c-1","service":"99050035001000","authority":"147130000000","definitionId":"gewerbeanmeldung-leipzig","definitionVersion":3,"submittedAt":"2026-11-20T09:30:15Z","data":{},"attachments":[{"name":"Ausweis.pdf","sha256":"ab12"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := activities.ReceiptPayload(activities.SealRequest{
				CaseID: "c-1", DefinitionID: "gewerbeanmeldung-leipzig", DefinitionVersion: 3,
				SubmittedAt: time.Date(2026, 11, 20, 10, 30, 15, 987654321, berlin),
				Application: ozgflow.Application{Service: "99050035001000", Authority: "147130000000",
					Data: json.RawMessage(tt.data), Attachments: tt.attachments},
			})
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("payload\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}
