package sqlitemem

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// The library's malloc statistics are off in this build; the tests read
// them. Like the package's options, this must come before any database
// opens, which no test has done yet when the test binary's init runs.
func init() {
	tls := libc.NewTLS()
	defer tls.Close()
	if err := config(tls, sqlite3.SQLITE_CONFIG_MEMSTATUS, int32(1)); err != nil {
		panic(err)
	}
}

// mapped is the size from which the library's malloc maps a block from the
// system on its own (modernc.org/memory: a quarter of its 64 KiB pages).
const mapped = 16 << 10

// TestStatementProgramsStayInLookaside prepares a statement whose program
// is larger than a block the library's malloc would map on its own: it
// grows in one lookaside slot, and no allocation of the connection was too
// large for a slot or found none free.
func TestStatementProgramsStayInLookaside(t *testing.T) {
	tls := libc.NewTLS()
	defer tls.Close()
	db := open(t, tls, ":memory:")
	defer sqlite3.Xsqlite3_close(tls, db)

	var cols, marks []string
	for i := range 60 {
		cols = append(cols, fmt.Sprintf("c%d TEXT", i))
		marks = append(marks, "?")
	}
	exec(t, tls, db, "CREATE TABLE wide ("+strings.Join(cols, ", ")+")")
	for i := range 30 {
		exec(t, tls, db, fmt.Sprintf("CREATE UNIQUE INDEX wide_%d ON wide (c%d, c%d)", i, i, i+30))
	}
	before := lookaside(t, tls, db)

	stmt := prepare(t, tls, db, "INSERT INTO wide VALUES ("+strings.Join(marks, ", ")+")")
	program := sqlite3.Xsqlite3_stmt_status(tls, stmt, sqlite3.SQLITE_STMTSTATUS_MEMUSED, 0)
	sqlite3.Xsqlite3_finalize(tls, stmt)

	if program <= mapped {
		t.Fatalf("the statement takes %d bytes; the test needs one larger than %d", program, mapped)
	}
	after := lookaside(t, tls, db)
	if after.tooLarge != before.tooLarge || after.full != before.full {
		t.Errorf("while a %d-byte statement was prepared, %d allocations were too large for a lookaside slot and %d found none free",
			program, after.tooLarge-before.tooLarge, after.full-before.full)
	}
	if after.hits <= before.hits {
		t.Error("the statement took nothing from the lookaside slots")
	}
}

// TestStatementJournalsStayInSmallBlocks changes rows inside a
// transaction, which keeps a statement journal of the pages changed, and
// asks for no block the library's malloc would map on its own.
func TestStatementJournalsStayInSmallBlocks(t *testing.T) {
	tls := libc.NewTLS()
	defer tls.Close()
	db := open(t, tls, filepath.Join(t.TempDir(), "journal.db"))
	defer sqlite3.Xsqlite3_close(tls, db)

	exec(t, tls, db, "CREATE TABLE rows (id INTEGER PRIMARY KEY, name TEXT UNIQUE, body TEXT)")
	exec(t, tls, db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 2000) "+
		"INSERT INTO rows SELECT i, 'row ' || i, printf('%.200c', 'x') FROM n")
	exec(t, tls, db, "BEGIN")
	exec(t, tls, db, "UPDATE rows SET body = body || 'y' WHERE id <= 1000")
	largestRequest(t, tls, true)
	// A unique name may clash halfway: the statement keeps a journal of
	// the pages it changes, to undo itself alone.
	exec(t, tls, db, "UPDATE rows SET name = name || 'z', body = body || 'z'")
	largest := largestRequest(t, tls, false)
	exec(t, tls, db, "COMMIT")

	if largest >= mapped {
		t.Errorf("the statement asked for a block of %d bytes, which the library's malloc maps on its own", largest)
	}
}

// TestOptionsAreSetOnlyBeforeUse: once a database was open, the library
// refuses the options, and the package says why.
func TestOptionsAreSetOnlyBeforeUse(t *testing.T) {
	tls := libc.NewTLS()
	defer tls.Close()
	db := open(t, tls, ":memory:")
	sqlite3.Xsqlite3_close(tls, db)
	err := configure()
	if err == nil || !strings.Contains(err.Error(), "SQLite was in use before its options were set") {
		t.Errorf("configure after a database opened: %v", err)
	}
}

type lookasideCounts struct{ hits, tooLarge, full int32 }

// lookaside reads db's lookaside counters (their high-water marks are the
// counts).
func lookaside(t *testing.T, tls *libc.TLS, db uintptr) lookasideCounts {
	t.Helper()
	read := func(op int32) int32 {
		p := tls.Alloc(8)
		defer tls.Free(8)
		if rc := sqlite3.Xsqlite3_db_status(tls, db, op, p, p+4, 0); rc != sqlite3.SQLITE_OK {
			t.Fatalf("db_status %d: code %d", op, rc)
		}
		return libc.AtomicLoadPInt32(p + 4)
	}
	return lookasideCounts{
		hits:     read(sqlite3.SQLITE_DBSTATUS_LOOKASIDE_HIT),
		tooLarge: read(sqlite3.SQLITE_DBSTATUS_LOOKASIDE_MISS_SIZE),
		full:     read(sqlite3.SQLITE_DBSTATUS_LOOKASIDE_MISS_FULL),
	}
}

// largestRequest returns the largest block asked of the library's malloc
// since the last reset, and with reset starts counting anew.
func largestRequest(t *testing.T, tls *libc.TLS, reset bool) int32 {
	t.Helper()
	p := tls.Alloc(8)
	defer tls.Free(8)
	flag := int32(0)
	if reset {
		flag = 1
	}
	if rc := sqlite3.Xsqlite3_status(tls, sqlite3.SQLITE_STATUS_MALLOC_SIZE, p, p+4, flag); rc != sqlite3.SQLITE_OK {
		t.Fatalf("status: code %d", rc)
	}
	return libc.AtomicLoadPInt32(p + 4)
}

// cString copies s into the library's memory for the rest of the test.
func cString(t *testing.T, s string) uintptr {
	t.Helper()
	z, err := libc.CString(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { libc.Xfree(nil, z) })
	return z
}

func open(t *testing.T, tls *libc.TLS, file string) uintptr {
	t.Helper()
	pDB := tls.Alloc(8)
	defer tls.Free(8)
	if rc := sqlite3.Xsqlite3_open_v2(tls, cString(t, file), pDB, sqlite3.SQLITE_OPEN_READWRITE|sqlite3.SQLITE_OPEN_CREATE, 0); rc != sqlite3.SQLITE_OK {
		t.Fatalf("open %s: code %d", file, rc)
	}
	return libc.AtomicLoadPUintptr(pDB)
}

func prepare(t *testing.T, tls *libc.TLS, db uintptr, sql string) uintptr {
	t.Helper()
	pStmt := tls.Alloc(8)
	defer tls.Free(8)
	if rc := sqlite3.Xsqlite3_prepare_v2(tls, db, cString(t, sql), -1, pStmt, 0); rc != sqlite3.SQLITE_OK {
		t.Fatalf("prepare: code %d", rc)
	}
	return libc.AtomicLoadPUintptr(pStmt)
}

func exec(t *testing.T, tls *libc.TLS, db uintptr, sql string) {
	t.Helper()
	if rc := sqlite3.Xsqlite3_exec(tls, db, cString(t, sql), 0, 0, 0); rc != sqlite3.SQLITE_OK {
		t.Fatalf("%s: code %d", sql, rc)
	}
}
