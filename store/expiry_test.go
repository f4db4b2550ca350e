package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/internal/redistest"
)

// TestClosedCaseKeysExpireWhenItsRetentionEnds: the case and its notices
// carry the expiry; the account's postbox, shared with its other cases,
// does not.
func TestClosedCaseKeysExpireWhenItsRetentionEnds(t *testing.T) {
	ctx := context.Background()
	st := redistest.Store(t, "expiry-test:")
	c := ozgflow.Case{ID: "c-exp", Revision: 1, Service: "s", Authority: "147130000000", PortalAccount: "acc-exp",
		Status: ozgflow.StatusApproved, Timeline: []ozgflow.Notice{{ID: "c-exp-1", CaseID: "c-exp", PortalAccount: "acc-exp"}}}
	if err := st.SaveCase(ctx, c); err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(180 * 24 * time.Hour).Truncate(time.Second)
	if err := st.ExpireCase(ctx, c, until); err != nil {
		t.Fatal(err)
	}
	got, err := st.ExpiresAt(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(until) {
		t.Errorf("case expires at %v, want %v", got, until)
	}
	// The notice is read through the postbox; it expires with the case.
	rdb := st.Client()
	keys, err := rdb.Keys(ctx, "*notice:c-exp-1").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("notice keys %v, %v", keys, err)
	}
	if d, _ := rdb.ExpireTime(ctx, keys[0]).Result(); d != time.Duration(until.Unix())*time.Second {
		t.Errorf("notice expires at %v, want %v", d, until)
	}
	postbox, err := rdb.Keys(ctx, "*postbox:acc-exp").Result()
	if err != nil || len(postbox) != 1 {
		t.Fatalf("postbox keys %v, %v", postbox, err)
	}
	if got, _ := rdb.TTL(ctx, postbox[0]).Result(); got != -1 {
		t.Errorf("the shared postbox got a TTL of %v", got)
	}
}
