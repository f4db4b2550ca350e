package records

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// MarkRead records that a portal account has read a notice; marking twice
// keeps the first time.
func (db *DB) MarkRead(ctx context.Context, account, noticeID string, at time.Time) error {
	account, noticeID = text(account), text(noticeID)
	_, err := db.sql.ExecContext(ctx, db.bind(
		"INSERT INTO read_marks (account, notice_id, read_at) VALUES (?, ?, ?) ON CONFLICT (account, notice_id) DO NOTHING"),
		account, noticeID, micros(at))
	if err != nil {
		return fmt.Errorf("mark notice read: %w", err)
	}
	return nil
}

// ReadMarks tells which of the given notices the account has read.
func (db *DB) ReadMarks(ctx context.Context, account string, noticeIDs []string) (map[string]bool, error) {
	account = text(account)
	read := map[string]bool{}
	if len(noticeIDs) == 0 {
		return read, nil
	}
	args := []any{account}
	for _, id := range noticeIDs {
		args = append(args, text(id))
	}
	query := "SELECT notice_id FROM read_marks WHERE account = ? AND notice_id IN (?" +
		strings.Repeat(", ?", len(noticeIDs)-1) + ")"
	rows, err := db.sql.QueryContext(ctx, db.bind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("read state of notices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		read[id] = true
	}
	return read, rows.Err()
}

// ReadCount is how many notices the account has marked read.
func (db *DB) ReadCount(ctx context.Context, account string) (int64, error) {
	account = text(account)
	var n int64
	err := db.sql.QueryRowContext(ctx, db.bind("SELECT COUNT(*) FROM read_marks WHERE account = ?"), account).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count read notices: %w", err)
	}
	return n, nil
}
