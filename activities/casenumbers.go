package activities

import (
	"context"
	"errors"
	"fmt"
)

// CaseNumberRequest asks for the short number of a case: the next of the
// counter of Prefix, Authority and Year. WorkflowID makes the draw
// idempotent: asking again for the same workflow returns the same number.
type CaseNumberRequest struct {
	WorkflowID string `json:"workflowId"`
	CaseID     string `json:"caseId"`
	Prefix     string `json:"prefix"`
	Authority  string `json:"authority"`
	Year       int    `json:"year"` // of the submission, Europe/Berlin
}

// CaseNumberStore draws case numbers from counters kept in the records
// database (records.DB).
type CaseNumberStore interface {
	AssignCaseNumber(ctx context.Context, workflowID, prefix, authority string, year int) (string, error)
}

// CaseNumbers gives cases their short numbers (GEW-2026-000123).
type CaseNumbers struct {
	Store CaseNumberStore
}

// AssignCaseNumber draws the case's number, or returns the one it drew
// before.
func (n *CaseNumbers) AssignCaseNumber(ctx context.Context, req CaseNumberRequest) (string, error) {
	if n.Store == nil {
		return "", errors.New("case numbers are not configured (no records database)")
	}
	number, err := n.Store.AssignCaseNumber(ctx, req.WorkflowID, req.Prefix, req.Authority, req.Year)
	if err != nil {
		return "", fmt.Errorf("case number of case %s: %w", req.CaseID, err)
	}
	return number, nil
}
