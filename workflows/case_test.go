package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"log/slog"
	"os"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
)

const (
	leipzig = "147130000000"
	dresden = "146120000000"
)

// memStore records projections like the Redis store would: never backwards.
type memStore struct {
	mu      sync.Mutex
	cases   map[string]ozgflow.Case
	expires map[string]time.Time
}

func (m *memStore) SaveCase(_ context.Context, c ozgflow.Case) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.cases[c.ID]; ok && old.Revision >= c.Revision {
		return nil
	}
	m.cases[c.ID] = c
	return nil
}

func (m *memStore) get(id string) ozgflow.Case {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cases[id]
}

// ExpireCase records when the projection of a case expires.
func (m *memStore) ExpireCase(_ context.Context, c ozgflow.Case, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.expires == nil {
		m.expires = map[string]time.Time{}
	}
	m.expires[c.ID] = at
	return nil
}

func (m *memStore) EraseCase(context.Context, ozgflow.Case, string) error { return nil }

// memRecords keeps final records like the records database.
type memRecords struct {
	mu   sync.Mutex
	kept map[string]activities.FinalRecord
}

func (m *memRecords) KeepClosedCase(_ context.Context, rec activities.FinalRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.kept[rec.Case.ID] = rec
	return nil
}

func (m *memRecords) ClosedCase(_ context.Context, id string) (activities.FinalRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.kept[id], nil
}

func (m *memRecords) DueForErasure(context.Context, time.Time, int) ([]string, error) {
	return nil, nil
}

func (m *memRecords) EraseClosedCase(context.Context, string, string, time.Time) (int, error) {
	return 0, nil
}

func (m *memRecords) Audit(context.Context, activities.TrailEntry) error { return nil }

type harness struct {
	t       *testing.T
	env     *testsuite.TestWorkflowEnvironment
	store   *memStore
	records *memRecords
	numbers *memNumbers
	in      definitions.CaseInput
}

func definition(t *testing.T, service, authority string) definitions.Definition {
	t.Helper()
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	def, err := reg.Resolve(service, authority)
	if err != nil {
		t.Fatal(err)
	}
	return def
}

var gewerbeData = `{"betrieb":{"name":"Café Anna","taetigkeit":"Gastronomie","beginn":"2026-12-01","rechtsform":"gmbh"},
	"anschrift":{"strasse":"Markt","hausnummer":"1","plz":"04109","ort":"Leipzig"}}`

func newHarness(t *testing.T, def definitions.Definition, data string) *harness {
	t.Helper()
	return newHarnessWith(t, def, data, &activities.Payments{})
}

// newHarnessWith is newHarness with the payment activities given, e.g.
// backed by the sandbox provider instead of mocks.
func newHarnessWith(t *testing.T, def definitions.Definition, data string, pay *activities.Payments) *harness {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))))
	env := suite.NewTestWorkflowEnvironment()
	store := &memStore{cases: map[string]ozgflow.Case{}}
	env.RegisterWorkflow(CaseWorkflow)
	env.RegisterActivity(&activities.Projections{Store: store})
	env.RegisterActivity(pay)
	env.RegisterActivity(&activities.Seals{})
	env.RegisterActivity(&activities.Deliveries{})
	env.RegisterActivity(&activities.Notices{})
	numbers := &memNumbers{}
	env.RegisterActivity(&activities.CaseNumbers{Store: numbers})
	recs := &memRecords{kept: map[string]activities.FinalRecord{}}
	env.RegisterActivity(&activities.Retention{Records: recs, Projections: store})
	env.SetStartTime(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	in := definitions.CaseInput{
		CaseID: "c1",
		Application: ozgflow.Application{
			Service: def.Service, Authority: def.Authority,
			Applicant: ozgflow.Applicant{Name: "Anna Muster", PortalAccount: "acc-1"},
			Data:      json.RawMessage(data),
		},
		Definition:  def,
		SubmittedAt: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC),
	}
	return &harness{t: t, env: env, store: store, records: recs, numbers: numbers, in: in}
}

// expectPayment makes the provider open payments with IDs pay-1, pay-2, …
func (h *harness) expectPayment() {
	h.env.OnActivity(payments.CreatePayment, mock.Anything, mock.Anything).Return(
		func(_ context.Context, req activities.PaymentRequest) (activities.PaymentInfo, error) {
			id := "pay-" + req.RequestID[len(req.RequestID)-1:]
			return activities.PaymentInfo{PaymentID: id, Status: ozgflow.PaymentInitial, RedirectURL: "http://pay/" + id}, nil
		})
}

func (h *harness) expectSealAndDelivery() {
	h.env.OnActivity(seals.Seal, mock.Anything, mock.Anything).Return(ozgflow.Seal{JWS: "a.b.c", KeyID: "k1"}, nil)
	h.env.OnActivity(deliveries.Deliver, mock.Anything, mock.Anything).Return(
		activities.Receipt{Reference: "FV-1", ReceivedAt: time.Now()}, nil)
}

// at runs fn after d of workflow time.
func (h *harness) at(d time.Duration, fn func()) { h.env.RegisterDelayedCallback(fn, d) }

func (h *harness) signalPayment(id, status string) {
	h.env.SignalWorkflow(ozgflow.SignalPayment, ozgflow.PaymentEvent{PaymentID: id, Status: status})
}

// update sends an update and fails the test on an unexpected outcome;
// wantCode "" means it must be accepted.
func (h *harness) update(name, wantCode string, arg any) {
	h.t.Helper()
	var args []any
	if arg != nil {
		args = append(args, arg)
	}
	h.env.UpdateWorkflow(name, name+time.Now().String(), &testsuite.TestUpdateCallback{
		OnReject: func(err error) {
			if code := appErrorType(err); code != wantCode {
				h.t.Errorf("update %s rejected with %s (%v), want %q", name, code, err, wantCode)
			}
		},
		OnAccept: func() {
			if wantCode != "" {
				h.t.Errorf("update %s accepted, want rejection %s", name, wantCode)
			}
		},
		OnComplete: func(any, error) {},
	}, args...)
}

func appErrorType(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type()
	}
	return ""
}

func (h *harness) run() ozgflow.Case {
	h.t.Helper()
	h.env.ExecuteWorkflow(CaseWorkflow, h.in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
	if err := h.env.GetWorkflowError(); err != nil {
		h.t.Fatalf("workflow failed: %v", err)
	}
	var out Outcome
	if err := h.env.GetWorkflowResult(&out); err != nil {
		h.t.Fatal(err)
	}
	got := h.store.get(out.ID)
	if out.ID == "" || got.Revision != out.Revision || got.Status != out.Status || got.CaseNumber != out.CaseNumber {
		h.t.Errorf("projection %s at revision %d status %s number %q, workflow ended with %+v",
			got.ID, got.Revision, got.Status, got.CaseNumber, out)
	}
	return got
}

func statuses(c ozgflow.Case) []ozgflow.Status {
	var out []ozgflow.Status
	for _, n := range c.Timeline {
		if len(out) == 0 || out[len(out)-1] != n.Status {
			out = append(out, n.Status)
		}
	}
	return out
}

func assertStatuses(t *testing.T, c ozgflow.Case, want ...ozgflow.Status) {
	t.Helper()
	got := statuses(c)
	if len(got) != len(want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("statuses %v, want %v", got, want)
		}
	}
}

func TestGewerbeanmeldungPaidSealedDeliveredApproved(t *testing.T) {
	h := newHarness(t, definition(t, "gewerbeanmeldung", leipzig), gewerbeData)
	h.expectPayment()
	h.expectSealAndDelivery()
	h.at(time.Minute, func() { h.signalPayment("pay-1", ozgflow.PaymentPayed) })
	h.at(time.Hour, func() {
		h.update(ozgflow.UpdateClaim, "", ozgflow.TaskAction{TaskID: "c1.review.1", User: "sb-leipzig"})
		h.update(ozgflow.UpdateClaim, ozgflow.ECONFLICT, ozgflow.TaskAction{TaskID: "c1.review.1", User: "sb-other"})
		h.update(ozgflow.UpdateComplete, ozgflow.ECONFLICT, ozgflow.CompleteTask{TaskID: "c1.review.1", User: "sb-other", Outcome: "approve"})
		h.update(ozgflow.UpdateComplete, ozgflow.EUNPROCESSABLE, ozgflow.CompleteTask{TaskID: "c1.review.1", User: "sb-leipzig", Outcome: "shrug"})
		h.update(ozgflow.UpdateComplete, ozgflow.ENOTFOUND, ozgflow.CompleteTask{TaskID: "c1.nope.1", User: "sb-leipzig", Outcome: "approve"})
		h.update(ozgflow.UpdateComplete, "", ozgflow.CompleteTask{TaskID: "c1.review.1", User: "sb-leipzig", Outcome: "approve"})
		// Leipzig's variant asks for a second case worker's approval.
		h.update(ozgflow.UpdateApprove, ozgflow.EFORBIDDEN, ozgflow.Approval{TaskID: "c1.review.1", User: "sb-leipzig", Approve: true})
		h.update(ozgflow.UpdateApprove, "", ozgflow.Approval{TaskID: "c1.review.1", User: "sb-leipzig-2", Approve: true})
		h.update(ozgflow.UpdateWithdraw, ozgflow.ECONFLICT, ozgflow.Withdrawal{})
	})
	got := h.run()

	assertStatuses(t, got, ozgflow.StatusReceived, ozgflow.StatusAwaitingPayment, ozgflow.StatusForwarded,
		ozgflow.StatusInReview, ozgflow.StatusApproved)
	if got.Payment.Status != ozgflow.PaymentPayed || got.Payment.Amount != 2600 {
		t.Errorf("payment = %+v", got.Payment)
	}
	if got.Seal == nil || got.Seal.JWS != "a.b.c" {
		t.Errorf("seal = %+v", got.Seal)
	}
	if a := got.Applicant; a == nil || a.Name != "Anna Muster" || a.BusinessName != "Café Anna" || a.Address != "Markt 1, 04109 Leipzig" {
		t.Errorf("applicant = %+v, want the name, the business and its address", a)
	}
	if a := h.store.get("c1").Applicant; a == nil || a.BusinessName != "Café Anna" {
		t.Errorf("the projection's applicant = %+v", a)
	}
	if got.Decision == nil || got.Decision.By != "sb-leipzig" || got.Decision.ApprovedBy != "sb-leipzig-2" {
		t.Errorf("decision = %+v", got.Decision)
	}
	if len(got.OpenTasks()) != 0 || got.Tasks[0].Queue != "gewerbe" || got.Tasks[0].DueAt.IsZero() {
		t.Errorf("tasks = %+v", got.Tasks)
	}
	if got.Timeline[1].Text == "" || got.Timeline[1].Title != "Bitte Gebühr bezahlen" {
		t.Errorf("payment notice = %+v", got.Timeline[1])
	}
	h.env.AssertActivityCalled(t, "Deliver", mock.Anything, mock.MatchedBy(func(r activities.DeliverRequest) bool {
		return r.Kind == deliveryKindArchive && r.Target == "dms"
	}))
}

func TestFailedPaymentCanBeRetried(t *testing.T) {
	h := newHarness(t, definition(t, "gewerbeanmeldung", dresden), gewerbeData)
	h.expectPayment()
	h.expectSealAndDelivery()
	h.at(time.Minute, func() {
		h.update(ozgflow.UpdateRetryPayment, ozgflow.ECONFLICT, nil) // still INITIAL
		h.signalPayment("pay-1", ozgflow.PaymentFailed)
	})
	h.at(2*time.Minute, func() { h.update(ozgflow.UpdateRetryPayment, "", nil) })
	h.at(3*time.Minute, func() {
		h.signalPayment("pay-1", ozgflow.PaymentPayed) // stale attempt: ignored
	})
	h.at(4*time.Minute, func() {
		var c ozgflow.Case
		v, _ := h.env.QueryWorkflow(ozgflow.QueryState)
		_ = v.Get(&c)
		if c.Payment.Status != ozgflow.PaymentInitial || c.Payment.Attempt != 2 {
			t.Errorf("after retry payment = %+v", c.Payment)
		}
		h.signalPayment("pay-2", ozgflow.PaymentPayed)
	})
	h.at(time.Hour, func() {
		h.update(ozgflow.UpdateComplete, "", ozgflow.CompleteTask{TaskID: "c1.review.1", User: "sb", Outcome: "reject", Comment: "Keine Erlaubnis"})
	})
	got := h.run()
	if got.Status != ozgflow.StatusRejected || got.Payment.ID != "pay-2" {
		t.Fatalf("status %s payment %+v", got.Status, got.Payment)
	}
	last := got.Timeline[len(got.Timeline)-1]
	if last.Title != "Gewerbeanmeldung abgelehnt" || !contains(last.Text, "Keine Erlaubnis") {
		t.Errorf("decision notice = %+v", last)
	}
	var failedNotice bool
	for _, n := range got.Timeline {
		failedNotice = failedNotice || n.Title == "Zahlung nicht abgeschlossen"
	}
	if !failedNotice {
		t.Error("no notice about the failed payment")
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestPaymentIsFoundByPollingWhenTheWebhookIsLost(t *testing.T) {
	h := newHarness(t, definition(t, "gewerbeanmeldung", dresden), gewerbeData)
	h.expectPayment()
	h.expectSealAndDelivery()
	h.env.OnActivity(payments.PaymentStatus, mock.Anything, "pay-1").Return(
		activities.PaymentInfo{PaymentID: "pay-1", Status: ozgflow.PaymentPayed}, nil)
	h.at(3*time.Hour, func() {
		h.update(ozgflow.UpdateComplete, "", ozgflow.CompleteTask{TaskID: "c1.review.1", User: "sb", Outcome: "approve"})
	})
	got := h.run()
	if got.Status != ozgflow.StatusApproved || got.Payment.Status != ozgflow.PaymentPayed {
		t.Fatalf("status %s payment %+v", got.Status, got.Payment)
	}
}

func TestUnpaidCaseIsCancelledAtTheDeadline(t *testing.T) {
	h := newHarness(t, definition(t, "gewerbeanmeldung", leipzig), gewerbeData)
	h.expectPayment()
	h.env.OnActivity(payments.PaymentStatus, mock.Anything, mock.Anything).Return(
		activities.PaymentInfo{PaymentID: "pay-1", Status: ozgflow.PaymentInitial}, nil)
	got := h.run()
	assertStatuses(t, got, ozgflow.StatusReceived, ozgflow.StatusAwaitingPayment, ozgflow.StatusCancelled)
	if elapsed := got.UpdatedAt.Sub(got.SubmittedAt); elapsed < 72*time.Hour || elapsed > 73*time.Hour {
		t.Errorf("cancelled after %v, want the 3-day deadline", elapsed)
	}
	h.env.AssertNotCalled(t, "Seal", mock.Anything, mock.Anything)
	last := got.Timeline[len(got.Timeline)-1]
	if last.Title != "Antrag abgebrochen" {
		t.Errorf("last notice = %+v", last)
	}
}

var parkingData = func(zone string, halter bool) string {
	b, _ := json.Marshal(map[string]any{"kennzeichen": "L-AB 123", "zone": zone, "halterIstAntragsteller": halter,
		"anschrift": map[string]string{"strasse": "Karl-Liebknecht-Straße", "hausnummer": "10", "plz": "04107", "ort": "Leipzig"}})
	return string(b)
}

func TestParkingPermitDecidedByRule(t *testing.T) {
	tests := []struct {
		name       string
		data       string
		wantStatus ozgflow.Status
		wantTask   bool
	}{
		{"known zone, own car", parkingData("Südvorstadt", true), ozgflow.StatusApproved, false},
		{"unknown zone goes to review", parkingData("Plagwitz-Nord", true), ozgflow.StatusRejected, true},
		{"someone else's car goes to review", parkingData("Südvorstadt", false), ozgflow.StatusRejected, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, definition(t, "anwohnerparkausweis", leipzig), tt.data)
			h.expectPayment()
			h.expectSealAndDelivery()
			h.at(time.Minute, func() { h.signalPayment("pay-1", ozgflow.PaymentPayed) })
			h.at(time.Hour, func() {
				if tt.wantTask {
					h.update(ozgflow.UpdateComplete, "", ozgflow.CompleteTask{TaskID: "c1.review.1", User: "sb", Outcome: "reject"})
				}
			})
			got := h.run()
			if got.Status != tt.wantStatus || (len(got.Tasks) > 0) != tt.wantTask {
				t.Fatalf("status %s tasks %d", got.Status, len(got.Tasks))
			}
			if !tt.wantTask && got.Decision.By != "rule:rule" {
				t.Errorf("decided by %s", got.Decision.By)
			}
		})
	}
}

func TestHundesteuerIsDeliveredAndApprovedWithoutFee(t *testing.T) {
	data := hundData
	h := newHarness(t, definition(t, "hundesteuer-anmeldung", dresden), data)
	h.expectSealAndDelivery()
	got := h.run()
	assertStatuses(t, got, ozgflow.StatusReceived, ozgflow.StatusForwarded, ozgflow.StatusApproved)
	if got.Payment != nil {
		t.Errorf("payment = %+v, want none", got.Payment)
	}
}

// TestACaseReturnsItsOutcomeNotItself: the workflow's result names the
// case, its number, its final status and revision, and nothing more; the
// case itself is in its projection and its final record.
func TestACaseReturnsItsOutcomeNotItself(t *testing.T) {
	h := newHarness(t, definition(t, "hundesteuer-anmeldung", dresden), hundData)
	h.expectSealAndDelivery()
	got := h.run()
	var fields map[string]json.RawMessage
	if err := h.env.GetWorkflowResult(&fields); err != nil {
		t.Fatal(err)
	}
	want := []string{"caseNumber", "id", "revision", "status"}
	if keys := slices.Sorted(maps.Keys(fields)); !slices.Equal(keys, want) {
		t.Errorf("result fields %v, want %v", keys, want)
	}
	if got.CaseNumber == "" || got.Status != ozgflow.StatusApproved {
		t.Errorf("projection %+v, want a numbered approved case", got)
	}
}

// TestCaseTakesItsFeaturesFromItsInput: a case whose starter names its
// features in the input runs with them, whatever a version marker would
// say; one without records them with the marker, as cases started before
// did; and features newer than this worker knows fail the case's workflow
// task instead of running with others.
func TestCaseTakesItsFeaturesFromItsInput(t *testing.T) {
	if definitions.CaseFeatures != int(featuresNewest) {
		t.Fatalf("gateways start cases with features %d, the workflow's newest are %d", definitions.CaseFeatures, featuresNewest)
	}
	data := hundData
	// The marker answers with the first version, which draws no case number.
	tests := []struct {
		name       string
		features   int
		wantNumber bool
	}{
		{"from the input", definitions.CaseFeatures, true},
		{"from the version marker", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, definition(t, "hundesteuer-anmeldung", dresden), data)
			h.env.OnGetVersion(versionCaseFeatures, workflow.DefaultVersion, featuresNewest).Return(workflow.DefaultVersion)
			h.expectSealAndDelivery()
			h.in.Features = tt.features
			if got := h.run(); (got.CaseNumber != "") != tt.wantNumber {
				t.Errorf("case number %q, want one: %v", got.CaseNumber, tt.wantNumber)
			}
		})
	}
	t.Run("newer than the worker", func(t *testing.T) {
		h := newHarness(t, definition(t, "hundesteuer-anmeldung", dresden), data)
		h.in.Features = int(featuresNewest) + 1
		h.env.ExecuteWorkflow(CaseWorkflow, h.in)
		if err := h.env.GetWorkflowError(); err == nil || !strings.Contains(err.Error(), "unknown to this worker") {
			t.Errorf("workflow error %v, want the features refused", err)
		}
	})
}

// TestACallWritesNothingUntilItFails: a case writes neither its memo nor
// its projection before a delivery, which nearly always answers at once;
// when the worker signals that the delivery's first attempt failed (or is
// slow), the case writes both, so that the portal learns of the case and a
// rebuild during the outage finds it. At its end the case writes its
// projection, and the memo only where the final record was not kept.
// Cases started with the features before keep what they did.
func TestACallWritesNothingUntilItFails(t *testing.T) {
	data := hundData
	memoAtWaits, before := int(featuresMemoAtWaits), int(featuresMemoAtWaits)-1
	tests := []struct {
		name     string
		features int
		slowSeal bool // the seal, a quick step, takes long instead of the delivery
		signal   bool
		// memos written while the slow call runs: before the signal, after
		// it; and in all
		before, after, total int
		// whether the projection showed the case before the signal, and after
		projectedBefore, projectedAfter bool
	}{
		{"a delivery that answers", definitions.CaseFeatures, false, false, 0, 0, 0, false, false},
		{"a delivery that fails", definitions.CaseFeatures, false, true, 0, 1, 1, false, true},
		{"a seal that fails", definitions.CaseFeatures, true, true, 0, 1, 1, false, true},
		{"a delivery that answers, memo at waits", memoAtWaits, false, false, 0, 0, 1, true, true},
		{"a delivery that fails, memo at waits", memoAtWaits, false, true, 0, 1, 2, true, true},
		{"a case of the features before", before, false, true, 1, 1, 2, true, true},
		// The signal finds the memo owing and leaves it so.
		{"a seal of the features before", before, true, true, 0, 0, 2, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := definition(t, "hundesteuer-anmeldung", dresden)
			// A seal, a quick step, before the delivery.
			def.Steps = append([]definitions.Step{def.Steps[0], {ID: "seal", Kind: definitions.KindSignature, Mode: "seal"}},
				def.Steps[1:]...)
			h := newHarness(t, def, data)
			h.in.Features = tt.features
			sealTakes, deliveryTakes := time.Duration(0), time.Hour
			if tt.slowSeal {
				sealTakes, deliveryTakes = time.Hour, 0
			}
			h.env.OnActivity(seals.Seal, mock.Anything, mock.Anything).After(sealTakes).Return(
				ozgflow.Seal{JWS: "a.b.c", KeyID: "k1"}, nil)
			h.env.OnActivity(deliveries.Deliver, mock.Anything, mock.Anything).After(deliveryTakes).Return(
				activities.Receipt{Reference: "FV-1", ReceivedAt: time.Now()}, nil)
			memos := 0
			h.env.OnUpsertMemo(mock.Anything).Return(nil).Run(func(mock.Arguments) { memos++ })
			var before, after int
			var projectedBefore, projectedAfter bool
			h.at(10*time.Minute, func() {
				before, projectedBefore = memos, h.store.get("c1").ID != ""
				if tt.signal {
					h.env.SignalWorkflow(ozgflow.SignalCallFailing, nil)
				}
			})
			h.at(15*time.Minute, func() {
				if tt.signal { // a second signal finds nothing owed and writes nothing
					h.env.SignalWorkflow(ozgflow.SignalCallFailing, nil)
				}
			})
			h.at(20*time.Minute, func() { after, projectedAfter = memos, h.store.get("c1").ID != "" })
			got := h.run()
			if before != tt.before || after != tt.after {
				t.Errorf("memos while delivering: %d before the signal, %d after; want %d and %d", before, after, tt.before, tt.after)
			}
			if projectedBefore != tt.projectedBefore || projectedAfter != tt.projectedAfter {
				t.Errorf("projected while delivering: %t before the signal, %t after; want %t and %t",
					projectedBefore, projectedAfter, tt.projectedBefore, tt.projectedAfter)
			}
			if got.Status != ozgflow.StatusApproved || memos != tt.total {
				t.Errorf("status %s after %d memos, want approved after %d", got.Status, memos, tt.total)
			}
			if len(h.records.kept) != 1 {
				t.Errorf("%d final records kept, want 1", len(h.records.kept))
			}
		})
	}
}

// TestAFailedStepLeavesTheCaseProjected: a case whose call fails for good
// writes what changed since its last wait before its workflow fails, as it
// did before a call until featuresProjectionAtWaits.
func TestAFailedStepLeavesTheCaseProjected(t *testing.T) {
	h := newHarness(t, definition(t, "hundesteuer-anmeldung", dresden), hundData)
	h.in.Features = definitions.CaseFeatures
	h.env.OnActivity(deliveries.Deliver, mock.Anything, mock.Anything).Return(
		activities.Receipt{}, temporal.NewNonRetryableApplicationError("refused", "Refused", nil))
	memos := 0
	h.env.OnUpsertMemo(mock.Anything).Return(nil).Run(func(mock.Arguments) { memos++ })
	h.env.ExecuteWorkflow(CaseWorkflow, h.in)
	if err := h.env.GetWorkflowError(); err == nil {
		t.Fatal("the workflow did not fail")
	}
	stored := h.store.get("c1")
	if stored.Status != ozgflow.StatusReceived || stored.CaseNumber == "" || len(stored.Timeline) == 0 || memos != 1 {
		t.Errorf("after the failed step: projection %q number %q with %d notices, %d memos; want received, numbered, noticed, 1 memo",
			stored.Status, stored.CaseNumber, len(stored.Timeline), memos)
	}
}

// TestAClosedCaseWithoutItsRecordWritesTheMemo: where the final record
// cannot be kept, the case's end writes its last state to the memo, for a
// rebuild that finds no record.
func TestAClosedCaseWithoutItsRecordWritesTheMemo(t *testing.T) {
	h := newHarness(t, definition(t, "hundesteuer-anmeldung", dresden), hundData)
	h.in.Features = definitions.CaseFeatures
	h.env.OnActivity(deliveries.Deliver, mock.Anything, mock.Anything).Return(
		activities.Receipt{Reference: "FV-1", ReceivedAt: time.Now()}, nil)
	h.env.OnActivity(retention.KeepClosedCase, mock.Anything, mock.Anything).Return(
		temporal.NewNonRetryableApplicationError("records database refuses", "Refused", nil))
	var memo ozgflow.Case
	memos := 0
	h.env.OnUpsertMemo(mock.Anything).Return(nil).Run(func(args mock.Arguments) {
		memos++
		if c, ok := args.Get(0).(map[string]any)[ozgflow.MemoCase].(ozgflow.Case); ok {
			memo = c
		}
	})
	got := h.run()
	if memos != 1 || memo.Status != got.Status || memo.Revision != got.Revision {
		t.Errorf("%d memos, the last at status %s revision %d; want 1 with the final state %s at %d",
			memos, memo.Status, memo.Revision, got.Status, got.Revision)
	}
}

func TestInformationRequestRoundTrip(t *testing.T) {
	h := newHarness(t, definition(t, "gewerbeanmeldung", dresden), gewerbeData)
	h.expectPayment()
	h.expectSealAndDelivery()
	h.at(time.Minute, func() { h.signalPayment("pay-1", ozgflow.PaymentPayed) })
	h.at(time.Hour, func() {
		h.update(ozgflow.UpdateRespond, ozgflow.ECONFLICT, ozgflow.Response{Text: "too early"})
		h.update(ozgflow.UpdateClaim, "", ozgflow.TaskAction{TaskID: "c1.review.1", User: "sb"})
		h.update(ozgflow.UpdateComplete, ozgflow.EUNPROCESSABLE, ozgflow.CompleteTask{TaskID: "c1.review.1", User: "sb", Outcome: "request_information"})
		h.update(ozgflow.UpdateComplete, "", ozgflow.CompleteTask{TaskID: "c1.review.1", User: "sb",
			Outcome: "request_information", Comment: "Bitte Handelsregisterauszug nachreichen."})
	})
	h.at(2*time.Hour, func() {
		h.update(ozgflow.UpdateRespond, ozgflow.EUNPROCESSABLE, ozgflow.Response{})
		h.update(ozgflow.UpdateRespond, "", ozgflow.Response{Text: "Auszug liegt bei."})
	})
	h.at(3*time.Hour, func() {
		h.update(ozgflow.UpdateComplete, "", ozgflow.CompleteTask{TaskID: "c1.review.2", User: "sb", Outcome: "approve"})
	})
	got := h.run()
	assertStatuses(t, got, ozgflow.StatusReceived, ozgflow.StatusAwaitingPayment, ozgflow.StatusForwarded,
		ozgflow.StatusInReview, ozgflow.StatusInformationRequested, ozgflow.StatusInReview, ozgflow.StatusApproved)
	if len(got.Tasks) != 2 || got.Tasks[1].Assignee != "sb" {
		t.Errorf("tasks = %+v, want the task back with its case worker", got.Tasks)
	}
	if r := got.Requests[0]; r.Answer != "Auszug liegt bei." || r.Question != "Bitte Handelsregisterauszug nachreichen." {
		t.Errorf("request = %+v", r)
	}
}

func TestWithdrawalRefundsAndTellsFachverfahren(t *testing.T) {
	h := newHarness(t, definition(t, "gewerbeanmeldung", leipzig), gewerbeData)
	h.expectPayment()
	h.expectSealAndDelivery()
	h.env.OnActivity(payments.Refund, mock.Anything, "pay-1").Return(
		activities.PaymentInfo{PaymentID: "pay-1", Status: ozgflow.PaymentPayed, Refund: ozgflow.RefundRefunded}, nil).Once()
	h.env.OnActivity(deliveries.Withdraw, mock.Anything, mock.MatchedBy(func(r activities.WithdrawRequest) bool {
		return r.Target == "gewerbe-leipzig" && r.CaseID == "c1" && r.Reason == "Umzug"
	})).Return(nil).Once()
	h.at(time.Minute, func() { h.signalPayment("pay-1", ozgflow.PaymentPayed) })
	h.at(time.Hour, func() { h.update(ozgflow.UpdateWithdraw, "", ozgflow.Withdrawal{Reason: "Umzug"}) })
	h.at(2*time.Hour, func() {
		h.update(ozgflow.UpdateClaim, ozgflow.ECONFLICT, ozgflow.TaskAction{TaskID: "c1.review.1", User: "sb"})
	})
	got := h.run()
	if got.Status != ozgflow.StatusWithdrawn || got.Payment.Refund != ozgflow.RefundRefunded || !got.Delivery.Withdrawn {
		t.Fatalf("status %s payment %+v delivery %+v", got.Status, got.Payment, got.Delivery)
	}
	if len(got.OpenTasks()) != 0 {
		t.Errorf("open tasks after withdrawal: %+v", got.OpenTasks())
	}
	last := got.Timeline[len(got.Timeline)-1]
	if !contains(last.Text, "26,00 EUR wird erstattet") {
		t.Errorf("withdrawal notice = %q", last.Text)
	}
}

func TestDeliveryOutageIsRetriedUntilTheTargetIsBack(t *testing.T) {
	data := hundData
	h := newHarness(t, definition(t, "hundesteuer-anmeldung", dresden), data)
	down := errors.New("fachverfahren steueramt-dresden: 503 Service Unavailable")
	h.env.OnActivity(deliveries.Deliver, mock.Anything, mock.Anything).Return(activities.Receipt{}, down).Times(3)
	h.env.OnActivity(deliveries.Deliver, mock.Anything, mock.Anything).Return(activities.Receipt{Reference: "FV-9"}, nil).Once()
	got := h.run()
	if got.Status != ozgflow.StatusApproved || got.Delivery.Reference != "FV-9" {
		t.Fatalf("status %s delivery %+v", got.Status, got.Delivery)
	}
}

func TestInvalidDataIsRejectedByTheValidateStep(t *testing.T) {
	h := newHarness(t, definition(t, "hundesteuer-anmeldung", dresden), `{"hund":{"name":""}}`)
	got := h.run()
	if got.Status != ozgflow.StatusRejected || !contains(got.Decision.Comment, "/data/hund/rasse") {
		t.Fatalf("status %s decision %+v", got.Status, got.Decision)
	}
	h.env.AssertNotCalled(t, "Deliver", mock.Anything, mock.Anything)
}

// customDefinition exercises the step kinds the catalog does not use.
func customDefinition(t *testing.T) definitions.Definition {
	t.Helper()
	def := definition(t, "hundesteuer-anmeldung", dresden)
	def.Steps = []definitions.Step{
		{ID: "validate", Kind: definitions.KindValidate},
		{ID: "ask", Kind: definitions.KindRequestInfo, Question: "Bitte Chipnummer angeben.", Fields: []string{"chip"}},
		{ID: "hint", Kind: definitions.KindNotify, Notice: "hint"},
		{ID: "wait", Kind: definitions.KindWaitExternal, Event: "steuerbescheid", Timeout: definitions.Duration(48 * time.Hour)},
		{ID: "fallback", Kind: definitions.KindDecide, When: `outcome == ""`, Default: "reject"},
	}
	def.Notices["hint"] = definitions.NoticeTemplate{Title: "Hinweis", Text: "Der Steuerbescheid folgt."}
	def.Notices["information_requested"] = definitions.NoticeTemplate{Title: "Rückfrage", Text: "{{.Question}}"}
	if err := def.Validate(); err != nil {
		t.Fatalf("custom definition invalid: %v %v", err, ozgflow.ErrorFields(err))
	}
	return def
}

func TestRequestInfoNotifyAndWaitExternalSteps(t *testing.T) {
	data := hundData
	t.Run("external event decides", func(t *testing.T) {
		h := newHarness(t, customDefinition(t), data)
		h.at(time.Hour, func() { h.update(ozgflow.UpdateRespond, "", ozgflow.Response{Text: "276098106543210"}) })
		h.at(5*time.Hour, func() {
			h.env.SignalWorkflow(ozgflow.SignalExternal, ozgflow.ExternalEvent{Event: "steuerbescheid", Outcome: "approve", By: "steueramt"})
		})
		got := h.run()
		assertStatuses(t, got, ozgflow.StatusReceived, ozgflow.StatusInformationRequested, ozgflow.StatusReceived, ozgflow.StatusApproved)
		var hint bool
		for _, n := range got.Timeline {
			hint = hint || n.Title == "Hinweis"
		}
		if !hint || got.Decision.By != "external:steueramt" {
			t.Errorf("hint %v decision %+v", hint, got.Decision)
		}
	})
	t.Run("no event before the timeout", func(t *testing.T) {
		h := newHarness(t, customDefinition(t), data)
		h.at(time.Hour, func() { h.update(ozgflow.UpdateRespond, "", ozgflow.Response{Text: "276098106543210"}) })
		got := h.run()
		if got.Status != ozgflow.StatusRejected || got.Decision.By != "rule:fallback" {
			t.Fatalf("status %s decision %+v", got.Status, got.Decision)
		}
	})
}

func TestReleaseReturnsTaskToQueue(t *testing.T) {
	h := newHarness(t, definition(t, "gewerbeanmeldung", dresden), gewerbeData)
	h.expectPayment()
	h.expectSealAndDelivery()
	h.at(time.Minute, func() { h.signalPayment("pay-1", ozgflow.PaymentPayed) })
	h.at(time.Hour, func() {
		h.update(ozgflow.UpdateRelease, ozgflow.ECONFLICT, ozgflow.TaskAction{TaskID: "c1.review.1", User: "a"})
		h.update(ozgflow.UpdateClaim, "", ozgflow.TaskAction{TaskID: "c1.review.1", User: "a"})
		h.update(ozgflow.UpdateRelease, ozgflow.ECONFLICT, ozgflow.TaskAction{TaskID: "c1.review.1", User: "b"})
		h.update(ozgflow.UpdateRelease, "", ozgflow.TaskAction{TaskID: "c1.review.1", User: "a"})
		h.update(ozgflow.UpdateClaim, "", ozgflow.TaskAction{TaskID: "c1.review.1", User: "b"})
		h.update(ozgflow.UpdateComplete, "", ozgflow.CompleteTask{TaskID: "c1.review.1", User: "b", Outcome: "approve"})
	})
	got := h.run()
	if got.Decision.By != "b" {
		t.Fatalf("decided by %s, want b", got.Decision.By)
	}
}
