package casework

import (
	"context"
	"slices"

	"github.com/ozgflow/ozgflow"
)

// The portal mailbox (Postfach): the notices of every case of a portal
// account, from the projections, and what the account has read, from the
// records database, where read marks outlive a lost Redis.

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
func (s *Service) Mailbox(ctx context.Context, account string, offset, limit int64) (MailboxPage, error) {
	notices, total, err := s.Store.Notices(ctx, account, offset, limit)
	if err != nil {
		return MailboxPage{}, err
	}
	ids := make([]string, len(notices))
	for i, n := range notices {
		ids[i] = n.ID
	}
	read, err := s.Records.ReadMarks(ctx, account, ids)
	if err != nil {
		return MailboxPage{}, err
	}
	page := MailboxPage{Notices: make([]MailboxNotice, len(notices)), Total: total}
	for i, n := range notices {
		page.Notices[i] = MailboxNotice{Notice: n, Read: read[n.ID]}
	}
	all, err := s.Store.NoticeIDs(ctx, account)
	if err != nil {
		return MailboxPage{}, err
	}
	if page.Unread, err = s.unread(ctx, account, all); err != nil {
		return MailboxPage{}, err
	}
	return page, nil
}

// MarkNoticeRead records that the account has read a notice and returns the
// number of notices still unread. Marking twice changes nothing; a notice
// that is not in the account's postbox is not found.
func (s *Service) MarkNoticeRead(ctx context.Context, account, noticeID string) (int64, error) {
	ids, err := s.Store.NoticeIDs(ctx, account)
	if err != nil {
		return 0, err
	}
	if !slices.Contains(ids, noticeID) {
		return 0, ozgflow.Errorf(ozgflow.ENOTFOUND, "Notice %s not found in this mailbox.", noticeID)
	}
	if err := s.Records.MarkRead(ctx, account, noticeID, s.now()); err != nil {
		return 0, err
	}
	return s.unread(ctx, account, ids)
}

// unread counts the notices of ids, the account's postbox, not marked as
// read.
func (s *Service) unread(ctx context.Context, account string, ids []string) (int64, error) {
	read, err := s.Records.ReadMarks(ctx, account, ids)
	if err != nil {
		return 0, err
	}
	return int64(len(ids) - len(read)), nil
}
