package definitions

import "sync"

// memo keeps what was made from a definition's text (a compiled schema, a
// parsed notice template, a compiled condition) for the next case that uses
// the same text, so that a case does not make again what the case before it
// made. What it keeps is read only and shared by the cases, and the same
// text always makes the same thing, so a case's result does not depend on
// whether it was kept. The texts come from published definitions, so there
// are few; beyond limit entries the memo starts afresh rather than grow.
// Failures are not kept.
type memo[K comparable, V any] struct {
	mu    sync.Mutex
	items map[K]V
	limit int
}

// get returns what build made of key, building it on the first ask.
func (m *memo[K, V]) get(key K, build func() (V, error)) (V, error) {
	m.mu.Lock()
	v, ok := m.items[key]
	m.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := build()
	if err != nil {
		return v, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.items == nil || len(m.items) >= m.limit {
		m.items = make(map[K]V)
	}
	m.items[key] = v
	return v, nil
}
