package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/ozgflow/ozgflow"
)

// The read state of a portal mailbox: a set of the notice IDs the account
// has read, next to the postbox (a sorted set by time) that SaveCase fills.
// Notices never leave a postbox and only filed ones are marked, so the
// number of unread notices is the size of the one minus the size of the other.

func (s *Store) readKey(acc string) string { return s.prefix + "postbox-read:" + acc }

// MailboxNotice is a notice with whether the account has read it.
type MailboxNotice struct {
	ozgflow.Notice
	Read bool
}

// MailboxPage is one page of a portal account's notices, newest first.
type MailboxPage struct {
	Notices []MailboxNotice
	Total   int64
	Unread  int64
}

// Mailbox lists a portal account's notices of every case, newest first,
// with their read state and the number of unread notices.
func (s *Store) Mailbox(ctx context.Context, account string, offset, limit int64) (MailboxPage, error) {
	notices, total, err := s.Notices(ctx, account, offset, limit)
	if err != nil {
		return MailboxPage{}, err
	}
	page := MailboxPage{Notices: make([]MailboxNotice, len(notices)), Total: total}
	read := make([]bool, len(notices))
	if len(notices) > 0 {
		ids := make([]any, len(notices))
		for i, n := range notices {
			ids[i] = n.ID
		}
		if read, err = s.rdb.SMIsMember(ctx, s.readKey(account), ids...).Result(); err != nil {
			return MailboxPage{}, fmt.Errorf("read state of notices: %w", err)
		}
	}
	for i, n := range notices {
		page.Notices[i] = MailboxNotice{Notice: n, Read: read[i]}
	}
	if page.Unread, err = s.unread(ctx, account); err != nil {
		return MailboxPage{}, err
	}
	return page, nil
}

// MarkNoticeRead records that the account has read a notice and returns the
// number of notices still unread. Marking twice changes nothing; a notice
// that is not in the account's postbox is not found.
func (s *Store) MarkNoticeRead(ctx context.Context, account, noticeID string) (int64, error) {
	err := s.rdb.ZScore(ctx, s.postboxKey(account), noticeID).Err()
	if errors.Is(err, redis.Nil) {
		return 0, ozgflow.Errorf(ozgflow.ENOTFOUND, "Notice %s not found in this mailbox.", noticeID)
	} else if err != nil {
		return 0, fmt.Errorf("look up notice: %w", err)
	}
	if err := s.rdb.SAdd(ctx, s.readKey(account), noticeID).Err(); err != nil {
		return 0, fmt.Errorf("mark notice read: %w", err)
	}
	return s.unread(ctx, account)
}

// unread counts the notices of an account not marked as read.
func (s *Store) unread(ctx context.Context, account string) (int64, error) {
	var total, read *redis.IntCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		total = p.ZCard(ctx, s.postboxKey(account))
		read = p.SCard(ctx, s.readKey(account))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count unread notices: %w", err)
	}
	return max(total.Val()-read.Val(), 0), nil
}
