package worker

import (
	"context"
	cryptorand "crypto/rand"
	"errors"
	"log/slog"
	"time"
)

// KeeperStore is what the keeper watches: the marker naming the
// installation the projections were built for, and the lease that lets one
// of several workers rebuild.
type KeeperStore interface {
	Installation(ctx context.Context) (string, error)
	ClaimRebuild(ctx context.Context, owner string, ttl time.Duration) (bool, error)
	ExtendRebuild(ctx context.Context, owner string, ttl time.Duration) (bool, error)
	// CompleteRebuild marks the projections complete, if owner still
	// holds the lease.
	CompleteRebuild(ctx context.Context, owner, installation string) (bool, error)
	ReleaseRebuild(ctx context.Context, owner string) error
	// DropForeign empties the projections of another installation.
	DropForeign(ctx context.Context) error
}

// Keeper keeps Redis a cache that may be lost: it looks at the marker at
// start and every Interval, and when the projections are missing (a new or
// flushed Redis) or belong to another installation, it rebuilds them in
// the background. Until the marker names the installation again, the
// projections' readiness says "rebuilding". A rebuild that lost its lease
// on the way (Redis was flushed again) does not mark them complete, and a
// failed one is tried again after a growing pause.
type Keeper struct {
	Installation string
	Store        KeeperStore
	Rebuild      func(ctx context.Context) (RebuildResult, error)
	// SearchIndex, if set, indexes the cases of intact projections for the
	// case search when its index is missing (projections written before
	// the search existed), and says how many it indexed.
	SearchIndex func(ctx context.Context) (int, error)
	// Interval between looks; zero means 5 s.
	Interval time.Duration
	Logger   *slog.Logger
}

// Lease bounds of a rebuild.
const (
	leaseTTL   = 30 * time.Second
	maxBackoff = 5 * time.Minute
)

// errRebuildElsewhere says that another worker holds the rebuild lease.
var errRebuildElsewhere = errors.New("another worker rebuilds the projections")

// errLeaseLost ends a rebuild whose lease another owner or a flush took.
var errLeaseLost = errors.New("the rebuild lease was lost (Redis flushed again?); rebuilding at the next look")

// Run watches until ctx ends.
func (k *Keeper) Run(ctx context.Context) error {
	interval := k.Interval
	if interval <= 0 {
		interval = 5 * time.Second
	}
	owner := cryptorand.Text()[:12]
	wait := time.Duration(0)
	pause := interval
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		err := k.check(ctx, owner)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, errRebuildElsewhere):
			// Look again soon: the other worker may stop before it is done.
			wait, pause = min(interval, leaseTTL/3), interval
		case err != nil:
			k.Logger.Warn("Projections not rebuilt; trying again", "in", pause, "error", err)
			wait, pause = pause, min(2*pause, maxBackoff)
		default:
			wait, pause = interval, interval
		}
	}
}

func (k *Keeper) check(ctx context.Context, owner string) error {
	got, err := k.Store.Installation(ctx)
	if err != nil {
		return err
	}
	if got == k.Installation {
		return k.ensureSearchIndex(ctx)
	}
	claimed, err := k.Store.ClaimRebuild(ctx, owner, leaseTTL)
	if err != nil {
		return err
	}
	if !claimed {
		return errRebuildElsewhere
	}
	defer k.Store.ReleaseRebuild(context.WithoutCancel(ctx), owner)
	if got != "" {
		k.Logger.Warn("The projections in Redis belong to another installation; replacing them",
			"found", got, "installation", k.Installation)
		if err := k.Store.DropForeign(ctx); err != nil {
			return err
		}
	} else {
		k.Logger.Warn("The projections in Redis are missing; rebuilding them from Temporal and the records database")
	}
	rebuildCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go k.holdLease(rebuildCtx, owner, cancel)
	res, err := k.Rebuild(rebuildCtx)
	if cause := context.Cause(rebuildCtx); errors.Is(cause, errLeaseLost) {
		return cause
	}
	if err != nil {
		return err
	}
	done, err := k.Store.CompleteRebuild(ctx, owner, k.Installation)
	if err != nil {
		return err
	}
	if !done {
		return errLeaseLost
	}
	k.Logger.Info("Projections rebuilt", "cases", res.Cases, "closed", res.Closed, "written", res.Written,
		"askedThroughQuery", res.FromQuery, "removed", res.Removed, "took", res.Took.Round(time.Millisecond))
	return nil
}

// holdLease extends the rebuild lease until ctx ends, and cancels the
// rebuild when the lease is lost.
func (k *Keeper) holdLease(ctx context.Context, owner string, cancel context.CancelCauseFunc) {
	tick := time.NewTicker(leaseTTL / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			held, err := k.Store.ExtendRebuild(ctx, owner, leaseTTL)
			if err != nil {
				k.Logger.Warn("Rebuild lease not extended", "error", err)
			} else if !held {
				cancel(errLeaseLost)
				return
			}
		}
	}
}

// ensureSearchIndex builds the case search's index over intact
// projections that lack it.
func (k *Keeper) ensureSearchIndex(ctx context.Context) error {
	if k.SearchIndex == nil {
		return nil
	}
	start := time.Now()
	n, err := k.SearchIndex(ctx)
	if n > 0 || err != nil {
		k.Logger.Info("Cases indexed for the search", "cases", n, "took", time.Since(start).Round(time.Millisecond), "error", err)
	}
	return err
}
