package records

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Note is a case worker's internal note on a case: colleagues read it on
// the case, the applicant never does. Its text and the author's name are
// kept encrypted; they go with the case's other personal data when it is
// erased.
type Note struct {
	ID         string    `json:"id"`
	CaseID     string    `json:"caseId"`
	At         time.Time `json:"at"`
	Author     string    `json:"author"`     // the case worker's subject
	AuthorName string    `json:"authorName"` // their name when they wrote it
	Text       string    `json:"text"`
}

// notePayload is what a note keeps encrypted.
type notePayload struct {
	AuthorName string `json:"authorName"`
	Text       string `json:"text"`
}

// AddNote keeps a note for a case and returns it with its ID and time.
func (db *DB) AddNote(ctx context.Context, n Note) (Note, error) {
	n.ID = uuid.NewString()
	if n.At.IsZero() {
		n.At = db.Now()
	}
	n.At = n.At.UTC()
	n.CaseID, n.Author = text(n.CaseID), text(n.Author)
	plain, err := json.Marshal(notePayload{AuthorName: text(n.AuthorName), Text: text(n.Text)})
	if err != nil {
		return n, err
	}
	keyID, sealed, err := db.keys.Seal(plain)
	if err != nil {
		return n, err
	}
	if _, err := db.sql.ExecContext(ctx, db.bind(
		`INSERT INTO case_notes (note_id, case_id, at, author, key_id, sealed) VALUES (?, ?, ?, ?, ?, ?)`),
		n.ID, n.CaseID, micros(n.At), n.Author, keyID, sealed); err != nil {
		return n, fmt.Errorf("keep a note on case %s: %w", n.CaseID, err)
	}
	return n, nil
}

// Notes lists the notes of a case, oldest first.
func (db *DB) Notes(ctx context.Context, caseID string) ([]Note, error) {
	caseID = text(caseID)
	rows, err := db.sql.QueryContext(ctx, db.bind(
		`SELECT note_id, at, author, key_id, sealed FROM case_notes WHERE case_id = ? ORDER BY at, note_id`), caseID)
	if err != nil {
		return nil, fmt.Errorf("list the notes of case %s: %w", caseID, err)
	}
	defer rows.Close()
	var out []Note
	for rows.Next() {
		n := Note{CaseID: caseID}
		var at int64
		var keyID string
		var sealed []byte
		if err := rows.Scan(&n.ID, &at, &n.Author, &keyID, &sealed); err != nil {
			return nil, err
		}
		plain, err := db.keys.Open(keyID, sealed)
		if err != nil {
			return nil, fmt.Errorf("read a note of case %s: %w", caseID, err)
		}
		var p notePayload
		if err := json.Unmarshal(plain, &p); err != nil {
			return nil, fmt.Errorf("read a note of case %s: %w", caseID, err)
		}
		n.At, n.AuthorName, n.Text = fromMicros(at), p.AuthorName, p.Text
		out = append(out, n)
	}
	return out, rows.Err()
}

// rotateNotes encrypts again, with the current key, up to limit notes kept
// under another key.
func (db *DB) rotateNotes(ctx context.Context, limit int) (int, error) {
	return db.rotate(ctx, "case_notes", "note_id", "", limit)
}
