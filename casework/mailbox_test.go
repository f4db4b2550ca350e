package casework_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/internal/recordstest"
	"github.com/ozgflow/ozgflow/internal/redistest"
)

func TestMailboxReadStateAndPaging(t *testing.T) {
	ctx := context.Background()
	st := redistest.Store(t, "test:")
	s := &casework.Service{Store: st, Records: recordstest.Open(t, "sqlite"), Now: time.Now}
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	// Two cases of one account, three notices each, interleaved in time.
	var cases []ozgflow.Case
	for i, id := range []string{"a", "b"} {
		c := ozgflow.Case{ID: id, Revision: 1, Authority: "147130000000", PortalAccount: "acc", Status: ozgflow.StatusReceived}
		for n := range 3 {
			c.Timeline = append(c.Timeline, ozgflow.Notice{ID: fmt.Sprintf("%s-%d", id, n+1), CaseID: id,
				Title: "Mitteilung", At: start.Add(time.Duration(2*n+i) * time.Minute)})
		}
		cases = append(cases, c)
	}
	project := func() {
		for _, c := range cases {
			if err := st.SaveCase(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	project()
	page, err := s.Mailbox(ctx, "acc", 0, 4)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, n := range page.Notices {
		ids = append(ids, n.ID)
		if n.Read {
			t.Errorf("%s is read before anyone read it", n.ID)
		}
	}
	if fmt.Sprint(ids) != "[b-3 a-3 b-2 a-2]" || page.Total != 6 || page.Unread != 6 {
		t.Errorf("first page %v, total %d, unread %d; want newest first of both cases, 6, 6", ids, page.Total, page.Unread)
	}

	for _, id := range []string{"a-3", "a-3", "b-1"} {
		if _, err := s.MarkNoticeRead(ctx, "acc", id); err != nil {
			t.Fatalf("mark %s: %v", id, err)
		}
	}
	if _, err := s.MarkNoticeRead(ctx, "acc", "z-1"); ozgflow.ErrorCode(err) != ozgflow.ENOTFOUND {
		t.Errorf("marking a notice of no case: %v, want not found", err)
	}
	if _, err := s.MarkNoticeRead(ctx, "other", "a-1"); ozgflow.ErrorCode(err) != ozgflow.ENOTFOUND {
		t.Errorf("marking another account's notice: %v, want not found", err)
	}
	page, err = s.Mailbox(ctx, "acc", 4, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Notices) != 2 || page.Notices[0].ID != "b-1" || !page.Notices[0].Read || page.Notices[1].Read || page.Unread != 4 {
		t.Errorf("second page %+v, unread %d; want b-1 read, a-1 unread, 4 unread", page.Notices, page.Unread)
	}

	// Read marks live in the records database: a lost Redis, rebuilt from
	// the cases, keeps them.
	if err := st.DropAll(ctx); err != nil {
		t.Fatal(err)
	}
	project()
	page, err = s.Mailbox(ctx, "acc", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	read := map[string]bool{}
	for _, n := range page.Notices {
		read[n.ID] = n.Read
	}
	if !read["a-3"] || !read["b-1"] || read["a-1"] || page.Unread != 4 {
		t.Errorf("after a Redis flush: read %v, unread %d; want a-3 and b-1 read, 4 unread", read, page.Unread)
	}
}
