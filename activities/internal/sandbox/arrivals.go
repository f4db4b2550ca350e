package sandbox

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// KeptInMemory is how many items Arrivals keeps decoded in memory. Beyond
// it, a sandbox whose journal is a file keeps only a 16-byte hash of each
// ID it has seen and answers its listings from the journal, so that a
// portal or mail sink holding the notices of a hundred thousand cases costs
// a few megabytes, not hundreds.
const KeptInMemory = 5000

// Arrivals keeps what a sandbox received (portal events, mails) once per ID,
// in order of first arrival, and counts how often each came: a real
// receiver drops repeats by their ID, and the sandbox shows how many there
// were. Its journal has one line per arrival, {"<name>": item} for a new
// item and {"duplicate": id} for a repeat. It is safe for concurrent use.
type Arrivals[T any] struct {
	name       string
	id         func(T) string
	deliveries func(*T) *int
	limit      int  // items kept decoded; beyond, lists read the journal
	spillable  bool // the journal is a file that lists can read

	mu      sync.Mutex
	items   []T           // every item, while there are no more than limit; then nil
	seen    map[idKey]int // every ID, with its index in items while they are kept
	spilled bool          // items are no longer kept
	journal *Journal
}

// idKey stands for an ID: half of its SHA-256, smaller than a UUID's
// string and its header.
type idKey [16]byte

func keyOf(id string) idKey {
	sum := sha256.Sum256([]byte(id))
	return idKey(sum[:16])
}

// OpenArrivals replays the journal at path (empty keeps nothing) and opens
// it for appending. name is the journal's key of a new item; id gives an
// item's ID and deliveries the item's count of deliveries, which Arrivals
// keeps.
func OpenArrivals[T any](path, name string, id func(T) string, deliveries func(*T) *int) (*Arrivals[T], error) {
	return openArrivals(path, name, id, deliveries, KeptInMemory)
}

func openArrivals[T any](path, name string, id func(T) string, deliveries func(*T) *int, limit int) (*Arrivals[T], error) {
	a := &Arrivals[T]{name: name, id: id, deliveries: deliveries, limit: limit, spillable: path != "", seen: map[idKey]int{}}
	j, err := OpenJournal(path, a.replay)
	if err != nil {
		return nil, err
	}
	a.journal = j
	return a, nil
}

// duplicateKey is the journal's key of a repeat.
const duplicateKey = "duplicate"

// parse reads one journal line: a new item, or the ID of a repeat.
func (a *Arrivals[T]) parse(line []byte) (item *T, repeat string, err error) {
	var entry map[string]json.RawMessage
	if err := json.Unmarshal(line, &entry); err != nil {
		return nil, "", err
	}
	if raw, ok := entry[a.name]; ok && string(raw) != "null" {
		item = new(T)
		if err := json.Unmarshal(raw, item); err != nil {
			return nil, "", err
		}
		if a.id(*item) == "" {
			return nil, "", fmt.Errorf("%s without an ID", a.name)
		}
		return item, "", nil
	}
	if raw, ok := entry[duplicateKey]; ok {
		if err := json.Unmarshal(raw, &repeat); err != nil {
			return nil, "", err
		}
	}
	if repeat == "" {
		return nil, "", errors.New("empty entry")
	}
	return nil, repeat, nil
}

func (a *Arrivals[T]) replay(line []byte) error {
	item, repeat, err := a.parse(line)
	if err != nil {
		return err
	}
	if item != nil {
		a.remember(*item)
		return nil
	}
	i, ok := a.seen[keyOf(repeat)]
	if !ok {
		return fmt.Errorf("duplicate of unknown %s %q", a.name, repeat)
	}
	if !a.spilled {
		*a.deliveries(&a.items[i])++
	}
	return nil
}

// remember notes a new item, and stops keeping items decoded once there
// are more than the limit and the journal can list them.
func (a *Arrivals[T]) remember(item T) {
	a.seen[keyOf(a.id(item))] = len(a.items)
	if a.spilled {
		return
	}
	a.items = append(a.items, item)
	if len(a.items) > a.limit && a.spillable {
		a.items, a.spilled = nil, true
	}
}

// Add keeps item, delivered once, unless an item with its ID is here
// already: then it counts one more delivery of that one and reports a
// duplicate. Either is written to the journal first.
func (a *Arrivals[T]) Add(item T) (duplicate bool, err error) {
	id := a.id(item)
	a.mu.Lock()
	defer a.mu.Unlock()
	if i, ok := a.seen[keyOf(id)]; ok {
		if err := a.journal.Append(map[string]string{duplicateKey: id}); err != nil {
			return true, err
		}
		if !a.spilled {
			*a.deliveries(&a.items[i])++
		}
		return true, nil
	}
	*a.deliveries(&item) = 1
	if err := a.journal.Append(map[string]*T{a.name: &item}); err != nil {
		return false, err
	}
	a.remember(item)
	return false, nil
}

// List returns the items that keep selects, in order of first arrival and
// never nil, and how many repeats of them came. Once the items are no
// longer kept in memory, it reads them from the journal, as far as the
// journal held when List was called, while new ones arrive; an error
// reading it (the disk's, or a line that is no entry) comes with the items
// read before it.
func (a *Arrivals[T]) List(keep func(T) bool) (items []T, duplicates int, err error) {
	items = []T{}
	a.mu.Lock()
	if !a.spilled {
		defer a.mu.Unlock()
		for _, item := range a.items {
			if keep(item) {
				items = append(items, item)
				duplicates += *a.deliveries(&item) - 1
			}
		}
		return items, duplicates, nil
	}
	a.mu.Unlock() // once spilled, always: the journal holds every item
	index := map[string]int{}
	err = a.journal.Read(func(line []byte) error {
		item, repeat, err := a.parse(line)
		switch {
		case err != nil:
			return err
		case item != nil && keep(*item):
			index[a.id(*item)] = len(items)
			items = append(items, *item)
		case item == nil:
			if i, ok := index[repeat]; ok {
				*a.deliveries(&items[i])++
				duplicates++
			}
		}
		return nil
	})
	return items, duplicates, err
}

// Close closes the journal.
func (a *Arrivals[T]) Close() error { return a.journal.Close() }
