package casework

import (
	"context"
	"slices"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/reports"
	"github.com/ozgflow/ozgflow/store"
)

// What the case workers' workspace shows beside the tasks: the names
// people read for queues and authorities, the short number of a case, who
// applied, and whether a case worker leads a team.

// authority returns the catalog's entry of an authority; a zero one (no
// queues, no name) when the catalog does not know it.
func (s *Service) authority(ars string) definitions.Authority {
	if s.Defs == nil || s.Defs.Registry() == nil {
		return definitions.Authority{ARS: ars}
	}
	a, _ := s.Defs.Registry().Authority(ars)
	return a
}

// QueueName names an authority's queue as people read it, e.g.
// "Gewerbeangelegenheiten" for gewerbe; the key when the authority does
// not list the queue.
func (s *Service) QueueName(authority, key string) string {
	return s.authority(authority).QueueName(key)
}

// ShortNumber is the number people read and quote for a case: its case
// number once the workflow assigned one, else the first eight characters
// of its technical ID.
func ShortNumber(caseID, caseNumber string) string {
	if caseNumber != "" {
		return caseNumber
	}
	if len(caseID) > 8 {
		return caseID[:8]
	}
	return caseID
}

// LeadsTeam reports whether a case worker leads a team of their authority:
// they work a queue that one of the authority's published variants
// escalates overdue tasks to (the team lead's queue, e.g.
// gewerbe-leitung). Team leads see their authority's dashboard.
func (s *Service) LeadsTeam(id ozgflow.Identity) bool {
	if !id.Has(ozgflow.RoleCaseWorker) || id.Authority == "" || s.Defs == nil || s.Defs.Registry() == nil {
		return false
	}
	for _, def := range s.Defs.Registry().Published() {
		if def.Authority != id.Authority {
			continue
		}
		for _, step := range def.Steps {
			if e := step.Escalation; e != nil && e.Queue != "" && id.MemberOf(e.Queue) {
				return true
			}
		}
	}
	return false
}

// CaseSummaries reads, for a page of tasks, what the list shows of their
// cases: the short number, who applied and when the case came in.
func (s *Service) CaseSummaries(ctx context.Context, tasks []ozgflow.Task) (map[string]store.CaseSummary, error) {
	ids := make([]string, 0, len(tasks))
	for _, t := range tasks {
		if !slices.Contains(ids, t.CaseID) {
			ids = append(ids, t.CaseID)
		}
	}
	return s.Store.CaseSummaries(ctx, ids)
}

// TaskNames names, for the workbook of tasks, what the tasks carry as
// keys: their cases' short numbers, their services, queues and holders.
func (s *Service) TaskNames(ctx context.Context, tasks []ozgflow.Task) (reports.TaskNames, error) {
	cases, err := s.CaseSummaries(ctx, tasks)
	if err != nil {
		return reports.TaskNames{}, err
	}
	people := map[string]string{}
	var authorities []string
	for _, t := range tasks {
		if t.Authority == "" || slices.Contains(authorities, t.Authority) {
			continue
		}
		authorities = append(authorities, t.Authority)
		for subject, name := range s.Names(ctx, t.Authority) {
			people[subject] = name
		}
	}
	return reports.TaskNames{
		CaseNumber: func(caseID string) string { return ShortNumber(caseID, cases[caseID].CaseNumber) },
		Service:    s.ServiceName,
		Queue:      s.QueueName,
		Person: func(subject string) string {
			if name, ok := people[subject]; ok && name != "" {
				return name
			}
			return subject
		},
	}, nil
}
