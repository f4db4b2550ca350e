package records

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// CaseNumberKey names the counter a case number is drawn from: the
// variant's prefix, the authority and the year (Europe/Berlin) of the
// submission.
type CaseNumberKey struct {
	Prefix    string
	Authority string
	Year      int
}

// String is the counter's key in the database.
func (k CaseNumberKey) String() string {
	return fmt.Sprintf("%s/%s/%04d", k.Prefix, k.Authority, k.Year)
}

// Format writes the n-th number of the counter: GEW-2026-000123. Beyond
// 999,999 a year the number grows a digit.
func (k CaseNumberKey) Format(n int64) string {
	return fmt.Sprintf("%s-%04d-%06d", k.Prefix, k.Year, n)
}

// AssignCaseNumber draws the next number of the counter for the case of
// workflowID and keeps it. It is idempotent: drawing again for the same
// workflow returns the number drawn first, whatever the key, and two draws
// never get the same number.
func (db *DB) AssignCaseNumber(ctx context.Context, workflowID string, key CaseNumberKey) (string, error) {
	if workflowID == "" || key.Prefix == "" || key.Year <= 0 {
		return "", errors.New("assign case number: workflow, prefix and year are required")
	}
	workflowID = text(workflowID)
	next, err := db.prepared(ctx, "INSERT INTO case_number_sequences (seq_key, last) VALUES (?, 1) "+
		"ON CONFLICT (seq_key) DO UPDATE SET last = case_number_sequences.last + 1 RETURNING last")
	if err != nil {
		return "", fmt.Errorf("assign case number: %w", err)
	}
	keep, err := db.prepared(ctx, "INSERT INTO case_numbers (workflow_id, seq_key, seq, number, assigned_at) VALUES (?, ?, ?, ?, ?) "+
		"ON CONFLICT (workflow_id) DO NOTHING")
	if err != nil {
		return "", fmt.Errorf("assign case number: %w", err)
	}
	// A draw again for a case that has its number (a retried activity)
	// draws and gives back: the first draw of a case needs no lookup
	// before it.
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("assign case number: %w", err)
	}
	defer tx.Rollback()
	seqKey := text(key.String())
	var n int64
	// The counter's row stays locked until the commit: draws of one
	// counter follow one another.
	if err := tx.StmtContext(ctx, next).QueryRowContext(ctx, seqKey).Scan(&n); err != nil {
		return "", fmt.Errorf("assign case number: %w", err)
	}
	number := key.Format(n)
	res, err := tx.StmtContext(ctx, keep).ExecContext(ctx, workflowID, seqKey, n, text(number), micros(db.Now()))
	if err != nil {
		return "", fmt.Errorf("assign case number: %w", err)
	}
	if rows, err := res.RowsAffected(); err != nil {
		return "", fmt.Errorf("assign case number: %w", err)
	} else if rows == 0 {
		// A draw for the same case came first: its number stands, and
		// the rollback gives this one back to the counter.
		_ = tx.Rollback()
		return db.CaseNumber(ctx, workflowID)
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("assign case number: %w", err)
	}
	return number, nil
}

// CaseNumber returns the number the case of workflowID drew; "" when it
// drew none.
func (db *DB) CaseNumber(ctx context.Context, workflowID string) (string, error) {
	lookup, err := db.prepared(ctx, "SELECT number FROM case_numbers WHERE workflow_id = ?")
	if err != nil {
		return "", fmt.Errorf("read case number: %w", err)
	}
	var number string
	err = lookup.QueryRowContext(ctx, text(workflowID)).Scan(&number)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read case number: %w", err)
	}
	return strings.TrimSpace(number), nil
}
