package store

import (
	"context"
	"fmt"
	"strings"
)

// Before the records database, uploaded documents and the mailbox's read
// marks lived in Redis. These functions hand what an older installation
// left there to the records database, once, and remove it from Redis.

// LegacyFile is a document an older installation kept in Redis.
type LegacyFile struct {
	CaseID, SHA256, Name, ContentType string
	Data                              []byte
}

// MoveLegacyFiles calls keep with every document kept in Redis and deletes
// each from Redis once keep took it; it returns how many it moved.
func (s *Store) MoveLegacyFiles(ctx context.Context, keep func(LegacyFile) error) (int, error) {
	moved := 0
	err := s.eachKey(ctx, s.prefix+"file:*", func(key string) error {
		caseID, sha, ok := strings.Cut(strings.TrimPrefix(key, s.prefix+"file:"), ":")
		if !ok {
			return nil
		}
		vals, err := s.rdb.HMGet(ctx, key, "name", "contentType", "data").Result()
		if err != nil {
			return err
		}
		data, ok := vals[2].(string)
		if !ok {
			return nil
		}
		name, _ := vals[0].(string)
		contentType, _ := vals[1].(string)
		if err := keep(LegacyFile{CaseID: caseID, SHA256: sha, Name: name, ContentType: contentType, Data: []byte(data)}); err != nil {
			return err
		}
		moved++
		return s.rdb.Del(ctx, key).Err()
	})
	return moved, err
}

// MoveLegacyReadMarks calls keep with each account's read notices kept in
// Redis and deletes them from Redis once keep took them.
func (s *Store) MoveLegacyReadMarks(ctx context.Context, keep func(account string, noticeIDs []string) error) (int, error) {
	moved := 0
	err := s.eachKey(ctx, s.prefix+"postbox-read:*", func(key string) error {
		ids, err := s.rdb.SMembers(ctx, key).Result()
		if err != nil {
			return err
		}
		if err := keep(strings.TrimPrefix(key, s.prefix+"postbox-read:"), ids); err != nil {
			return err
		}
		moved += len(ids)
		return s.rdb.Del(ctx, key).Err()
	})
	return moved, err
}

// eachKey calls fn with every key matching pattern.
func (s *Store) eachKey(ctx context.Context, pattern string, fn func(string) error) error {
	iter := s.rdb.Scan(ctx, 0, pattern, 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("scan %s: %w", pattern, err)
	}
	for _, k := range keys {
		if err := fn(k); err != nil {
			return fmt.Errorf("move %s: %w", k, err)
		}
	}
	return nil
}
