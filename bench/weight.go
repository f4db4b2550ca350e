package bench

import (
	"context"
	"encoding/json"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Weight is what a case carries through the engine besides its steps: the
// sizes of its payloads as they land in its history, and its search
// attributes. The baseline-weight phase gives the bare baseline the same
// weight, so that the engine's share of ozgflow's overhead (larger events,
// mutable states and visibility rows) is told apart from the share of
// ozgflow's own work (gateway, worker, projections, records).
type Weight struct {
	InputBytes          int `json:"inputBytes"`
	ActivityInputBytes  int `json:"activityInputBytes"`
	ActivityResultBytes int `json:"activityResultBytes"`
	ResultBytes         int `json:"resultBytes"`
	// StartAttributes are the keyword search attributes the case started
	// with; FinalAttributes those it upserted last, in its last workflow
	// task.
	StartAttributes map[string]string `json:"startAttributes,omitempty"`
	FinalAttributes map[string]string `json:"finalAttributes,omitempty"`
}

// weigh adds what one history event carries to w.
func (w *Weight) weigh(ev *historypb.HistoryEvent) {
	switch ev.GetEventType() {
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
		a := ev.GetWorkflowExecutionStartedEventAttributes()
		w.InputBytes = payloadBytes(a.GetInput())
		w.StartAttributes = keywords(a.GetSearchAttributes())
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
		if w.ActivityInputBytes == 0 {
			w.ActivityInputBytes = payloadBytes(ev.GetActivityTaskScheduledEventAttributes().GetInput())
		}
	case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
		if w.ActivityResultBytes == 0 {
			w.ActivityResultBytes = payloadBytes(ev.GetActivityTaskCompletedEventAttributes().GetResult())
		}
	case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
		w.FinalAttributes = keywords(ev.GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes())
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
		w.ResultBytes = payloadBytes(ev.GetWorkflowExecutionCompletedEventAttributes().GetResult())
	}
}

// payloadBytes is the size of the payloads' data and metadata.
func payloadBytes(ps *commonpb.Payloads) int {
	n := 0
	for _, p := range ps.GetPayloads() {
		n += len(p.GetData())
		for k, v := range p.GetMetadata() {
			n += len(k) + len(v)
		}
	}
	return n
}

// keywords reads the keyword search attributes among fields.
func keywords(sa *commonpb.SearchAttributes) map[string]string {
	out := map[string]string{}
	for name, p := range sa.GetIndexedFields() {
		var s string
		if json.Unmarshal(p.GetData(), &s) == nil {
			out[name] = s
		}
	}
	return out
}

// filler is a string whose JSON payload takes about n bytes.
func filler(n int) string {
	if n <= 40 {
		return ""
	}
	return strings.Repeat("x", n-40)
}

// typedKeywords turns keyword values into the SDK's typed updates.
func typedKeywords(values map[string]string) []temporal.SearchAttributeUpdate {
	updates := make([]temporal.SearchAttributeUpdate, 0, len(values))
	for name, v := range values {
		updates = append(updates, temporal.NewSearchAttributeKeyKeyword(name).ValueSet(v))
	}
	return updates
}

// weightedStart is the start of a baseline workflow that carries w: its
// input filler in the shape, its search attributes in the options.
func weightedStart(shape BaselineShape, w *Weight) (client.StartWorkflowOptions, BaselineShape) {
	opts := client.StartWorkflowOptions{TaskQueue: baselineQueue}
	shape.Weight, shape.Filler = nil, ""
	if w == nil {
		return opts, shape
	}
	shape.Weight = w
	shape.Filler = filler(w.InputBytes)
	opts.TypedSearchAttributes = temporal.NewSearchAttributes(typedKeywords(w.StartAttributes)...)
	return opts, shape
}

// NoopWeighted is the activity of the weighted baseline: it takes and
// returns as much as the case's activity.
func NoopWeighted(_ context.Context, _ string, resultBytes int) (string, error) {
	return filler(resultBytes), nil
}

// finishWeighted upserts the case's last search attributes and returns the
// result filler of a weighted baseline workflow.
func finishWeighted(ctx workflow.Context, w *Weight) (string, error) {
	if len(w.FinalAttributes) > 0 {
		if err := workflow.UpsertTypedSearchAttributes(ctx, typedKeywords(w.FinalAttributes)...); err != nil {
			return "", err
		}
	}
	return filler(w.ResultBytes), nil
}
