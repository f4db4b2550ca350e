package intake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/fitconnect"
	"github.com/ozgflow/ozgflow/fitconnect/submissionapi"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/records"
)

// ApplicantMember is the member of the data that names the applicant.
// ozgflow's forms keep the applicant apart from the data, and FIT-Connect
// carries no applicant beside it: a sender puts {"name", "email"} under
// this member, which ozgflow takes out before it checks the data against
// the variant's schema.
const ApplicantMember = "antragsteller"

// Receive implements submissionapi.Receiver: it starts the case of a
// checked submission under the case ID the sender was given, as the submit
// API does (the same validation, the same start), with the attachments as
// the case's documents. What the variant does not take is rejected with the
// part at fault; a case already started by the same submission is taken
// again without a second case.
func (in *Intake) Receive(ctx context.Context, rec submissionapi.Received) error {
	sub := rec.Submission
	dest, def, ok := in.cases.FITConnectDestination(sub.DestinationID)
	if !ok || dest.Status != fitconnect.DestinationActive {
		return submissionapi.Reject(problem(fitconnect.RejectUnsupportedService, "/publicServiceType/identifier",
			"The destination takes no submissions now: its process variant is not published."))
	}
	if fitconnect.LeikaKey(sub.ServiceType.Identifier) != def.Service {
		return submissionapi.Reject(problem(fitconnect.RejectUnsupportedService, "/publicServiceType/identifier",
			"The destination takes "+dest.ServiceIdentifier+" only."))
	}
	data := rec.Metadata.ContentStructure.Data
	switch {
	case data == nil || rec.Data == nil:
		return submissionapi.Reject(problem(fitconnect.RejectMissingSchema, "/contentStructure/data",
			"An application needs its data, following the schema "+dest.SchemaURI+"."))
	case data.SubmissionSchema.SchemaURI != dest.SchemaURI:
		return submissionapi.Reject(problem(fitconnect.RejectUnsupportedSchema, "/contentStructure/data/submissionSchema/schemaUri",
			"The destination takes data of the schema "+dest.SchemaURI+" only."))
	case data.SubmissionSchema.MimeType != "application/json":
		return submissionapi.Reject(problem(fitconnect.RejectUnsupportedSchema, "/contentStructure/data/submissionSchema/mimeType",
			"The destination takes JSON data (application/json) only."))
	}
	applicant, form, problems := splitApplicant(rec.Data, rec.Metadata)
	docs, more := documents(rec.Attachments)
	if problems = append(problems, more...); len(problems) > 0 {
		return submissionapi.Reject(problems...)
	}
	caller := Sender(sub.Client)
	state, err := in.cases.SubmitAs(ctx, caller, sub.CaseID, casework.Submission{Service: def.Service, Authority: dest.Authority,
		Applicant: applicant, Data: form, Documents: docs}, requestHash(rec))
	if err != nil {
		return rejection(err)
	}
	in.logger.Info("FIT-Connect submission taken", "case", state.ID, "submission", sub.ID, "destination", sub.DestinationID)
	return nil
}

func problem(typ, pointer, detail string) fitconnect.Problem {
	title := strings.ReplaceAll(strings.TrimPrefix(typ, fitconnect.RejectPrefix), "-", " ")
	return fitconnect.Problem{Type: typ, Title: strings.ToUpper(title[:1]) + title[1:], Instance: pointer, Detail: detail}
}

// splitApplicant takes the applicant out of the data; the e-mail address
// may also come from the metadata's reply channel.
func splitApplicant(data []byte, meta fitconnect.Metadata) (ozgflow.Applicant, json.RawMessage, []fitconnect.Problem) {
	var members map[string]json.RawMessage
	if t := bytes.TrimSpace(data); len(t) == 0 || t[0] != '{' || json.Unmarshal(t, &members) != nil {
		return ozgflow.Applicant{}, nil, []fitconnect.Problem{problem(fitconnect.RejectSyntaxViolation, "",
			"The data must be a JSON object.")}
	}
	var a struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	}
	raw, found := members[ApplicantMember]
	if !found || json.Unmarshal(raw, &a) != nil || strings.TrimSpace(a.Name) == "" {
		return ozgflow.Applicant{}, nil, []fitconnect.Problem{problem(fitconnect.RejectSchemaViolation, "/"+ApplicantMember+"/name",
			"The data names the applicant under "+ApplicantMember+": an object with name (required) and email.")}
	}
	delete(members, ApplicantMember)
	if a.Email == "" {
		var mail struct {
			Address string `json:"address"`
		}
		if raw, ok := meta.ReplyChannel["eMail"]; ok && json.Unmarshal(raw, &mail) == nil {
			a.Email = mail.Address
		}
	}
	form, err := json.Marshal(members)
	if err != nil {
		return ozgflow.Applicant{}, nil, []fitconnect.Problem{problem(fitconnect.RejectSyntaxViolation, "", err.Error())}
	}
	return ozgflow.Applicant{Name: strings.TrimSpace(a.Name), Email: strings.TrimSpace(a.Email)}, form, nil
}

// documents makes the case's documents of the attachments, with the limits
// and the types of the submit API's uploads.
func documents(atts []submissionapi.ReceivedAttachment) ([]records.Document, []fitconnect.Problem) {
	var docs []records.Document
	var problems []fitconnect.Problem
	if len(atts) > web.MaxUploadFiles {
		return nil, []fitconnect.Problem{problem(fitconnect.RejectContentNotAccepted, "/contentStructure/attachments",
			fmt.Sprintf("At most %d attachments per application.", web.MaxUploadFiles))}
	}
	seen, total := map[string]bool{}, 0
	for i, a := range atts {
		p := fmt.Sprintf("/contentStructure/attachments/%d", i)
		ct := web.DocumentType(a.Content)
		switch {
		case ct == "":
			problems = append(problems, problem(fitconnect.RejectContentNotAccepted, p+"/mimeType",
				"The attachment "+a.AttachmentID+" is no PDF, JPEG or PNG document."))
			continue
		case len(a.Content) > web.MaxUploadFileBytes:
			problems = append(problems, problem(fitconnect.RejectContentNotAccepted, p,
				fmt.Sprintf("The attachment %s is larger than %d bytes.", a.AttachmentID, web.MaxUploadFileBytes)))
			continue
		}
		total += len(a.Content)
		sum := records.SumSHA256(a.Content)
		if seen[sum] {
			continue // the same document twice is kept once
		}
		seen[sum] = true
		name := a.Filename
		if name == "" {
			name = a.Description
		}
		docs = append(docs, records.Document{Name: web.SanitizeFileName(name, ct, i), ContentType: ct, SHA256: sum,
			Size: int64(len(a.Content)), Kind: records.KindUpload, Data: a.Content})
	}
	if total > web.MaxUploadTotalBytes {
		problems = append(problems, problem(fitconnect.RejectContentNotAccepted, "/contentStructure/attachments",
			fmt.Sprintf("The attachments are larger than %d bytes together.", web.MaxUploadTotalBytes)))
	}
	return docs, problems
}

// requestHash identifies a submission's content by the hashes its metadata
// gives, so that the same submission taken again finds its case.
func requestHash(rec submissionapi.Received) string {
	h := sha256.New()
	h.Write([]byte("fit-connect\x00" + rec.Submission.ID))
	if d := rec.Metadata.ContentStructure.Data; d != nil {
		h.Write([]byte("\x00" + strings.ToLower(d.Hash.Content)))
	}
	for _, a := range rec.Attachments {
		h.Write([]byte("\x00" + a.AttachmentID + "=" + strings.ToLower(a.Hash.Content)))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// rejection turns the case service's refusal into the reasons of a reject
// event, with pointers into the FIT-Connect data; a failure that is not a
// refusal stays an error, and the sender may submit again.
func rejection(err error) error {
	switch ozgflow.ErrorCode(err) {
	case ozgflow.EINVALID, ozgflow.EUNPROCESSABLE:
		fields := ozgflow.ErrorFields(err)
		if len(fields) == 0 {
			return submissionapi.Reject(problem(fitconnect.RejectSchemaViolation, "", ozgflow.ErrorMessage(err)))
		}
		var problems []fitconnect.Problem
		for _, f := range fields {
			problems = append(problems, problem(fitconnect.RejectSchemaViolation, dataPointer(f.Pointer), f.Detail))
		}
		return submissionapi.Reject(problems...)
	case ozgflow.ENOTFOUND:
		return submissionapi.Reject(problem(fitconnect.RejectUnsupportedService, "/publicServiceType/identifier", ozgflow.ErrorMessage(err)))
	case ozgflow.ECONFLICT, ozgflow.ETOOLARGE, ozgflow.EUNSUPPORTED:
		return submissionapi.Reject(problem(fitconnect.RejectContentNotAccepted, "", ozgflow.ErrorMessage(err)))
	}
	return err
}

// dataPointer maps a pointer into a submit API application onto the
// FIT-Connect data: /data/x is /x, /applicant/name is /antragsteller/name.
func dataPointer(p string) string {
	if rest, ok := strings.CutPrefix(p, "/data"); ok && (rest == "" || rest[0] == '/') {
		return rest
	}
	if rest, ok := strings.CutPrefix(p, "/applicant/"); ok {
		return "/" + ApplicantMember + "/" + rest
	}
	return p
}
