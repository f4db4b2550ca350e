package records

import (
	"context"
	"fmt"
	"time"
)

// RecordDelivered notes that the portal took a notice; noting it again
// keeps the first time.
func (db *DB) RecordDelivered(ctx context.Context, noticeID string, at time.Time) error {
	_, err := db.sql.ExecContext(ctx, db.bind(
		"INSERT INTO portal_deliveries (notice_id, delivered_at) VALUES (?, ?) ON CONFLICT (notice_id) DO NOTHING"),
		text(noticeID), micros(at))
	if err != nil {
		return fmt.Errorf("note the delivery of notice %s: %w", noticeID, err)
	}
	return nil
}

// WasDelivered reports whether the portal took a notice before.
func (db *DB) WasDelivered(ctx context.Context, noticeID string) (bool, error) {
	var n int
	err := db.sql.QueryRowContext(ctx, db.bind("SELECT COUNT(*) FROM portal_deliveries WHERE notice_id = ?"),
		text(noticeID)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up the delivery of notice %s: %w", noticeID, err)
	}
	return n > 0, nil
}
