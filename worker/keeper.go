package worker

import (
	"context"
	cryptorand "crypto/rand"
	"log/slog"
	"sync/atomic"
	"time"
)

// KeeperStore is what the keeper watches: the marker naming the
// installation the projections were built for, and the lease that lets one
// of several workers rebuild.
type KeeperStore interface {
	Installation(ctx context.Context) (string, error)
	MarkInstallation(ctx context.Context, id string) error
	ClaimRebuild(ctx context.Context, owner string, ttl time.Duration) (bool, error)
	ReleaseRebuild(ctx context.Context, owner string) error
	// DropAll empties the projections of another installation.
	DropAll(ctx context.Context) error
}

// Keeper keeps Redis a cache that may be lost: it looks at the marker at
// start and every Interval, and when the projections are missing (a new or
// flushed Redis) or belong to another installation, it rebuilds them in
// the background. Until the marker names the installation again, the
// projections' readiness says "rebuilding".
type Keeper struct {
	Installation string
	Store        KeeperStore
	Rebuild      func(ctx context.Context) (RebuildResult, error)
	// Interval between looks; zero means 5 s.
	Interval time.Duration
	Logger   *slog.Logger

	owner   string
	rebuilt atomic.Int64 // rebuilds finished
	last    atomic.Pointer[RebuildResult]
}

// leaseTTL is how long the rebuild lease holds without being extended.
const leaseTTL = 30 * time.Second

// Run watches until ctx ends.
func (k *Keeper) Run(ctx context.Context) error {
	interval := k.Interval
	if interval <= 0 {
		interval = 5 * time.Second
	}
	k.owner = cryptorand.Text()[:12]
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		if err := k.Check(ctx); err != nil && ctx.Err() == nil {
			k.Logger.Warn("Projections not checked; trying again", "error", err)
		}
		timer.Reset(interval)
	}
}

// Rebuilds tells how many rebuilds this keeper finished, and what the last
// one did.
func (k *Keeper) Rebuilds() (int, RebuildResult) {
	var last RebuildResult
	if p := k.last.Load(); p != nil {
		last = *p
	}
	return int(k.rebuilt.Load()), last
}

// Check looks at the marker once and rebuilds when it does not name the
// installation.
func (k *Keeper) Check(ctx context.Context) error {
	if k.owner == "" {
		k.owner = cryptorand.Text()[:12]
	}
	got, err := k.Store.Installation(ctx)
	if err != nil || got == k.Installation {
		return err
	}
	claimed, err := k.Store.ClaimRebuild(ctx, k.owner, leaseTTL)
	if err != nil || !claimed {
		return err // another worker rebuilds
	}
	defer k.Store.ReleaseRebuild(context.WithoutCancel(ctx), k.owner)
	if got != "" {
		k.Logger.Warn("The projections in Redis belong to another installation; replacing them",
			"found", got, "installation", k.Installation)
		if err := k.Store.DropAll(ctx); err != nil {
			return err
		}
		if _, err := k.Store.ClaimRebuild(ctx, k.owner, leaseTTL); err != nil {
			return err
		}
	} else {
		k.Logger.Warn("The projections in Redis are missing; rebuilding them from Temporal and the records database")
	}
	rebuildCtx, stop := context.WithCancel(ctx)
	defer stop()
	go k.holdLease(rebuildCtx)
	res, err := k.Rebuild(rebuildCtx)
	if err != nil {
		return err
	}
	if err := k.Store.MarkInstallation(ctx, k.Installation); err != nil {
		return err
	}
	k.last.Store(&res)
	k.rebuilt.Add(1)
	k.Logger.Info("Projections rebuilt", "cases", res.Cases, "closed", res.Closed, "written", res.Written,
		"askedThroughQuery", res.FromQuery, "removed", res.Removed, "took", res.Took.Round(time.Millisecond))
	return nil
}

// holdLease extends the rebuild lease until ctx ends.
func (k *Keeper) holdLease(ctx context.Context) {
	tick := time.NewTicker(leaseTTL / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if _, err := k.Store.ClaimRebuild(ctx, k.owner, leaseTTL); err != nil && ctx.Err() == nil {
				k.Logger.Warn("Rebuild lease not extended", "error", err)
			}
		}
	}
}
