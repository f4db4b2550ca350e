// Package sqlitemem sets how the process's SQLite library (modernc.org/sqlite,
// shared by the engine's database and the records database) takes memory.
// A package that opens SQLite databases imports it, so that its options are
// set before main runs, before any database opens.
//
// The library's malloc maps every block over 16 KiB from the system on its
// own and unmaps it when it is freed. The program of one of the engine's
// larger statements outgrows that, and so does the 64 KiB chunk every
// statement journal starts with: each such statement mapped and unmapped
// memory, with system calls and page faults while the engine's one
// connection waited, and an unmap interrupts the other core as well.
//
// With these options each connection keeps 4 MiB of lookaside memory (63
// slots of 65,528 bytes, SQLite's largest, and 511 of 128 bytes), in which
// a statement's program grows in place. Statement journals are kept in 1 KiB
// chunks among the library's small blocks and never spill to a file: a
// statement that rewrites much inside a transaction (a data migration of a
// whole table, say) holds about twice the pages it changes in memory until
// it ends, so such statements run in batches.
package sqlitemem

import (
	"fmt"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

const (
	// lookasideSlot is the size asked for a connection's large lookaside
	// slots; SQLite takes at most 65,528 bytes of it.
	lookasideSlot = 64 << 10
	// lookasideMemory is what a connection keeps for lookaside in all.
	lookasideMemory = 4 << 20
)

// The options are set once per process, before any database opens; only a
// package that opened a SQLite database in its own init could come first,
// and that is a mistake in the code, not in the environment.
func init() {
	if err := configure(); err != nil {
		panic("sqlitemem: " + err.Error())
	}
}

// configure sets the library's memory options.
func configure() error {
	tls := libc.NewTLS()
	defer tls.Close()
	if err := config(tls, sqlite3.SQLITE_CONFIG_LOOKASIDE, int32(lookasideSlot), int32(lookasideMemory/lookasideSlot)); err != nil {
		return err
	}
	return config(tls, sqlite3.SQLITE_CONFIG_STMTJRNL_SPILL, int32(-1))
}

// config calls sqlite3_config with op and its arguments.
func config(tls *libc.TLS, op int32, args ...any) error {
	va := libc.NewVaList(args...)
	defer libc.Xfree(tls, va)
	if rc := sqlite3.Xsqlite3_config(tls, op, va); rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("option %d refused with code %d: SQLite was in use before its options were set", op, rc)
	}
	return nil
}
