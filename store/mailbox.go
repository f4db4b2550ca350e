package store

import (
	"context"
	"fmt"
)

// NoticeIDs returns the IDs of every notice in a portal account's postbox.
// A postbox holds the notices of one person's cases: tens, not thousands.
func (s *Store) NoticeIDs(ctx context.Context, account string) ([]string, error) {
	ids, err := s.rdb.ZRange(ctx, s.postboxKey(account), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("list notices: %w", err)
	}
	return ids, nil
}
