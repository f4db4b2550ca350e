package definitions

import "github.com/ozgflow/ozgflow"

// The Fachverfahren's callbacks in a variant: a wait-external step on the
// event "decided" (ozgflow.CallbackDecided) makes the Fachverfahren the
// place where the case is decided. Its decision arrives as a callback with
// an outcome and, usually, the decision's document, which comes with the
// applicant's approved or rejected notice. Progress callbacks (received,
// in review) show in the timeline with the notices below; a variant words
// them itself under the same keys.

// NoticeBackOfficeReceived tells the applicant that the Fachverfahren has
// taken the case in, under its reference.
const NoticeBackOfficeReceived = "backoffice_received"

// CallbackNotices are the texts of the progress notices for variants that
// have none of their own: the Fachverfahren received the case, and it is in
// review (the status in_review).
var CallbackNotices = map[string]NoticeTemplate{
	NoticeBackOfficeReceived: {
		Title: "Antrag bei der Behörde eingegangen",
		Text:  "Die zuständige Stelle hat Ihren Antrag unter dem Aktenzeichen {{.Reference}} erfasst.",
		Easy:  "Ihr Antrag ist jetzt bei der Behörde. Die Behörde hat diese Nummer für Ihren Antrag: {{.Reference}}",
	},
	string(ozgflow.StatusInReview): {
		Title: "Antrag in Bearbeitung",
		Text:  "Die zuständige Stelle bearbeitet Ihren Antrag.",
		Easy:  "Die Behörde prüft jetzt Ihren Antrag.",
	},
}

// NoticeFor is the variant's notice template under key, or the default of
// CallbackNotices or OperationNotices; ok is false when none has one.
func (d *Definition) NoticeFor(key string) (NoticeTemplate, bool) {
	if t, ok := d.Notices[key]; ok {
		return t, true
	}
	if t, ok := CallbackNotices[key]; ok {
		return t, true
	}
	t, ok := OperationNotices[key]
	return t, ok
}

// DecidedByFachverfahren reports whether a step of the variant waits for the
// Fachverfahren's decision: a wait-external step on the event "decided".
func (d *Definition) DecidedByFachverfahren() bool {
	for _, s := range d.Steps {
		if s.Kind == KindWaitExternal && s.Event == ozgflow.CallbackDecided {
			return true
		}
	}
	return false
}
