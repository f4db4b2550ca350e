// Package store keeps the Redis projections the API reads: the case index,
// the task queues of each authority and the applicants' portal mailboxes.
// Everything here can be rebuilt from Temporal; losing Redis loses no case.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ozgflow/ozgflow"
)

// Store reads and writes the projections.
type Store struct {
	rdb    *redis.Client
	prefix string
}

// Open connects to the Redis server at url (redis://host:port/db) and checks
// that it answers.
func Open(ctx context.Context, url string) (*Store, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL %q: %w", url, err)
	}
	s := New(redis.NewClient(opts))
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// New wraps an existing client.
func New(rdb *redis.Client) *Store { return &Store{rdb: rdb, prefix: "ozgflow:"} }

// WithPrefix returns a store whose keys start with prefix instead of
// "ozgflow:", so tests and tenants can share one Redis.
func (s *Store) WithPrefix(prefix string) *Store { return &Store{rdb: s.rdb, prefix: prefix} }

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis %s: %w", s.rdb.Options().Addr, err)
	}
	return nil
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.rdb.Close() }

// Client returns the underlying Redis client, for pub/sub and tests.
func (s *Store) Client() *redis.Client { return s.rdb }

func (s *Store) caseKey(id string) string     { return s.prefix + "case:" + id }
func (s *Store) statsKey() string             { return s.prefix + "stats:cases" }
func (s *Store) casesKey(ars string) string   { return s.prefix + "cases:" + ars }
func (s *Store) noticeKey(id string) string   { return s.prefix + "notice:" + id }
func (s *Store) postboxKey(acc string) string { return s.prefix + "postbox:" + acc }

// EventsChannel is the pub/sub channel announcing task changes of an authority.
func (s *Store) EventsChannel(ars string) string { return s.prefix + "events:" + ars }

// SaveCase writes a snapshot of a case with its tasks and notices. A snapshot
// whose revision is not newer than the stored one is ignored, so repeated and
// late writes are harmless.
func (s *Store) SaveCase(ctx context.Context, c ozgflow.Case) error {
	_, err := s.save(ctx, c, time.Time{})
	return err
}

// RestoreCase writes the snapshot a rebuild of the projections found for a
// case, as SaveCase does, and reports whether it wrote it. A stored
// projection newer than the snapshot is replaced when it was last written
// before before (the engine went back, restored from a backup, and what it
// holds is true); one written since then is the case going on, or ahead of
// the engine's listing, and stays. Notices the stored projection did not
// hold are filed as refiled: the portal may have them already.
func (s *Store) RestoreCase(ctx context.Context, c ozgflow.Case, before time.Time) (bool, error) {
	return s.save(ctx, c, before)
}

// save writes c as SaveCase does, and with a rebuild's before as
// RestoreCase does.
func (s *Store) save(ctx context.Context, c ozgflow.Case, before time.Time) (bool, error) {
	n, err := s.RestoreCases(ctx, []ozgflow.Case{c}, before)
	return n == 1, err
}

// RestoreCases writes the snapshots of a batch of cases in one
// transaction, each as RestoreCase does (as SaveCase does when before is
// zero), and returns how many it wrote. A batch that another writer
// changed in between is read and written again.
func (s *Store) RestoreCases(ctx context.Context, cases []ozgflow.Case, before time.Time) (int, error) {
	if len(cases) == 0 {
		return 0, nil
	}
	bodies := make([][]byte, len(cases))
	keys := make([]string, len(cases))
	for i, c := range cases {
		b, err := json.Marshal(c)
		if err != nil {
			return 0, fmt.Errorf("encode case %s: %w", c.ID, err)
		}
		bodies[i], keys[i] = b, s.caseKey(c.ID)
	}
	// The search's records of the cases too: indexing projections written
	// before the search (EnsureSearchIndex) writes them alone.
	watched := append(slices.Clone(keys), s.searchDocKeys(cases)...)
	written := 0
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		// The keys are watched in the same round trip that reads them
		// (watchHeads), not by Watch, which would send WATCH on its own.
		err = s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			var watching, execRan bool
			defer func() {
				if watching && !execRan {
					_ = tx.Unwatch(ctx).Err() // leave no watch on a pooled connection
				}
			}()
			var heads []caseHead
			var err error
			heads, watching, err = watchHeads(ctx, tx, watched, len(cases))
			if err != nil {
				return err
			}
			written = 0
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				for i, c := range cases {
					if s.writeCase(ctx, p, c, bodies[i], heads[i], before) {
						written++
					}
				}
				return nil
			})
			// EXEC, where it ran, ended the watch, committed or not.
			execRan = written > 0 && (err == nil || errors.Is(err, redis.TxFailedErr) || redis.IsExecAbortError(err))
			return err
		})
		if !errors.Is(err, redis.TxFailedErr) {
			break
		}
	}
	if err != nil {
		return 0, fmt.Errorf("save case %s: %w", cases[0].ID, err)
	}
	return written, nil
}

// writeCase queues the writes of one snapshot over the stored head and
// reports whether there are any: none when the stored projection is as new
// or newer, unless a rebuild (before set) finds it stale, and never over
// an erased case's statistics.
func (s *Store) writeCase(ctx context.Context, p redis.Pipeliner, c ozgflow.Case, body []byte, stored caseHead, before time.Time) bool {
	rebuild := !before.IsZero()
	stale := rebuild && stored.Revision > c.Revision && stored.UpdatedAt.Before(before)
	if !stored.ErasedAt.IsZero() || stored.Revision >= c.Revision && !stale {
		return false
	}
	// Notices filed again after the projections lost the case, or after
	// changes they never saw, may have reached the portal already.
	refiled := rebuild || c.Revision > stored.Revision+1
	expiry := time.Duration(0)
	if !c.ErasedAt.IsZero() {
		expiry = ErasedKept
	}
	p.Set(ctx, s.caseKey(c.ID), body, expiry)
	p.ZAddNX(ctx, s.casesKey(c.Authority), redis.Z{Score: float64(c.SubmittedAt.UnixMilli()), Member: c.ID})
	if stored.Status != c.Status || stored.Service != c.Service {
		if stored.Status != "" {
			p.HIncrBy(ctx, s.statsKey(), stored.Service+"|"+string(stored.Status), -1)
		}
		p.HIncrBy(ctx, s.statsKey(), c.Service+"|"+string(c.Status), 1)
	}
	s.writeTasks(ctx, p, c, stored.Tasks)
	if stale {
		s.dropNoticesBeyond(ctx, p, stored, len(c.Timeline))
	}
	s.writeNotices(ctx, p, c, min(len(stored.Timeline), len(c.Timeline)), refiled)
	s.indexSearch(ctx, p, c, stored.search)
	s.indexRejection(ctx, p, c)
	p.Publish(ctx, s.EventsChannel(c.Authority), c.ID)
	return true
}

// dropNoticesBeyond removes the notices a replaced projection held beyond
// the first keep: a future the engine no longer knows, whose notice IDs the
// case will issue again.
func (s *Store) dropNoticesBeyond(ctx context.Context, p redis.Pipeliner, stored caseHead, keep int) {
	for _, raw := range stored.Timeline[min(keep, len(stored.Timeline)):] {
		var n struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(raw, &n) != nil || n.ID == "" {
			continue
		}
		s.dropNotice(ctx, p, stored.PortalAccount, n.ID)
	}
}

// dropNotice removes a notice from the postbox of account (if any) and
// from the way to the portal.
func (s *Store) dropNotice(ctx context.Context, p redis.Pipeliner, account, id string) {
	p.Del(ctx, s.noticeKey(id))
	if account != "" {
		p.ZRem(ctx, s.postboxKey(account), id)
	}
	p.Del(ctx, s.portalEventKey(id))
	p.ZRem(ctx, s.portalDueKey(), id)
	p.ZRem(ctx, s.portalFailedKey(), id)
}

// caseHead is the part of a stored case that SaveCase compares.
type caseHead struct {
	Revision      int64             `json:"revision"`
	UpdatedAt     time.Time         `json:"updatedAt"`
	ErasedAt      time.Time         `json:"erasedAt"`
	Service       string            `json:"service"`
	Status        ozgflow.Status    `json:"status"`
	PortalAccount string            `json:"portalAccount"`
	Timeline      []json.RawMessage `json:"timeline"`
	Tasks         []ozgflow.Task    `json:"tasks"`
	// search is what the case search holds of the case (search.go).
	search *searchDoc
}

// watchHeads watches keys and reads the heads of n stored cases and what
// the search holds of them, in one round trip: keys are the cases' keys,
// then their search records' keys. A missing or broken projection has the
// zero head and is overwritten. watching says whether the WATCH took.
func watchHeads(ctx context.Context, tx *redis.Tx, keys []string, n int) (heads []caseHead, watching bool, err error) {
	var watch *redis.Cmd
	var read *redis.SliceCmd
	_, err = tx.Pipelined(ctx, func(p redis.Pipeliner) error {
		watch = p.Do(ctx, append([]any{"watch"}, anys(keys)...)...)
		read = p.MGet(ctx, keys...)
		return nil
	})
	watching = watch != nil && watch.Err() == nil
	if err != nil {
		return nil, watching, err
	}
	vals := read.Val()
	heads = make([]caseHead, n)
	for i := range heads {
		if str, ok := vals[i].(string); ok {
			if json.Unmarshal([]byte(str), &heads[i]) != nil {
				heads[i] = caseHead{}
			}
		}
		heads[i].search = searchDocOf(vals[n+i])
	}
	return heads, watching, nil
}

// CaseCounts returns the number of cases per service and status.
func (s *Store) CaseCounts(ctx context.Context) (map[string]map[string]int64, error) {
	fields, err := s.rdb.HGetAll(ctx, s.statsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("read case counts: %w", err)
	}
	out := map[string]map[string]int64{}
	for field, v := range fields {
		service, status, ok := strings.Cut(field, "|")
		n, err := strconv.ParseInt(v, 10, 64)
		if !ok || err != nil || n == 0 {
			continue
		}
		if out[service] == nil {
			out[service] = map[string]int64{}
		}
		out[service][status] = n
	}
	return out, nil
}

// writeNotices files the notices the stored projection did not have yet
// (the timeline only grows) into the portal mailbox.
func (s *Store) writeNotices(ctx context.Context, p redis.Pipeliner, c ozgflow.Case, filed int, refiled bool) {
	if c.PortalAccount == "" || filed >= len(c.Timeline) {
		return
	}
	for _, n := range c.Timeline[filed:] {
		n.PortalAccount = c.PortalAccount
		b, _ := json.Marshal(n)
		p.SetNX(ctx, s.noticeKey(n.ID), b, 0)
		p.ZAddNX(ctx, s.postboxKey(c.PortalAccount), redis.Z{Score: float64(n.At.UnixMilli()), Member: n.ID})
		s.enqueuePortalEvent(ctx, p, n, refiled)
	}
}

// EachCase calls fn with every case of an authority, oldest submission first,
// reading them in batches so that memory stays flat however many there are.
func (s *Store) EachCase(ctx context.Context, ars string, fn func(ozgflow.Case) error) error {
	const batch = 1000
	key := s.casesKey(ars)
	for offset := int64(0); ; offset += batch {
		ids, err := s.rdb.ZRange(ctx, key, offset, offset+batch-1).Result()
		if err != nil {
			return fmt.Errorf("read case index of %s: %w", ars, err)
		}
		if len(ids) == 0 {
			return nil
		}
		keys := make([]string, len(ids))
		for i, id := range ids {
			keys[i] = s.caseKey(id)
		}
		vals, err := s.rdb.MGet(ctx, keys...).Result()
		if err != nil {
			return fmt.Errorf("read cases of %s: %w", ars, err)
		}
		for _, v := range vals {
			str, ok := v.(string)
			if !ok {
				continue
			}
			var c ozgflow.Case
			if json.Unmarshal([]byte(str), &c) != nil {
				continue
			}
			if err := fn(c); err != nil {
				return err
			}
		}
		if len(ids) < batch {
			return nil
		}
	}
}

// Case returns the projection of a case.
func (s *Store) Case(ctx context.Context, id string) (ozgflow.Case, error) {
	var c ozgflow.Case
	b, err := s.rdb.Get(ctx, s.caseKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return c, ozgflow.Errorf(ozgflow.ENOTFOUND, "Application %s not found.", id)
	} else if err != nil {
		return c, fmt.Errorf("read case %s: %w", id, err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("decode case %s: %w", id, err)
	}
	return c, nil
}

// Notices lists a portal account's notices, newest first.
func (s *Store) Notices(ctx context.Context, account string, offset, limit int64) ([]ozgflow.Notice, int64, error) {
	key := s.postboxKey(account)
	total, err := s.rdb.ZCard(ctx, key).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("count notices: %w", err)
	}
	ids, err := s.rdb.ZRevRange(ctx, key, offset, offset+limit-1).Result()
	if err != nil || len(ids) == 0 {
		return []ozgflow.Notice{}, total, err
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.noticeKey(id)
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("read notices: %w", err)
	}
	out := make([]ozgflow.Notice, 0, len(vals))
	for _, v := range vals {
		if str, ok := v.(string); ok {
			var n ozgflow.Notice
			if json.Unmarshal([]byte(str), &n) == nil {
				out = append(out, n)
			}
		}
	}
	return out, total, nil
}

// Prefix is the key prefix of this store's keys.
func (s *Store) Prefix() string { return s.prefix }

// anys returns keys as command arguments.
func anys(keys []string) []any {
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out
}
