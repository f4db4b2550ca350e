package records

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/ozgflow/ozgflow"
)

// Kinds of documents a case holds.
const (
	KindUpload   = "upload"   // uploaded by the applicant
	KindReceipt  = "receipt"  // the sealed receipt
	KindDecision = "decision" // a decision letter
)

// Document is a file a case holds. Documents are content-addressed: the
// bytes are kept once per SHA-256, encrypted, whichever cases hold them.
type Document struct {
	CaseID      string
	SHA256      string
	Name        string
	ContentType string
	Size        int64
	Kind        string
	CreatedAt   time.Time
	// Data is the content; empty in listings.
	Data []byte
}

// Attachment is what the case records of the document.
func (d Document) Attachment() ozgflow.Attachment {
	return ozgflow.Attachment{Name: d.Name, ContentType: d.ContentType, Size: d.Size, SHA256: d.SHA256}
}

// SumSHA256 is the hex SHA-256 of data, a document's address.
func SumSHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// PutDocument keeps a document for a case. Its SHA256 must name its bytes.
// created is false when the case already holds these bytes; the first
// name stays.
func (db *DB) PutDocument(ctx context.Context, d Document) (created bool, err error) {
	d.CaseID, d.Name, d.ContentType, d.Kind = text(d.CaseID), text(d.Name), text(d.ContentType), text(d.Kind)
	if d.SHA256 != SumSHA256(d.Data) {
		return false, fmt.Errorf("keep document of case %s: the hash does not match the bytes", d.CaseID)
	}
	if d.Kind == "" {
		d.Kind = KindUpload
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = db.Now()
	}
	keyID, sealed, err := db.keys.Seal(d.Data)
	if err != nil {
		return false, err
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("keep document of case %s: %w", d.CaseID, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, db.bind(
		"INSERT INTO blobs (sha256, key_id, size, sealed) VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING"),
		d.SHA256, keyID, len(d.Data), sealed); err != nil {
		return false, fmt.Errorf("keep document of case %s: %w", d.CaseID, err)
	}
	res, err := tx.ExecContext(ctx, db.bind(
		`INSERT INTO case_documents (case_id, sha256, name, content_type, size, kind, created_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (case_id, sha256) DO NOTHING`),
		d.CaseID, d.SHA256, d.Name, d.ContentType, len(d.Data), d.Kind, micros(d.CreatedAt))
	if err != nil {
		return false, fmt.Errorf("keep document of case %s: %w", d.CaseID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, tx.Commit()
}

// Document returns a document of a case by its hash, decrypted; a case
// that does not hold it gets ENOTFOUND.
func (db *DB) Document(ctx context.Context, caseID, sha string) (Document, error) {
	caseID, sha = text(caseID), text(sha)
	d := Document{CaseID: caseID, SHA256: sha}
	var created int64
	var keyID string
	var sealed []byte
	err := db.sql.QueryRowContext(ctx, db.bind(
		`SELECT d.name, d.content_type, d.size, d.kind, d.created_at, b.key_id, b.sealed
		 FROM case_documents d JOIN blobs b ON b.sha256 = d.sha256 WHERE d.case_id = ? AND d.sha256 = ?`),
		caseID, sha).Scan(&d.Name, &d.ContentType, &d.Size, &d.Kind, &created, &keyID, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return d, ozgflow.Errorf(ozgflow.ENOTFOUND, "No document %s in application %s.", sha, caseID)
	}
	if err != nil {
		return d, fmt.Errorf("read document of case %s: %w", caseID, err)
	}
	d.CreatedAt = fromMicros(created)
	if d.Data, err = db.keys.Open(keyID, sealed); err != nil {
		return d, fmt.Errorf("read document of case %s: %w", caseID, err)
	}
	return d, nil
}

// HasDocument reports whether a case holds the document with the hash.
func (db *DB) HasDocument(ctx context.Context, caseID, sha string) (bool, error) {
	caseID, sha = text(caseID), text(sha)
	var n int
	err := db.sql.QueryRowContext(ctx, db.bind("SELECT COUNT(*) FROM case_documents WHERE case_id = ? AND sha256 = ?"),
		caseID, sha).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("look up document of case %s: %w", caseID, err)
	}
	return n > 0, nil
}

// Documents lists the documents of a case, oldest first, without content.
func (db *DB) Documents(ctx context.Context, caseID string) ([]Document, error) {
	caseID = text(caseID)
	rows, err := db.sql.QueryContext(ctx, db.bind(
		`SELECT sha256, name, content_type, size, kind, created_at FROM case_documents
		 WHERE case_id = ? ORDER BY created_at, sha256`), caseID)
	if err != nil {
		return nil, fmt.Errorf("list documents of case %s: %w", caseID, err)
	}
	defer rows.Close()
	var out []Document
	for rows.Next() {
		d := Document{CaseID: caseID}
		var created int64
		if err := rows.Scan(&d.SHA256, &d.Name, &d.ContentType, &d.Size, &d.Kind, &created); err != nil {
			return nil, err
		}
		d.CreatedAt = fromMicros(created)
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeleteDocument removes a document from a case, for an upload whose
// answer was refused; the bytes go when no case holds them any more.
func (db *DB) DeleteDocument(ctx context.Context, caseID, sha string) error {
	caseID, sha = text(caseID), text(sha)
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := db.deleteDocuments(ctx, tx, "case_id = ? AND sha256 = ?", caseID, sha); err != nil {
		return fmt.Errorf("delete document of case %s: %w", caseID, err)
	}
	return tx.Commit()
}

// deleteDocuments removes the case_documents rows matching where, then the
// blobs no case refers to any more; it returns how many were removed.
func (db *DB) deleteDocuments(ctx context.Context, tx *sql.Tx, where string, args ...any) (int, error) {
	rows, err := tx.QueryContext(ctx, db.bind("SELECT DISTINCT sha256 FROM case_documents WHERE "+where), args...)
	if err != nil {
		return 0, err
	}
	var hashes []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			rows.Close()
			return 0, err
		}
		hashes = append(hashes, h)
	}
	rows.Close()
	res, err := tx.ExecContext(ctx, db.bind("DELETE FROM case_documents WHERE "+where), args...)
	if err != nil {
		return 0, err
	}
	for _, h := range hashes {
		if _, err := tx.ExecContext(ctx, db.bind(
			"DELETE FROM blobs WHERE sha256 = ? AND NOT EXISTS (SELECT 1 FROM case_documents WHERE sha256 = ?)"), h, h); err != nil {
			return 0, err
		}
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// RotateKeys encrypts again, with the current key, the documents,
// closed-case records and notes kept under another key, at most limit of each at a
// time; it returns how many it re-encrypted, so that a caller repeats
// until none are left.
func (db *DB) RotateKeys(ctx context.Context, limit int) (int, error) {
	docs, err := db.rotateDocuments(ctx, limit)
	if err != nil {
		return docs, err
	}
	recs, err := db.rotateClosedCases(ctx, limit)
	if err != nil {
		return docs + recs, err
	}
	notes, err := db.rotateNotes(ctx, limit)
	return docs + recs + notes, err
}

// rotateDocuments encrypts again up to limit blobs kept under another key.
func (db *DB) rotateDocuments(ctx context.Context, limit int) (int, error) {
	return db.rotate(ctx, "blobs", "sha256", "", limit)
}

// rotate encrypts again, with the current key, up to limit rows of table
// (named by column id) whose sealed bytes are under another key.
func (db *DB) rotate(ctx context.Context, table, id, where string, limit int) (int, error) {
	rows, err := db.sql.QueryContext(ctx, db.bind("SELECT "+id+", key_id, sealed FROM "+table+
		" WHERE key_id <> ?"+where+" LIMIT ?"), db.keys.Current(), limit)
	if err != nil {
		return 0, fmt.Errorf("rotate the keys of %s: %w", table, err)
	}
	type sealedRow struct {
		id, keyID string
		sealed    []byte
	}
	var todo []sealedRow
	for rows.Next() {
		var r sealedRow
		if err := rows.Scan(&r.id, &r.keyID, &r.sealed); err != nil {
			rows.Close()
			return 0, err
		}
		todo = append(todo, r)
	}
	rows.Close()
	for _, r := range todo {
		plain, err := db.keys.Open(r.keyID, r.sealed)
		if err != nil {
			return 0, fmt.Errorf("rotate %s %s: %w", table, r.id, err)
		}
		keyID, sealed, err := db.keys.Seal(plain)
		if err != nil {
			return 0, err
		}
		if _, err := db.sql.ExecContext(ctx, db.bind("UPDATE "+table+" SET key_id = ?, sealed = ? WHERE "+id+" = ? AND key_id = ?"+where),
			keyID, sealed, r.id, r.keyID); err != nil {
			return 0, fmt.Errorf("rotate %s %s: %w", table, r.id, err)
		}
	}
	return len(todo), nil
}

// LatestOfKind returns the newest document of a kind a case holds, with its
// content; ENOTFOUND when it holds none.
func (db *DB) LatestOfKind(ctx context.Context, caseID, kind string) (Document, error) {
	caseID, kind = text(caseID), text(kind)
	var sha string
	err := db.sql.QueryRowContext(ctx, db.bind(
		"SELECT sha256 FROM case_documents WHERE case_id = ? AND kind = ? ORDER BY created_at DESC LIMIT 1"),
		caseID, kind).Scan(&sha)
	if errors.Is(err, sql.ErrNoRows) {
		return Document{}, ozgflow.Errorf(ozgflow.ENOTFOUND, "No %s document in application %s.", kind, caseID)
	}
	if err != nil {
		return Document{}, fmt.Errorf("look up %s of case %s: %w", kind, caseID, err)
	}
	return db.Document(ctx, caseID, sha)
}
