package ozgflow

import "testing"

func TestWaitingForSaysWhatAnOpenCaseWaitsFor(t *testing.T) {
	paid := &Payment{Status: PaymentPayed}
	open := &Payment{Status: PaymentInitial}
	tests := []struct {
		name    string
		c       Case
		waiting string
		shown   Status
	}{
		{"fee not paid", Case{Status: StatusAwaitingPayment, Stage: "pay", StageKind: "payment", Payment: open}, WaitingForPayment, StatusAwaitingPayment},
		{"paid, delivery retrying", Case{Status: StatusAwaitingPayment, Stage: "deliver", StageKind: "deliver", Payment: paid}, WaitingForDelivery, StatusReceived},
		{"paid, between steps", Case{Status: StatusAwaitingPayment, Payment: paid}, "", StatusReceived},
		{"signature", Case{Status: StatusAwaitingSignature, StageKind: "signature"}, WaitingForSignature, StatusAwaitingSignature},
		{"review", Case{Status: StatusInReview, Tasks: []Task{{Status: TaskOpen}}}, WaitingForCaseWorker, StatusInReview},
		{"question", Case{Status: StatusInformationRequested}, WaitingForApplicant, StatusInformationRequested},
		{"back office", Case{Status: StatusForwarded, StageKind: "wait-external"}, WaitingForBackOffice, StatusForwarded},
		{"decided", Case{Status: StatusApproved, StageKind: "archive"}, "", StatusApproved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.WaitingFor(); got != tt.waiting {
				t.Errorf("WaitingFor = %q, want %q", got, tt.waiting)
			}
			if got := tt.c.ShownStatus(); got != tt.shown {
				t.Errorf("ShownStatus = %q, want %q", got, tt.shown)
			}
		})
	}
}
