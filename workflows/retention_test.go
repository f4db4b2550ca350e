package workflows

import (
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
)

// TestClosedCaseKeepsItsFinalRecordUntilTheVariantsRetentionEnds runs a
// parking permit (retention 6M) to its decision: the final record holds
// the final state and the application, closed at workflow time, kept six
// calendar months, and the projection expires then too.
func TestClosedCaseKeepsItsFinalRecordUntilTheVariantsRetentionEnds(t *testing.T) {
	def := definition(t, "anwohnerparkausweis", leipzig)
	if def.Retention != "6M" {
		t.Fatalf("the catalog's parking permit keeps data %q, this test expects 6M", def.Retention)
	}
	h := newHarness(t, def, parkingData("Südvorstadt", true))
	h.expectPayment()
	h.expectSealAndDelivery()
	h.at(time.Minute, func() { h.signalPayment("pay-1", ozgflow.PaymentPayed) })
	got := h.run()
	if got.Status != ozgflow.StatusApproved {
		t.Fatalf("status %s, want approved", got.Status)
	}
	rec, ok := h.records.kept["c1"]
	if !ok {
		t.Fatal("no final record kept at close")
	}
	if rec.Case.Status != ozgflow.StatusApproved || rec.Case.Stage != "done" || rec.Case.Decision == nil {
		t.Errorf("record holds status %s stage %s decision %v, want the final state", rec.Case.Status, rec.Case.Stage, rec.Case.Decision)
	}
	if rec.Application.Applicant.PortalAccount != "acc-1" || string(rec.Application.Data) == "" {
		t.Errorf("record holds application %+v, want the case's", rec.Application)
	}
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	if rec.ClosedAt.Before(start) || rec.ClosedAt.After(start.Add(2*time.Hour)) {
		t.Errorf("closed at %s, want workflow time shortly after %s", rec.ClosedAt, start)
	}
	if want := rec.ClosedAt.AddDate(0, 6, 0); !rec.RetainUntil.Equal(want) {
		t.Errorf("retained until %s, want %s", rec.RetainUntil, want)
	}
	if exp := h.store.expires["c1"]; !exp.Equal(rec.RetainUntil) {
		t.Errorf("projection expires %s, want %s", exp, rec.RetainUntil)
	}
}
