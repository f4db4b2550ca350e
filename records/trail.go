package records

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Entry is one line of the audit trail: who (actor, role, authority) did
// what (action, detail) to which case or portal account, when and from
// where. Entries hold IDs and addresses, never the personal data read.
type Entry struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	Role      string    `json:"role"`
	Authority string    `json:"authority,omitempty"`
	CaseID    string    `json:"caseId,omitempty"`
	Account   string    `json:"account,omitempty"`
	Action    string    `json:"action"`
	Detail    string    `json:"detail,omitempty"`
	Address   string    `json:"address,omitempty"`
}

// Bounds of an entry's free text, so that no input grows the trail unduly.
const (
	maxEntryField  = 256
	maxEntryDetail = 1024
)

// Append adds an entry to the trail. The trail only grows: the database
// refuses to change or delete an entry.
func (db *DB) Append(ctx context.Context, e Entry) error {
	if e.At.IsZero() {
		e.At = db.Now()
	}
	if e.Action == "" || e.Actor == "" {
		return fmt.Errorf("audit entry without action or actor")
	}
	insert, err := db.prepared(ctx, `INSERT INTO trail (at, actor, role, authority, case_id, account, action, detail, address)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("append to the audit trail: %w", err)
	}
	_, err = insert.ExecContext(ctx, micros(e.At), clip(e.Actor, maxEntryField), clip(e.Role, maxEntryField), clip(e.Authority, maxEntryField),
		clip(e.CaseID, maxEntryField), clip(e.Account, maxEntryField), clip(e.Action, maxEntryField),
		clip(e.Detail, maxEntryDetail), clip(e.Address, maxEntryField))
	if err != nil {
		return fmt.Errorf("append to the audit trail: %w", err)
	}
	return nil
}

// clip cuts s to at most n bytes, never inside a character, and makes it
// storable (see text).
func clip(s string, n int) string {
	s = text(s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// TrailQuery selects entries; empty fields select everything. From is
// inclusive, To exclusive.
type TrailQuery struct {
	CaseID  string
	Actor   string
	Account string
	From    time.Time
	To      time.Time
	// After continues a listing after the entry with this ID.
	After int64
	// Limit bounds the answer; zero means 1000.
	Limit int
	// Newest lists the newest entries first (After is then ignored).
	Newest bool
}

// Trail returns the entries the query selects, oldest first unless the
// query asks for the newest.
func (db *DB) Trail(ctx context.Context, q TrailQuery) ([]Entry, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		if s, ok := arg.(string); ok {
			arg = text(s)
		}
		where, args = append(where, cond), append(args, arg)
	}
	if q.CaseID != "" {
		add("case_id = ?", q.CaseID)
	}
	if q.Actor != "" {
		add("actor = ?", q.Actor)
	}
	if q.Account != "" {
		add("account = ?", q.Account)
	}
	if !q.From.IsZero() {
		add("at >= ?", micros(q.From))
	}
	if !q.To.IsZero() {
		add("at < ?", micros(q.To))
	}
	if q.After > 0 && !q.Newest {
		add("id > ?", q.After)
	}
	if q.Limit <= 0 {
		q.Limit = 1000
	}
	query := "SELECT id, at, actor, role, authority, case_id, account, action, detail, address FROM trail"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	order := " ORDER BY id LIMIT ?"
	if q.Newest {
		order = " ORDER BY id DESC LIMIT ?"
	}
	query += order
	args = append(args, q.Limit)
	rows, err := db.sql.QueryContext(ctx, db.bind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("read the audit trail: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Role, &e.Authority, &e.CaseID, &e.Account, &e.Action, &e.Detail, &e.Address); err != nil {
			return nil, err
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
