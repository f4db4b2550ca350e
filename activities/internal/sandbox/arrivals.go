package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// Arrivals keeps what a sandbox received (portal events, mails) once per ID,
// in order of first arrival, and counts how often each came: a real
// receiver drops repeats by their ID, and the sandbox shows how many there
// were. Its journal has one line per arrival, {"<name>": item} for a new
// item and {"duplicate": id} for a repeat. It is safe for concurrent use.
type Arrivals[T any] struct {
	name       string
	id         func(T) string
	deliveries func(*T) *int

	mu      sync.Mutex
	items   []T
	byID    map[string]int
	journal *Journal
}

// OpenArrivals replays the journal at path (empty keeps nothing) and opens
// it for appending. name is the journal's key of a new item; id gives an
// item's ID and deliveries the item's count of deliveries, which Arrivals
// keeps.
func OpenArrivals[T any](path, name string, id func(T) string, deliveries func(*T) *int) (*Arrivals[T], error) {
	a := &Arrivals[T]{name: name, id: id, deliveries: deliveries, byID: map[string]int{}}
	j, err := OpenJournal(path, a.replay)
	if err != nil {
		return nil, err
	}
	a.journal = j
	return a, nil
}

// duplicateKey is the journal's key of a repeat.
const duplicateKey = "duplicate"

func (a *Arrivals[T]) replay(line []byte) error {
	var entry map[string]json.RawMessage
	if err := json.Unmarshal(line, &entry); err != nil {
		return err
	}
	if raw, ok := entry[a.name]; ok && string(raw) != "null" {
		var item T
		if err := json.Unmarshal(raw, &item); err != nil {
			return err
		}
		if a.id(item) == "" {
			return fmt.Errorf("%s without an ID", a.name)
		}
		a.byID[a.id(item)] = len(a.items)
		a.items = append(a.items, item)
		return nil
	}
	var id string
	if raw, ok := entry[duplicateKey]; ok {
		if err := json.Unmarshal(raw, &id); err != nil {
			return err
		}
	}
	if id == "" {
		return errors.New("empty entry")
	}
	i, ok := a.byID[id]
	if !ok {
		return fmt.Errorf("duplicate of unknown %s %q", a.name, id)
	}
	*a.deliveries(&a.items[i])++
	return nil
}

// Add keeps item, delivered once, unless an item with its ID is here
// already: then it counts one more delivery of that one and reports a
// duplicate. Either is written to the journal first.
func (a *Arrivals[T]) Add(item T) (duplicate bool, err error) {
	id := a.id(item)
	a.mu.Lock()
	defer a.mu.Unlock()
	if i, ok := a.byID[id]; ok {
		if err := a.journal.Append(map[string]string{duplicateKey: id}); err != nil {
			return true, err
		}
		*a.deliveries(&a.items[i])++
		return true, nil
	}
	*a.deliveries(&item) = 1
	if err := a.journal.Append(map[string]*T{a.name: &item}); err != nil {
		return false, err
	}
	a.byID[id] = len(a.items)
	a.items = append(a.items, item)
	return false, nil
}

// All returns a copy of the items, in order of first arrival.
func (a *Arrivals[T]) All() []T {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]T(nil), a.items...)
}

// List returns the items that keep selects, in order of first arrival and
// never nil, and how many repeats of them came.
func (a *Arrivals[T]) List(keep func(T) bool) (items []T, duplicates int) {
	items = []T{}
	for _, item := range a.All() {
		if keep(item) {
			items = append(items, item)
			duplicates += *a.deliveries(&item) - 1
		}
	}
	return items, duplicates
}

// Close closes the journal.
func (a *Arrivals[T]) Close() error { return a.journal.Close() }
