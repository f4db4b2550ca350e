package casework

import (
	"context"
	"strconv"
	"strings"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/records"
)

// Respond keeps the uploaded documents in the records database and passes
// the applicant's answer to the case. Documents kept for an answer the
// case refuses are removed again.
func (s *Service) Respond(ctx context.Context, caseID string, resp ozgflow.Response, files []records.Document) (ozgflow.Case, error) {
	if err := CheckResponse(resp); err != nil {
		return ozgflow.Case{}, err
	}
	var created []string
	for _, f := range files {
		f.CaseID, f.Kind = caseID, records.KindUpload
		isNew, err := s.Records.PutDocument(ctx, f)
		if err != nil {
			s.dropFiles(caseID, created)
			return ozgflow.Case{}, err
		}
		if isNew {
			created = append(created, f.SHA256)
		}
		resp.Attachments = append(resp.Attachments, f.Attachment())
	}
	var state ozgflow.Case
	if err := s.Update(ctx, caseID, ozgflow.UpdateRespond, &state, resp); err != nil {
		s.dropFiles(caseID, created)
		return state, err
	}
	return state, nil
}

// dropFiles removes documents of a refused answer; it runs even when the
// request was cancelled.
func (s *Service) dropFiles(caseID string, hashes []string) {
	for _, h := range hashes {
		if err := s.Records.DeleteDocument(context.Background(), caseID, h); err != nil {
			s.Logger.Warn("Document of a refused answer not removed", "case", caseID, "error", err)
		}
	}
}

// CheckAnswer checks an answer sent as JSON: it must say something, and the
// attachments it names must be documents uploaded to this case before.
func (s *Service) CheckAnswer(ctx context.Context, caseID string, resp ozgflow.Response) error {
	if err := CheckResponse(resp); err != nil {
		return err
	}
	if strings.TrimSpace(resp.Text) == "" && len(resp.Data) == 0 && len(resp.Attachments) == 0 {
		err := ozgflow.Refuse(ozgflow.EUNPROCESSABLE, ozgflow.ReasonAnswerEmpty, "The answer is empty.")
		err.Fields = []ozgflow.FieldError{{Pointer: "/text", Detail: "is required"}}
		return err
	}
	var errs []ozgflow.FieldError
	for i, a := range resp.Attachments {
		has, err := s.Records.HasDocument(ctx, caseID, a.SHA256)
		if err != nil {
			return err
		}
		if !has {
			errs = append(errs, ozgflow.FieldError{Pointer: "/attachments/" + strconv.Itoa(i) + "/sha256",
				Detail: "is no document of this application; upload documents as multipart/form-data"})
		}
	}
	if len(errs) > 0 {
		return &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: "Unknown attachments.", Fields: errs}
	}
	return nil
}
