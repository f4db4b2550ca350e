package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow"
)

// FinalRecord is what stays of a case once it closed: its final state and
// the application it started with, until RetainUntil.
type FinalRecord struct {
	Case        ozgflow.Case        `json:"case"`
	Application ozgflow.Application `json:"application"`
	ClosedAt    time.Time           `json:"closedAt"`
	RetainUntil time.Time           `json:"retainUntil"`
	// ErasedAt is set once the personal data is gone.
	ErasedAt time.Time `json:"erasedAt,omitzero"`
}

// TrailEntry is one line of the audit trail.
type TrailEntry struct {
	Actor, Role, CaseID, Account, Action, Detail string
	At                                           time.Time
}

// CaseRecords is ozgflow's own database, as far as closed cases go: their
// final records, the documents they hold, and the audit trail.
type CaseRecords interface {
	// KeepClosedCase writes the final record; writing it again is harmless.
	KeepClosedCase(ctx context.Context, rec FinalRecord) error
	// ClosedCase reads a final record; ENOTFOUND when there is none.
	ClosedCase(ctx context.Context, caseID string) (FinalRecord, error)
	// DueForErasure returns up to limit cases whose retention ended before.
	DueForErasure(ctx context.Context, before time.Time, limit int) ([]string, error)
	// EraseClosedCase drops the record's personal data and the documents
	// and says how many documents went; the statistics stay.
	EraseClosedCase(ctx context.Context, caseID, because string, at time.Time) (documents int, err error)
	// Audit appends to the audit trail.
	Audit(ctx context.Context, e TrailEntry) error
}

// ProjectionRetention is what the projections do at close and at erasure.
type ProjectionRetention interface {
	// ExpireCase lets the keys of one closed case expire at at.
	ExpireCase(ctx context.Context, c ozgflow.Case, at time.Time) error
	// EraseCase replaces the case by its statistics and removes its tasks
	// and its notices from the postbox of account.
	EraseCase(ctx context.Context, stats ozgflow.Case, account string) error
}

// CaseHistories deletes the workflow history of a case; a history that
// is gone already is no error.
type CaseHistories interface {
	DeleteCaseHistory(ctx context.Context, caseID string) error
}

// Retention keeps the final record of closed cases and erases their
// personal data when the retention ends.
type Retention struct {
	Records     CaseRecords
	Projections ProjectionRetention
	Histories   CaseHistories
}

// KeepClosedCase writes the final record of a case to the records database
// and lets its projection expire when the retention ends. Both are safe to
// repeat.
func (r *Retention) KeepClosedCase(ctx context.Context, rec FinalRecord) error {
	if r.Records == nil {
		return temporal.NewNonRetryableApplicationError("no records database configured", "EUNAVAILABLE", nil)
	}
	if err := r.Records.KeepClosedCase(ctx, rec); err != nil {
		return err
	}
	if r.Projections != nil {
		if err := r.Projections.ExpireCase(ctx, rec.Case, rec.RetainUntil); err != nil {
			return err
		}
	}
	return nil
}

// DueRequest asks for up to Limit cases whose retention ended before Before.
type DueRequest struct {
	Before time.Time `json:"before"`
	Limit  int       `json:"limit"`
}

// DueForErasure lists closed cases whose personal data is due for erasure.
func (r *Retention) DueForErasure(ctx context.Context, req DueRequest) ([]string, error) {
	return r.Records.DueForErasure(ctx, req.Before, req.Limit)
}

// ErasureRequest asks to erase the personal data of one closed case.
type ErasureRequest struct {
	CaseID string    `json:"caseId"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Role   string    `json:"role"`
}

// ErasureResult says what an erasure removed.
type ErasureResult struct {
	CaseID    string `json:"caseId"`
	Documents int    `json:"documents"`
}

// EraseCase erases the personal data of one closed case: from the
// projections first (it needs the record to find the account's postbox),
// then the record and the documents, then the workflow history, and notes
// it in the audit trail. Each step is safe to repeat, so a retry
// after a failure finishes the work.
func (r *Retention) EraseCase(ctx context.Context, req ErasureRequest) (ErasureResult, error) {
	res := ErasureResult{CaseID: req.CaseID}
	rec, err := r.Records.ClosedCase(ctx, req.CaseID)
	if ozgflow.ErrorCode(err) == ozgflow.ENOTFOUND {
		return res, temporal.NewNonRetryableApplicationError("no record of case "+req.CaseID, ozgflow.ENOTFOUND, err)
	} else if err != nil {
		return res, err
	}
	if err := r.Projections.EraseCase(ctx, rec.Case.StatisticsOnly(req.At), rec.Case.PortalAccount); err != nil {
		return res, err
	}
	activity.RecordHeartbeat(ctx, "projections")
	// The trail notes the erasure before it happens: a retry may note it
	// twice, but no erasure goes unnoted.
	if rec.ErasedAt.IsZero() {
		err := r.Records.Audit(ctx, TrailEntry{Actor: req.Actor, Role: req.Role, CaseID: req.CaseID,
			Action: ozgflow.ActionCaseErase, Detail: req.Reason, At: req.At})
		if err != nil {
			return res, err
		}
	}
	if res.Documents, err = r.Records.EraseClosedCase(ctx, req.CaseID, req.Reason, req.At); err != nil {
		return res, err
	}
	if r.Histories != nil {
		if err := r.Histories.DeleteCaseHistory(ctx, req.CaseID); err != nil {
			return res, fmt.Errorf("delete the history of case %s: %w", req.CaseID, err)
		}
	}
	return res, nil
}
