package sqlitemem

import (
	"fmt"
	"strings"
	"testing"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// TestOptionsTookEffect opens a connection after init and prepares a
// statement whose program is far larger than SQLite's default lookaside
// slot of 1,200 bytes: with the options set, it fits in a slot, and no
// allocation of the connection was too large for one.
func TestOptionsTookEffect(t *testing.T) {
	if err := Configure(); err != nil {
		t.Fatal(err)
	}
	tls := libc.NewTLS()
	defer tls.Close()
	db := open(t, tls)
	defer sqlite3.Xsqlite3_close(tls, db)

	var cols, marks []string
	for i := range 40 {
		cols = append(cols, fmt.Sprintf("c%d TEXT", i))
		marks = append(marks, "?")
	}
	exec(t, tls, db, "CREATE TABLE wide ("+strings.Join(cols, ", ")+")")
	for i := range 10 {
		exec(t, tls, db, fmt.Sprintf("CREATE INDEX wide_%d ON wide (c%d, c%d)", i, i, i+20))
	}
	missSize := status(t, tls, db, sqlite3.SQLITE_DBSTATUS_LOOKASIDE_MISS_SIZE)
	hits := status(t, tls, db, sqlite3.SQLITE_DBSTATUS_LOOKASIDE_HIT)

	sql := "INSERT INTO wide VALUES (" + strings.Join(marks, ", ") + ")"
	zSQL, err := libc.CString(sql)
	if err != nil {
		t.Fatal(err)
	}
	defer libc.Xfree(tls, zSQL)
	pStmt := tls.Alloc(8)
	defer tls.Free(8)
	if rc := sqlite3.Xsqlite3_prepare_v2(tls, db, zSQL, -1, pStmt, 0); rc != sqlite3.SQLITE_OK {
		t.Fatalf("prepare: code %d", rc)
	}
	stmt := libc.AtomicLoadPUintptr(pStmt)
	program := sqlite3.Xsqlite3_stmt_status(tls, stmt, sqlite3.SQLITE_STMTSTATUS_MEMUSED, 0)
	sqlite3.Xsqlite3_finalize(tls, stmt)

	if program <= 1200 {
		t.Fatalf("the statement takes %d bytes; the test needs one larger than the default slot", program)
	}
	if got := status(t, tls, db, sqlite3.SQLITE_DBSTATUS_LOOKASIDE_MISS_SIZE); got != missSize {
		t.Errorf("%d allocations were too large for a lookaside slot while a %d-byte statement was prepared", got-missSize, program)
	}
	if got := status(t, tls, db, sqlite3.SQLITE_DBSTATUS_LOOKASIDE_HIT); got <= hits {
		t.Error("the statement took nothing from the lookaside slots")
	}
}

// TestLateConfigureReportsFirstResult: the options are set once; a later
// call does not try again on a library in use.
func TestLateConfigureReportsFirstResult(t *testing.T) {
	tls := libc.NewTLS()
	defer tls.Close()
	db := open(t, tls)
	defer sqlite3.Xsqlite3_close(tls, db)
	if err := Configure(); err != nil {
		t.Fatal(err)
	}
	if err := config(tls, sqlite3.SQLITE_CONFIG_LOOKASIDE, int32(LookasideSlot), int32(lookasideSlots)); err == nil {
		t.Error("the library took the option while a database was open")
	}
}

func open(t *testing.T, tls *libc.TLS) uintptr {
	t.Helper()
	name, err := libc.CString(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer libc.Xfree(tls, name)
	pDB := tls.Alloc(8)
	defer tls.Free(8)
	if rc := sqlite3.Xsqlite3_open_v2(tls, name, pDB, sqlite3.SQLITE_OPEN_READWRITE|sqlite3.SQLITE_OPEN_CREATE, 0); rc != sqlite3.SQLITE_OK {
		t.Fatalf("open: code %d", rc)
	}
	return libc.AtomicLoadPUintptr(pDB)
}

func exec(t *testing.T, tls *libc.TLS, db uintptr, sql string) {
	t.Helper()
	z, err := libc.CString(sql)
	if err != nil {
		t.Fatal(err)
	}
	defer libc.Xfree(tls, z)
	if rc := sqlite3.Xsqlite3_exec(tls, db, z, 0, 0, 0); rc != sqlite3.SQLITE_OK {
		t.Fatalf("%s: code %d", sql, rc)
	}
}

func status(t *testing.T, tls *libc.TLS, db uintptr, op int32) int32 {
	t.Helper()
	p := tls.Alloc(8)
	defer tls.Free(8)
	if rc := sqlite3.Xsqlite3_db_status(tls, db, op, p, p+4, 0); rc != sqlite3.SQLITE_OK {
		t.Fatalf("db_status %d: code %d", op, rc)
	}
	return libc.AtomicLoadPInt32(p + 4) // the high-water mark counts the events
}
