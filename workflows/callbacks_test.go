package workflows

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/definitions"
)

var abmeldungData = `{"betrieb":{"name":"Café Anna","taetigkeit":"Gastronomie"},"ende":"2026-12-31","grund":"aufgabe",
	"anschrift":{"strasse":"Markt","hausnummer":"1","plz":"04109","ort":"Leipzig"}}`

var decisionPDF = ozgflow.Attachment{Name: "Bescheid-FV-1.pdf", ContentType: "application/pdf", Size: 1234,
	SHA256: strings.Repeat("ab", 32)}

// callback is a callback of the Fachverfahren on the delivery FV-1 of case c1.
func callback(id, event string) ozgflow.Callback {
	return ozgflow.Callback{ID: id, CaseID: "c1", Reference: "FV-1", Event: event}
}

func decided(id, outcome string, doc *ozgflow.Attachment) ozgflow.Callback {
	cb := callback(id, ozgflow.CallbackDecided)
	cb.Outcome, cb.Document = outcome, doc
	return cb
}

func noticeTitled(c ozgflow.Case, title string) []ozgflow.Notice {
	var out []ozgflow.Notice
	for _, n := range c.Timeline {
		if n.Title == title {
			out = append(out, n)
		}
	}
	return out
}

func TestFachverfahrenDecidesWithADocument(t *testing.T) {
	h := newHarness(t, definition(t, "gewerbeabmeldung", leipzig), abmeldungData)
	h.expectSealAndDelivery()
	h.at(time.Minute, func() {
		h.update(ozgflow.UpdateCallback, "", callback("cb-1", ozgflow.CallbackReceived))
		h.update(ozgflow.UpdateCallback, "", callback("cb-1", ozgflow.CallbackReceived)) // a replay: no effect
		wrongRef := callback("cb-2", ozgflow.CallbackInReview)
		wrongRef.Reference = "FV-2"
		h.update(ozgflow.UpdateCallback, ozgflow.ENOTFOUND, wrongRef)
		h.update(ozgflow.UpdateCallback, ozgflow.EUNPROCESSABLE, callback("cb-3", "archived"))
		h.update(ozgflow.UpdateCallback, ozgflow.EUNPROCESSABLE, decided("cb-4", "", nil))
	})
	h.at(time.Hour, func() { h.update(ozgflow.UpdateCallback, "", callback("cb-5", ozgflow.CallbackInReview)) })
	h.at(2*24*time.Hour, func() {
		h.update(ozgflow.UpdateCallback, "", decided("cb-6", ozgflow.OutcomeApprove, &decisionPDF))
		h.update(ozgflow.UpdateCallback, ozgflow.ECONFLICT, decided("cb-7", ozgflow.OutcomeReject, nil))
	})
	got := h.run()

	assertStatuses(t, got, ozgflow.StatusReceived, ozgflow.StatusForwarded, ozgflow.StatusInReview, ozgflow.StatusApproved)
	h.env.AssertActivityCalled(t, "Deliver", mock.Anything, mock.MatchedBy(func(r activities.DeliverRequest) bool {
		return r.Kind == deliveryKindCase && r.Target == "gewerbe-leipzig" && r.Submission.AwaitsDecision
	}))
	if got.Decision == nil || got.Decision.Outcome != ozgflow.OutcomeApprove || got.Decision.By != "external:gewerbe-leipzig" ||
		got.Decision.Document == nil || *got.Decision.Document != decisionPDF {
		t.Errorf("decision = %+v", got.Decision)
	}
	if n := noticeTitled(got, "Beim Gewerbeamt eingegangen"); len(n) != 1 || !strings.Contains(n[0].Text, "FV-1") {
		t.Errorf("received notices = %+v, want one naming the reference", n)
	}
	approved := noticeTitled(got, "Gewerbeabmeldung bestätigt")
	if len(approved) != 1 || len(approved[0].Documents) != 1 || approved[0].Documents[0] != decisionPDF ||
		!strings.Contains(approved[0].Text, "Abmeldebestätigung liegt dieser Nachricht bei") {
		t.Fatalf("approved notice = %+v", approved)
	}
	var events []string
	for _, r := range got.Delivery.Reports {
		events = append(events, r.ID+" "+r.Event)
	}
	if strings.Join(events, ", ") != "cb-1 received, cb-5 in_review, cb-6 decided" {
		t.Errorf("reports = %v", events)
	}
	var reported int
	for _, a := range got.Audit {
		if a.Action == ozgflow.AuditReported && a.By == "fachverfahren:gewerbe-leipzig" {
			reported++
		}
	}
	if reported != 3 {
		t.Errorf("audit = %+v, want three reports", got.Audit)
	}
	if len(got.Tasks) != 0 {
		t.Errorf("tasks = %+v: the Fachverfahren decided, no case worker", got.Tasks)
	}
}

func TestFachverfahrenRejectsWithoutDocument(t *testing.T) {
	h := newHarness(t, definition(t, "gewerbeabmeldung", leipzig), abmeldungData)
	h.expectSealAndDelivery()
	h.at(time.Minute, func() {
		cb := decided("cb-1", ozgflow.OutcomeReject, nil)
		cb.Comment = "Kein Gewerbe unter dieser Anschrift."
		h.update(ozgflow.UpdateCallback, "", cb)
	})
	got := h.run()
	assertStatuses(t, got, ozgflow.StatusReceived, ozgflow.StatusForwarded, ozgflow.StatusRejected)
	last := got.Timeline[len(got.Timeline)-1]
	if len(last.Documents) != 0 || !strings.Contains(last.Text, "Kein Gewerbe unter dieser Anschrift.") || got.Decision.Document != nil {
		t.Errorf("rejection = %+v, decision %+v", last, got.Decision)
	}
}

func TestNoDecisionFromTheFachverfahrenGoesToACaseWorker(t *testing.T) {
	h := newHarness(t, definition(t, "gewerbeabmeldung", leipzig), abmeldungData)
	h.expectSealAndDelivery()
	h.at(15*24*time.Hour, func() {
		// The wait is over: a late decision is refused, progress is taken.
		h.update(ozgflow.UpdateCallback, ozgflow.ECONFLICT, decided("cb-late", ozgflow.OutcomeApprove, &decisionPDF))
		h.update(ozgflow.UpdateCallback, "", callback("cb-progress", ozgflow.CallbackInReview))
		h.update(ozgflow.UpdateComplete, "", ozgflow.CompleteTask{TaskID: "c1.nachfassen.1", User: "sb-leipzig", Outcome: "approve"})
	})
	got := h.run()
	if got.Decision == nil || got.Decision.By != "sb-leipzig" || got.Decision.Document != nil {
		t.Fatalf("decision = %+v", got.Decision)
	}
	if len(got.Tasks) != 1 || got.Tasks[0].Queue != "gewerbe" {
		t.Errorf("tasks = %+v", got.Tasks)
	}
}

func TestCallbacksOnACaseDecidedInOzgflow(t *testing.T) {
	h := newHarness(t, definition(t, "gewerbeanmeldung", dresden), gewerbeData)
	h.expectPayment()
	h.expectSealAndDelivery()
	h.at(time.Minute, func() {
		// Not delivered yet.
		h.update(ozgflow.UpdateCallback, ozgflow.ENOTFOUND, callback("cb-0", ozgflow.CallbackReceived))
		h.signalPayment("pay-1", ozgflow.PaymentPayed)
	})
	h.at(time.Hour, func() {
		h.update(ozgflow.UpdateCallback, "", callback("cb-1", ozgflow.CallbackReceived))
		h.update(ozgflow.UpdateCallback, "", callback("cb-2", ozgflow.CallbackInReview))
		h.update(ozgflow.UpdateCallback, ozgflow.ECONFLICT, decided("cb-3", ozgflow.OutcomeApprove, &decisionPDF))
		h.update(ozgflow.UpdateComplete, "", ozgflow.CompleteTask{TaskID: "c1.review.1", User: "sb-dresden", Outcome: "approve"})
	})
	got := h.run()
	h.env.AssertActivityCalled(t, "Deliver", mock.Anything, mock.MatchedBy(func(r activities.DeliverRequest) bool {
		return r.Kind == deliveryKindCase && !r.Submission.AwaitsDecision
	}))
	// The variant words no progress notice: the defaults show.
	if n := noticeTitled(got, definitions.CallbackNotices[definitions.NoticeBackOfficeReceived].Title); len(n) != 1 {
		t.Errorf("timeline = %+v, want the default notice of the Fachverfahren's receipt", got.Timeline)
	}
	// In review already (the case worker's task): the status stays, no second notice.
	assertStatuses(t, got, ozgflow.StatusReceived, ozgflow.StatusAwaitingPayment, ozgflow.StatusForwarded,
		ozgflow.StatusInReview, ozgflow.StatusApproved)
	if got.Decision.By != "sb-dresden" || len(got.Delivery.Reports) != 2 {
		t.Errorf("decision %+v reports %+v", got.Decision, got.Delivery.Reports)
	}
}

func TestCallbackBeforeTheDeliveryIsConfirmedIsToComeAgain(t *testing.T) {
	h := newHarness(t, definition(t, "gewerbeabmeldung", leipzig), abmeldungData)
	down := errors.New("fachverfahren gewerbe-leipzig: 503 Service Unavailable")
	h.env.OnActivity(deliveries.Deliver, mock.Anything, mock.Anything).Return(activities.Receipt{}, down).Once()
	h.env.OnActivity(deliveries.Deliver, mock.Anything, mock.Anything).Return(activities.Receipt{Reference: "FV-1"}, nil).Once()
	h.at(time.Second, func() {
		h.update(ozgflow.UpdateCallback, ozgflow.EUNAVAILABLE, callback("cb-1", ozgflow.CallbackReceived))
	})
	h.at(time.Minute, func() {
		h.update(ozgflow.UpdateCallback, "", callback("cb-1", ozgflow.CallbackReceived))
		h.update(ozgflow.UpdateCallback, "", decided("cb-2", ozgflow.OutcomeApprove, &decisionPDF))
	})
	got := h.run()
	if got.Status != ozgflow.StatusApproved || len(got.Delivery.Reports) != 2 {
		t.Fatalf("status %s reports %+v", got.Status, got.Delivery.Reports)
	}
}
