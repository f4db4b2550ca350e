package locale

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ozgflow/ozgflow"
)

// refusalArgs is how many args each reason carries, as refusals.go lists
// them after each reason.
var refusalArgs = map[ozgflow.Reason]int{
	ozgflow.ReasonTaskNotFound:        1, // task ID
	ozgflow.ReasonCaseClosed:          1, // status
	ozgflow.ReasonCaseWithdrawn:       0,
	ozgflow.ReasonTaskFinished:        1, // task status
	ozgflow.ReasonAwaitsApproval:      1, // proposer
	ozgflow.ReasonTaskClaimed:         1, // holder
	ozgflow.ReasonTaskNotClaimed:      0,
	ozgflow.ReasonOutcomeMissing:      0,
	ozgflow.ReasonOutcomeNotOffered:   1, // outcome
	ozgflow.ReasonQuestionMissing:     0,
	ozgflow.ReasonNoApprovalPending:   0,
	ozgflow.ReasonOwnProposal:         0,
	ozgflow.ReasonDenialReasonMissing: 0,
	ozgflow.ReasonHandoverTarget:      0,
	ozgflow.ReasonQueueUnknown:        1, // queue
	ozgflow.ReasonColleagueUnknown:    1, // colleague
	ozgflow.ReasonColleagueNotInQueue: 2, // colleague, queue
	ozgflow.ReasonNoQuestionWaiting:   0,
	ozgflow.ReasonAnswerEmpty:         0,
	ozgflow.ReasonNotWithdrawable:     1, // status
	ozgflow.ReasonNoPaymentPending:    0,
	ozgflow.ReasonPaymentNotRetryable: 1, // payment status
	ozgflow.ReasonNothingSelected:     0,
	ozgflow.ReasonNotCaseWorker:       0,
	ozgflow.ReasonCaseOpen:            1, // case numbers
	ozgflow.ReasonFollowUpDate:        1, // the date as given
	ozgflow.ReasonFollowUpPast:        1, // the date
	ozgflow.ReasonFollowUpFar:         1, // the date
	ozgflow.ReasonSearchTooGeneral:    1, // the word
	ozgflow.ReasonNoteMissing:         0,
	ozgflow.ReasonNoDeliveryRejected:  0,
}

var verb = regexp.MustCompile(`%[^%]|%%`)

// TestEveryRefusalInBothLanguages proves that each reason has a German and
// an English text and that each text names exactly the args its reason
// carries.
func TestEveryRefusalInBothLanguages(t *testing.T) {
	for _, reason := range ozgflow.Reasons {
		want, documented := refusalArgs[reason]
		if !documented {
			t.Errorf("%s: the test does not know how many args it carries", reason)
		}
		w, ok := refusalTexts[reason]
		if !ok {
			t.Errorf("%s has no text", reason)
			continue
		}
		for l, text := range map[Lang]string{DE: w.de, EN: w.en} {
			got := 0
			for _, m := range verb.FindAllString(text, -1) {
				if m == "%%" {
					continue
				}
				if m != "%s" {
					t.Errorf("%s in %s: verb %q, want %%s (args are strings)", reason, l, m)
				}
				got++
			}
			if text == "" || got != want {
				t.Errorf("%s in %s: %q names %d args, want %d", reason, l, text, got, want)
			}
		}
	}
	if len(refusalTexts) != len(ozgflow.Reasons) {
		t.Errorf("%d refusal texts for %d reasons", len(refusalTexts), len(ozgflow.Reasons))
	}
}

func TestRefusal(t *testing.T) {
	tests := []struct {
		name    string
		lang    Lang
		refusal ozgflow.Refusal
		want    string
	}{
		{"holder", DE, ozgflow.Refusal{Reason: ozgflow.ReasonTaskClaimed, Args: []string{"Erika Muster"}},
			"Diese Aufgabe bearbeitet bereits Erika Muster."},
		{"holder in English", EN, ozgflow.Refusal{Reason: ozgflow.ReasonTaskClaimed, Args: []string{"Erika Muster"}},
			"This task is already being worked on by Erika Muster."},
		{"case status worded", DE, ozgflow.Refusal{Reason: ozgflow.ReasonNotWithdrawable, Args: []string{string(ozgflow.StatusApproved)}},
			"Der Antrag ist bereits abgeschlossen (Stand: Bewilligt) und kann nicht mehr zurückgezogen werden."},
		{"case status in English", EN, ozgflow.Refusal{Reason: ozgflow.ReasonCaseClosed, Args: []string{string(ozgflow.StatusRejected)}},
			"The case is already closed (status: Rejected). It can no longer be changed."},
		{"task status worded", DE, ozgflow.Refusal{Reason: ozgflow.ReasonTaskFinished, Args: []string{ozgflow.TaskDone}},
			"Die Aufgabe ist bereits beendet (Stand: Erledigt)."},
		{"payment status worded", EN, ozgflow.Refusal{Reason: ozgflow.ReasonPaymentNotRetryable, Args: []string{ozgflow.PaymentPayed}},
			"The payment cannot be retried (status: paid). Only a failed or cancelled payment can be tried again."},
		{"outcome worded", DE, ozgflow.Refusal{Reason: ozgflow.ReasonOutcomeNotOffered, Args: []string{ozgflow.OutcomeRequestInformation}},
			"Die Entscheidung „Nachfragen“ ist bei dieser Aufgabe nicht vorgesehen."},
		{"two args", EN, ozgflow.Refusal{Reason: ozgflow.ReasonColleagueNotInQueue, Args: []string{"Max Muster", "gewerbe-leitung"}},
			"Max Muster does not work in the queue “gewerbe-leitung”. Please choose someone from that queue, or hand the task over to the queue."},
		{"no args", DE, ozgflow.Refusal{Reason: ozgflow.ReasonOwnProposal},
			"Ihre Entscheidung muss eine zweite Person bestätigen, nicht Sie selbst."},
		{"a missing arg reads as empty", DE, ozgflow.Refusal{Reason: ozgflow.ReasonTaskNotFound},
			"Die Aufgabe  gibt es nicht (mehr)."},
		{"an extra arg is left out", DE, ozgflow.Refusal{Reason: ozgflow.ReasonCaseWithdrawn, Args: []string{"x"}},
			"Der Antrag wurde inzwischen zurückgezogen. Eine Entscheidung ist nicht mehr möglich."},
		{"unknown reason", EN, ozgflow.Refusal{Reason: "no_such_reason"}, "no_such_reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.lang.Refusal(tt.refusal)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if strings.Contains(got, "%!") {
				t.Errorf("badly formatted: %q", got)
			}
		})
	}
}
