package records

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ozgflow/ozgflow"
)

// ClosedCase is the final record of a case, written when it closes: its
// state and the application it started with, kept (encrypted) until the
// variant's retention ends, and the statistics that stay after that.
type ClosedCase struct {
	Case        ozgflow.Case        `json:"case"`
	Application ozgflow.Application `json:"application"`
	ClosedAt    time.Time           `json:"closedAt"`
	RetainUntil time.Time           `json:"retainUntil"`
	// ErasedAt is set once the personal data is gone; Case then holds only
	// the statistics' fields and Application is empty.
	ErasedAt      time.Time `json:"erasedAt,omitzero"`
	ErasedBecause string    `json:"erasedBecause,omitempty"`
}

// SaveClosedCase writes the final record of a case. Writing it again is
// harmless: a lower revision never replaces a higher one, and an erased
// case stays erased.
func (db *DB) SaveClosedCase(ctx context.Context, rec ClosedCase) error {
	c := rec.Case
	plain, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	keyID, sealed, err := db.keys.Seal(plain)
	if err != nil {
		return err
	}
	var outcome, currency, paymentStatus string
	var decidedAt time.Time
	var fee int64
	if c.Decision != nil {
		outcome, decidedAt = c.Decision.Outcome, c.Decision.At
	}
	if p := c.Payment; p != nil {
		fee, currency, paymentStatus = p.Amount, p.Currency, p.Status
	}
	upsert, err := db.prepared(ctx, `INSERT INTO closed_cases (case_id, revision, service, service_name, authority, definition, status, outcome,
		   submitted_at, decided_at, fee_cents, fee_currency, payment_status, closed_at, retain_until, account, key_id, sealed)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (case_id) DO UPDATE SET revision = excluded.revision, status = excluded.status,
		   outcome = excluded.outcome, decided_at = excluded.decided_at, fee_cents = excluded.fee_cents,
		   fee_currency = excluded.fee_currency, payment_status = excluded.payment_status, closed_at = excluded.closed_at,
		   retain_until = excluded.retain_until, key_id = excluded.key_id, sealed = excluded.sealed
		 WHERE closed_cases.revision < excluded.revision AND closed_cases.erased_at = 0`)
	if err != nil {
		return fmt.Errorf("keep the record of case %s: %w", c.ID, err)
	}
	_, err = upsert.ExecContext(ctx, c.ID, c.Revision, c.Service, c.ServiceName, c.Authority, fmt.Sprintf("%s@%d", c.DefinitionID, c.DefinitionVersion),
		string(c.Status), outcome, micros(c.SubmittedAt), micros(decidedAt), fee, currency, paymentStatus,
		micros(rec.ClosedAt), micros(rec.RetainUntil),
		text(c.PortalAccount), keyID, sealed)
	if err != nil {
		return fmt.Errorf("keep the record of case %s: %w", c.ID, err)
	}
	return nil
}

// closedColumns are the columns scanClosed reads.
const closedColumns = `case_id, revision, service, service_name, authority, definition, status, outcome,
	submitted_at, decided_at, fee_cents, fee_currency, payment_status, closed_at, retain_until, key_id, sealed,
	erased_at, erased_because`

// ClosedCase returns the record of a closed case; ENOTFOUND when there is none.
func (db *DB) ClosedCase(ctx context.Context, caseID string) (ClosedCase, error) {
	caseID = text(caseID)
	row := db.sql.QueryRowContext(ctx, db.bind("SELECT "+closedColumns+" FROM closed_cases WHERE case_id = ?"), caseID)
	rec, err := db.scanClosed(row, false)
	if errors.Is(err, sql.ErrNoRows) {
		return rec, ozgflow.Errorf(ozgflow.ENOTFOUND, "Application %s not found.", caseID)
	}
	return rec, err
}

// scanClosed reads one closed case: the sealed record while it is kept
// (unless statsOnly), the statistics alone once it is erased.
func (db *DB) scanClosed(row interface{ Scan(...any) error }, statsOnly bool) (ClosedCase, error) {
	var rec ClosedCase
	var c ozgflow.Case
	var definition, status, outcome, currency, paymentStatus, keyID, because string
	var submitted, decided, fee, closed, retain, erased int64
	var sealed []byte
	if err := row.Scan(&c.ID, &c.Revision, &c.Service, &c.ServiceName, &c.Authority, &definition, &status, &outcome,
		&submitted, &decided, &fee, &currency, &paymentStatus, &closed, &retain, &keyID, &sealed, &erased, &because); err != nil {
		return rec, err
	}
	if erased == 0 && len(sealed) > 0 && !statsOnly {
		plain, err := db.keys.Open(keyID, sealed)
		if err != nil {
			return rec, fmt.Errorf("read the record of case %s: %w", c.ID, err)
		}
		if err := json.Unmarshal(plain, &rec); err != nil {
			return rec, fmt.Errorf("read the record of case %s: %w", c.ID, err)
		}
		return rec, nil
	}
	c.Status, c.Stage = ozgflow.Status(status), "done"
	c.DefinitionID, c.DefinitionVersion = splitDefinition(definition)
	c.SubmittedAt = fromMicros(submitted)
	if outcome != "" {
		c.Decision = &ozgflow.Decision{Outcome: outcome, At: fromMicros(decided)}
	}
	if paymentStatus != "" {
		c.Payment = &ozgflow.Payment{Amount: fee, Currency: currency, Status: paymentStatus}
	}
	c.Timeline = []ozgflow.Notice{}
	c.ErasedAt = fromMicros(erased)
	return ClosedCase{Case: c, ClosedAt: fromMicros(closed), RetainUntil: fromMicros(retain),
		ErasedAt: fromMicros(erased), ErasedBecause: because}, nil
}

// splitDefinition reads "<id>@<version>".
func splitDefinition(s string) (string, int) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '@' {
			var v int
			fmt.Sscan(s[i+1:], &v)
			return s[:i], v
		}
	}
	return s, 0
}

// EachClosedCase calls fn with every closed case of an authority (all
// authorities when empty), erased ones with their statistics only.
func (db *DB) EachClosedCase(ctx context.Context, authority string, fn func(ClosedCase) error) error {
	return db.eachClosed(ctx, authority, false, fn)
}

// EachClosedStatistics calls fn with the statistics of every closed case
// of an authority (all when empty): service, status, decision, dates and
// fee, never personal data, and without decrypting a record.
func (db *DB) EachClosedStatistics(ctx context.Context, authority string, fn func(ozgflow.Case) error) error {
	return db.eachClosed(ctx, authority, true, func(rec ClosedCase) error { return fn(rec.Case) })
}

func (db *DB) eachClosed(ctx context.Context, authority string, statsOnly bool, fn func(ClosedCase) error) error {
	authority = text(authority)
	query, args := "SELECT "+closedColumns+" FROM closed_cases", []any{}
	if authority != "" {
		query, args = query+" WHERE authority = ?", append(args, authority)
	}
	rows, err := db.sql.QueryContext(ctx, db.bind(query+" ORDER BY closed_at, case_id"), args...)
	if err != nil {
		return fmt.Errorf("read closed cases: %w", err)
	}
	var recs []ClosedCase
	for rows.Next() {
		rec, err := db.scanClosed(rows, statsOnly)
		if err != nil {
			rows.Close()
			return err
		}
		recs = append(recs, rec)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, rec := range recs {
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// DueForErasure returns up to limit closed cases whose retention ended
// before now and whose personal data is still kept.
func (db *DB) DueForErasure(ctx context.Context, now time.Time, limit int) ([]string, error) {
	return db.caseIDs(ctx, "erased_at = 0 AND retain_until > 0 AND retain_until <= ? ORDER BY retain_until LIMIT ?",
		micros(now), limit)
}

// ClosedCasesOf returns the closed cases of a portal account whose
// personal data is still kept.
func (db *DB) ClosedCasesOf(ctx context.Context, account string) ([]string, error) {
	account = text(account)
	return db.caseIDs(ctx, "erased_at = 0 AND account = ? ORDER BY closed_at", account)
}

func (db *DB) caseIDs(ctx context.Context, where string, args ...any) ([]string, error) {
	rows, err := db.sql.QueryContext(ctx, db.bind("SELECT case_id FROM closed_cases WHERE "+where), args...)
	if err != nil {
		return nil, fmt.Errorf("select closed cases: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// Erasure is what erasing a case removed.
type Erasure struct {
	CaseID    string
	Documents int
	// Already is set when the case had been erased before.
	Already bool
}

// EraseCase removes the personal data of a closed case: its record, its
// documents, the case workers' notes and the read marks of its notices go,
// the statistics stay. because says why (retention ended,
// or the request it fulfils). A case erased before is left as it is.
func (db *DB) EraseCase(ctx context.Context, caseID, because string, at time.Time) (Erasure, error) {
	caseID, because = text(caseID), text(because)
	er := Erasure{CaseID: caseID}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return er, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, db.bind(
		`UPDATE closed_cases SET sealed = NULL, account = '', erased_at = ?, erased_because = ?
		 WHERE case_id = ? AND erased_at = 0`), micros(at), clip(because, maxEntryDetail), caseID)
	if err != nil {
		return er, fmt.Errorf("erase case %s: %w", caseID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		er.Already = true
	}
	if er.Documents, err = db.deleteDocuments(ctx, tx, "case_id = ?", caseID); err != nil {
		return er, fmt.Errorf("erase the documents of case %s: %w", caseID, err)
	}
	// The case workers' internal notes are personal data of the case too.
	if _, err := tx.ExecContext(ctx, db.bind("DELETE FROM case_notes WHERE case_id = ?"), caseID); err != nil {
		return er, fmt.Errorf("erase the notes of case %s: %w", caseID, err)
	}
	// Notice IDs are "<case>-<n>": the read marks and portal deliveries
	// of the case's notices would tie the account to the erased case.
	for _, table := range []string{"read_marks", "portal_deliveries"} {
		if _, err := tx.ExecContext(ctx, db.bind("DELETE FROM "+table+" WHERE notice_id > ? AND notice_id < ?"),
			caseID+"-", caseID+"."); err != nil {
			return er, fmt.Errorf("erase the %s of case %s: %w", table, caseID, err)
		}
	}
	return er, tx.Commit()
}

// ForgetReadMarks removes the read marks of a portal account's notices,
// for an erasure of the account.
func (db *DB) ForgetReadMarks(ctx context.Context, account string) error {
	account = text(account)
	if _, err := db.sql.ExecContext(ctx, db.bind("DELETE FROM read_marks WHERE account = ?"), account); err != nil {
		return fmt.Errorf("forget read marks: %w", err)
	}
	return nil
}

// rotateClosedCases encrypts again, with the current key, up to limit
// closed-case records kept under another key.
func (db *DB) rotateClosedCases(ctx context.Context, limit int) (int, error) {
	return db.rotate(ctx, "closed_cases", "case_id", " AND sealed IS NOT NULL", limit)
}
