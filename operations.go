package ozgflow

import (
	"regexp"
	"time"
)

// External calls: every call a case makes to a system outside ozgflow
// (a Fachverfahren or archive, the payment provider, the signer, the mail
// server) goes to a target. A call that keeps failing leaves its case
// waiting on that target; administrators see such cases, resend or cancel
// them, and the operator is alerted when a target fails for too long.

// Targets of the calls that do not name one themselves.
const (
	TargetPayment = "payment" // the payment provider
	TargetSigner  = "signer"  // the signing service (seal and applicant signatures)
	TargetMail    = "mail"    // the mail server of email notices
)

// UpdateCancel ends a case on the authority's side with a reason the
// applicant is told (an administrator's "Abbrechen").
const UpdateCancel = "cancel"

// AuditCancelled is an administrator's cancellation of a case; the detail
// carries the reason.
const AuditCancelled = "cancelled"

// Cancellation is why the authority ends a case; the applicant reads the
// reason in the notice.
type Cancellation struct {
	Reason string `json:"reason"`
	// By is who cancelled: the administrator's subject.
	By string `json:"by,omitempty"`
}

// CallFailure is the last failed attempt of a case's call to a target,
// and since when the call has failed without a success in between.
type CallFailure struct {
	CaseID    string    `json:"caseId"`
	Target    string    `json:"target"`
	Operation string    `json:"operation"` // the activity: Deliver, Seal, CreatePayment, …
	Error     string    `json:"error"`
	Attempt   int       `json:"attempt"`
	At        time.Time `json:"at"`    // the last failed attempt
	Since     time.Time `json:"since"` // the first failed attempt of this run
}

// emailAddress finds e-mail addresses in an error text.
var emailAddress = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)

// RedactCallError removes what may identify a person from a failed call's
// technical message before it is kept or shown: e-mail addresses (a mail
// server's reply names the recipient).
func RedactCallError(msg string) string {
	return emailAddress.ReplaceAllString(msg, "[E-Mail-Adresse]")
}
