package casework

import (
	"context"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/locale"
)

// named returns why err refused an action, with the people it names (who
// holds a task, who proposed a decision) by name instead of subject and the
// queues by their display names; nil when err carries no refusal.
func (s *Service) named(ctx context.Context, authority string, err error) *ozgflow.Refusal {
	r := ozgflow.RefusalOf(err)
	if r == nil {
		return nil
	}
	named := *r
	named.Args = append([]string(nil), r.Args...)
	switch r.Reason {
	case ozgflow.ReasonTaskClaimed, ozgflow.ReasonAwaitsApproval:
		if len(r.Args) > 0 {
			if name, ok := s.Names(ctx, authority)[r.Args[0]]; ok {
				named.Args[0] = name
			}
		}
	case ozgflow.ReasonColleagueNotInQueue:
		// The queue by the name people read.
		if len(r.Args) > 1 {
			named.Args[1] = s.QueueName(authority, r.Args[1])
		}
	}
	return &named
}

// Explain words why err refused an action, in l, with the people it names
// by name: the one wording of refusals that every room shows. It gives ""
// when err carries no refusal.
func (s *Service) Explain(ctx context.Context, l locale.Lang, authority string, err error) string {
	if r := s.named(ctx, authority, err); r != nil {
		return l.Refusal(*r)
	}
	return ""
}
