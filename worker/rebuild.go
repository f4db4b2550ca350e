package worker

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/records"
)

// RebuildStore is where a rebuild writes the projections.
type RebuildStore interface {
	RestoreCase(ctx context.Context, c ozgflow.Case, before time.Time) (bool, error)
	// RestoreCases writes a batch as RestoreCase does, in one transaction.
	RestoreCases(ctx context.Context, cases []ozgflow.Case, before time.Time) (int, error)
	// ExpireCase lets the keys of one closed case expire at at.
	ExpireCase(ctx context.Context, c ozgflow.Case, at time.Time) error
	RemoveUnknownCases(ctx context.Context, known func(id string) bool, before time.Time) (int, error)
}

// ClosedRecords are the final records of closed cases.
type ClosedRecords interface {
	EachClosedCase(ctx context.Context, authority string, fn func(records.ClosedCase) error) error
}

// Rebuild writes the projections of every case again: the closed cases
// whose history the engine no longer keeps from their final records, and
// every case the engine holds from the snapshot its workflow keeps in the
// memo, which the visibility listing returns page by page. A case without
// a memo (started before cases kept one) is asked through its query.
type Rebuild struct {
	Client    client.Client
	Namespace string
	// Converter decodes the memos: the payload codec's data converter.
	Converter converter.DataConverter
	Store     RebuildStore
	Records   ClosedRecords
	Logger    *slog.Logger
	// Writers is how many cases are written at once; zero means 8.
	Writers int
	// PageSize of the listing; zero means 1000.
	PageSize int
}

// RebuildResult tells what a rebuild did.
type RebuildResult struct {
	Cases     int // projections of cases the engine holds, written or found current
	Written   int // of those and the closed ones, written because Redis lacked them or held them stale
	FromQuery int // cases without a memo, asked through their query
	Closed    int // closed cases restored from their final records
	Removed   int // projections of cases neither the engine nor the records know
	Took      time.Duration
}

// rebuildBatch is how many cases one transaction writes.
const rebuildBatch = 50

// listingLag spares the projections written shortly before a rebuild
// began from replacement and removal: the engine's listing may not show
// that change, or a case started a moment ago, yet.
const listingLag = 30 * time.Second

// Run rebuilds. Projections newer than what the engine holds are replaced
// when they were written well before the rebuild began, kept when the case
// wrote them since; projections of cases nobody knows go. Erased cases
// stay as their statistics.
func (r Rebuild) Run(ctx context.Context) (RebuildResult, error) {
	start := time.Now()
	before := start.Add(-listingLag)
	var res RebuildResult
	known := map[string]bool{}
	erased := map[string]bool{}
	if err := r.Records.EachClosedCase(ctx, "", func(rec records.ClosedCase) error {
		known[rec.Case.ID] = true
		if !rec.ErasedAt.IsZero() {
			erased[rec.Case.ID] = true
			return nil
		}
		written, err := r.Store.RestoreCase(ctx, rec.Case, before)
		if err != nil {
			return err
		}
		if !rec.RetainUntil.IsZero() {
			if err := r.Store.ExpireCase(ctx, rec.Case, rec.RetainUntil); err != nil {
				return err
			}
		}
		res.Closed++
		if written {
			res.Written++
		}
		return nil
	}); err != nil {
		return res, fmt.Errorf("restore closed cases: %w", err)
	}
	listed, err := r.restoreListed(ctx, before, erased, &res)
	if err != nil {
		return res, err
	}
	for id := range listed {
		known[id] = true
	}
	if res.Removed, err = r.Store.RemoveUnknownCases(ctx, func(id string) bool { return known[id] }, before); err != nil {
		return res, err
	}
	res.Took = time.Since(start)
	return res, nil
}

// restoreListed pages through the case workflows the engine lists and
// writes each one's projection, several at once; it returns the IDs seen.
func (r Rebuild) restoreListed(ctx context.Context, before time.Time, erased map[string]bool, res *RebuildResult) (map[string]bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	writers, pageSize := r.Writers, r.PageSize
	if writers <= 0 {
		writers = 8
	}
	if pageSize <= 0 {
		pageSize = 1000
	}
	work := make(chan []*workflowpb.WorkflowExecutionInfo, writers)
	var (
		wg                        sync.WaitGroup
		cases, written, fromQuery atomic.Int64
		failOnce                  sync.Once
		failure                   error
	)
	fail := func(err error) {
		failOnce.Do(func() { failure = err; cancel() })
	}
	for range writers {
		wg.Go(func() {
			for batch := range work {
				snapshots := make([]ozgflow.Case, 0, len(batch))
				for _, ex := range batch {
					c, queried, err := r.snapshotOf(ctx, ex)
					if err != nil {
						r.Logger.Warn("Rebuild skipped a case", "workflowId", ex.GetExecution().GetWorkflowId(), "error", err)
						continue
					}
					snapshots = append(snapshots, c)
					if queried {
						fromQuery.Add(1)
					}
				}
				n, err := r.Store.RestoreCases(ctx, snapshots, before)
				if err != nil {
					fail(err)
					continue
				}
				cases.Add(int64(len(snapshots)))
				written.Add(int64(n))
			}
		})
	}
	seen := map[string]bool{}
	query := fmt.Sprintf("WorkflowType = '%s'", ozgflow.CaseWorkflowName)
	var token []byte
	var listErr error
	for ctx.Err() == nil {
		resp, err := r.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: r.Namespace, Query: query, PageSize: int32(pageSize), NextPageToken: token,
		})
		if err != nil {
			listErr = fmt.Errorf("list cases: %w", err)
			break
		}
		var batch []*workflowpb.WorkflowExecutionInfo
		for _, ex := range resp.Executions {
			id := ex.GetExecution().GetWorkflowId()
			if seen[id] || erased[id] {
				continue // an older run of the ID, or an erased case whose history is on its way out
			}
			seen[id] = true
			if batch = append(batch, ex); len(batch) == rebuildBatch {
				work <- batch
				batch = nil
			}
		}
		if len(batch) > 0 {
			work <- batch
		}
		if token = resp.NextPageToken; len(token) == 0 {
			break
		}
	}
	close(work)
	wg.Wait()
	res.Cases += int(cases.Load())
	res.Written += int(written.Load())
	res.FromQuery += int(fromQuery.Load())
	switch {
	case failure != nil:
		return seen, failure
	case listErr != nil:
		return seen, listErr
	}
	return seen, ctx.Err()
}

// snapshotOf decodes the snapshot in a listed case's memo or, without
// one, asks the case through its query; queried tells which.
func (r Rebuild) snapshotOf(ctx context.Context, ex *workflowpb.WorkflowExecutionInfo) (c ozgflow.Case, queried bool, err error) {
	if p := memoCase(ex.GetMemo()); p != nil {
		if err := r.Converter.FromPayload(p, &c); err != nil {
			return c, false, fmt.Errorf("decode the memo: %w", err)
		}
		return c, false, nil
	}
	val, err := r.Client.QueryWorkflow(ctx, ex.GetExecution().GetWorkflowId(), ex.GetExecution().GetRunId(), ozgflow.QueryState)
	if err != nil {
		return c, true, err
	}
	return c, true, val.Get(&c)
}

func memoCase(m *commonpb.Memo) *commonpb.Payload {
	if m == nil {
		return nil
	}
	return m.GetFields()[ozgflow.MemoCase]
}
