package workflows

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/definitions"
)

// memNumbers draws case numbers like the records database: one counter
// per prefix, authority and year, the same number again for a workflow
// that drew one. fatal makes every draw fail for good. (A draw that fails
// and is tried again returns the first number: records' tests show it.)
type memNumbers struct {
	mu       sync.Mutex
	counters map[string]int
	drawn    map[string]string
	asked    []activities.CaseNumberRequest
	fatal    bool
}

func (m *memNumbers) AssignCaseNumber(_ context.Context, wf, prefix, authority string, year int) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.asked = append(m.asked, activities.CaseNumberRequest{WorkflowID: wf, Prefix: prefix, Authority: authority, Year: year})
	if m.fatal {
		return "", temporal.NewNonRetryableApplicationError("records database gone", "EUNAVAILABLE", nil)
	}
	if n, ok := m.drawn[wf]; ok {
		return n, nil
	}
	if m.counters == nil {
		m.counters, m.drawn = map[string]int{}, map[string]string{}
	}
	key := prefix + "/" + authority + "/" + fmt.Sprint(year)
	m.counters[key]++
	n := fmt.Sprintf("%s-%04d-%06d", prefix, year, m.counters[key])
	m.drawn[wf] = n
	return n, nil
}

// TestCaseDrawsItsNumberAndQuotesIt: the case draws its number before its
// first notice, from the counter of the variant's prefix, its authority
// and the year in Berlin; notices, the delivery and email quote it.
func TestCaseDrawsItsNumberAndQuotesIt(t *testing.T) {
	h := newHarness(t, definition(t, "gewerbeanmeldung", dresden), gewerbeData)
	h.in.Application.Applicant.Email = "anna@example.org"
	h.expectPayment()
	h.expectSealAndDelivery()
	var mails []activities.EmailRequest
	var mu sync.Mutex
	h.env.OnActivity(notices.Email, mock.Anything, mock.Anything).Return(func(_ context.Context, req activities.EmailRequest) error {
		mu.Lock()
		defer mu.Unlock()
		mails = append(mails, req)
		return nil
	})
	h.at(time.Minute, func() { h.signalPayment("pay-1", ozgflow.PaymentPayed) })
	h.at(time.Hour, func() {
		h.update(ozgflow.UpdateComplete, "", ozgflow.CompleteTask{TaskID: "c1.review.1", User: "sb", Outcome: "approve"})
	})
	got := h.run()

	const want = "GEW-2026-000001"
	if got.CaseNumber != want {
		t.Fatalf("case number %q, want %q (asked %+v)", got.CaseNumber, want, h.numbers.asked)
	}
	for _, req := range h.numbers.asked {
		if req.WorkflowID == "" {
			t.Errorf("draw without workflow ID: %+v", req)
		}
		if req.Prefix != "GEW" || req.Authority != dresden || req.Year != 2026 {
			t.Errorf("draw %+v", req)
		}
	}
	if len(h.numbers.asked) != 1 {
		t.Errorf("%d draws, want 1", len(h.numbers.asked))
	}
	if !strings.Contains(got.Timeline[0].Text, want) || !strings.Contains(got.Timeline[0].Easy, want) {
		t.Errorf("the received notice does not quote the number: %+v", got.Timeline[0])
	}
	for _, n := range got.Timeline {
		if n.CaseNumber != want {
			t.Errorf("notice %s carries number %q", n.ID, n.CaseNumber)
		}
	}
	if got.Applicant == nil || got.Applicant.Name != "Anna Muster" || got.Applicant.Email != "anna@example.org" {
		t.Errorf("applicant %+v", got.Applicant)
	}
	h.env.AssertActivityCalled(t, "Deliver", mock.Anything, mock.MatchedBy(func(r activities.DeliverRequest) bool {
		return r.Kind == deliveryKindCase && r.Submission.CaseNumber == want
	}))
	mu.Lock()
	defer mu.Unlock()
	if len(mails) != len(got.Timeline) {
		t.Fatalf("%d mails for %d notices", len(mails), len(got.Timeline))
	}
	for _, m := range mails {
		if m.CaseNumber != want || m.CaseID != "c1" {
			t.Errorf("mail %s names case %q number %q", m.NoticeID, m.CaseID, m.CaseNumber)
		}
	}
}

// TestCaseNumberYearIsBerlinsYear: a case submitted at 00:30 on New Year's
// Day in Berlin (still the old year in UTC) counts in the new year.
func TestCaseNumberYearIsBerlinsYear(t *testing.T) {
	h := newHarness(t, definition(t, "hundesteuer-anmeldung", leipzig), hundData)
	h.env.SetStartTime(time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC))
	h.expectSealAndDelivery()
	got := h.run()
	if got.CaseNumber != "HST-2027-000001" {
		t.Errorf("case number %q, want HST-2027-000001", got.CaseNumber)
	}
}

// TestCaseGoesOnWithoutANumber: a draw that fails for good leaves the case
// without a number; its notices quote its ID instead.
func TestCaseGoesOnWithoutANumber(t *testing.T) {
	h := newHarness(t, definition(t, "hundesteuer-anmeldung", leipzig), hundData)
	h.numbers.fatal = true
	h.expectSealAndDelivery()
	got := h.run()
	if got.CaseNumber != "" || got.Status != ozgflow.StatusApproved {
		t.Fatalf("number %q status %s", got.CaseNumber, got.Status)
	}
	if !strings.Contains(got.Timeline[0].Text, "c1") {
		t.Errorf("received notice %q does not quote the case ID", got.Timeline[0].Text)
	}
}

// TestRejectionCarriesRemedyAndContact: the rejection notice says how to
// object (the variant's Rechtsbehelfsbelehrung) and whom to turn to (the
// office's contact the case started with), in standard and easy German.
func TestRejectionCarriesRemedyAndContact(t *testing.T) {
	def := definition(t, "gewerbeanmeldung", dresden)
	h := newHarness(t, def, gewerbeData)
	h.in.Contact = &definitions.Contact{Office: "Bürgeramt Dresden", Address: "Theaterstraße 11, 01067 Dresden",
		Phone: "0351 488-0", Email: "buergeramt@dresden.example"}
	h.expectPayment()
	h.expectSealAndDelivery()
	h.at(time.Minute, func() { h.signalPayment("pay-1", ozgflow.PaymentPayed) })
	h.at(time.Hour, func() {
		h.update(ozgflow.UpdateComplete, "", ozgflow.CompleteTask{TaskID: "c1.review.1", User: "sb", Outcome: "reject", Comment: "Keine Erlaubnis"})
	})
	got := h.run()
	last := got.Timeline[len(got.Timeline)-1]
	if last.Status != ozgflow.StatusRejected {
		t.Fatalf("last notice %+v", last)
	}
	for _, want := range []string{"Keine Erlaubnis", "Rechtsbehelfsbelehrung: Gegen diesen Bescheid", "Widerspruch",
		"Bürgeramt Dresden", "Theaterstraße 11, 01067 Dresden", "Telefon: 0351 488-0"} {
		if !strings.Contains(last.Text, want) {
			t.Errorf("rejection text lacks %q:\n%s", want, last.Text)
		}
	}
	for _, want := range []string{"Widerspruch", "Hier bekommen Sie Hilfe", "Bürgeramt Dresden"} {
		if !strings.Contains(last.Easy, want) {
			t.Errorf("easy rejection lacks %q:\n%s", want, last.Easy)
		}
	}
	for _, n := range got.Timeline[:len(got.Timeline)-1] {
		if strings.Contains(n.Text, "Rechtsbehelfsbelehrung") {
			t.Errorf("notice %s is no rejection but carries the remedy", n.ID)
		}
	}
}

var hundData = `{"hund":{"name":"Bello","rasse":"Dackel","geburtsdatum":"2024-03-01"},"haltungSeit":"2026-10-01",
	"anschrift":{"strasse":"Prager Straße","hausnummer":"3","plz":"01069","ort":"Dresden"}}`
