package casework

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/xlsx"
)

// The administrators' side of the catalog: definitions with their versions
// and running cases, and the import of edited workbooks.

// VersionSummary is one version of an Entry.
type VersionSummary struct {
	Number       int                       `json:"number"`
	Status       definitions.VersionStatus `json:"status"`
	CreatedBy    string                    `json:"createdBy"`
	CreatedAt    string                    `json:"createdAt"`
	PublishedAt  string                    `json:"publishedAt,omitempty"`
	RetiredAt    string                    `json:"retiredAt,omitempty"`
	RunningCases int64                     `json:"runningCases"`
}

// Entry is one definition with its versions, as administrators see it.
type Entry struct {
	ID        string `json:"id"`
	Extends   string `json:"extends,omitempty"`
	Name      string `json:"name"`
	Service   string `json:"service"`
	Authority string `json:"authority,omitempty"`
	// AuthorityName is the authority's name as people read it.
	AuthorityName string           `json:"authorityName,omitempty"`
	Published     int              `json:"published,omitempty"`
	Versions      []VersionSummary `json:"versions"`
}

// Entry summarises a definition of the catalog with its versions and the
// cases running on each.
func (s *Service) Entry(ctx context.Context, cat *definitions.Catalog, e *definitions.Entry) Entry {
	v := Entry{ID: e.ID, Extends: e.Extends, Versions: []VersionSummary{}}
	newest := e.Versions[len(e.Versions)-1]
	if def, err := cat.Effective(e.ID, newest.Number); err == nil {
		v.Name, v.Service, v.Authority = def.Name, def.Service, def.Authority
	}
	for _, a := range cat.Authorities {
		if a.ARS == v.Authority && v.Authority != "" {
			v.AuthorityName = a.Name
		}
	}
	if p, ok := e.Published(); ok {
		v.Published = p.Number
	}
	for _, ver := range e.Versions {
		vv := VersionSummary{Number: ver.Number, Status: ver.Status, CreatedBy: ver.CreatedBy, CreatedAt: stamp(ver.CreatedAt),
			PublishedAt: stamp(ver.PublishedAt), RetiredAt: stamp(ver.RetiredAt)}
		if ver.Status != definitions.StatusDraft {
			vv.RunningCases = s.runningCases(ctx, e.ID, ver.Number)
		}
		v.Versions = append(v.Versions, vv)
	}
	return v
}

// RunningCases counts the cases that run on a version of a definition, by
// the search attribute every case carries; -1 when Temporal cannot say.
func (s *Service) RunningCases(ctx context.Context, id string, version int) int64 {
	return s.runningCases(ctx, id, version)
}

// runningCases counts the cases that run on a version; -1 when Temporal
// cannot say.
func (s *Service) runningCases(ctx context.Context, id string, version int) int64 {
	res, err := s.Temporal.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
		Namespace: s.Namespace,
		Query: fmt.Sprintf("%s = '%s@%d' AND ExecutionStatus = 'Running'",
			ozgflow.SearchAttrDefinition, id, version),
	})
	if err != nil {
		return -1
	}
	return res.Count
}

// stamp writes a time as RFC 3339, or "" for the zero time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Authored returns, per definition, the version an administrator works on:
// the published one, else the newest.
func Authored(cat *definitions.Catalog) []xlsx.Document {
	docs := make([]xlsx.Document, 0, len(cat.Entries))
	for i := range cat.Entries {
		e := &cat.Entries[i]
		v, ok := e.Published()
		if !ok {
			v = &e.Versions[len(e.Versions)-1]
		}
		docs = append(docs, xlsx.Document{ID: e.ID, Extends: e.Extends, Version: v.Number, Raw: v.Document})
	}
	return docs
}

// ImportAnswer reports an import row by row and names the drafts it made.
type ImportAnswer struct {
	Report []xlsx.Row      `json:"report"`
	Drafts []ImportedDraft `json:"drafts"`
}

// ImportedDraft names a draft an import made or changed.
type ImportedDraft struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
}

// ImportWorkbook makes a draft of every definition an edited workbook
// changes or adds. A workbook with mistakes changes nothing: on a refusal it
// returns the report so far (nil when the workbook is unreadable).
func (s *Service) ImportWorkbook(ctx context.Context, body []byte, by string) (ImportAnswer, []xlsx.Row, error) {
	res, err := xlsx.Import(bytes.NewReader(body))
	if err != nil {
		if res != nil {
			return ImportAnswer{}, res.Report, err
		}
		return ImportAnswer{}, nil, err
	}
	cat := s.Catalog.Snapshot()
	report := res.Compare(Authored(&cat))
	if _, err := xlsx.Resolve(res.Documents); err != nil {
		return ImportAnswer{}, report, err
	}
	changed := map[string]bool{}
	for _, row := range report {
		if row.Status == xlsx.StatusChanged || row.Status == xlsx.StatusNew {
			changed[row.ID] = true
		}
	}
	answer := ImportAnswer{Report: report, Drafts: []ImportedDraft{}}
	for _, doc := range res.Documents {
		if !changed[doc.ID] {
			continue
		}
		v, err := s.draftFromWorkbook(ctx, &cat, doc, by)
		if err != nil {
			return answer, report, fmt.Errorf("definition %s: %w", doc.ID, err)
		}
		answer.Drafts = append(answer.Drafts, ImportedDraft{ID: doc.ID, Version: v})
		cat = s.Catalog.Snapshot()
	}
	return answer, report, nil
}

// draftFromWorkbook puts an imported document into a draft: the existing
// draft, a new draft of the definition, or a new definition.
func (s *Service) draftFromWorkbook(ctx context.Context, cat *definitions.Catalog, doc xlsx.Document, by string) (int, error) {
	e, exists := cat.Entry(doc.ID)
	if !exists {
		_, err := s.Catalog.Change(ctx, ozgflow.UpdateDefinitionCreate,
			ozgflow.DefinitionChange{ID: doc.ID, Document: doc.Raw, By: by})
		return 1, err
	}
	number := 0
	for _, v := range e.Versions {
		if v.Status == definitions.StatusDraft {
			number = v.Number
		}
	}
	if number == 0 {
		after, err := s.Catalog.Change(ctx, ozgflow.UpdateDefinitionDraft, ozgflow.DefinitionChange{ID: doc.ID, By: by})
		if err != nil {
			return 0, err
		}
		e, _ = after.Entry(doc.ID)
		number = e.Versions[len(e.Versions)-1].Number
	}
	_, err := s.Catalog.Change(ctx, ozgflow.UpdateDefinitionEdit,
		ozgflow.DefinitionChange{ID: doc.ID, Version: number, Document: doc.Raw, By: by})
	return number, err
}
