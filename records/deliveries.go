package records

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// deliveriesChunk bounds the notice IDs of one statement.
const deliveriesChunk = 500

// RecordDelivered notes, in one transaction, that the portal took the
// notices; noting one again keeps its first time.
func (db *DB) RecordDelivered(ctx context.Context, noticeIDs []string, at time.Time) error {
	if len(noticeIDs) == 0 {
		return nil
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("note portal deliveries: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, db.bind(
		"INSERT INTO portal_deliveries (notice_id, delivered_at) VALUES (?, ?) ON CONFLICT (notice_id) DO NOTHING"))
	if err != nil {
		return fmt.Errorf("note portal deliveries: %w", err)
	}
	defer stmt.Close()
	for _, id := range noticeIDs {
		if _, err := stmt.ExecContext(ctx, text(id), micros(at)); err != nil {
			return fmt.Errorf("note the delivery of notice %s: %w", id, err)
		}
	}
	return tx.Commit()
}

// Delivered tells which of the given notices the portal took.
func (db *DB) Delivered(ctx context.Context, noticeIDs []string) (map[string]bool, error) {
	done := map[string]bool{}
	for start := 0; start < len(noticeIDs); start += deliveriesChunk {
		chunk := noticeIDs[start:min(start+deliveriesChunk, len(noticeIDs))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = text(id)
		}
		query := "SELECT notice_id FROM portal_deliveries WHERE notice_id IN (?" + strings.Repeat(", ?", len(chunk)-1) + ")"
		rows, err := db.sql.QueryContext(ctx, db.bind(query), args...)
		if err != nil {
			return nil, fmt.Errorf("look up portal deliveries: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			done[id] = true
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return done, nil
}
