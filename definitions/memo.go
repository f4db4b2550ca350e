package definitions

import "sync"

// memo keeps what was made from a source text (a parsed notice template, a
// compiled condition) for the next case that uses the same text, so that a
// case does not parse again what the case before it parsed. The texts come
// from published definitions, so there are few; beyond limit entries the
// memo starts afresh rather than grow. Failures are not kept.
type memo[V any] struct {
	mu    sync.Mutex
	items map[string]V
	limit int
}

// get returns what build made of key, building it on the first ask.
func (m *memo[V]) get(key string, build func() (V, error)) (V, error) {
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
	if m.items == nil || len(m.items) >= m.limit {
		m.items = make(map[string]V)
	}
	m.items[key] = v
	m.mu.Unlock()
	return v, nil
}
