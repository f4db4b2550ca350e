package replay

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	sdklog "go.temporal.io/sdk/log"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/ozgflow/ozgflow/definitions"
)

// TestRecordedHistoriesReplay replays every recorded case against the current
// workflow code. A failure means that cases running now, started by the code
// the histories were recorded with, would fail on their next workflow task
// after a deploy of this code.
func TestRecordedHistoriesReplay(t *testing.T) {
	// Histories of cases started by older code stay in subdirectories
	// named after what changed since, beside those of the current code.
	files, err := filepath.Glob(filepath.Join(historyDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	older, err := filepath.Glob(filepath.Join(historyDir, "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, older...)
	if len(files) == 0 {
		t.Fatalf("no recorded histories in %s: record them with `%s`", historyDir, recordCommand)
	}
	dc := dataConverter(t)
	covered := map[variant]bool{}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(name, func(t *testing.T) {
			in, err := caseInput(readHistory(t, path), dc)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			def := in.Definition
			covered[variant{def.ID, def.Version}] = true
			if name != def.ID && !strings.HasPrefix(name, def.ID+"-") {
				t.Errorf("%s holds a case of %s v%d; name the file <definition-id>[-<path>].json", path, def.ID, def.Version)
			}
			if err := newReplayer(t).ReplayWorkflowHistoryFromJSONFile(replayLogger(t), path); err != nil {
				t.Errorf("replaying %s (a case of %s v%d) failed: the workflow code no longer does what it did "+
					"when this case ran, so running cases like it would break after a deploy of this code. "+
					"Keep the old behaviour for running cases behind workflow.GetVersion instead of re-recording.\n%v",
					path, def.ID, def.Version, err)
			}
		})
	}
	for _, v := range publishedVariants(t) {
		if !covered[v] {
			t.Errorf("published variant %s has no recorded history in %s: record one with `%s`", v, historyDir, recordCommand)
		}
	}
}

// TestReplayDetectsIncompatibleHistory shows that the replay test can fail:
// a recorded history whose commands differ from what the workflow code does,
// as if the code had changed under a running case, is refused.
func TestReplayDetectsIncompatibleHistory(t *testing.T) {
	path := filepath.Join(historyDir, "gewerbeanmeldung-leipzig.json")
	recorded := readHistory(t, path)
	if err := newReplayer(t).ReplayWorkflowHistory(replayLogger(t), recorded); err != nil {
		t.Fatalf("the unchanged history %s does not replay: %v", path, err)
	}
	renumbered := proto.Clone(recorded).(*historypb.History)
	renumber(renumbered)
	if err := newReplayer(t).ReplayWorkflowHistory(replayLogger(t), renumbered); err != nil {
		t.Fatalf("renumbering alone breaks the history, so it cannot stand in for a code change: %v", err)
	}
	tests := []struct {
		name    string
		corrupt func(t *testing.T, h *historypb.History)
	}{
		{"activity type renamed", func(t *testing.T, h *historypb.History) {
			firstScheduled(t, h).GetActivityTaskScheduledEventAttributes().ActivityType.Name += "V2"
		}},
		{"scheduled activity dropped", func(t *testing.T, h *historypb.History) {
			// As if the activity had been added to the code after the case
			// started: its events go, the rest is renumbered consistently.
			id := firstScheduled(t, h).GetEventId()
			var kept []*historypb.HistoryEvent
			for _, ev := range h.Events {
				if ev.GetEventId() == id || scheduledEventID(ev) == id {
					continue
				}
				kept = append(kept, ev)
			}
			h.Events = kept
			renumber(h)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := proto.Clone(recorded).(*historypb.History)
			tt.corrupt(t, h)
			quiet := sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)) // the SDK logs the refusal with a stack
			err := newReplayer(t).ReplayWorkflowHistory(quiet, h)
			if err == nil {
				t.Fatal("the replayer accepted a history the workflow code cannot have produced")
			}
			// TMPRL1100 is the SDK's code for a nondeterministic workflow: the
			// refusal is about the commands, not a damaged file.
			if !strings.Contains(err.Error(), "TMPRL1100") {
				t.Fatalf("refused for another reason than a command mismatch: %v", err)
			}
			t.Logf("refused as expected: %.300s", err)
		})
	}
}

// firstScheduled returns the first ActivityTaskScheduled event of h.
func firstScheduled(t *testing.T, h *historypb.History) *historypb.HistoryEvent {
	t.Helper()
	for _, ev := range h.GetEvents() {
		if ev.GetEventType() == enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED {
			return ev
		}
	}
	t.Fatal("the history schedules no activity")
	return nil
}

// renumber gives the events of h consecutive IDs from 1 and rewrites every
// reference to an event ID (fields named *_event_id) to match.
func renumber(h *historypb.History) {
	ids := map[int64]int64{}
	for i, ev := range h.Events {
		ids[ev.GetEventId()] = int64(i + 1)
	}
	var rewrite func(m protoreflect.Message)
	rewrite = func(m protoreflect.Message) {
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.Kind() == protoreflect.Int64Kind && !fd.IsList() && !fd.IsMap() &&
				(fd.Name() == "event_id" || strings.HasSuffix(string(fd.Name()), "_event_id")):
				if id, ok := ids[v.Int()]; ok {
					m.Set(fd, protoreflect.ValueOfInt64(id))
				}
			case fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap():
				rewrite(v.Message())
			case fd.Kind() == protoreflect.MessageKind && fd.IsList():
				for i := 0; i < v.List().Len(); i++ {
					rewrite(v.List().Get(i).Message())
				}
			}
			return true
		})
	}
	for _, ev := range h.Events {
		rewrite(ev.ProtoReflect())
	}
}

// scheduledEventID returns the ActivityTaskScheduled event an activity's
// later event refers to, or 0.
func scheduledEventID(ev *historypb.HistoryEvent) int64 {
	switch ev.GetEventType() {
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
		return ev.GetActivityTaskStartedEventAttributes().GetScheduledEventId()
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
		return ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
		return ev.GetActivityTaskFailedEventAttributes().GetScheduledEventId()
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
		return ev.GetActivityTaskTimedOutEventAttributes().GetScheduledEventId()
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED:
		return ev.GetActivityTaskCancelRequestedEventAttributes().GetScheduledEventId()
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
		return ev.GetActivityTaskCanceledEventAttributes().GetScheduledEventId()
	}
	return 0
}

// TestACaseStartedWithFeaturesOnAnOlderWorkerReplays: during a rollout a
// gateway that passes the case's features in its input may start a case
// that a worker from before takes; that worker ignores them and records
// its own features with the version marker. Such a history (a recorded
// one, with the newest features written into its input) replays on the
// current code, which then keeps the marker's features.
func TestACaseStartedWithFeaturesOnAnOlderWorkerReplays(t *testing.T) {
	dc := dataConverter(t)
	for _, name := range []string{"lasttest-auto-chemnitz", "gewerbeanmeldung-leipzig"} {
		t.Run(name, func(t *testing.T) {
			h := readHistory(t, filepath.Join(historyDir, "before-features-in-input", name+".json"))
			in, err := caseInput(h, dc)
			if err != nil {
				t.Fatal(err)
			}
			if in.Features != 0 {
				t.Fatalf("the recorded case names features %d in its input already", in.Features)
			}
			in.Features = definitions.CaseFeatures
			payloads, err := dc.ToPayloads(in)
			if err != nil {
				t.Fatal(err)
			}
			h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().Input = payloads
			if err := newReplayer(t).ReplayWorkflowHistory(replayLogger(t), h); err != nil {
				t.Errorf("a case an older worker ran with the marker's features does not replay: %v", err)
			}
		})
	}
}
