package locale

import (
	"fmt"
	"strings"

	"github.com/ozgflow/ozgflow"
)

// Refusal says why an action was refused, for the case worker or applicant
// who tried it, with the refusal's args in the text. A status among the
// args is named with the language's word for it (CaseStatus, TaskStatus,
// PaymentStatus), an outcome with Outcome; args that name people should
// carry their names, not their subjects. An unknown reason comes back as
// given.
func (l Lang) Refusal(r ozgflow.Refusal) string {
	w, ok := refusalTexts[r.Reason]
	if !ok {
		return string(r.Reason)
	}
	text := l.pick(w)
	args := make([]any, verbs(text)) // a missing arg reads as empty, an extra one is left out
	for i := range args {
		switch table, named := refusalArgWords[r.Reason]; {
		case i >= len(r.Args):
			args[i] = ""
		case i == 0 && named:
			args[i] = l.word(table, r.Args[i])
		default:
			args[i] = r.Args[i]
		}
	}
	return fmt.Sprintf(text, args...)
}

// verbs counts the formatting verbs in a text; "%%" is none.
func verbs(text string) int {
	return strings.Count(text, "%") - 2*strings.Count(text, "%%")
}

// refusalArgWords names the refusals whose first arg is a status or an
// outcome, and the words for it.
var refusalArgWords = map[ozgflow.Reason]map[string]words{
	ozgflow.ReasonCaseClosed:          caseStatusWords,
	ozgflow.ReasonTaskFinished:        taskStatusWords,
	ozgflow.ReasonOutcomeNotOffered:   outcomeWords,
	ozgflow.ReasonNotWithdrawable:     caseStatusWords,
	ozgflow.ReasonPaymentNotRetryable: paymentWords,
}

// refusalTexts words every refusal reason; the args, in ozgflow's order,
// fill the %s.
var refusalTexts = map[ozgflow.Reason]words{
	ozgflow.ReasonSearchTooGeneral: {
		"Mit „%s“ beginnen zu viele Namen und Wörter. Bitte geben Sie mehr davon ein.",
		"Too many names and words begin with \"%s\". Please type more of it."},
	ozgflow.ReasonFollowUpDate: {
		"„%s“ ist kein Datum. Bitte geben Sie den Tag der Wiedervorlage als Datum an, etwa 03.12.2026.",
		"\"%s\" is not a date. Please give the day of the follow-up as a date, e.g. 2026-12-03."},
	ozgflow.ReasonFollowUpPast: {
		"Die Wiedervorlage am %s liegt nicht in der Zukunft. Wählen Sie bitte einen Tag ab morgen.",
		"A follow-up on %s is not in the future. Please choose a day from tomorrow on."},
	ozgflow.ReasonFollowUpFar: {
		"Die Wiedervorlage am %s liegt mehr als zwei Jahre in der Zukunft. Wählen Sie bitte einen früheren Tag.",
		"A follow-up on %s is more than two years ahead. Please choose an earlier day."},
	ozgflow.ReasonCaseOpen: {
		"Noch nicht abgeschlossen: %s. Personenbezogene Daten eines laufenden Vorgangs werden erst nach seinem Abschluss gelöscht.",
		"Still open: %s. The personal data of a running case is erased only once it has closed."},
	ozgflow.ReasonNotCaseWorker: {
		"Aufgaben bearbeiten nur Sachbearbeiterinnen und Sachbearbeiter der zuständigen Behörde; die Administration sieht sie nur ein.",
		"Only case workers of the responsible authority work on tasks; administrators can only look at them."},
	ozgflow.ReasonTaskNotFound: {
		"Die Aufgabe %s gibt es nicht (mehr).",
		"Task %s does not exist (any more)."},
	ozgflow.ReasonCaseClosed: {
		"Der Vorgang ist bereits abgeschlossen (Stand: %s). Daran lässt sich nichts mehr ändern.",
		"The case is already closed (status: %s). It can no longer be changed."},
	ozgflow.ReasonCaseWithdrawn: {
		"Der Antrag wurde inzwischen zurückgezogen. Eine Entscheidung ist nicht mehr möglich.",
		"The application has been withdrawn in the meantime. A decision is no longer possible."},
	ozgflow.ReasonTaskFinished: {
		"Die Aufgabe ist bereits beendet (Stand: %s).",
		"The task has already ended (status: %s)."},
	ozgflow.ReasonAwaitsApproval: {
		"Die Entscheidung von %s wartet auf die Bestätigung durch eine zweite Person.",
		"The decision proposed by %s is waiting for confirmation by a second person."},
	ozgflow.ReasonTaskClaimed: {
		"Diese Aufgabe bearbeitet bereits %s.",
		"This task is already being worked on by %s."},
	ozgflow.ReasonTaskNotClaimed: {
		"Die Aufgabe hat noch niemand übernommen. Bitte übernehmen Sie sie zuerst.",
		"Nobody has claimed the task yet. Please claim it first."},
	ozgflow.ReasonOutcomeMissing: {
		"Die Entscheidung fehlt: Bitte wählen Sie aus, wie Sie entscheiden.",
		"The decision is missing: please choose how you decide."},
	ozgflow.ReasonOutcomeNotOffered: {
		"Die Entscheidung „%s“ ist bei dieser Aufgabe nicht vorgesehen.",
		"The decision “%s” is not offered for this task."},
	ozgflow.ReasonQuestionMissing: {
		"Die Frage fehlt: Bitte schreiben Sie Ihre Frage an die antragstellende Person.",
		"The question is missing: please write your question to the applicant."},
	ozgflow.ReasonNoApprovalPending: {
		"Bei dieser Aufgabe wartet keine Entscheidung auf Bestätigung.",
		"No decision on this task is waiting for confirmation."},
	ozgflow.ReasonOwnProposal: {
		"Ihre Entscheidung muss eine zweite Person bestätigen, nicht Sie selbst.",
		"Your decision must be confirmed by a second person, not by yourself."},
	ozgflow.ReasonDenialReasonMissing: {
		"Die Begründung fehlt: Bitte schreiben Sie, warum Sie die Entscheidung nicht bestätigen und zurückgeben.",
		"The reason is missing: please say why you do not confirm the decision and return it."},
	ozgflow.ReasonHandoverTarget: {
		"Das Ziel fehlt: Bitte wählen Sie eine Kollegin, einen Kollegen oder einen Arbeitskorb, an die oder den Sie die Aufgabe abgeben.",
		"The recipient is missing: please choose a colleague or a queue to hand the task over to."},
	ozgflow.ReasonQueueUnknown: {
		"Den Arbeitskorb „%s“ gibt es in diesem Verfahren nicht. Bitte wählen Sie einen aus der Liste.",
		"There is no queue “%s” in this process. Please choose one from the list."},
	ozgflow.ReasonColleagueUnknown: {
		"„%s“ arbeitet nicht in Ihrer Behörde. Bitte wählen Sie eine Person aus der Liste.",
		"“%s” does not work in your authority. Please choose someone from the list."},
	ozgflow.ReasonColleagueNotInQueue: {
		"%s arbeitet nicht im Arbeitskorb „%s“. Bitte wählen Sie eine Person aus diesem Arbeitskorb oder geben Sie die Aufgabe an den Arbeitskorb ab.",
		"%s does not work in the queue “%s”. Please choose someone from that queue, or hand the task over to the queue."},
	ozgflow.ReasonNoQuestionWaiting: {
		"Zu diesem Antrag wartet keine Frage auf eine Antwort.",
		"No question about this application is waiting for an answer."},
	ozgflow.ReasonAnswerEmpty: {
		"Bitte schreiben Sie eine Antwort oder wählen Sie ein Dokument aus.",
		"Please write an answer or choose a document."},
	ozgflow.ReasonNotWithdrawable: {
		"Der Antrag ist bereits abgeschlossen (Stand: %s) und kann nicht mehr zurückgezogen werden.",
		"The application is already closed (status: %s) and can no longer be withdrawn."},
	ozgflow.ReasonNoPaymentPending: {
		"Für diesen Antrag ist keine Zahlung offen.",
		"There is no payment due for this application."},
	ozgflow.ReasonPaymentNotRetryable: {
		"Die Zahlung lässt sich nicht wiederholen (Stand: %s). Nur eine fehlgeschlagene oder abgebrochene Zahlung kann erneut versucht werden.",
		"The payment cannot be retried (status: %s). Only a failed or cancelled payment can be tried again."},
	ozgflow.ReasonNothingSelected: {
		"Bitte wählen Sie mindestens eine Aufgabe aus.",
		"Please select at least one task."},
	ozgflow.ReasonNoteMissing: {
		"Der Text der Notiz fehlt: Bitte schreiben Sie, was Sie Ihren Kolleginnen und Kollegen festhalten wollen.",
		"The note is empty: please write what you want to keep for your colleagues."},
	ozgflow.ReasonNoDeliveryRejected: {
		"Die Zustellung dieses Vorgangs wurde nicht abgelehnt; es gibt nichts erneut zu senden.",
		"The delivery of this case was not rejected; there is nothing to resend."},
}
