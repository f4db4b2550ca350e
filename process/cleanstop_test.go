package process

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCleanStopVouchesOnlyForUnchangedFiles: the note of an orderly stop
// spares the full check of a database file only while the file is as the
// stop left it, and only once.
func TestCleanStopVouchesOnlyForUnchangedFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range databaseFiles {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("SQLite format 3\x00"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if note := takeCleanStop(dir); note.unchanged(dir, "temporal.db") {
		t.Fatal("no orderly stop noted, yet a file counts as unchanged")
	}
	if err := writeCleanStop(dir); err != nil {
		t.Fatal(err)
	}
	// records.db changes after the stop: its size and time differ.
	later := time.Now().Add(time.Minute)
	path := filepath.Join(dir, "records.db")
	if err := os.WriteFile(path, []byte("SQLite format 3\x00 and then some"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	note := takeCleanStop(dir)
	if !note.unchanged(dir, "temporal.db") {
		t.Error("an untouched database counts as changed")
	}
	if note.unchanged(dir, "records.db") {
		t.Error("a database changed since the stop counts as unchanged")
	}
	if again := takeCleanStop(dir); again != nil {
		t.Errorf("the note vouches a second time: %v", again)
	}
}
