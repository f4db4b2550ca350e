package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Weight is what a case carries through the engine besides its steps: the
// sizes of its payloads as they land in its history (encoded: deflated and
// encrypted by the codec, with their metadata), and its keyword search
// attributes. Memos and markers are not weighed. The baseline-weight phase
// gives the bare baseline the same weight, so that what the case's weight
// costs the engine (larger events, mutable states and visibility rows) is
// told apart from what ozgflow's own work costs beside it (gateway, worker,
// projections, records).
type Weight struct {
	InputBytes int `json:"inputBytes"` // the workflow's input
	// ActivityInputBytes and ActivityResultBytes are those of the first
	// activity.
	ActivityInputBytes  int `json:"activityInputBytes"`
	ActivityResultBytes int `json:"activityResultBytes"`
	ResultBytes         int `json:"resultBytes"` // the workflow's result
	// StartAttributes are the keyword search attributes the case started
	// with; FinalAttributes those of its last upsert (unsets left out).
	StartAttributes map[string]string `json:"startAttributes,omitempty"`
	FinalAttributes map[string]string `json:"finalAttributes,omitempty"`
}

// Padding is the filler a weighted baseline adds to each payload, in raw
// bytes, so that its payloads land in the history at the case's sizes.
type Padding struct {
	Input          int `json:"input"`
	ActivityInput  int `json:"activityInput"`
	ActivityResult int `json:"activityResult"`
	Result         int `json:"result"`
}

// take records what one history event carries in w.
func (w *Weight) take(ev *historypb.HistoryEvent) {
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

// historyWeight weighs a closed workflow's history.
func historyWeight(ctx context.Context, c client.Client, workflowID, runID string) (Weight, error) {
	var w Weight
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return w, err
		}
		w.take(ev)
	}
	return w, nil
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

// keywords reads the keyword search attributes set among fields; an unset
// (an empty payload) is left out.
func keywords(sa *commonpb.SearchAttributes) map[string]string {
	out := map[string]string{}
	for name, p := range sa.GetIndexedFields() {
		var s string
		if string(p.GetMetadata()["type"]) == "Keyword" && json.Unmarshal(p.GetData(), &s) == nil {
			out[name] = s
		}
	}
	return out
}

// filler is n bytes that no compression makes smaller, the same for the
// same n: a payload that carries them lands in the history at about its
// size even through the codec, which deflates before it encrypts.
func filler(n int) []byte {
	if n <= 0 {
		return nil
	}
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(n), 0x6f7a67666c6f77))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// typedKeywords turns keyword values into the SDK's typed updates, in the
// order of their names.
func typedKeywords(values map[string]string) []temporal.SearchAttributeUpdate {
	updates := make([]temporal.SearchAttributeUpdate, 0, len(values))
	for _, name := range slices.Sorted(maps.Keys(values)) {
		updates = append(updates, temporal.NewSearchAttributeKeyKeyword(name).ValueSet(values[name]))
	}
	return updates
}

// weightedStart is the start of a baseline workflow: with w, one that
// carries w (the input's filler in the shape, the search attributes in the
// options); without, a plain one that carries neither. Both start with the
// case's workflow task timeout.
func weightedStart(shape BaselineShape, w *Weight) (client.StartWorkflowOptions, BaselineShape) {
	opts := client.StartWorkflowOptions{TaskQueue: baselineQueue, WorkflowTaskTimeout: shape.TaskTimeout}
	shape.Weight, shape.Filler = nil, nil
	if w == nil {
		return opts, shape
	}
	shape.Weight = w
	shape.Filler = filler(shape.Padding.Input)
	opts.TypedSearchAttributes = temporal.NewSearchAttributes(typedKeywords(w.StartAttributes)...)
	return opts, shape
}

// NoopWeighted is the activity of the weighted baseline: it takes its
// input and returns resultBytes of filler.
func NoopWeighted(_ context.Context, _ []byte, resultBytes int) ([]byte, error) {
	return filler(resultBytes), nil
}

// finishWeighted upserts the case's last search attributes and returns the
// result filler of a weighted baseline workflow.
func finishWeighted(ctx workflow.Context, shape BaselineShape) ([]byte, error) {
	if shape.Weight == nil {
		return nil, nil
	}
	if len(shape.Weight.FinalAttributes) > 0 {
		if err := workflow.UpsertTypedSearchAttributes(ctx, typedKeywords(shape.Weight.FinalAttributes)...); err != nil {
			return nil, err
		}
	}
	return filler(shape.Padding.Result), nil
}

// calibrate finds the padding with which a weighted baseline carries the
// case's weight: it runs one with the case's sizes as padding, weighs its
// history, corrects each padding by what it missed and weighs a second run
// with the corrected padding, which the shape then reports as Carried.
func (r *runner) calibrate(ctx context.Context, shape BaselineShape) (BaselineShape, error) {
	w := shape.Weight
	shape.Padding = Padding{Input: w.InputBytes, ActivityInput: w.ActivityInputBytes,
		ActivityResult: w.ActivityResultBytes, Result: w.ResultBytes}
	for round := range 2 {
		run, err := runBaseline(ctx, r.dev.Client, shape, w)
		if err != nil {
			return shape, fmt.Errorf("weighted baseline: %w", err)
		}
		carried, err := historyWeight(ctx, r.dev.Client, run.GetID(), run.GetRunID())
		if err != nil {
			return shape, err
		}
		if round == 1 {
			shape.Carried = &carried
			break
		}
		correct := func(pad, want, got int) int { return max(0, pad+want-got) }
		shape.Padding = Padding{
			Input:          correct(shape.Padding.Input, w.InputBytes, carried.InputBytes),
			ActivityInput:  correct(shape.Padding.ActivityInput, w.ActivityInputBytes, carried.ActivityInputBytes),
			ActivityResult: correct(shape.Padding.ActivityResult, w.ActivityResultBytes, carried.ActivityResultBytes),
			Result:         correct(shape.Padding.Result, w.ResultBytes, carried.ResultBytes),
		}
	}
	return shape, nil
}
