package definitions

import (
	"fmt"
	"regexp"
	"sort"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ozgflow/ozgflow"
)

// Registry holds the known authorities and the published definition per
// (service, authority). It is safe for concurrent use.
type Registry struct {
	mu          sync.RWMutex
	authorities map[string]Authority
	published   map[variantKey]*entry
	slugs       map[string]string // slug → LeiKa key
	bases       map[string]*entry // definition ID → base definitions
}

type variantKey struct{ service, authority string }

type entry struct {
	def    Definition
	schema *jsonschema.Schema
}

var arsPattern = regexp.MustCompile(`^[0-9]{12}$`)

// NewRegistry returns an empty registry that knows the given authorities.
func NewRegistry(authorities []Authority) *Registry {
	r := &Registry{
		authorities: map[string]Authority{},
		published:   map[variantKey]*entry{},
		slugs:       map[string]string{},
		bases:       map[string]*entry{},
	}
	for _, a := range authorities {
		r.authorities[a.ARS] = a
	}
	return r
}

// Add validates def and publishes it: a definition with an authority takes new
// cases of its service there; one without is kept as a base.
func (r *Registry) Add(def Definition) error {
	if err := def.Validate(); err != nil {
		return err
	}
	schema, err := def.CompileSchema()
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e := &entry{def: def, schema: schema}
	if def.Authority == "" {
		r.bases[def.ID] = e
	} else {
		if _, ok := r.authorities[def.Authority]; !ok {
			return fmt.Errorf("definition %s: unknown authority %s", def.ID, def.Authority)
		}
		r.published[variantKey{def.Service, def.Authority}] = e
	}
	if other, ok := r.slugs[def.Slug]; ok && other != def.Service {
		return fmt.Errorf("definition %s: slug %q belongs to service %s", def.ID, def.Slug, other)
	}
	r.slugs[def.Slug] = def.Service
	return nil
}

// Resolve returns the published definition for a service, given by LeiKa key
// or slug, and an authority's ARS. Errors are ENOTFOUND with a message that
// says which of the three is unknown.
func (r *Registry) Resolve(service, authority string) (Definition, error) {
	e, err := r.lookup(service, authority)
	if err != nil {
		return Definition{}, err
	}
	return e.def, nil
}

// ValidateData checks application data against the schema of the published
// definition; it returns one FieldError per violation, pointers under /data.
func (r *Registry) ValidateData(def Definition, data []byte) ([]ozgflow.FieldError, error) {
	r.mu.RLock()
	e, ok := r.published[variantKey{def.Service, def.Authority}]
	r.mu.RUnlock()
	if !ok || e.def.ID != def.ID || e.def.Version != def.Version {
		schema, err := def.CompileSchema()
		if err != nil {
			return nil, err
		}
		return validateWith(schema, data), nil
	}
	return validateWith(e.schema, data), nil
}

func (r *Registry) lookup(service, authority string) (*entry, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	key := service
	if k, ok := r.slugs[service]; ok {
		key = k
	}
	known := false
	for _, s := range r.slugs {
		if s == key {
			known = true
		}
	}
	if !known {
		return nil, ozgflow.Errorf(ozgflow.ENOTFOUND, "Unknown service %q.", service)
	}
	if !arsPattern.MatchString(authority) {
		return nil, ozgflow.Errorf(ozgflow.ENOTFOUND, "Unknown authority %q: expected a 12-digit Amtlicher Regionalschlüssel.", authority)
	}
	if _, ok := r.authorities[authority]; !ok {
		return nil, ozgflow.Errorf(ozgflow.ENOTFOUND, "Unknown authority %s.", authority)
	}
	e, ok := r.published[variantKey{key, authority}]
	if !ok {
		return nil, ozgflow.Errorf(ozgflow.ENOTFOUND, "Service %s has no published variant for authority %s.", key, authority)
	}
	return e, nil
}

// ServiceKey returns the LeiKa key of a service given by key or slug.
func (r *Registry) ServiceKey(service string) (string, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if k, ok := r.slugs[service]; ok {
		return k, true
	}
	for _, k := range r.slugs {
		if k == service {
			return k, true
		}
	}
	return "", false
}

// Authority returns the authority with the given ARS.
func (r *Registry) Authority(ars string) (Authority, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	a, ok := r.authorities[ars]
	return a, ok
}

// Authorities returns the known authorities ordered by name.
func (r *Registry) Authorities() []Authority {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Authority, 0, len(r.authorities))
	for _, a := range r.authorities {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Published returns every published definition, ordered by service and authority.
func (r *Registry) Published() []Definition {
	r.mu.RLock()
	defer r.mu.RUnlock()
	defs := make([]Definition, 0, len(r.published))
	for _, e := range r.published {
		defs = append(defs, e.def)
	}
	sort.Slice(defs, func(i, j int) bool {
		if defs[i].Service != defs[j].Service {
			return defs[i].Service < defs[j].Service
		}
		return defs[i].Authority < defs[j].Authority
	})
	return defs
}
