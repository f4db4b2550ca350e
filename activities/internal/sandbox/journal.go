package sandbox

import "github.com/ozgflow/ozgflow/internal/journal"

// Journal keeps a sandbox's state as an append-only file of JSON lines; see
// package internal/journal, which the sandboxes outside activities/ share.
type Journal = journal.Journal

// OpenJournal replays the journal at path through replay and opens it for
// appending; an empty path gives a journal that keeps nothing.
func OpenJournal(path string, replay func(line []byte) error) (*Journal, error) {
	return journal.Open(path, replay)
}
