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

// ErasedKept is how long the projection of an erased case, its statistics
// alone, stays in Redis so that the case answers as erased rather than
// unknown. The records database keeps those statistics for good.
const ErasedKept = 365 * 24 * time.Hour

// ExpireCase lets the projection keys that belong to one closed case
// alone, the case and its notices, expire at the end of its retention.
// The account's postbox index is shared by all its cases and does not
// expire; a notice that expired is skipped when the postbox is read.
func (s *Store) ExpireCase(ctx context.Context, c ozgflow.Case, at time.Time) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ExpireAt(ctx, s.caseKey(c.ID), at)
		for _, n := range c.Timeline {
			p.ExpireAt(ctx, s.noticeKey(n.ID), at)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("expire case %s: %w", c.ID, err)
	}
	return nil
}

// EraseCase removes the personal data of a case from the projections: its
// notices leave the postbox of account, its tasks leave the queues, and
// the case itself is replaced by stats, its statistics alone, kept for
// ErasedKept. The counts of the dashboard are left as they are. Erasing
// twice is harmless.
func (s *Store) EraseCase(ctx context.Context, stats ozgflow.Case, account string) error {
	key := s.caseKey(stats.ID)
	var stored ozgflow.Case
	b, err := s.rdb.Get(ctx, key).Bytes()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("erase case %s: %w", stats.ID, err)
	}
	if err == nil {
		_ = json.Unmarshal(b, &stored) // a broken projection is replaced all the same
	}
	if account == "" {
		account = stored.PortalAccount
	}
	if stored.Revision > stats.Revision {
		stats.Revision = stored.Revision
	}
	// A later write of the case, by a reindex for one, must not bring the
	// personal data back: the stub outranks every revision of the case.
	stats.Revision++
	body, err := json.Marshal(stats)
	if err != nil {
		return err
	}
	var noticeIDs []string
	if account != "" {
		// Notice IDs are "<case>-<n>"; expired notices left their IDs in the postbox.
		members, err := s.rdb.ZRange(ctx, s.postboxKey(account), 0, -1).Result()
		if err != nil {
			return fmt.Errorf("erase case %s: %w", stats.ID, err)
		}
		for _, m := range members {
			if strings.HasPrefix(m, stats.ID+"-") {
				noticeIDs = append(noticeIDs, m)
			}
		}
	}
	for _, n := range stored.Timeline {
		noticeIDs = append(noticeIDs, n.ID)
	}
	docs, err := s.searchDocs(ctx, s.rdb, []string{s.searchDocKey(stats.ID)})
	if err != nil {
		return fmt.Errorf("erase case %s: %w", stats.ID, err)
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		s.unindexSearch(ctx, p, stats.ID, docs[0])
		for _, id := range noticeIDs {
			// A notice on its way to the portal, or given up, goes too.
			s.dropNotice(ctx, p, account, id)
		}
		for _, t := range stored.Tasks {
			s.unindexTask(ctx, p, t)
			p.Del(ctx, s.taskKey(t.ID))
		}
		p.Set(ctx, key, body, ErasedKept)
		if stats.Authority != "" {
			p.Publish(ctx, s.EventsChannel(stats.Authority), stats.ID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("erase case %s: %w", stats.ID, err)
	}
	return nil
}

// CasesOf returns the IDs of the cases of a portal account that the
// projections know, from the notices in its postbox.
func (s *Store) CasesOf(ctx context.Context, account string) ([]string, error) {
	members, err := s.rdb.ZRange(ctx, s.postboxKey(account), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("read the postbox: %w", err)
	}
	seen := map[string]bool{}
	var ids []string
	for _, m := range members {
		i := strings.LastIndexByte(m, '-')
		if i <= 0 || seen[m[:i]] {
			continue
		}
		seen[m[:i]] = true
		ids = append(ids, m[:i])
	}
	return ids, nil
}

// ExpiresAt tells when the projection of a case expires; zero when it
// does not.
func (s *Store) ExpiresAt(ctx context.Context, caseID string) (time.Time, error) {
	d, err := s.rdb.ExpireTime(ctx, s.caseKey(caseID)).Result()
	if err != nil || d < 0 {
		return time.Time{}, err
	}
	return time.Unix(int64(d/time.Second), 0), nil
}
