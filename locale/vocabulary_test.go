package locale

import (
	"testing"

	"github.com/ozgflow/ozgflow"
)

func TestStaffWords(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"case status", DE.CaseStatus(ozgflow.StatusInReview), "In Prüfung"},
		{"case status in English", EN.CaseStatus(ozgflow.StatusInReview), "In review"},
		{"unknown case status", DE.CaseStatus("archived"), "archived"},
		{"short case status", DE.CaseStatusShort(ozgflow.StatusInformationRequested), "Rückfrage"},
		{"short case status as long", DE.CaseStatusShort(ozgflow.StatusApproved), "Bewilligt"},
		{"short case status in English", EN.CaseStatusShort(ozgflow.StatusForwarded), "Forwarded"},
		{"task status", DE.TaskStatus(ozgflow.TaskClaimed), "In Bearbeitung"},
		{"task status in English", EN.TaskStatus(ozgflow.TaskApproval), "Awaiting approval"},
		{"outcome", DE.Outcome(ozgflow.OutcomeRequestInformation), "Nachfragen"},
		{"outcome in English", EN.Outcome(ozgflow.OutcomeReject), "Reject"},
		{"audit action", DE.AuditAction(ozgflow.AuditProposed), "Entscheidung vorgeschlagen (Vier-Augen-Prinzip)"},
		{"unknown audit action", EN.AuditAction("sealed"), "sealed"},
		{"payment status", DE.PaymentStatus(ozgflow.PaymentPayed), "bezahlt"},
		{"payment status in English", EN.PaymentStatus(ozgflow.PaymentCanceled), "cancelled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

// TestStaffWordsInBothLanguages keeps every status, outcome and audit
// action named in German and English.
func TestStaffWordsInBothLanguages(t *testing.T) {
	tables := map[string]map[string]words{
		"case status": caseStatusWords, "short case status": caseStatusShortWords, "task status": taskStatusWords, "outcome": outcomeWords,
		"audit action": auditWords, "payment status": paymentWords,
	}
	for name, table := range tables {
		for key, w := range table {
			if w.de == "" || w.en == "" {
				t.Errorf("%s %q: %+v, want German and English", name, key, w)
			}
		}
	}
	for _, s := range []ozgflow.Status{ozgflow.StatusReceived, ozgflow.StatusAwaitingPayment, ozgflow.StatusAwaitingSignature,
		ozgflow.StatusForwarded, ozgflow.StatusInReview, ozgflow.StatusInformationRequested, ozgflow.StatusApproved,
		ozgflow.StatusRejected, ozgflow.StatusWithdrawn, ozgflow.StatusCancelled} {
		if _, ok := caseStatusWords[string(s)]; !ok {
			t.Errorf("case status %q has no words", s)
		}
	}
}

func TestDecision(t *testing.T) {
	for _, tt := range []struct {
		lang          Lang
		outcome, want string
	}{
		{DE, ozgflow.OutcomeApprove, "Bewilligt"}, {DE, ozgflow.OutcomeReject, "Abgelehnt"},
		{EN, ozgflow.OutcomeApprove, "Approved"}, {EN, ozgflow.OutcomeReject, "Rejected"},
	} {
		if got := tt.lang.Decision(tt.outcome); got != tt.want {
			t.Errorf("%s %s: %q, want %q", tt.lang, tt.outcome, got, tt.want)
		}
	}
}
