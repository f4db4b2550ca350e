package records_test

import (
	"context"
	"testing"

	"github.com/ozgflow/ozgflow/internal/recordstest"
)

// TestSentSubmissionsAreKeptPerKey: the announcement is kept, then replaced
// by the submit; another key knows nothing of it.
func TestSentSubmissionsAreKeptPerKey(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := recordstest.OpenURL(t, recordstest.URL(t, dialect), recordstest.Ring(t, recordstest.Secret))
		if _, _, ok, err := db.SentSubmission(ctx, "case-a:t:1"); ok || err != nil {
			t.Fatalf("before: ok %v, %v", ok, err)
		}
		if err := db.KeepSentSubmission(ctx, "case-a:t:1", false, []byte(`{"submissionId":"s1"}`)); err != nil {
			t.Fatal(err)
		}
		if err := db.KeepSentSubmission(ctx, "case-a:t:1", true, []byte(`{"submissionId":"s1","metadataTag":"x"}`)); err != nil {
			t.Fatal(err)
		}
		body, submitted, ok, err := db.SentSubmission(ctx, "case-a:t:1")
		if err != nil || !ok || !submitted || string(body) != `{"submissionId":"s1","metadataTag":"x"}` {
			t.Fatalf("got %s %v %v %v", body, submitted, ok, err)
		}
		if _, _, ok, _ := db.SentSubmission(ctx, "case-a:t:2"); ok {
			t.Error("round 2 found round 1's submission")
		}
	})
}
