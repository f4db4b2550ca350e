package process

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
)

// SQLite's quick integrity check reads every page: seconds for each
// gigabyte. dev runs it at a start after a crash, and after an orderly
// stop only on a database file that changed since: the stop notes each
// file's size and modification time in the data directory, and the start
// takes the note away, so that a crash leaves none behind.

// cleanStopFile is the note of an orderly stop.
const cleanStopFile = "stopped-cleanly"

// databaseFiles are the SQLite files of a data directory that are checked.
var databaseFiles = []string{"temporal.db", "records.db"}

// fileState is what the note keeps of a database file.
type fileState struct {
	Size    int64 `json:"size"`
	ModTime int64 `json:"modTime"` // nanoseconds since the epoch
}

// cleanStop is the note: the state of each database file at the stop.
type cleanStop map[string]fileState

// stateOf reads a file's state; ok is false when it cannot be read.
func stateOf(path string) (fileState, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileState{}, false
	}
	return fileState{Size: fi.Size(), ModTime: fi.ModTime().UnixNano()}, true
}

// writeCleanStop notes that dev stopped in order, with its database files
// as they are now.
func writeCleanStop(dir string) error {
	note := cleanStop{}
	for _, name := range databaseFiles {
		if st, ok := stateOf(filepath.Join(dir, name)); ok {
			note[name] = st
		}
	}
	b, err := json.Marshal(note)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, cleanStopFile), b, 0o600)
}

// takeCleanStop reads the note of the last orderly stop and removes it;
// nil when the last stop was not orderly (or the note cannot be read).
func takeCleanStop(dir string) cleanStop {
	path := filepath.Join(dir, cleanStopFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil // a note that stays would vouch for a crash to come
	}
	var note cleanStop
	if json.Unmarshal(b, &note) != nil {
		return nil
	}
	return note
}

// unchanged reports whether a database file is as the orderly stop left it.
func (c cleanStop) unchanged(dir, name string) bool {
	want, noted := c[name]
	got, ok := stateOf(filepath.Join(dir, name))
	return noted && ok && got == want
}
