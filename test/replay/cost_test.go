package replay

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
)

// TestRecordedCasesWriteTheMemoOncePerWorkflowTask: every memo upsert is
// an event and a visibility write, and only the last one of a workflow task
// is ever read. The histories recorded with the newest workflow code (those
// directly under historyDir) hold at most one per workflow task, and no
// version marker but the follow-up's: a new case takes its features from
// its input, which costs no marker and no upsert of TemporalChangeVersion.
func TestRecordedCasesWriteTheMemoOncePerWorkflowTask(t *testing.T) {
	entries, err := os.ReadDir(historyDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		h := readHistory(t, filepath.Join(historyDir, e.Name()))
		memos, task := 0, int64(0)
		for _, ev := range h.GetEvents() {
			switch ev.GetEventType() {
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
				memos, task = 0, ev.GetEventId()
			case enumspb.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
				if memos++; memos > 1 {
					t.Errorf("%s: the workflow task completed in event %d upserts the memo %d times", e.Name(), task, memos)
				}
			case enumspb.EVENT_TYPE_MARKER_RECORDED:
				a := ev.GetMarkerRecordedEventAttributes()
				if a.GetMarkerName() != "Version" {
					continue
				}
				if id := versionChangeID(t, a.GetDetails()["change-id"]); id != "follow-up-timer" {
					t.Errorf("%s: event %d records version %q; new cases take their features from their input", e.Name(), ev.GetEventId(), id)
				}
			}
		}
	}
}

// versionChangeID decodes the change ID a version marker records.
func versionChangeID(t *testing.T, p *commonpb.Payloads) string {
	t.Helper()
	var id string
	if err := dataConverter(t).FromPayloads(p, &id); err != nil {
		t.Fatalf("version marker: %v", err)
	}
	return id
}
