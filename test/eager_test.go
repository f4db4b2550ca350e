package test

import (
	"context"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/test/e2e"
)

// TestDevStartsCasesEagerly checks that in dev, where the gateway and the
// worker share one Temporal client, a case's first workflow task comes back
// with the start instead of through the engine's task queue. A task taken
// from the queue records the build ID of the worker that polled for it;
// one handed out with the start has no poll and records none.
func TestDevStartsCasesEagerly(t *testing.T) {
	st := stackOf(dev)
	s := st.Submit(t, e2e.Hundesteuer(e2e.Dresden))
	st.WaitStatus(t, s, "approved")

	it := dev.Client.GetWorkflowHistory(context.Background(), ozgflow.CaseWorkflowID(s.ID), "", false, 0)
	var buildIDs []string
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED {
			buildIDs = append(buildIDs, ev.GetWorkflowTaskStartedEventAttributes().GetWorkerVersion().GetBuildId())
		}
	}
	if len(buildIDs) < 2 {
		t.Fatalf("want at least two workflow tasks, history has %d", len(buildIDs))
	}
	if buildIDs[0] != "" {
		t.Errorf("the first workflow task was polled from the task queue (build ID %q), not handed out with the start", buildIDs[0])
	}
	if buildIDs[1] == "" {
		t.Errorf("a later workflow task records no build ID either: the check above proves nothing")
	}
}
