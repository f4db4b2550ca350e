package bench

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"

	"github.com/ozgflow/ozgflow"
)

// baselineQueue is the task queue of the bare baseline workflows.
const baselineQueue = "bench-baseline"

// baselineStep is the name of the update and the signal by which the
// client moves a baseline workflow on, as a person moves a case on.
const baselineStep = "step"

// Interactions of a case with the world outside its worker, in the order
// of its history: what the baseline's client sends to its workflow.
const (
	InteractionUpdate = "update" // a workflow update: submit, claim, decide, approve
	InteractionSignal = "signal" // a signal: a payment, signature or back-office event
)

// BaselineShape is what one case did, counted from its history; the
// baseline workflow does as much, each step doing nothing.
type BaselineShape struct {
	Activities int `json:"activities"`
	// ActivityTimeouts are the activities' start-to-close timeouts, in the
	// order the case scheduled them; the baseline's activities take them
	// in turn. The engine keeps a timer for each started activity that
	// fires after the timeout whether or not the activity finished, and
	// reads the workflow back from its database when it is no longer in
	// its cache: a cost of the timeout, not of what the activity does.
	ActivityTimeouts []time.Duration `json:"activityTimeouts,omitempty"`
	// TaskTimeout is the workflow task timeout the case started with (0 in
	// a shape not read from a history: the engine's default); the baseline
	// starts with it. Like the activities' timeouts, its timers are a cost
	// of the setting, not of what the case does.
	TaskTimeout     time.Duration `json:"taskTimeout,omitempty"`
	LocalActivities int           `json:"localActivities"`
	// Markers are the other markers: versions and side effects.
	Markers int `json:"markers,omitempty"`
	// Timers are the timers the case started (deadlines, reminders); the
	// baseline starts as many.
	Timers int `json:"timers,omitempty"`
	// Interactions are the updates and signals the case received, in order.
	Interactions []string `json:"interactions,omitempty"`
	// CaseEvents counts the history events of the measured case by type.
	CaseEvents map[string]int `json:"caseEvents"`
	// CaseBytes is the size of the case's history (its events, encoded).
	CaseBytes int `json:"caseBytes"`
	// BaselineEvents is the history length of one baseline workflow.
	BaselineEvents int `json:"baselineEvents"`
	// BaselineBytes is the size of that history.
	BaselineBytes int `json:"baselineBytes"`
	// Weight is what the measured case carried (payload sizes, search
	// attributes); a baseline run with it set carries as much, with the
	// Padding that calibrate found, and Carried is what such a run carried.
	Weight  *Weight `json:"weight,omitempty"`
	Padding Padding `json:"padding,omitzero"`
	Carried *Weight `json:"carried,omitempty"`
	// Filler is the input a weighted baseline run carries.
	Filler []byte `json:"filler,omitempty"`
}

// Events is the history length of the measured case.
func (s BaselineShape) Events() int {
	n := 0
	for _, c := range s.CaseEvents {
		n += c
	}
	return n
}

// BaselineWorkflow is a bare workflow with the same number of activities as
// an ozgflow case, each doing nothing. Where the case waited for a person
// or a system, it waits for the client's update or signal; the activities
// are spread evenly over the stretches between.
func BaselineWorkflow(ctx workflow.Context, shape BaselineShape) error {
	return baselineSteps(ctx, shape)
}

// WeightedBaselineWorkflow is BaselineWorkflow carrying a case's weight
// (shape.Weight): its activity takes and returns as much as the case's, and
// it ends with the case's last search attributes and a result of the
// case's size.
func WeightedBaselineWorkflow(ctx workflow.Context, shape BaselineShape) ([]byte, error) {
	if err := baselineSteps(ctx, shape); err != nil {
		return nil, err
	}
	return finishWeighted(ctx, shape)
}

// baselineSteps runs the shape's steps.
func baselineSteps(ctx workflow.Context, shape BaselineShape) error {
	scheduled := 0 // activities scheduled so far
	actx := func() workflow.Context {
		timeout := defaultActivityTimeout
		if scheduled < len(shape.ActivityTimeouts) && shape.ActivityTimeouts[scheduled] > 0 {
			timeout = shape.ActivityTimeouts[scheduled]
		}
		scheduled++
		return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: timeout})
	}
	activity := func() error {
		if shape.Weight != nil {
			return workflow.ExecuteActivity(actx(), NoopWeighted, filler(shape.Padding.ActivityInput), shape.Padding.ActivityResult).Get(ctx, nil)
		}
		return workflow.ExecuteActivity(actx(), Noop).Get(ctx, nil)
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 5 * time.Second})
	open, taken := 0, 0 // updates the run waits for, updates taken
	if err := workflow.SetUpdateHandler(ctx, baselineStep, func(ctx workflow.Context) error {
		// An update is taken where the case would take it: at the end of
		// the stretch before it.
		if err := workflow.Await(ctx, func() bool { return open > 0 }); err != nil {
			return err
		}
		open--
		taken++
		return nil
	}); err != nil {
		return err
	}
	signals := workflow.GetSignalChannel(ctx, baselineStep)
	for range shape.Timers {
		workflow.NewTimer(ctx, 24*time.Hour)
	}
	for range shape.Markers {
		workflow.SideEffect(ctx, func(workflow.Context) any { return nil })
	}
	stretches := len(shape.Interactions) + 1
	span := func(n, k int) (int, int) { return n * k / stretches, n * (k + 1) / stretches }
	for k := range stretches {
		from, to := span(shape.Activities, k)
		for range to - from {
			if err := activity(); err != nil {
				return err
			}
		}
		from, to = span(shape.LocalActivities, k)
		for range to - from {
			if err := workflow.ExecuteLocalActivity(lctx, Noop).Get(ctx, nil); err != nil {
				return err
			}
		}
		if k == len(shape.Interactions) {
			break
		}
		if shape.Interactions[k] == InteractionSignal {
			signals.Receive(ctx, nil)
			continue
		}
		open++
		want := taken + 1
		if err := workflow.Await(ctx, func() bool { return taken >= want }); err != nil {
			return err
		}
	}
	// The timers are left running, as a case leaves its deadlines; the
	// updates answer before the run ends.
	return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

// defaultActivityTimeout is the start-to-close timeout of a baseline
// activity whose case's timeout is not known.
const defaultActivityTimeout = 10 * time.Second

// Noop is the activity of the baseline: it does nothing.
func Noop(context.Context) error { return nil }

// runBaseline starts one baseline workflow of shape, sends it the case's
// interactions in order and waits for its end. It waits as the client of a
// case does (awaitClose), by the workflow ID alone: that client learns no
// run ID from the submit, and the engine looks the current run up for it.
func runBaseline(ctx context.Context, c client.Client, shape BaselineShape, w *Weight) (client.WorkflowRun, error) {
	opts, shape := weightedStart(shape, w)
	var wf any = BaselineWorkflow
	if w != nil {
		wf = WeightedBaselineWorkflow
	}
	run, err := c.ExecuteWorkflow(ctx, opts, wf, shape)
	if err != nil {
		return nil, err
	}
	for _, kind := range shape.Interactions {
		if kind == InteractionSignal {
			err = c.SignalWorkflow(ctx, run.GetID(), run.GetRunID(), baselineStep, nil)
		} else {
			var h client.WorkflowUpdateHandle
			h, err = c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: run.GetID(), RunID: run.GetRunID(),
				UpdateName: baselineStep, WaitForStage: client.WorkflowUpdateStageCompleted})
			if err == nil {
				err = h.Get(ctx, nil)
			}
		}
		if err != nil {
			return run, err
		}
	}
	return run, awaitClose(ctx, c, run.GetID())
}

// historyShape counts what a closed workflow did from its history.
func historyShape(ctx context.Context, c client.Client, workflowID, runID string) (BaselineShape, error) {
	shape := BaselineShape{CaseEvents: map[string]int{}}
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return shape, err
		}
		shape.CaseEvents[ev.GetEventType().String()]++
		shape.CaseBytes += proto.Size(ev)
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			shape.TaskTimeout = ev.GetWorkflowExecutionStartedEventAttributes().GetWorkflowTaskTimeout().AsDuration()
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			shape.Activities++
			timeout := ev.GetActivityTaskScheduledEventAttributes().GetStartToCloseTimeout().AsDuration()
			shape.ActivityTimeouts = append(shape.ActivityTimeouts, timeout)
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			if ev.GetMarkerRecordedEventAttributes().GetMarkerName() == localActivityMarker {
				shape.LocalActivities++
			} else {
				shape.Markers++
			}
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			shape.Timers++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			shape.Interactions = append(shape.Interactions, InteractionUpdate)
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			shape.Interactions = append(shape.Interactions, InteractionSignal)
		}
	}
	return shape, nil
}

// awaitClose waits for the close event of a workflow's current run and
// reports a run that did not complete. Unlike the SDK's GetWorkflow without
// a run ID it asks the engine no DescribeWorkflowExecution first: the
// submit answers with the case ID only, and that extra call per case is
// the benchmark client's, not ozgflow's.
func awaitClose(ctx context.Context, c client.Client, workflowID string) error {
	it := c.GetWorkflowHistory(ctx, workflowID, "", true, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return err
		}
		if t := ev.GetEventType(); t != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED {
			return fmt.Errorf("workflow %s ended with %s", workflowID, t)
		}
		return nil
	}
	return fmt.Errorf("workflow %s: no close event", workflowID)
}

// localActivityMarker is the name of the marker a local activity records.
const localActivityMarker = "LocalActivity"

// mirror runs one baseline workflow of a case's shape and completes the
// shape with the length and size of the baseline's history.
func (r *runner) mirror(ctx context.Context, shape BaselineShape) (BaselineShape, error) {
	run, err := runBaseline(ctx, r.dev.Client, shape, nil)
	if err != nil {
		return shape, err
	}
	base, err := historyShape(ctx, r.dev.Client, run.GetID(), run.GetRunID())
	if err != nil {
		return shape, err
	}
	if shape.TaskTimeout > 0 && base.TaskTimeout != shape.TaskTimeout {
		return shape, fmt.Errorf("the baseline started with a workflow task timeout of %s, the case with %s", base.TaskTimeout, shape.TaskTimeout)
	}
	shape.BaselineEvents, shape.BaselineBytes = base.Events(), base.CaseBytes
	return shape, nil
}

// countRunning counts cases and baseline workflows still moving; cases
// waiting for a case worker stay and do not count.
func countRunning() *workflowservice.CountWorkflowExecutionsRequest {
	return &workflowservice.CountWorkflowExecutionsRequest{Namespace: ozgflow.Namespace,
		Query: "ExecutionStatus = 'Running' AND (WorkflowType = 'BaselineWorkflow' OR WorkflowType = 'WeightedBaselineWorkflow' OR OzgStatus != 'in_review')"}
}
