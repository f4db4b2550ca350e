package casework

import (
	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/locale"
)

// Definition finds the variant of a case, whose schema labels its data
// and whose wording speaks to its applicant: the version the case started
// with, else what is published now for its service and authority. Without
// either it is nil.
func (s *Service) Definition(c ozgflow.Case) *definitions.Definition {
	if s.Catalog != nil && c.DefinitionID != "" {
		snapshot := s.Catalog.Snapshot()
		if def, err := snapshot.Effective(c.DefinitionID, c.DefinitionVersion); err == nil {
			return &def
		}
	}
	if s.Defs != nil {
		if reg := s.Defs.Registry(); reg != nil {
			if def, err := reg.Resolve(c.Service, c.Authority); err == nil {
				return &def
			}
		}
	}
	return nil
}

// AuthorityContact is the office of an authority applicants turn to, or
// nil when the authority list names none.
func (s *Service) AuthorityContact(ars string) *definitions.Contact {
	if s.Defs == nil || s.Defs.Registry() == nil {
		return nil
	}
	a, _ := s.Defs.Registry().Authority(ars)
	return a.Contact
}

// DecisionText is the word for a decided outcome of a case as its variant
// says it (e.g. "Bestätigt" for a Gewerbeanmeldung), as the applicant
// reads it; the locale's German word where the variant has none.
func (s *Service) DecisionText(c ozgflow.Case, outcome string) string {
	if w, ok := s.Definition(c).Wording(outcome); ok {
		return w.Label
	}
	return locale.DE.Decision(outcome)
}
