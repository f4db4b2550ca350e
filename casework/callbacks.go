package casework

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/records"
)

// Callback passes a Fachverfahren's callback to its case, which the
// caller has loaded: doc, the decision's document, is kept with the case
// first (kind decision) and named in the callback, and removed again when
// the case refuses the callback and held it not before. The update's ID is
// the callback's, so that Temporal too takes a callback once.
func (s *Service) Callback(ctx context.Context, cb ozgflow.Callback, doc *records.Document) error {
	created := false
	if doc != nil {
		doc.CaseID, doc.Kind = cb.CaseID, records.KindDecision
		isNew, err := s.Records.PutDocument(ctx, *doc)
		if err != nil {
			return err
		}
		created = isNew
		a := doc.Attachment()
		cb.Document = &a
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	handle, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   ozgflow.CaseWorkflowID(cb.CaseID),
		UpdateID:     "callback-" + cb.ID,
		UpdateName:   ozgflow.UpdateCallback,
		Args:         []any{cb},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = handle.Get(ctx, nil)
	}
	var notFound *serviceerror.NotFound
	switch {
	case err == nil:
		return nil
	case errors.As(err, &notFound):
		err = ozgflow.Refuse(ozgflow.ECONFLICT, ozgflow.ReasonCaseClosed, "The case is already closed.")
	default:
		err = FromTemporal(err)
	}
	// A refusal leaves the document to no one; after a timeout or an
	// engine away the case may have taken it, so it stays.
	if code := ozgflow.ErrorCode(err); created && code != ozgflow.EUNAVAILABLE && code != ozgflow.EINTERNAL {
		s.dropFiles(cb.CaseID, []string{doc.SHA256})
	}
	return err
}
