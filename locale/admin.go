package locale

import (
	"fmt"
	"time"

	"github.com/ozgflow/ozgflow"
)

// The administrators' words: the statuses of a variant's versions, the
// actions of the record of changes, and durations as a person reads them.

// VersionStatus names where a version of a process variant stands, e.g.
// "veröffentlicht" for published. An unknown status comes back as given.
func (l Lang) VersionStatus(s string) string { return l.word(versionStatusWords, s) }

// ChangeAction names an entry of the record of changes to the variants,
// e.g. "veröffentlicht".
func (l Lang) ChangeAction(a string) string { return l.word(changeActionWords, a) }

// RefundStatus names where the refund of a fee stands, e.g. "erstattet".
func (l Lang) RefundStatus(s string) string { return l.word(refundWords, s) }

var refundWords = map[string]words{
	ozgflow.RefundPending:  {"wird erstattet", "pending"},
	ozgflow.RefundRefunded: {"erstattet", "refunded"},
}

var versionStatusWords = map[string]words{
	"draft":     {"Entwurf", "draft"},
	"published": {"veröffentlicht", "published"},
	"retired":   {"stillgelegt", "retired"},
}

var changeActionWords = map[string]words{
	"created":   {"angelegt", "created"},
	"drafted":   {"Entwurf angelegt", "draft made"},
	"edited":    {"bearbeitet", "edited"},
	"published": {"veröffentlicht", "published"},
	"retired":   {"stillgelegt", "retired"},
}

// Duration writes a span of time rounded to what a person reads: at most two
// units, the larger first, "3 Tage", "2 Std. 10 Min.", "1 Tag 4 Std.",
// "45 Min.", "unter 1 Min."; in English "3 days", "2 h 10 min". Zero or less
// is "–".
func (l Lang) Duration(d time.Duration) string {
	if d <= 0 {
		return "–"
	}
	d = d.Round(time.Minute)
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	de := l != EN
	unit := func(n int, one, many, enOne, enMany string) string {
		if de {
			if n == 1 {
				return fmt.Sprintf("%d %s", n, one)
			}
			return fmt.Sprintf("%d %s", n, many)
		}
		if n == 1 {
			return fmt.Sprintf("%d %s", n, enOne)
		}
		return fmt.Sprintf("%d %s", n, enMany)
	}
	switch {
	case days >= 10:
		// Beyond a week and a half the hours no longer matter.
		if hours >= 12 {
			days++
		}
		return unit(days, "Tag", "Tage", "day", "days")
	case days > 0:
		if hours == 0 {
			return unit(days, "Tag", "Tage", "day", "days")
		}
		return unit(days, "Tag", "Tage", "day", "days") + " " + unit(hours, "Std.", "Std.", "h", "h")
	case hours > 0:
		if mins == 0 {
			return unit(hours, "Std.", "Std.", "h", "h")
		}
		return unit(hours, "Std.", "Std.", "h", "h") + " " + unit(mins, "Min.", "Min.", "min", "min")
	case mins > 0:
		return unit(mins, "Min.", "Min.", "min", "min")
	}
	if de {
		return "unter 1 Min."
	}
	return "under 1 min"
}

// adminText are the administrators' page texts, kept beside the other
// tables' keys.
var adminText = map[Lang]map[string]string{
	DE: {
		"staff.problem.form":          "Das Formular wurde nicht gespeichert; bitte prüfen Sie diese Angaben:",
		"staff.problem.line":          "Zeile %d: %s",
		"staff.problem.again":         "Bitte prüfen Sie die Angaben und versuchen Sie es noch einmal.",
		"staff.problem.period":        "Der Zeitraum ist nicht gültig.",
		"staff.problem.period.detail": "Bitte geben Sie Von und Bis als Datum ein; die Auswertung zeigt jetzt den gesamten Zeitraum.",
	},
	EN: {
		"staff.problem.form":          "The form was not saved; please check these fields:",
		"staff.problem.line":          "Line %d: %s",
		"staff.problem.again":         "Please check what you entered and try again.",
		"staff.problem.period":        "The time range is not valid.",
		"staff.problem.period.detail": "Please enter From and To as dates; the dashboard now shows the whole time range.",
	},
}

func init() {
	for l, texts := range adminText {
		for k, v := range texts {
			pageText[l][k] = v
		}
	}
}
