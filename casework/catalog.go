package casework

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
)

// Catalog is the case service's view of the catalog workflow: it keeps the last
// catalog it saw and the registry built from it, takes every catalog an
// update returns, and asks the workflow again every refresh interval so that
// changes made through another gateway arrive too.
type Catalog struct {
	temporal client.Client
	logger   *slog.Logger
	mu       sync.RWMutex
	catalog  definitions.Catalog
	registry *definitions.Registry
	seeded   bool // holding the shipped seed, not yet the workflow's catalog
	stop     context.CancelFunc
	done     chan struct{}
}

// OpenCatalog starts the catalog workflow with seed unless it runs already,
// reads the catalog and refreshes it in the background until Close. Until
// the workflow first answers (no worker is up yet, say) the seed serves.
func OpenCatalog(ctx context.Context, tc client.Client, seed definitions.Catalog, refresh time.Duration, logger *slog.Logger) (*Catalog, error) {
	// A gateway may come up before its namespace is registered: try for a minute.
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID:                       ozgflow.CatalogWorkflowID,
			TaskQueue:                ozgflow.CaseTaskQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		}, ozgflow.CatalogWorkflowName, seed)
		if err == nil {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("start the catalog workflow: %w", err)
		}
		logger.Warn("Catalog workflow not started yet; retrying", "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	c := &Catalog{temporal: tc, logger: logger, done: make(chan struct{})}
	if err := c.take(seed, true); err != nil {
		return nil, err
	}
	if err := c.Refresh(ctx); err != nil {
		logger.Warn("Catalog workflow not answering yet; serving the shipped catalog", "error", err)
	} else {
		c.syncAuthorities(ctx, seed.Authorities)
	}
	bg, stop := context.WithCancel(context.Background())
	c.stop = stop
	go func() {
		defer close(c.done)
		t := time.NewTicker(refresh)
		defer t.Stop()
		for {
			select {
			case <-bg.Done():
				return
			case <-t.C:
				if err := c.Refresh(bg); err != nil && bg.Err() == nil {
					logger.Warn("Catalog not refreshed", "error", err)
				}
			}
		}
	}()
	return c, nil
}

// Close stops the background refresh.
func (c *Catalog) Close() {
	c.stop()
	<-c.done
}

// Refresh asks the catalog workflow for the catalog.
func (c *Catalog) Refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	val, err := c.temporal.QueryWorkflow(ctx, ozgflow.CatalogWorkflowID, "", ozgflow.QueryCatalog)
	if err != nil {
		return fmt.Errorf("query the catalog: %w", err)
	}
	var cat definitions.Catalog
	if err := val.Get(&cat); err != nil {
		return fmt.Errorf("decode the catalog: %w", err)
	}
	return c.take(cat, false)
}

// take keeps a catalog unless the one held is as new; the workflow's catalog
// replaces the seed even at the same revision. Building a registry compiles
// every schema, so an unchanged catalog from a refresh is skipped.
func (c *Catalog) take(cat definitions.Catalog, seed bool) error {
	c.mu.RLock()
	current := c.registry != nil && !c.seeded && c.catalog.Revision >= cat.Revision
	c.mu.RUnlock()
	if current {
		return nil
	}
	reg, err := cat.Registry()
	if err != nil {
		return fmt.Errorf("catalog revision %d: %w", cat.Revision, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.registry == nil || c.seeded || cat.Revision > c.catalog.Revision {
		c.catalog, c.registry, c.seeded = cat, reg, seed
	}
	return nil
}

// Registry implements Definitions.
func (c *Catalog) Registry() *definitions.Registry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.registry
}

// Snapshot returns the catalog as last seen.
func (c *Catalog) Snapshot() definitions.Catalog {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.catalog
}

// Change sends an administrator's change to the catalog workflow and takes
// the catalog it answers with.
func (c *Catalog) Change(ctx context.Context, update string, ch ozgflow.DefinitionChange) (definitions.Catalog, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	handle, err := c.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: ozgflow.CatalogWorkflowID, UpdateName: update, Args: []any{ch},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var cat definitions.Catalog
	if err == nil {
		err = handle.Get(ctx, &cat)
	}
	if err != nil {
		return cat, FromTemporal(err)
	}
	if err := c.take(cat, false); err != nil {
		c.logger.Error("Catalog after a change does not build", "error", err)
	}
	return cat, nil
}

// syncAuthorities hands the catalog workflow the authorities this gateway
// ships when they differ from those it holds: a catalog started by an
// earlier deployment keeps its authorities otherwise, and publishing checks
// queues and targets against them.
func (c *Catalog) syncAuthorities(ctx context.Context, shipped []definitions.Authority) {
	held := c.Snapshot()
	probe := held
	if !probe.SetAuthorities(shipped) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	handle, err := c.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: ozgflow.CatalogWorkflowID, UpdateName: ozgflow.UpdateCatalogAuthorities, Args: []any{shipped},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var cat definitions.Catalog
	if err == nil {
		err = handle.Get(ctx, &cat)
	}
	if err != nil {
		c.logger.Warn("The catalog's authorities were not updated to those shipped", "error", err)
		return
	}
	if err := c.take(cat, false); err != nil {
		c.logger.Error("Catalog after updating the authorities does not build", "error", err)
	}
	c.logger.Info("The catalog's authorities were updated to those shipped", "revision", cat.Revision)
}
