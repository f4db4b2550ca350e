package worker

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/records"
)

// RebuildStore is where a rebuild writes the projections.
type RebuildStore interface {
	// RestoreCases writes a batch of snapshots in one transaction, each
	// unless the stored projection is newer and was written since before,
	// and returns how many it wrote.
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
// from their final records, and every other case the engine holds from
// the snapshot its workflow keeps in the memo, which the visibility
// listing returns page by page. A case without a memo (started before
// cases kept one, resting at a call it is trying for the first time, or
// too large for one), or whose memo is behind its listed search
// attributes, is asked through its query.
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
	// ListingLag spares the projections written shortly before a rebuild
	// began from replacement and removal: the engine's listing may not
	// show that change, or a case started a moment ago, yet. Zero means
	// 30 s.
	ListingLag time.Duration
}

// RebuildResult tells what a rebuild did.
type RebuildResult struct {
	Cases     int // projections of cases the engine holds, written, found current or, when closed, restored from their final records
	Written   int // of those and the closed ones, written because Redis lacked them or held them stale
	FromQuery int // cases without a memo, or with one behind the listing, asked through their query
	Closed    int // closed cases restored from their final records
	Removed   int // projections of cases neither the engine nor the records know
	Skipped   int // cases that could not be read; the projections stay incomplete
	Took      time.Duration
}

// rebuildBatch is how many cases one transaction writes.
const rebuildBatch = 50

// Run rebuilds. Projections newer than what the engine holds are replaced
// when they were written well before the rebuild began, kept when the case
// wrote them since; projections of cases nobody knows go. Erased cases
// stay as their statistics. A case that cannot be read is an error after
// the others are written: the projections are not complete.
func (r Rebuild) Run(ctx context.Context) (RebuildResult, error) {
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
	lag := r.ListingLag
	if lag <= 0 {
		lag = 30 * time.Second
	}
	start := time.Now()
	before := start.Add(-lag)
	var res RebuildResult
	known := map[string]bool{}
	recorded := map[string]bool{} // closed cases restored from their final records
	erased := map[string]bool{}
	var batch []records.ClosedCase
	restoreBatch := func() error {
		cases := make([]ozgflow.Case, len(batch))
		for i, rec := range batch {
			cases[i] = rec.Case
		}
		n, err := r.Store.RestoreCases(ctx, cases, before)
		if err != nil {
			return err
		}
		res.Written += n
		for _, rec := range batch {
			if rec.ErasedAt.IsZero() && !rec.RetainUntil.IsZero() {
				if err := r.Store.ExpireCase(ctx, rec.Case, rec.RetainUntil); err != nil {
					return err
				}
			}
		}
		batch = batch[:0]
		return nil
	}
	if err := r.Records.EachClosedCase(ctx, "", func(rec records.ClosedCase) error {
		known[rec.Case.ID] = true
		recorded[rec.Case.ID] = true
		if !rec.ErasedAt.IsZero() {
			// The statistics alone, as the erasure left them.
			erased[rec.Case.ID] = true
			rec.Case.ErasedAt = rec.ErasedAt
		} else {
			res.Closed++
		}
		if batch = append(batch, rec); len(batch) == rebuildBatch {
			return restoreBatch()
		}
		return nil
	}); err != nil {
		return res, fmt.Errorf("restore closed cases: %w", err)
	}
	if err := restoreBatch(); err != nil {
		return res, fmt.Errorf("restore closed cases: %w", err)
	}
	listed, err := r.restoreListed(ctx, before, recorded, erased, &res)
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
	if res.Skipped > 0 {
		return res, fmt.Errorf("%d cases could not be read (see the log); the projections stay incomplete", res.Skipped)
	}
	return res, nil
}

// restoreListed pages through the case workflows the engine lists and
// writes each one's projection, several at once; it returns the IDs seen.
// A closed case restored from its final record is as its record says: the
// record holds its last state, and its memo may be older (since
// featuresProjectionAtWaits a case with a record writes none at its end).
func (r Rebuild) restoreListed(ctx context.Context, before time.Time, recorded, erased map[string]bool, res *RebuildResult) (map[string]bool, error) {
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
		wg                                 sync.WaitGroup
		cases, written, fromQuery, skipped atomic.Int64
		failOnce                           sync.Once
		failure                            error
	)
	fail := func(err error) {
		failOnce.Do(func() { failure = err; cancel() })
	}
	for range writers {
		wg.Go(func() {
			for batch := range work {
				snapshots := make([]ozgflow.Case, 0, len(batch))
				for _, ex := range batch {
					if ctx.Err() != nil {
						break
					}
					c, queried, err := r.snapshotOf(ctx, ex)
					if err != nil {
						r.Logger.Warn("Rebuild could not read a case", "workflowId", ex.GetExecution().GetWorkflowId(), "error", err)
						skipped.Add(1)
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
			id, ok := ozgflow.CaseIDFromWorkflowID(ex.GetExecution().GetWorkflowId())
			if !ok || seen[id] || erased[id] {
				continue // not a case, an older run of the case, or an erased case whose history is on its way out
			}
			seen[id] = true
			if recorded[id] && ex.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				cases.Add(1)
				continue
			}
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
	res.Skipped += int(skipped.Load())
	switch {
	case failure != nil:
		return seen, failure
	case listErr != nil:
		return seen, listErr
	}
	return seen, ctx.Err()
}

// snapshotOf decodes the snapshot in a listed case's memo or, without
// one (or with an empty one, or one behind the listing), asks the case
// through its query; queried tells which.
func (r Rebuild) snapshotOf(ctx context.Context, ex *workflowpb.WorkflowExecutionInfo) (c ozgflow.Case, queried bool, err error) {
	if p := memoCase(ex.GetMemo()); p != nil {
		var memo *ozgflow.Case // nil: the case was too large for its memo
		if err := r.Converter.FromPayload(p, &memo); err != nil {
			return c, false, fmt.Errorf("decode the memo: %w", err)
		}
		if memo != nil && memo.ID != "" && memoCurrent(*memo, ex.GetSearchAttributes()) {
			return *memo, false, nil
		}
	}
	val, err := r.Client.QueryWorkflow(ctx, ex.GetExecution().GetWorkflowId(), ex.GetExecution().GetRunId(), ozgflow.QueryState)
	if err != nil {
		return c, true, err
	}
	return c, true, val.Get(&c)
}

// memoCurrent says whether a memo shows the status and the queue the case
// last wrote to its search attributes. The search attributes follow every
// change of either; the memo of a case resting at a call may be as old as
// its last wait when the signal of the call's failure was lost. A listing
// without them (cases started without) says nothing against the memo.
func memoCurrent(memo ozgflow.Case, listed *commonpb.SearchAttributes) bool {
	status, ok := keywordOf(listed, ozgflow.SearchAttrStatus)
	if !ok {
		return true
	}
	queue := ""
	if open := memo.OpenTasks(); len(open) > 0 {
		queue = open[0].Queue
	}
	listedQueue, _ := keywordOf(listed, ozgflow.SearchAttrQueue) // unset: no open task
	return status == string(memo.Status) && listedQueue == queue
}

// keywordOf decodes one keyword of listed search attributes; ok is false
// where it is not set.
func keywordOf(listed *commonpb.SearchAttributes, name string) (string, bool) {
	p, ok := listed.GetIndexedFields()[name]
	if !ok {
		return "", false
	}
	var v string
	if converter.GetDefaultDataConverter().FromPayload(p, &v) != nil || v == "" {
		return "", false
	}
	return v, true
}

func memoCase(m *commonpb.Memo) *commonpb.Payload {
	if m == nil {
		return nil
	}
	return m.GetFields()[ozgflow.MemoCase]
}
