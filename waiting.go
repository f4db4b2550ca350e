package ozgflow

// What an open case waits for, as its status alone cannot always say: a
// case whose fee is paid keeps the status awaiting_payment until its
// delivery succeeds, which during an outage of the back-office system can
// take hours.
const (
	WaitingForPayment    = "payment"     // the applicant's payment
	WaitingForSignature  = "signature"   // the applicant's signature
	WaitingForDelivery   = "delivery"    // the hand-over to the back-office system
	WaitingForCaseWorker = "case_worker" // a case worker's decision
	WaitingForApplicant  = "applicant"   // the applicant's answer to a question
	WaitingForBackOffice = "back_office" // an event of the back-office system
)

// Stage kinds of the definitions this file reads (definitions.Kind*).
const (
	stageDeliver      = "deliver"
	stageArchive      = "archive"
	stageWaitExternal = "wait-external"
)

// WaitingFor says what an open case waits for now; "" for a closed case
// and for one between steps.
func (c Case) WaitingFor() string {
	switch {
	case c.Status.Final():
		return ""
	case c.Status == StatusInformationRequested:
		return WaitingForApplicant
	case len(c.OpenTasks()) > 0:
		return WaitingForCaseWorker
	case c.StageKind == stageDeliver || c.StageKind == stageArchive:
		return WaitingForDelivery
	case c.StageKind == stageWaitExternal:
		return WaitingForBackOffice
	case c.Status == StatusAwaitingSignature:
		return WaitingForSignature
	case c.Status == StatusAwaitingPayment && !c.Paid():
		return WaitingForPayment
	}
	return ""
}

// Paid reports whether the case's fee is paid.
func (c Case) Paid() bool { return c.Payment != nil && c.Payment.Status == PaymentPayed }

// ShownStatus is the status as people should read it: a paid case no
// longer awaits its payment, whatever the workflow's last status notice
// said, and counts as received until the next status.
func (c Case) ShownStatus() Status {
	if c.Status == StatusAwaitingPayment && c.Paid() {
		return StatusReceived
	}
	return c.Status
}
