package casework

import (
	"context"

	"github.com/ozgflow/ozgflow"
)

// EachCase calls fn with every case of an authority, as reports need them:
// open cases from the projections, closed cases from the statistics of
// their final records, which outlive a lost Redis, the workflow history
// and the erasure of their personal data. A case that closed a moment ago
// and whose final record is not written yet counts from its projection.
func (s *Service) EachCase(ctx context.Context, authority string, fn func(ozgflow.Case) error) error {
	closed := map[string]bool{}
	if s.Records != nil {
		err := s.Records.EachClosedStatistics(ctx, authority, func(c ozgflow.Case) error {
			closed[c.ID] = true
			return fn(c)
		})
		if err != nil {
			return err
		}
	}
	return s.Store.EachCase(ctx, authority, func(c ozgflow.Case) error {
		if closed[c.ID] {
			return nil
		}
		return fn(c)
	})
}

// FailingDeliveries says which cases' deliveries fail right now.
func (s *Service) FailingDeliveries(ctx context.Context) (map[string]bool, error) {
	return s.Store.FailingDeliveries(ctx)
}
