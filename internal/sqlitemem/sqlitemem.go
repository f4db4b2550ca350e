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
// Lookaside slots of 64 KiB keep a statement's program in memory its
// connection holds, and statement journals in 1 KiB chunks stay among the
// library's small blocks.
package sqlitemem

import (
	"fmt"
	"os"
	"sync"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

const (
	// LookasideSlot is the size of a connection's large lookaside slots:
	// a statement's program grows in place up to it.
	LookasideSlot = 64 << 10
	// lookasideSlots is how many a connection keeps (4 MiB in all).
	lookasideSlots = 64
)

var (
	once      sync.Once
	configErr error
)

func init() {
	if err := Configure(); err != nil {
		fmt.Fprintln(os.Stderr, "ozgflow: SQLite memory options:", err)
	}
}

// Configure sets the library's memory options. They take effect only
// before the first SQLite database of the process opens; later calls
// return the first call's result.
func Configure() error {
	once.Do(func() {
		tls := libc.NewTLS()
		defer tls.Close()
		configErr = config(tls, sqlite3.SQLITE_CONFIG_LOOKASIDE, int32(LookasideSlot), int32(lookasideSlots))
		if configErr == nil {
			configErr = config(tls, sqlite3.SQLITE_CONFIG_STMTJRNL_SPILL, int32(-1))
		}
	})
	return configErr
}

func config(tls *libc.TLS, op int32, args ...any) error {
	va := libc.NewVaList(args...)
	defer libc.Xfree(tls, va)
	if rc := sqlite3.Xsqlite3_config(tls, op, va); rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("option %d refused with code %d: a database was open already", op, rc)
	}
	return nil
}
