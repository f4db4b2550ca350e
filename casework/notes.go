package casework

import (
	"context"
	"strings"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/records"
)

// Internal notes: what case workers keep on a case for each other. They
// live in the records database, never in the case's state, notices or
// mails, so nothing of them reaches the applicant; they go with the case's
// other personal data when it is erased.

// AddNote keeps a case worker's note on a case they may see and work.
func (s *Service) AddNote(ctx context.Context, id ozgflow.Identity, caseID, text string) (records.Note, error) {
	text = strings.TrimSpace(text)
	if err := ozgflow.InvalidInput(ozgflow.CheckText(ozgflow.Prose("/note", text, ozgflow.MaxCommentRunes))); err != nil {
		return records.Note{}, err
	}
	if text == "" {
		err := ozgflow.Refuse(ozgflow.EUNPROCESSABLE, ozgflow.ReasonNoteMissing, "A note needs a text.")
		err.Fields = []ozgflow.FieldError{{Pointer: "/note", Detail: "is required"}}
		return records.Note{}, err
	}
	c, err := s.CaseFor(ctx, id, caseID)
	if err != nil {
		return records.Note{}, err
	}
	if !id.WorksCases(c.Authority) {
		return records.Note{}, ozgflow.Refuse(ozgflow.EFORBIDDEN, ozgflow.ReasonNotCaseWorker,
			"Only case workers of the case's authority write notes on it.")
	}
	if !c.ErasedAt.IsZero() {
		return records.Note{}, ozgflow.Refuse(ozgflow.ECONFLICT, ozgflow.ReasonCaseClosed, "The case's personal data is erased.", string(c.Status))
	}
	if s.Records == nil {
		return records.Note{}, ozgflow.Errorf(ozgflow.EUNAVAILABLE, "Notes cannot be kept just now.")
	}
	return s.Records.AddNote(ctx, records.Note{CaseID: c.ID, Author: id.Subject, AuthorName: id.Name, Text: text})
}

// Notes lists the internal notes of a case the caller may see, oldest
// first.
func (s *Service) Notes(ctx context.Context, id ozgflow.Identity, caseID string) ([]records.Note, error) {
	if _, err := s.CaseFor(ctx, id, caseID); err != nil {
		return nil, err
	}
	if s.Records == nil {
		return nil, nil
	}
	return s.Records.Notes(ctx, caseID)
}
