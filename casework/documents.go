package casework

import (
	"context"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/records"
)

// Documents lists the documents of a case the caller may see, without
// their content.
func (s *Service) Documents(ctx context.Context, caller ozgflow.Identity, caseID string) ([]records.Document, error) {
	if _, err := s.CaseFor(ctx, caller, caseID); err != nil {
		return nil, err
	}
	return s.Records.Documents(ctx, caseID)
}

// Document returns one document of a case the caller may see, by its
// SHA-256; anyone else, and any hash the case does not hold, gets
// ENOTFOUND.
func (s *Service) Document(ctx context.Context, caller ozgflow.Identity, caseID, sha string) (records.Document, error) {
	if _, err := s.CaseFor(ctx, caller, caseID); err != nil {
		return records.Document{}, err
	}
	if !isSHA256(sha) {
		return records.Document{}, ozgflow.Errorf(ozgflow.ENOTFOUND, "No document %s in application %s.", sha, caseID)
	}
	return s.Records.Document(ctx, caseID, sha)
}

// isSHA256 reports whether s is a hex SHA-256 as documents are named.
func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}
