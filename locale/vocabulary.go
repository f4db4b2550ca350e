package locale

import "github.com/ozgflow/ozgflow"

// The staff's words for the states and actions of cases and tasks. The
// German words are the ones the Arbeitskorb, the case view and the reports
// have always shown.

// CaseStatus names a case's status, e.g. "In Prüfung", "In review". An
// unknown status comes back as given.
func (l Lang) CaseStatus(s ozgflow.Status) string {
	return l.word(caseStatusWords, string(s))
}

// CaseStatusShort names a case's status in a word or two, for charts and
// spreadsheet columns where CaseStatus's label would be too long, e.g.
// "Rückfrage" for "Rückfrage an die antragstellende Person".
func (l Lang) CaseStatusShort(s ozgflow.Status) string {
	if w, ok := caseStatusShortWords[string(s)]; ok {
		return l.pick(w)
	}
	return l.CaseStatus(s)
}

// TaskStatus names a task's status, e.g. "In Bearbeitung", "In progress".
func (l Lang) TaskStatus(s string) string { return l.word(taskStatusWords, s) }

// Outcome names what a case worker can decide: approve, reject or ask the
// applicant (request_information).
func (l Lang) Outcome(o string) string { return l.word(outcomeWords, o) }

// Decision names a decided outcome as its result, e.g. "Bewilligt" for
// approve: the word of the status the decision leads to.
func (l Lang) Decision(outcome string) string {
	switch outcome {
	case ozgflow.OutcomeApprove:
		return l.CaseStatus(ozgflow.StatusApproved)
	case ozgflow.OutcomeReject:
		return l.CaseStatus(ozgflow.StatusRejected)
	}
	return l.Outcome(outcome)
}

// AuditAction names an entry of a case's audit trail, e.g. "übernommen".
func (l Lang) AuditAction(a string) string { return l.word(auditWords, a) }

// PaymentStatus names the state of a payment, e.g. "bezahlt", "paid".
func (l Lang) PaymentStatus(s string) string { return l.word(paymentWords, s) }

// word looks key up in table; an unknown key comes back as given.
func (l Lang) word(table map[string]words, key string) string {
	w, ok := table[key]
	if !ok {
		return key
	}
	return l.pick(w)
}

var caseStatusWords = map[string]words{
	string(ozgflow.StatusReceived):             {"Eingegangen", "Received"},
	string(ozgflow.StatusAwaitingPayment):      {"Wartet auf Zahlung", "Awaiting payment"},
	string(ozgflow.StatusAwaitingSignature):    {"Wartet auf Unterschrift", "Awaiting signature"},
	string(ozgflow.StatusForwarded):            {"An das Fachverfahren übermittelt", "Passed to the back-office system"},
	string(ozgflow.StatusInReview):             {"In Prüfung", "In review"},
	string(ozgflow.StatusInformationRequested): {"Rückfrage an die antragstellende Person", "Question to the applicant"},
	string(ozgflow.StatusApproved):             {"Bewilligt", "Approved"},
	string(ozgflow.StatusRejected):             {"Abgelehnt", "Rejected"},
	string(ozgflow.StatusWithdrawn):            {"Zurückgezogen", "Withdrawn"},
	string(ozgflow.StatusCancelled):            {"Abgebrochen", "Cancelled"},
}

// caseStatusShortWords holds the short names where they differ from
// caseStatusWords.
var caseStatusShortWords = map[string]words{
	string(ozgflow.StatusForwarded):            {"Übermittelt", "Forwarded"},
	string(ozgflow.StatusInformationRequested): {"Rückfrage", "Question"},
}

var taskStatusWords = map[string]words{
	ozgflow.TaskOpen:      {"Offen", "Open"},
	ozgflow.TaskClaimed:   {"In Bearbeitung", "In progress"},
	ozgflow.TaskApproval:  {"Wartet auf Freigabe", "Awaiting approval"},
	ozgflow.TaskDone:      {"Erledigt", "Done"},
	ozgflow.TaskCancelled: {"Entfallen", "No longer needed"},
}

var outcomeWords = map[string]words{
	ozgflow.OutcomeApprove:            {"Bewilligen", "Approve"},
	ozgflow.OutcomeReject:             {"Ablehnen", "Reject"},
	ozgflow.OutcomeRequestInformation: {"Nachfragen", "Ask the applicant"},
}

var auditWords = map[string]words{
	ozgflow.AuditClaimed:        {"übernommen", "claimed"},
	ozgflow.AuditReleased:       {"freigegeben", "released"},
	ozgflow.AuditHandedOver:     {"abgegeben", "handed over"},
	ozgflow.AuditDecided:        {"entschieden", "decided"},
	ozgflow.AuditProposed:       {"Entscheidung vorgeschlagen (Vier-Augen-Prinzip)", "decision proposed (four-eyes principle)"},
	ozgflow.AuditApproved:       {"Entscheidung bestätigt", "decision approved"},
	ozgflow.AuditApprovalDenied: {"Entscheidung zurückgegeben", "decision returned"},
	ozgflow.AuditAsked:          {"Rückfrage an die antragstellende Person", "question to the applicant"},
	ozgflow.AuditAnswered:       {"Antwort der antragstellenden Person", "answer from the applicant"},
	ozgflow.AuditReminded:       {"Erinnerung: Frist läuft bald ab", "reminder: the deadline is near"},
	ozgflow.AuditEscalated:      {"eskaliert: Frist überschritten", "escalated: deadline passed"},
	ozgflow.AuditAnswerReminded: {"Erinnerung an die antragstellende Person", "reminder to the applicant"},
	ozgflow.AuditAnswerExpired:  {"Antwortfrist abgelaufen", "time to answer ended"},
	ozgflow.AuditWithdrawn:      {"Antrag zurückgezogen", "application withdrawn"},

	// Follow-ups (Wiedervorlage).
	ozgflow.AuditFollowUpSet:     {"Wiedervorlage gesetzt", "follow-up set"},
	ozgflow.AuditFollowUpCleared: {"Wiedervorlage entfernt", "follow-up cleared"},
	ozgflow.AuditFollowUpDue:     {"Wiedervorlage: heute wieder vorgelegt", "follow-up: back today"},
	ozgflow.AuditReported:        {"Meldung des Fachverfahrens", "report from the Fachverfahren"},

	// FIT-Connect deliveries.
	ozgflow.AuditDeliveryAccepted: {"Zustellung angenommen (FIT-Connect)", "delivery accepted (FIT-Connect)"},
	ozgflow.AuditDeliveryRejected: {"Zustellung abgelehnt (FIT-Connect)", "delivery rejected (FIT-Connect)"},
	ozgflow.AuditDeliveryResent:   {"Zustellung erneut gesendet", "delivery resent"},
}

var paymentWords = map[string]words{
	ozgflow.PaymentInitial:  {"offen", "open"},
	ozgflow.PaymentPayed:    {"bezahlt", "paid"},
	ozgflow.PaymentFailed:   {"fehlgeschlagen", "failed"},
	ozgflow.PaymentCanceled: {"abgebrochen", "cancelled"},
}
