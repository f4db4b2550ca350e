package intake

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/fitconnect"
	"github.com/ozgflow/ozgflow/fitconnect/submissionapi"
)

func TestSplitApplicant(t *testing.T) {
	reply := fitconnect.Metadata{ReplyChannel: map[string]json.RawMessage{"eMail": json.RawMessage(`{"address":"reply@example.org"}`)}}
	tests := []struct {
		name      string
		data      string
		meta      fitconnect.Metadata
		wantName  string
		wantEmail string
		wantPart  string
	}{
		{"name and e-mail", `{"antragsteller":{"name":" Anna ","email":"a@example.org"},"x":1}`, reply, "Anna", "a@example.org", ""},
		{"e-mail from the reply channel", `{"antragsteller":{"name":"Anna"},"x":1}`, reply, "Anna", "reply@example.org", ""},
		{"no applicant", `{"x":1}`, reply, "", "", "/antragsteller/name"},
		{"no name", `{"antragsteller":{"email":"a@example.org"}}`, reply, "", "", "/antragsteller/name"},
		{"no object", `[1]`, reply, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, form, problems := splitApplicant([]byte(tt.data), tt.meta)
			if tt.wantName == "" {
				if len(problems) != 1 || problems[0].Instance != tt.wantPart {
					t.Fatalf("problems %+v, want one at %q", problems, tt.wantPart)
				}
				return
			}
			if len(problems) > 0 || a.Name != tt.wantName || a.Email != tt.wantEmail || string(form) != `{"x":1}` {
				t.Errorf("got %+v %s %+v", a, form, problems)
			}
		})
	}
}

func TestDocuments(t *testing.T) {
	pdf := []byte("%PDF-1.4\n1 0 obj\n<<>>\nendobj\n")
	att := func(id, name string, content []byte) submissionapi.ReceivedAttachment {
		return submissionapi.ReceivedAttachment{Attachment: fitconnect.Attachment{AttachmentID: id, Filename: name}, Content: content}
	}
	docs, problems := documents([]submissionapi.ReceivedAttachment{att("a", "../../etc/nachweis.pdf", pdf), att("b", "again.pdf", pdf)})
	if len(problems) > 0 || len(docs) != 1 || docs[0].Name != "nachweis.pdf" || docs[0].ContentType != "application/pdf" {
		t.Errorf("docs %+v problems %+v", docs, problems)
	}
	_, problems = documents([]submissionapi.ReceivedAttachment{att("a", "a.pdf", pdf), att("b", "x.exe", []byte("MZ\x90\x00"))})
	if len(problems) != 1 || problems[0].Type != fitconnect.RejectContentNotAccepted || problems[0].Instance != "/contentStructure/attachments/1/mimeType" {
		t.Errorf("an executable: %+v", problems)
	}
}

func TestRejection(t *testing.T) {
	err := rejection(&ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: "no", Fields: []ozgflow.FieldError{
		{Pointer: "/data/betrieb/name", Detail: "is required"}, {Pointer: "/applicant/email", Detail: "bad"}}})
	var rej *submissionapi.Rejection
	if !errors.As(err, &rej) || len(rej.Problems) != 2 || rej.Problems[0].Instance != "/betrieb/name" ||
		rej.Problems[1].Instance != "/antragsteller/email" || rej.Problems[0].Type != fitconnect.RejectSchemaViolation {
		t.Errorf("got %v", err)
	}
	down := ozgflow.Errorf(ozgflow.EUNAVAILABLE, "engine away")
	if err := rejection(down); !errors.Is(err, down) || errors.As(err, &rej) {
		t.Errorf("a failure became a rejection: %v", err)
	}
}
