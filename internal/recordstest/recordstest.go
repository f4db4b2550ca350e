// Package recordstest opens records databases for tests: a SQLite file in
// the test's temporary directory, or a database of its own on the
// PostgreSQL server that `make test` provides (OZGFLOW_TEST_POSTGRES_URL or
// postgres://postgres@127.0.0.1:5432). Tests that need PostgreSQL fail
// loudly without it; they never skip.
package recordstest

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/ozgflow/ozgflow/internal/keyring"
	"github.com/ozgflow/ozgflow/records"
)

// Secret is the secret tests derive the records' keys from.
const Secret = "records-test-secret-0123456789"

// Dialects are the database kinds every records test runs on.
var Dialects = []string{"sqlite", "postgres"}

// PostgresServer is the PostgreSQL server of the test machine.
func PostgresServer() string {
	if v := os.Getenv("OZGFLOW_TEST_POSTGRES_URL"); v != "" {
		return strings.TrimSuffix(v, "/")
	}
	return "postgres://postgres@127.0.0.1:5432"
}

// Ring is the key ring of Secret and the given previous secrets.
func Ring(tb testing.TB, secret string, previous ...string) *keyring.Ring {
	tb.Helper()
	var prev [][]byte
	for _, p := range previous {
		prev = append(prev, []byte(p))
	}
	ring, err := keyring.New([]byte(secret), prev...)
	if err != nil {
		tb.Fatal(err)
	}
	return ring
}

// URL makes an empty database of the dialect for the test and returns its
// URL; the database goes when the test ends.
func URL(tb testing.TB, dialect string) string {
	tb.Helper()
	if dialect == "sqlite" {
		return filepath.Join(tb.TempDir(), "records.db")
	}
	name := "ozgflow_records_" + strings.ReplaceAll(uuid.NewString()[:18], "-", "")
	admin := open(tb, PostgresServer()+"/postgres")
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("tests need PostgreSQL at %s (run `make test`, which starts it): %v", PostgresServer(), err)
	}
	tb.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		admin.Close()
	})
	return PostgresServer() + "/" + name + "?sslmode=disable"
}

// open opens a PostgreSQL connection without TLS.
func open(tb testing.TB, raw string) *sql.DB {
	tb.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("sslmode", "disable")
	u.RawQuery = q.Encode()
	db, err := sql.Open("postgres", u.String())
	if err != nil {
		tb.Fatal(err)
	}
	return db
}

// Open opens a new records database of the dialect with the keys of Secret.
func Open(tb testing.TB, dialect string) *records.DB {
	tb.Helper()
	return OpenURL(tb, URL(tb, dialect), Ring(tb, Secret))
}

// OpenURL opens the records database at url with the given keys and
// closes it when the test ends.
func OpenURL(tb testing.TB, url string, keys *keyring.Ring) *records.DB {
	tb.Helper()
	db, err := records.Open(context.Background(), url, keys)
	if err != nil {
		tb.Fatalf("open records database: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
