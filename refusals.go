package ozgflow

import "errors"

// Reason names why an action on a case or task was refused, independent of
// language: the workflow's update validators and the case service refuse
// with a Reason, and every room (API, staff pages, applicant pages) words it
// from one text table per language (package locale).
type Reason string

// Refusal reasons. Args of a refusal, where a text needs them, are listed
// after each reason in the order the texts use them.
const (
	ReasonTaskNotFound        Reason = "task_not_found"         // task ID
	ReasonCaseClosed          Reason = "case_closed"            // status
	ReasonCaseWithdrawn       Reason = "case_withdrawn"         //
	ReasonTaskFinished        Reason = "task_finished"          // task status
	ReasonAwaitsApproval      Reason = "awaits_approval"        // proposer
	ReasonTaskClaimed         Reason = "task_claimed"           // holder
	ReasonTaskNotClaimed      Reason = "task_not_claimed"       //
	ReasonOutcomeMissing      Reason = "outcome_missing"        //
	ReasonOutcomeNotOffered   Reason = "outcome_not_offered"    // outcome
	ReasonQuestionMissing     Reason = "question_missing"       //
	ReasonNoApprovalPending   Reason = "no_approval_pending"    //
	ReasonOwnProposal         Reason = "own_proposal"           //
	ReasonDenialReasonMissing Reason = "denial_reason_missing"  //
	ReasonHandoverTarget      Reason = "handover_target"        //
	ReasonQueueUnknown        Reason = "queue_unknown"          // queue
	ReasonColleagueUnknown    Reason = "colleague_unknown"      // colleague
	ReasonColleagueNotInQueue Reason = "colleague_not_in_queue" // colleague, queue
	ReasonNoQuestionWaiting   Reason = "no_question_waiting"    //
	ReasonAnswerEmpty         Reason = "answer_empty"           //
	ReasonNotWithdrawable     Reason = "not_withdrawable"       // status
	ReasonNoPaymentPending    Reason = "no_payment_pending"     //
	ReasonPaymentNotRetryable Reason = "payment_not_retryable"  // payment status
	ReasonNothingSelected     Reason = "nothing_selected"       //
	ReasonNotCaseWorker       Reason = "not_case_worker"        //
	ReasonCaseOpen            Reason = "case_open"              // case numbers
	ReasonFollowUpDate        Reason = "follow_up_date"         // the date as given
	ReasonFollowUpPast        Reason = "follow_up_past"         // the date, German
	ReasonFollowUpFar         Reason = "follow_up_far"          // the date, German
	ReasonSearchTooGeneral    Reason = "search_too_general"     // the word
	ReasonNoteMissing         Reason = "note_missing"           //
	ReasonNoDeliveryRejected  Reason = "no_delivery_rejected"   //
)

// Reasons lists every refusal reason, so that a test can prove each has a
// text in every language.
var Reasons = []Reason{
	ReasonTaskNotFound, ReasonCaseClosed, ReasonCaseWithdrawn, ReasonTaskFinished, ReasonAwaitsApproval,
	ReasonTaskClaimed, ReasonTaskNotClaimed, ReasonOutcomeMissing, ReasonOutcomeNotOffered, ReasonQuestionMissing,
	ReasonNoApprovalPending, ReasonOwnProposal, ReasonDenialReasonMissing, ReasonHandoverTarget, ReasonQueueUnknown,
	ReasonColleagueUnknown, ReasonColleagueNotInQueue, ReasonNoQuestionWaiting, ReasonAnswerEmpty,
	ReasonNotWithdrawable, ReasonNoPaymentPending, ReasonPaymentNotRetryable, ReasonNothingSelected,
	ReasonNotCaseWorker, ReasonCaseOpen, ReasonFollowUpDate, ReasonFollowUpPast, ReasonFollowUpFar,
	ReasonSearchTooGeneral, ReasonNoteMissing,
	ReasonNoDeliveryRejected,
}

// Refusal is the language-independent part of a refused action: why, and
// the values its text names (a holder's subject, a status, a queue).
type Refusal struct {
	Reason Reason   `json:"reason"`
	Args   []string `json:"args,omitempty"`
}

// Refuse returns an *Error with a code, an English message for logs and the
// API, and the refusal the rooms put into words.
func Refuse(code string, reason Reason, message string, args ...string) *Error {
	return &Error{Code: code, Message: message, Refusal: &Refusal{Reason: reason, Args: args}}
}

// RefusalOf returns the refusal carried by err, if any.
func RefusalOf(err error) *Refusal {
	var e *Error
	if errors.As(err, &e) {
		return e.Refusal
	}
	return nil
}
