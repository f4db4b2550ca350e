// Package records is ozgflow's own SQL database: what cannot be rebuilt from
// Temporal and does not belong in workflow history. It keeps uploaded and
// generated documents (content-addressed, encrypted with the key ring of
// the payload codec), the append-only audit trail, the mailbox's read marks
// and the final record of every closed case with the statistics that
// outlive its personal data. dev keeps it in a SQLite file in the data
// directory, production in PostgreSQL; the schema is migrated at start.
package records

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	_ "github.com/lib/pq"             // PostgreSQL, for production
	sqlitedriver "modernc.org/sqlite" // SQLite, for dev and tests
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ozgflow/ozgflow/internal/keyring"
	_ "github.com/ozgflow/ozgflow/internal/sqlitemem" // sets SQLite's memory options before any database opens
)

// DB is an open records database.
type DB struct {
	sql     *sql.DB
	dialect dialect
	keys    *keyring.Ring
	// Now gives the time entries are stamped with; tests may set it.
	Now func() time.Time
	// statements are the prepared statements of the writes every case
	// makes, by query (see prepared).
	statements sync.Map
}

// dialect is what differs between SQLite and PostgreSQL.
type dialect string

const (
	sqlite   dialect = "sqlite"
	postgres dialect = "postgres"
)

//go:embed migrations
var migrations embed.FS

// Open connects to the database at url, a postgres:// URL or the path of a
// SQLite file (optionally "sqlite:" before it), and applies the migrations
// it lacks. keys encrypts documents and closed cases.
func Open(ctx context.Context, url string, keys *keyring.Ring) (*DB, error) {
	if keys == nil {
		return nil, errors.New("records: no key ring")
	}
	db := &DB{keys: keys, Now: time.Now}
	var err error
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		db.dialect = postgres
		db.sql, err = sql.Open("postgres", url)
	default:
		file := strings.TrimPrefix(url, "sqlite:")
		if file == "" {
			return nil, errors.New("records: no database given")
		}
		db.dialect = sqlite
		db.sql, err = sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout("+strconv.FormatInt(sqliteBusyTimeout.Milliseconds(), 10)+")&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate")
		// One connection: SQLite writes one at a time anyway, and a
		// single writer never meets a locked database. Transactions
		// take the write lock when they begin (every one here writes),
		// so that another process on the same file makes them wait
		// instead of failing them halfway.
		db.sql.SetMaxOpenConns(1)
	}
	if err != nil {
		return nil, fmt.Errorf("open records database: %w", err)
	}
	if err := db.firstConnection(ctx); err != nil {
		db.sql.Close()
		return nil, fmt.Errorf("open records database: %w", err)
	}
	if err := db.migrate(ctx); err != nil {
		db.sql.Close()
		return nil, err
	}
	return db, nil
}

// sqliteBusyTimeout is how long SQLite waits for another process's lock.
const sqliteBusyTimeout = 10 * time.Second

// firstConnection makes the first connection. A new SQLite file switches
// to WAL on its first connection, and that switch fails at once, without
// waiting, while another process does the same on the same file: it is
// tried again for as long as SQLite waits for a lock.
func (db *DB) firstConnection(ctx context.Context) error {
	deadline := time.Now().Add(sqliteBusyTimeout)
	for {
		err := db.sql.PingContext(ctx)
		var busy *sqlitedriver.Error
		if err == nil || !errors.As(err, &busy) ||
			busy.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Close closes the database.
func (db *DB) Close() error {
	db.statements.Range(func(_, s any) bool {
		s.(*sql.Stmt).Close()
		return true
	})
	return db.sql.Close()
}

// prepared returns query, bound to the dialect, as a statement prepared
// once: the writes every case makes (its number, its audit entries, its
// final record) are not parsed again for each case. database/sql prepares
// it again on a connection that has not seen it.
func (db *DB) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := db.statements.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := db.sql.PrepareContext(ctx, db.bind(query))
	if err != nil {
		return nil, err
	}
	if first, loaded := db.statements.LoadOrStore(query, s); loaded {
		s.Close()
		return first.(*sql.Stmt), nil
	}
	return s, nil
}

// Ping checks that the database answers, for readiness.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.sql.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Dialect names the database kind: "sqlite" or "postgres".
func (db *DB) Dialect() string { return string(db.dialect) }

// SchemaVersion is the number of the last migration applied.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := db.sql.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&v)
	return int(v.Int64), err
}

// migrate applies, in order and each in its own transaction, the
// migrations of the dialect not yet recorded in schema_migrations.
// On PostgreSQL concurrent starts take turns (inSchemaLock). On SQLite a
// statement's journal stays in memory (internal/sqlitemem): a migration
// that rewrites a large table does it in batches.
func (db *DB) migrate(ctx context.Context) error {
	dir := path.Join("migrations", string(db.dialect))
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	if err := db.inSchemaLock(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			"CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)")
		return err
	}); err != nil {
		return fmt.Errorf("records schema: %w", err)
	}
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil {
			return fmt.Errorf("records migration %s: name must start with its number", e.Name())
		}
		body, err := fs.ReadFile(migrations, path.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		if err := db.apply(ctx, version, string(body)); err != nil {
			return fmt.Errorf("records migration %s: %w", e.Name(), err)
		}
	}
	return nil
}

// apply runs one migration unless it is recorded as applied.
func (db *DB) apply(ctx context.Context, version int, body string) error {
	return db.inSchemaLock(ctx, func(tx *sql.Tx) error {
		var applied int
		if err := tx.QueryRowContext(ctx, db.bind("SELECT COUNT(*) FROM schema_migrations WHERE version = ?"), version).Scan(&applied); err != nil {
			return err
		}
		if applied > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, body); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, db.bind("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"),
			version, db.Now().UnixMicro())
		return err
	})
}

// inSchemaLock runs fn in a transaction and commits it. On PostgreSQL the
// transaction first takes the schema's advisory lock, so that processes
// starting at the same moment (gateway and worker) change the schema one
// after the other: even CREATE TABLE IF NOT EXISTS fails there against a
// twin running at the same time.
func (db *DB) inSchemaLock(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if db.dialect == postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7305001)"); err != nil {
			return err
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// bind turns the ? placeholders of a query into the dialect's.
func (db *DB) bind(query string) string {
	if db.dialect != postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// text makes s storable in both dialects: PostgreSQL refuses invalid
// UTF-8 and NUL in text. What it changes can never equal a stored value,
// which went through text too, so lookups by it find nothing, as they
// should, instead of failing.
func text(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// micros and fromMicros store times as microseconds since 1970, UTC, the
// same way in both dialects; zero stays zero.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}
