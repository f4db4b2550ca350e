// Package replay guards running cases: it records the history of one case per
// path through every published variant (TestRecordHistories, a maintainer
// action) and replays each recorded history against the current workflow code
// on every test run (TestRecordedHistoriesReplay). A change to the workflow
// that would make a running case fail on the next deploy fails here first.
package replay

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
	"github.com/ozgflow/ozgflow/worker"
	"github.com/ozgflow/ozgflow/workflows"
)

// secret is the payload encryption secret the histories were recorded with.
// Recording and replay must share it: the payloads in the files are encrypted
// with the key derived from it, and the replayer decodes the workflow input
// to run the workflow.
const secret = "replay-secret-0123456789abcdef"

// historyDir holds the recorded histories, one JSON file per case, in the
// format of `temporal workflow show --output json`.
var historyDir = filepath.Join("..", "testdata", "histories")

// recordCommand records the histories anew; run it from the module root.
const recordCommand = "go test ./test/replay -run TestRecordHistories -record -count=1"

// dataConverter is the worker's data converter for the shared secret.
func dataConverter(t *testing.T) converter.DataConverter {
	t.Helper()
	codec, err := worker.NewCodec([]byte(secret))
	if err != nil {
		t.Fatalf("payload codec: %v", err)
	}
	return codec.DataConverter()
}

// newReplayer returns a replayer that knows the case workflow under its
// registered name and decrypts payloads like the worker does.
func newReplayer(t *testing.T) sdkworker.WorkflowReplayer {
	t.Helper()
	r, err := sdkworker.NewWorkflowReplayerWithOptions(sdkworker.WorkflowReplayerOptions{DataConverter: dataConverter(t)})
	if err != nil {
		t.Fatalf("new replayer: %v", err)
	}
	r.RegisterWorkflowWithOptions(workflows.CaseWorkflow, workflow.RegisterOptions{Name: ozgflow.CaseWorkflowName})
	return r
}

// replayLogger shows what the SDK warns about during a replay in the test's
// output; the workflow's own logs stay silent in replay.
func replayLogger(t *testing.T) sdklog.Logger {
	return sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))
}

// readHistory reads a recorded history the way the replayer does.
func readHistory(t *testing.T, path string) *historypb.History {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		t.Fatalf("%s is not a workflow history: %v", path, err)
	}
	return h
}

// caseInput decrypts and decodes the input a recorded case was started with:
// the application and the snapshot of its definition.
func caseInput(h *historypb.History, dc converter.DataConverter) (definitions.CaseInput, error) {
	var in definitions.CaseInput
	events := h.GetEvents()
	if len(events) == 0 || events[0].GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED {
		return in, fmt.Errorf("history does not begin with WorkflowExecutionStarted")
	}
	attr := events[0].GetWorkflowExecutionStartedEventAttributes()
	if name := attr.GetWorkflowType().GetName(); name != ozgflow.CaseWorkflowName {
		return in, fmt.Errorf("history is of workflow type %q, not %q", name, ozgflow.CaseWorkflowName)
	}
	if err := dc.FromPayloads(attr.GetInput(), &in); err != nil {
		return in, fmt.Errorf("decode workflow input (recorded with another secret?): %w", err)
	}
	return in, nil
}

// variant names one version of a published definition.
type variant struct {
	id      string
	version int
}

func (v variant) String() string { return fmt.Sprintf("%s v%d", v.id, v.version) }

// publishedVariants lists what the catalog publishes for new cases.
func publishedVariants(t *testing.T) []variant {
	t.Helper()
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		t.Fatalf("load catalog: %v", err)
	}
	var out []variant
	for _, def := range reg.Published() {
		out = append(out, variant{def.ID, def.Version})
	}
	if len(out) == 0 {
		t.Fatal("the catalog publishes no variant")
	}
	return out
}
