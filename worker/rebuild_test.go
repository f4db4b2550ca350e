package worker

import (
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/ozgflow/ozgflow"
)

// listed builds search attributes as a listing returns them.
func listed(t *testing.T, kv map[string]string) *commonpb.SearchAttributes {
	t.Helper()
	sa := &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{}}
	for k, v := range kv {
		p, err := converter.GetDefaultDataConverter().ToPayload(v)
		if err != nil {
			t.Fatal(err)
		}
		sa.IndexedFields[k] = p
	}
	return sa
}

// TestAMemoBehindTheListingIsNotTrusted: a rebuild takes a case's memo only
// where it shows the status and the queue the case last wrote to its
// search attributes; a memo from an earlier wait, left while the case rests
// at a call whose failure was not signalled, sends the rebuild to the
// case's query.
func TestAMemoBehindTheListingIsNotTrusted(t *testing.T) {
	inReview := ozgflow.Case{Status: ozgflow.StatusInReview,
		Tasks: []ozgflow.Task{{ID: "t1", Queue: "gewerbe-leipzig", Status: ozgflow.TaskOpen}}}
	approved := ozgflow.Case{Status: ozgflow.StatusApproved,
		Tasks: []ozgflow.Task{{ID: "t1", Queue: "gewerbe-leipzig", Status: ozgflow.TaskDone}}}
	tests := []struct {
		name   string
		memo   ozgflow.Case
		listed *commonpb.SearchAttributes
		want   bool
	}{
		{"waiting for a case worker", inReview,
			listed(t, map[string]string{ozgflow.SearchAttrStatus: "in_review", ozgflow.SearchAttrQueue: "gewerbe-leipzig"}), true},
		{"decided since, archiving", inReview, listed(t, map[string]string{ozgflow.SearchAttrStatus: "approved"}), false},
		{"decided, memo current", approved, listed(t, map[string]string{ozgflow.SearchAttrStatus: "approved"}), true},
		{"handed to another queue", inReview,
			listed(t, map[string]string{ozgflow.SearchAttrStatus: "in_review", ozgflow.SearchAttrQueue: "gewerbe-leipzig-2"}), false},
		{"its task done, the status unchanged", inReview, listed(t, map[string]string{ozgflow.SearchAttrStatus: "in_review"}), false},
		{"listed without search attributes", inReview, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := memoCurrent(tt.memo, tt.listed); got != tt.want {
				t.Errorf("memoCurrent = %v, want %v", got, tt.want)
			}
		})
	}
}
