package records

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// SentSubmission returns what was kept of the FIT-Connect submission of
// key (case, target and round): its body and whether it was submitted.
func (db *DB) SentSubmission(ctx context.Context, key string) (body []byte, submitted, ok bool, err error) {
	var s string
	var sub int
	err = db.sql.QueryRowContext(ctx, db.bind("SELECT body, submitted FROM sent_submissions WHERE send_key = ?"), text(key)).Scan(&s, &sub)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, false, nil
	}
	if err != nil {
		return nil, false, false, fmt.Errorf("read sent submission %s: %w", key, err)
	}
	return []byte(s), sub == 1, true, nil
}

// KeepSentSubmission keeps the submission of key; a later write (the
// submit after the announcement) replaces an earlier one.
func (db *DB) KeepSentSubmission(ctx context.Context, key string, submitted bool, body []byte) error {
	sub := 0
	if submitted {
		sub = 1
	}
	_, err := db.sql.ExecContext(ctx, db.bind(
		`INSERT INTO sent_submissions (send_key, submitted, body, at) VALUES (?, ?, ?, ?)
		 ON CONFLICT (send_key) DO UPDATE SET submitted = excluded.submitted, body = excluded.body, at = excluded.at`),
		text(key), sub, string(body), micros(db.Now()))
	if err != nil {
		return fmt.Errorf("keep sent submission %s: %w", key, err)
	}
	return nil
}
