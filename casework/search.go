package casework

import (
	"context"
	"errors"
	"slices"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/store"
)

// SearchCases finds the cases of the caller's authority (an
// administrator's: the one named) by case number, name, business name,
// address and e-mail address, in a period of receipt and a status, open
// and closed alike, newest first. A case worker finds only the cases they
// may open: with a task in a queue they work, or none yet. Erased cases
// are not found.
func (s *Service) SearchCases(ctx context.Context, id ozgflow.Identity, named string, q store.CaseSearch) (store.CaseHits, error) {
	authority, err := s.StaffAuthority(id, named)
	if err != nil {
		return store.CaseHits{}, err
	}
	if errs := ozgflow.CheckText(ozgflow.Line("?q", q.Text, ozgflow.MaxSearchRunes)); len(errs) > 0 {
		return store.CaseHits{}, &ozgflow.Error{Code: ozgflow.EINVALID, Message: "Query parameter q is not acceptable.", Fields: errs}
	}
	q.Authority, q.Queues = authority, nil
	if !id.Has(ozgflow.RoleAdmin) && len(id.Queues) > 0 {
		q.Queues = id.Queues
	}
	hits, err := s.Store.SearchCases(ctx, q)
	var general *store.TooGeneralError
	if errors.As(err, &general) {
		e := ozgflow.Refuse(ozgflow.EINVALID, ozgflow.ReasonSearchTooGeneral, general.Error(), general.Word)
		e.Fields = []ozgflow.FieldError{{Pointer: "?q", Detail: "begins too many words: type more of " + general.Word}}
		return hits, e
	}
	if err != nil {
		return hits, err
	}
	// What the index says, the case itself confirms.
	seen := slices.DeleteFunc(hits.Cases, func(c ozgflow.Case) bool { return !id.Sees(c) })
	hits.Total -= int64(len(hits.Cases) - len(seen))
	hits.Cases = seen
	return hits, nil
}
