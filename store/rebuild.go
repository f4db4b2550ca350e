package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ozgflow/ozgflow"
)

// The projections are a cache of what the engine and the records database
// hold. A marker names the installation they were built for: a Redis
// without it was flushed or is new, one with another installation's ID
// belongs elsewhere; both are rebuilt. While a rebuild runs, its worker
// holds a lease, so that of several workers one rebuilds.

func (s *Store) installationKey() string { return s.prefix + "installation" }
func (s *Store) rebuildKey() string      { return s.prefix + "rebuilding" }

// Installation returns the ID of the installation the projections were
// completely built for; "" when no build finished (a new or flushed Redis).
func (s *Store) Installation(ctx context.Context) (string, error) {
	id, err := s.rdb.Get(ctx, s.installationKey()).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the installation of the projections: %w", err)
	}
	return id, nil
}

// MarkInstallation records that the projections are complete for the
// installation id.
func (s *Store) MarkInstallation(ctx context.Context, id string) error {
	if err := s.rdb.Set(ctx, s.installationKey(), id, 0).Err(); err != nil {
		return fmt.Errorf("mark the projections complete: %w", err)
	}
	return nil
}

// ErrRebuilding is what the projections' readiness says while they are
// rebuilt or wait for it.
var ErrRebuilding = errors.New("rebuilding")

// Ready reports whether the projections are complete for installation id:
// nil when they are, ErrRebuilding (wrapped with what the marker says)
// while they are missing, foreign or being rebuilt.
func (s *Store) Ready(ctx context.Context, id string) error {
	got, err := s.Installation(ctx)
	switch {
	case err != nil:
		return err
	case got == "":
		return ErrRebuilding
	case got != id:
		return fmt.Errorf("%w: the projections in Redis belong to installation %s", ErrRebuilding, got)
	}
	return nil
}

// claimRebuildScript takes the lease when it is free.
var claimRebuildScript = redis.NewScript(`
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`)

// ClaimRebuild takes the rebuild lease for owner for ttl; it reports
// false when another owner holds it.
func (s *Store) ClaimRebuild(ctx context.Context, owner string, ttl time.Duration) (bool, error) {
	n, err := claimRebuildScript.Run(ctx, s.rdb, []string{s.rebuildKey()}, owner, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("claim the rebuild: %w", err)
	}
	return n == 1, nil
}

// extendRebuildScript extends the lease only while owner holds it.
var extendRebuildScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`)

// ExtendRebuild extends owner's lease by ttl; false means the lease is
// lost (it ran out, or Redis lost it with everything else), and with it
// what the rebuild wrote so far may be gone.
func (s *Store) ExtendRebuild(ctx context.Context, owner string, ttl time.Duration) (bool, error) {
	n, err := extendRebuildScript.Run(ctx, s.rdb, []string{s.rebuildKey()}, owner, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("extend the rebuild: %w", err)
	}
	return n == 1, nil
}

// completeRebuildScript marks the projections complete, and the case
// search with them (the rebuild indexed every case it wrote), and gives
// the lease up, if owner still holds it.
var completeRebuildScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], ARGV[3])
redis.call('DEL', KEYS[1])
return 1`)

// CompleteRebuild marks the projections complete for installation id,
// if owner still holds the lease; false means it does not, and the
// projections may be incomplete: a later check rebuilds them again.
func (s *Store) CompleteRebuild(ctx context.Context, owner, id string) (bool, error) {
	n, err := completeRebuildScript.Run(ctx, s.rdb, []string{s.rebuildKey(), s.installationKey(), s.searchMarkerKey()},
		owner, id, searchIndexVersion).Int()
	if err != nil {
		return false, fmt.Errorf("mark the projections complete: %w", err)
	}
	return n == 1, nil
}

// releaseRebuildScript drops the lease if owner holds it.
var releaseRebuildScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`)

// ReleaseRebuild gives the rebuild lease up, if owner holds it.
func (s *Store) ReleaseRebuild(ctx context.Context, owner string) error {
	if err := releaseRebuildScript.Run(ctx, s.rdb, []string{s.rebuildKey()}, owner).Err(); err != nil {
		return fmt.Errorf("release the rebuild: %w", err)
	}
	return nil
}

// RemoveUnknownCases removes the projections of the cases known does not
// name that were last written before before: cases the engine and the
// records database do not hold (a Redis of another installation, or of an
// engine since restored from a backup). Cases written since are new and
// stay. It returns how many went.
func (s *Store) RemoveUnknownCases(ctx context.Context, known func(id string) bool, before time.Time) (int, error) {
	prefix := s.caseKey("")
	iter := s.rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	removed := 0
	flush := func() error {
		if len(keys) == 0 {
			return nil
		}
		vals, err := s.rdb.MGet(ctx, keys...).Result()
		if err != nil {
			return err
		}
		for i, v := range vals {
			str, ok := v.(string)
			if !ok {
				continue
			}
			var c ozgflow.Case
			if err := json.Unmarshal([]byte(str), &c); err != nil {
				c = ozgflow.Case{ID: strings.TrimPrefix(keys[i], prefix)}
			}
			if c.ID == "" || known(c.ID) || !c.UpdatedAt.Before(before) {
				continue
			}
			if err := s.removeCase(ctx, c); err != nil {
				return err
			}
			removed++
		}
		keys = keys[:0]
		return nil
	}
	for iter.Next(ctx) {
		if known(strings.TrimPrefix(iter.Val(), prefix)) {
			continue
		}
		keys = append(keys, iter.Val())
		if len(keys) == 1000 {
			if err := flush(); err != nil {
				return removed, fmt.Errorf("remove unknown cases: %w", err)
			}
		}
	}
	if err := iter.Err(); err != nil {
		return removed, fmt.Errorf("remove unknown cases: %w", err)
	}
	if err := flush(); err != nil {
		return removed, fmt.Errorf("remove unknown cases: %w", err)
	}
	return removed, nil
}

// removeCase removes a case's projection with its tasks, notices and
// portal events, takes it out of the counts and out of the index of
// rejected deliveries.
func (s *Store) removeCase(ctx context.Context, c ozgflow.Case) error {
	docs, err := s.searchDocs(ctx, s.rdb, []string{s.searchDocKey(c.ID)})
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		s.unindexSearch(ctx, p, c.ID, docs[0])
		for _, n := range c.Timeline {
			s.dropNotice(ctx, p, c.PortalAccount, n.ID)
		}
		for _, t := range c.Tasks {
			s.unindexTask(ctx, p, t)
			p.Del(ctx, s.taskKey(t.ID))
		}
		if c.Status != "" {
			p.HIncrBy(ctx, s.statsKey(), c.Service+"|"+string(c.Status), -1)
		}
		if c.Authority != "" {
			p.ZRem(ctx, s.casesKey(c.Authority), c.ID)
			p.Publish(ctx, s.EventsChannel(c.Authority), c.ID)
		}
		p.ZRem(ctx, s.rejectedKey(), c.ID)
		p.Del(ctx, s.caseKey(c.ID))
		return nil
	})
	return err
}
