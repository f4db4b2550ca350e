// Package workflows holds the case workflow: a deterministic interpreter of the
// definition snapshot a case was started with.
package workflows

import (
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/locale"
)

// CaseWorkflow processes one application from receipt to a final status.
func CaseWorkflow(ctx workflow.Context, in definitions.CaseInput) (Outcome, error) {
	c := newCaseImpl(ctx, in)
	if err := c.setup(ctx); err != nil {
		return Outcome{}, err
	}
	err := c.run(ctx)
	return c.outcome(), err
}

// Outcome is what a case workflow returns: which case ended, in which
// status, at which revision of its projection. The case itself is in its
// projection and its final record, not a second time in the history.
// Workflow results are not replayed, so cases of every features version
// return it.
type Outcome struct {
	ID         string         `json:"id"`
	CaseNumber string         `json:"caseNumber,omitempty"`
	Status     ozgflow.Status `json:"status"`
	Revision   int64          `json:"revision"`
}

// outcome is the case's Outcome as it stands.
func (c *caseImpl) outcome() Outcome {
	return Outcome{ID: c.state.ID, CaseNumber: c.state.CaseNumber, Status: c.state.Status, Revision: c.state.Revision}
}

// caseImpl is the state of one running case workflow.
type caseImpl struct {
	in     definitions.CaseInput
	def    definitions.Definition
	state  ozgflow.Case
	logger log.Logger

	cancelSteps    workflow.CancelFunc
	withdrawReason string
	withdrawn      bool
	cancelled      bool // by an administrator (UpdateCancel)

	dirty           bool                             // state changed since the last flush
	memoOwed        bool                             // a flushed change is not in the memo yet (featuresMemoOnce)
	stepsWaitFor    func() bool                      // what the steps wait for in await, nil while they run
	step            int                              // index of the step running; len(steps) when done
	lastPayment     int                              // index of the last payment step, -1 if none
	data            map[string]any                   // the application data, decoded once for conditions
	paymentChanges  int                              // grows with every payment status change
	xpay            workflow.Version                 // the payment's shape (versionXBezahldienste), read when the payment step starts
	signatureNudges int                              // grows with every signing service webhook
	emails          []workflow.Future                // email notices being sent
	external        map[string]ozgflow.ExternalEvent // received wait-external events by name
	callbacks       map[string]bool                  // IDs of the Fachverfahren's callbacks taken
	decisionDoc     *ozgflow.Attachment              // the document of the Fachverfahren's decision, once reported
	taskSeq         map[string]int                   // tasks created per step
	search          searchState                      // last search attributes upserted
	features        workflow.Version                 // what the case does beyond its first version (versionCaseFeatures)
	followUps       map[string]int                   // follow-ups set per task, so that a replaced one's timer ends
	resendAsked     bool                             // an administrator asked to resend a rejected delivery
}

func newCaseImpl(ctx workflow.Context, in definitions.CaseInput) *caseImpl {
	def := in.Definition
	return &caseImpl{
		in:     in,
		def:    def,
		logger: log.With(workflow.GetLogger(ctx), "caseId", in.CaseID),
		state: ozgflow.Case{
			ID:                in.CaseID,
			Service:           def.Service,
			ServiceName:       def.Name,
			Authority:         in.Application.Authority,
			DefinitionID:      def.ID,
			DefinitionVersion: def.Version,
			PortalAccount:     in.Application.Applicant.PortalAccount,
			// Who applied, as the case workers' list shows it; it goes with
			// the rest of the personal data when the case is erased.
			Applicant:   def.CaseApplicant(in.Application),
			Status:      ozgflow.StatusReceived,
			Stage:       "received",
			SubmittedAt: in.SubmittedAt,
			RequestHash: in.RequestHash,
			Timeline:    []ozgflow.Notice{},
		},
		lastPayment: lastPaymentStep(def.Steps),
		data:        definitions.DataMap(in.Application.Data),
		external:    map[string]ozgflow.ExternalEvent{},
		callbacks:   map[string]bool{},
		taskSeq:     map[string]int{},
		// The gateway sets the status at start; nothing to upsert until it changes.
		search: searchState{status: string(ozgflow.StatusReceived)},
	}
}

// setup registers the query, the updates and the signal handlers.
func (c *caseImpl) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, ozgflow.QueryState, func() (ozgflow.Case, error) {
		return c.state, nil
	}); err != nil {
		return fmt.Errorf("register query: %w", err)
	}
	if err := workflow.SetQueryHandler(ctx, ozgflow.QueryInput, func() (definitions.CaseInput, error) {
		return c.in, nil
	}); err != nil {
		return fmt.Errorf("register input query: %w", err)
	}
	if err := c.registerTaskUpdates(ctx); err != nil {
		return err
	}
	if err := c.registerApplicantUpdates(ctx); err != nil {
		return err
	}
	if err := c.registerFollowUpUpdate(ctx); err != nil {
		return err
	}
	if err := c.registerCallbackUpdate(ctx); err != nil {
		return err
	}
	if err := c.registerCancelUpdate(ctx); err != nil {
		return err
	}
	if err := c.registerResendUpdate(ctx); err != nil {
		return err
	}
	c.listenForSignals(ctx)
	return nil
}

// run interprets the steps in order, then settles withdrawals and publishes
// the final state.
func (c *caseImpl) run(ctx workflow.Context) error {
	c.features = c.caseFeatures(ctx)
	c.assignNumber(ctx)
	c.notify(ctx, string(ozgflow.StatusReceived), definitions.NoticeData{})
	c.touch()

	stepCtx, cancel := workflow.WithCancel(ctx)
	c.cancelSteps = cancel
	for i, step := range c.def.Steps {
		c.step = i
		if c.stopped() {
			break
		}
		if c.state.Decision != nil && !runsAfterDecision(step.Kind) {
			continue
		}
		if !c.shouldRun(step) {
			continue
		}
		c.state.Stage, c.state.StageKind = step.ID, step.Kind
		if resting(step.Kind) {
			c.touch()
		}
		if err := c.runStep(stepCtx, step); err != nil {
			if c.stopped() {
				break
			}
			c.logger.Error("Step failed", "step", step.ID, "error", err)
			if c.features >= featuresProjectionAtWaits {
				// What changed since the last wait, which no call wrote.
				c.flush(ctx)
			}
			return fmt.Errorf("step %s: %w", step.ID, err)
		}
	}
	c.step = len(c.def.Steps)
	if c.withdrawn || c.cancelled {
		c.compensate(ctx)
	}
	c.closeTasks(ozgflow.TaskCancelled)
	c.state.Stage, c.state.StageKind = "done", ""
	c.touch()
	c.close(ctx)
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	c.awaitEmails(ctx)
	return nil
}

// close publishes the final state and keeps the final record. Since
// featuresProjectionAtWaits the memo follows only where the record could
// not be kept: a rebuild restores a closed case from its record, so the
// memo would be an event and a larger visibility row for nothing.
func (c *caseImpl) close(ctx workflow.Context) {
	if c.features >= featuresProjectionAtWaits {
		c.flushAnd(ctx, false)
		if !c.keepRecord(ctx) {
			c.flush(ctx) // the memo it owes, for a rebuild without the record
		}
		return
	}
	c.flush(ctx)
	// Cases started before the features' version decide on the final
	// record with a version of its own, at their close.
	if c.features >= featuresMemoAndRecord ||
		workflow.GetVersion(ctx, versionClosedCaseRecord, workflow.DefaultVersion, 1) == 1 {
		c.keepRecord(ctx)
	}
}

// lastPaymentStep returns the index of the last payment step, -1 if none.
func lastPaymentStep(steps []definitions.Step) int {
	last := -1
	for i, s := range steps {
		if s.Kind == definitions.KindPayment {
			last = i
		}
	}
	return last
}

// stopped reports whether the case was withdrawn or cancelled.
func (c *caseImpl) stopped() bool {
	return c.withdrawn || c.cancelled || c.state.Status == ozgflow.StatusCancelled || c.state.Status == ozgflow.StatusWithdrawn
}

// resting reports whether a case may stay in a step of this kind for long:
// waiting for the applicant, a case worker or an external system. Only these
// stages are worth a projection and a search attribute of their own; quick
// steps are published with the next status change.
func resting(kind string) bool {
	switch kind {
	case definitions.KindPayment, definitions.KindDeliver, definitions.KindTask, definitions.KindRequestInfo,
		definitions.KindWaitExternal, definitions.KindArchive:
		return true
	}
	return false
}

// runsAfterDecision lists step kinds that still make sense once a case is decided.
func runsAfterDecision(kind string) bool {
	return kind == definitions.KindNotify || kind == definitions.KindArchive
}

// shouldRun evaluates a step's condition. A condition that fails at run time
// counts as false and is logged: a definition error must not stall a case.
func (c *caseImpl) shouldRun(step definitions.Step) bool {
	if step.When == "" {
		return true
	}
	ok, err := definitions.EvalCondition(step.When, c.conditionEnv())
	if err != nil {
		c.logger.Warn("Condition failed; step skipped", "step", step.ID, "error", err)
		return false
	}
	return ok
}

func (c *caseImpl) conditionEnv() definitions.ConditionEnv {
	outcome := ""
	if c.state.Decision != nil {
		outcome = c.state.Decision.Outcome
	}
	return definitions.ConditionEnv{
		Data:    c.data,
		Vars:    c.def.Vars,
		Outcome: outcome,
		Paid:    c.state.Payment != nil && c.state.Payment.Status == ozgflow.PaymentPayed,
	}
}

// setStatus moves the case to a new status and sends the status notice.
func (c *caseImpl) setStatus(ctx workflow.Context, status ozgflow.Status, data definitions.NoticeData) {
	if c.state.Status == status {
		return
	}
	c.state.Status = status
	c.notify(ctx, string(status), data)
	c.touch()
}

// notify appends the notice with the given template key to the timeline; the
// next publish files it into the applicant's portal mailbox.
func (c *caseImpl) notify(ctx workflow.Context, key string, data definitions.NoticeData) {
	tmpl, ok := c.def.Notices[key]
	if !ok {
		return
	}
	c.notifyWith(ctx, key, tmpl, data)
}

// notifyWith appends the notice of the template tmpl (named key in the log)
// to the timeline, with the documents of data.
func (c *caseImpl) notifyWith(ctx workflow.Context, key string, tmpl definitions.NoticeTemplate, data definitions.NoticeData) {
	data.CaseID = c.state.ID
	data.CaseNumber = c.number()
	data.Service = c.def.Name
	data.Authority = c.state.Authority
	if p := c.state.Payment; p != nil {
		if data.Amount == "" {
			data.Amount = locale.DE.Amount(p.Amount, p.Currency)
		}
		data.Purpose = p.Purpose
		if data.Deadline == "" && !p.DeadlineAt.IsZero() {
			data.Deadline = locale.DE.Deadline(p.DeadlineAt)
		}
	}
	title, text, err := tmpl.Render(data)
	if err != nil {
		c.logger.Error("Notice template failed", "notice", key, "error", err)
		title, text = key, key
	}
	easy, err := tmpl.RenderEasy(data)
	if err != nil {
		c.logger.Error("Easy-to-read notice failed", "notice", key, "error", err)
	}
	if key == string(ozgflow.StatusRejected) {
		text, easy = c.def.Rejection(text, easy, c.in.Contact)
	}
	n := ozgflow.Notice{
		ID:            fmt.Sprintf("%s-%d", c.state.ID, len(c.state.Timeline)+1),
		CaseID:        c.state.ID,
		CaseNumber:    c.state.CaseNumber,
		PortalAccount: c.state.PortalAccount,
		Status:        c.state.Status,
		Title:         title,
		Text:          text,
		Easy:          easy,
		At:            workflow.Now(ctx).UTC(),
		Documents:     data.Documents,
	}
	c.state.Timeline = append(c.state.Timeline, n)
	c.email(ctx, n)
}

// email sends a notice to the applicant's email address too, when the
// variant asks for it. It does not wait: the case goes on, and the run waits
// for the sends before it ends. Cancelling the steps does not stop a send.
func (c *caseImpl) email(ctx workflow.Context, n ozgflow.Notice) {
	to := c.in.Application.Applicant.Email
	if !c.def.EmailNotices || to == "" {
		return
	}
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	req := activities.EmailRequest{NoticeID: n.ID, To: to, Subject: n.Title, Text: n.Text,
		CaseID: c.state.ID, CaseNumber: c.state.CaseNumber}
	c.emails = append(c.emails, workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, emailOptions), notices.Email, req))
}

// awaitEmails waits for the email sends still running; a failed one is logged.
func (c *caseImpl) awaitEmails(ctx workflow.Context) {
	for _, f := range c.emails {
		if err := f.Get(ctx, nil); err != nil {
			c.logger.Warn("Email notice not sent", "error", err)
		}
	}
	c.emails = nil
}

// touch notes that the state changed; the next flush publishes it.
func (c *caseImpl) touch() { c.dirty = true }

// flush mirrors a changed state to the store through a local activity and
// keeps the search attributes current. It runs wherever the case is about to
// wait (await; before featuresProjectionAtWaits also execute), when a call
// is failing or slow, and at the end, so that quick steps in between cost
// no extra state transitions. A failed projection is logged, not fatal: the
// next flush or a reindex writes the whole state again.
func (c *caseImpl) flush(ctx workflow.Context) { c.flushAnd(ctx, true) }

// flushBeside flushes from an update handler or a timer's coroutine, beside
// the steps. When the steps were waiting for exactly what changed, they go
// on in the same workflow task and flush again before they wait: the memo
// is then left to that flush, since a memo written twice in one task is an
// event and a visibility write for nothing. The projection is written now
// either way, so that the caller reads its change.
func (c *caseImpl) flushBeside(ctx workflow.Context) {
	memo := true
	if c.features >= featuresMemoOnce && c.stepsWaitFor != nil && c.stepsWaitFor() {
		memo = false
	}
	c.flushAnd(ctx, memo)
}

// flushAnd flushes, keeping the snapshot in the memo too if asked.
func (c *caseImpl) flushAnd(ctx workflow.Context, memo bool) {
	if c.features >= featuresMemoOnce {
		c.flushOwing(ctx, memo)
		return
	}
	if !c.dirty {
		return
	}
	c.dirty = false
	c.state.Revision++
	c.state.UpdatedAt = workflow.Now(ctx).UTC()
	c.upsertSearchAttributes(ctx)
	snapshot := c.snapshot()
	if memo {
		c.upsertMemo(ctx, snapshot)
	}
	c.publish(ctx, snapshot)
}

// flushOwing is flushAnd for cases that keep count of the memo they owe: a
// change flushed without the memo is written to it at the next flush that
// keeps the memo, even if nothing changed in between.
func (c *caseImpl) flushOwing(ctx workflow.Context, memo bool) {
	changed := c.dirty
	if changed {
		c.dirty = false
		c.state.Revision++
		c.state.UpdatedAt = workflow.Now(ctx).UTC()
		c.upsertSearchAttributes(ctx)
		c.memoOwed = true
	}
	if !changed && !(memo && c.memoOwed) {
		return
	}
	snapshot := c.snapshot()
	if memo && c.memoOwed {
		c.upsertMemo(ctx, snapshot)
		c.memoOwed = false
	}
	if changed {
		c.publish(ctx, snapshot)
	}
}

// publish writes a snapshot to the projections through a local activity.
func (c *caseImpl) publish(ctx workflow.Context, snapshot ozgflow.Case) {
	lctx := workflow.WithLocalActivityOptions(ctx, projectionOptions)
	if err := workflow.ExecuteLocalActivity(lctx, projections.Publish, snapshot).Get(ctx, nil); err != nil {
		c.logger.Warn("Projection not written", "revision", snapshot.Revision, "error", err)
	}
}

// await flushes what changed, then blocks until cond holds.
func (c *caseImpl) await(ctx workflow.Context, cond func() bool) error {
	c.flush(ctx)
	c.stepsWaitFor = cond
	defer func() { c.stepsWaitFor = nil }()
	return workflow.Await(ctx, cond)
}

// awaitWithTimeout flushes what changed, then blocks until cond holds or the
// timeout passes; ok is false on timeout.
func (c *caseImpl) awaitWithTimeout(ctx workflow.Context, d time.Duration, cond func() bool) (ok bool, err error) {
	c.flush(ctx)
	c.stepsWaitFor = cond
	defer func() { c.stepsWaitFor = nil }()
	return workflow.AwaitWithTimeout(ctx, d, cond)
}

// execute runs an activity with the given options. Cases before
// featuresProjectionAtWaits flush what changed first; before a quick
// step's activity they leave the memo as it is, since the step's end
// flushes again and an upsert is an event and a visibility write, and
// since featuresMemoAtWaits no call writes the memo beforehand. Since
// featuresProjectionAtWaits a call writes nothing beforehand: most answer
// at once, the next wait or the end writes the change, and a call that
// fails or keeps the case waiting is signalled (SignalCallFailing).
func (c *caseImpl) execute(ctx workflow.Context, opts workflow.ActivityOptions, activity any, args ...any) workflow.Future {
	if c.features < featuresProjectionAtWaits {
		c.flushAnd(ctx, resting(c.state.StageKind) && c.features < featuresMemoAtWaits)
	}
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), activity, args...)
}

// snapshot copies the state so later changes do not race the projection.
func (c *caseImpl) snapshot() ozgflow.Case {
	s := c.state
	s.Tasks = append([]ozgflow.Task(nil), c.state.Tasks...)
	s.Timeline = append([]ozgflow.Notice(nil), c.state.Timeline...)
	s.Requests = append([]ozgflow.InformationRequest(nil), c.state.Requests...)
	s.Audit = append([]ozgflow.AuditEntry(nil), c.state.Audit...)
	if c.state.Payment != nil {
		p := *c.state.Payment
		s.Payment = &p
	}
	if c.state.Delivery != nil {
		d := *c.state.Delivery
		d.Reports = append([]ozgflow.DeliveryReport(nil), d.Reports...)
		s.Delivery = &d
	}
	if c.state.Decision != nil {
		d := *c.state.Decision
		s.Decision = &d
	}
	return s
}

// versionCaseFeatures is the one version a case started without features
// in its input records at its start for what it does beyond its first
// version; each version costs a marker and a search attribute upsert, so
// features share it, and newer cases take them from their input.
const versionCaseFeatures = "case-features"

// featuresMemoAndRecord: the projection is kept in the memo, and the final
// record is written at close without a version of its own.
const featuresMemoAndRecord workflow.Version = 1

// featuresCaseNumber: the case also draws its short number at its start.
const featuresCaseNumber workflow.Version = 2

// featuresCallbacks: the Fachverfahren reports back by callback. A case
// of a variant that waits for the Fachverfahren's decision tells the
// Fachverfahren so in the delivery (awaitsDecision) and gives the
// decision's document to the applicant with the decision's notice. It came
// with the case number, hence the same version.
const featuresCallbacks workflow.Version = 2

// featuresPaymentLines: the payment after XBezahldienste (fee lines with
// booking data, the Kassenzeichen). Cases started before it decide with a
// version of their own (versionXBezahldienste) when their payment starts.
const featuresPaymentLines workflow.Version = 3

// featuresMemoOnce: a change flushed beside the steps (an update, a timer)
// leaves the memo to the steps' own flush when they go on in the same
// workflow task, and a flush owes the memo what an earlier one left out.
// It came with the payment lines, hence the same version.
const featuresMemoOnce workflow.Version = 3

// featuresFITConnectDelivery: a delivery to a FIT-Connect destination waits
// for the destination's signed answer. Cases started before decide with a
// version of their own (versionFITConnectDelivery) at their delivery.
const featuresFITConnectDelivery workflow.Version = 3

// featuresMemoAtWaits: the memo is written where the case waits for a
// person, another system's message or a timer, and at its end; for a call
// (a delivery, a payment's creation) only once its first attempt failed,
// which the worker signals (SignalCallFailing), and again at the second,
// fourth, eighth attempt. A call that answers at once, as nearly all do,
// then costs no memo upsert, which is an event and a visibility write. A
// rebuild asks a case resting at a call through its query where it has no
// memo yet, or one from an earlier wait that its listed status or queue
// contradicts.
const featuresMemoAtWaits workflow.Version = 4

// featuresProjectionAtWaits: the projection, too, is written where the
// case waits, when a call failed or is slow to answer (SignalCallFailing)
// and at the end, not before every call: a case that passes its calls at
// once, as an automatic one does, writes its projection once, at its end,
// and the portal learns of its receipt then. At the end the memo is
// written only where the final record could not be kept.
const featuresProjectionAtWaits workflow.Version = 5

// featuresNewest is the version a new case runs with: its starter names
// it in the input (definitions.CaseFeatures).
const featuresNewest = featuresProjectionAtWaits

// caseFeatures returns the features the case runs with: those its input
// names, or, for a case started without them, those it records with a
// version marker at its start. A worker from before the input carried
// features ignored them and recorded its own with the marker; a replay of
// such a case finds the marker and keeps them (GetVersion records nothing
// while replaying, and answers DefaultVersion where no marker was
// recorded). A case that names newer features than this worker knows
// fails its workflow task, which a newer worker then takes.
func (c *caseImpl) caseFeatures(ctx workflow.Context) workflow.Version {
	if c.in.Features == 0 {
		return workflow.GetVersion(ctx, versionCaseFeatures, workflow.DefaultVersion, featuresNewest)
	}
	if workflow.IsReplaying(ctx) {
		if v := workflow.GetVersion(ctx, versionCaseFeatures, workflow.DefaultVersion, featuresNewest); v != workflow.DefaultVersion {
			return v
		}
	}
	v := workflow.Version(c.in.Features)
	if v < featuresMemoAndRecord || v > featuresNewest {
		panic(fmt.Sprintf("case features %d unknown to this worker (it knows %d to %d)", v, featuresMemoAndRecord, featuresNewest))
	}
	return v
}

// upsertMemo keeps the snapshot in the workflow's memo, encrypted by the
// payload codec, where the engine's visibility listing returns it: a
// rebuild of the projections pages through the listing instead of asking
// every case. It follows every flush before the case waits (for a
// signal, an update or a timer; before featuresMemoAtWaits also before an
// activity of a step it may rest in; since then once such a call failed
// or is slow, SignalCallFailing) and at the end (since
// featuresProjectionAtWaits only where the final record was not kept), so
// that the memo is as new as the projection wherever the case may stay for
// long. A snapshot too large for a memo leaves none: the rebuild then asks
// the case through its query, as it does where the memo is behind the
// listed search attributes.
func (c *caseImpl) upsertMemo(ctx workflow.Context, snapshot ozgflow.Case) {
	if c.features < featuresMemoAndRecord {
		return
	}
	var value any = snapshot
	if memoSize(snapshot) > maxMemoBytes {
		value = nil // leaves the key empty
	}
	if err := workflow.UpsertMemo(ctx, map[string]any{ozgflow.MemoCase: value}); err != nil {
		c.logger.Warn("Memo not updated", "error", err)
	}
}

// maxMemoBytes bounds the snapshot kept in the memo, far below the
// engine's limit (2 MB, beyond which it ends the workflow).
const maxMemoBytes = 256 << 10

// memoSize is the size of a snapshot's JSON; one that cannot be encoded
// counts as too large.
func memoSize(c ozgflow.Case) int {
	b, err := json.Marshal(c)
	if err != nil {
		return maxMemoBytes + 1
	}
	return len(b)
}

// searchState is what was last written to the search attributes.
type searchState struct {
	status, stage, queue string
	dueAt                time.Time
}

var (
	saStatus = temporal.NewSearchAttributeKeyKeyword(ozgflow.SearchAttrStatus)
	saStage  = temporal.NewSearchAttributeKeyKeyword(ozgflow.SearchAttrStage)
	saQueue  = temporal.NewSearchAttributeKeyKeyword(ozgflow.SearchAttrQueue)
	saDueAt  = temporal.NewSearchAttributeKeyTime(ozgflow.SearchAttrDueAt)
)

// upsertSearchAttributes writes status, queue and due date when they changed,
// with the stage of that moment. They carry no personal data.
func (c *caseImpl) upsertSearchAttributes(ctx workflow.Context) {
	next := searchState{status: string(c.state.Status)}
	if open := c.state.OpenTasks(); len(open) > 0 {
		next.queue, next.dueAt = open[0].Queue, open[0].DueAt
	}
	// Each upsert costs a visibility write; the stage alone does not earn one
	// and is written along with the next status, queue or due date change.
	if next == (searchState{status: c.search.status, queue: c.search.queue, dueAt: c.search.dueAt}) {
		return
	}
	next.stage = c.state.Stage
	updates := []temporal.SearchAttributeUpdate{saStatus.ValueSet(next.status), saStage.ValueSet(next.stage)}
	if next.queue != "" {
		updates = append(updates, saQueue.ValueSet(next.queue))
	} else {
		updates = append(updates, saQueue.ValueUnset())
	}
	if !next.dueAt.IsZero() {
		updates = append(updates, saDueAt.ValueSet(next.dueAt))
	} else {
		updates = append(updates, saDueAt.ValueUnset())
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		c.logger.Warn("Search attributes not updated", "error", err)
		return
	}
	c.search = next
}
