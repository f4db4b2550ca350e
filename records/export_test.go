package records

import (
	"bytes"
	"context"
)

// ExecForTest runs a statement as any client of the database could, so
// that tests prove what the database itself refuses.
func (db *DB) ExecForTest(ctx context.Context, stmt string) error {
	_, err := db.sql.ExecContext(ctx, stmt)
	return err
}

// CountStoredBytesContaining counts the stored blobs and records whose
// bytes contain plain, so that tests prove nothing is kept in the clear.
func (db *DB) CountStoredBytesContaining(ctx context.Context, plain []byte) (int, error) {
	n := 0
	for _, q := range []string{"SELECT sealed FROM blobs", "SELECT sealed FROM closed_cases WHERE sealed IS NOT NULL",
		"SELECT sealed FROM case_notes"} {
		rows, err := db.sql.QueryContext(ctx, q)
		if err != nil {
			return 0, err
		}
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				rows.Close()
				return 0, err
			}
			if bytes.Contains(b, plain) {
				n++
			}
		}
		rows.Close()
	}
	return n, nil
}
