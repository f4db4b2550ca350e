package locale

import (
	"regexp"
	"strconv"
	"strings"
)

// The administrators' page of cases stuck on an external system
// (/verwaltung/stoerungen): its texts, and the failures of external calls
// in words people read.

var operationsText = map[Lang]map[string]string{
	DE: {
		"staff.title.stuck":         "Störungen externer Systeme",
		"staff.flash.stuck.resent":  "Der Vorgang %s wird jetzt erneut gesendet.",
		"staff.flash.stuck.cancel":  "Der Vorgang %s ist abgebrochen. Die antragstellende Person ist benachrichtigt.",
		"staff.problem.stuck":       "Die Störungen sind gerade nicht lesbar.",
		"staff.problem.stuck.act":   "Die Aktion wurde nicht ausgeführt.",
		"staff.problem.stuck.gone":  "Der Vorgang wartet nicht mehr auf ein gestörtes System.",
		"staff.problem.stuck.empty": "Bitte geben Sie einen Grund an. Die antragstellende Person liest ihn.",
		"staff.stuck.failing":       "Aufruf schlägt fehl",
		"staff.stuck.rejected":      "Von der Empfangsstelle abgelehnt",
		"staff.stuck.noanswer":      "Keine Antwort der Empfangsstelle",
		"staff.stuck.round":         "Sendung",
		"staff.stuck.reason":        "Grund der Empfangsstelle",
		"staff.stuck.submission":    "Kennung der Einreichung",
		"staff.stuck.delivery":      "Zustellung des Vorgangs ansehen",
		"staff.stuck.resend.hint":   "Beheben Sie zuerst die Ursache, etwa in der Prozessvariante oder bei der Empfangsstelle. Dann geht eine neue Einreichung an die Empfangsstelle, und der Vorgang wartet wieder auf ihre Antwort.",
	},
	EN: {
		"staff.title.stuck":         "Failing external systems",
		"staff.flash.stuck.resent":  "Case %s is being sent again now.",
		"staff.flash.stuck.cancel":  "Case %s is cancelled. The applicant has been told.",
		"staff.problem.stuck":       "The failures cannot be read right now.",
		"staff.problem.stuck.act":   "The action was not carried out.",
		"staff.problem.stuck.gone":  "The case no longer waits on a failing system.",
		"staff.problem.stuck.empty": "Please give a reason. The applicant reads it.",
		"staff.stuck.failing":       "Call keeps failing",
		"staff.stuck.rejected":      "Rejected by the destination",
		"staff.stuck.noanswer":      "No answer from the destination",
		"staff.stuck.round":         "Submission",
		"staff.stuck.reason":        "The destination's reason",
		"staff.stuck.submission":    "Submission ID",
		"staff.stuck.delivery":      "See the case's delivery",
		"staff.stuck.resend.hint":   "First fix the cause, in the process variant or at the destination. Then a new submission goes to the destination, and the case waits for its answer again.",
	},
}

func init() {
	for l, texts := range operationsText {
		for k, v := range texts {
			pageText[l][k] = v
		}
	}
	for action, w := range map[string]words{
		"stuck.list":   {"Störungen angesehen", "failing calls viewed"},
		"stuck.resend": {"Vorgang erneut gesendet", "case sent again"},
		"stuck.cancel": {"Vorgang abgebrochen", "case cancelled"},
	} {
		trailWords[action] = w
	}
}

// httpStatus finds an HTTP status in an adapter's message: the status
// line after the prefix ("fachverfahren x: 503 Service Unavailable"), "answer
// 503", "status 503" or "HTTP/1.1 503"; not any three digits, such as a
// port ("smtp mail:587: …").
var httpStatus = regexp.MustCompile(`(?i)(?:^|: |answer |status:? |http/\d(?:\.\d)? )([1-5]\d\d)(?:[ :,;)]|$)`)

// CallStatus returns the HTTP status a failed call's message names, or 0
// when it names none. A mail server's reply codes are not HTTP statuses.
func CallStatus(msg string) int {
	if strings.HasPrefix(strings.ToLower(msg), "smtp") {
		return 0
	}
	m := httpStatus.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// CallError says in German what a failed call to an external system
// means, from the adapter's technical message: not reachable, no answer
// in time, an error on its side, a refusal, overloaded.
func CallError(msg string) string {
	m := strings.ToLower(msg)
	switch {
	case strings.Contains(m, "no url configured"):
		return "Für dieses Zielsystem ist keine Adresse eingerichtet."
	case strings.Contains(m, "deadline exceeded") || strings.Contains(m, "timeout") || strings.Contains(m, "timed out"):
		return "Das Zielsystem hat nicht rechtzeitig geantwortet."
	case strings.Contains(m, "connection refused") || strings.Contains(m, "no such host") || strings.Contains(m, "dial tcp") ||
		strings.Contains(m, "connection reset") || strings.Contains(m, "eof"):
		return "Das Zielsystem ist nicht erreichbar."
	}
	if n := CallStatus(msg); n != 0 {
		s := strconv.Itoa(n)
		switch {
		case s == "429":
			return "Das Zielsystem ist überlastet (Status 429) und bittet, später zu senden."
		case s >= "500":
			return "Das Zielsystem meldet einen Fehler auf seiner Seite (Status " + s + ")."
		case s >= "400":
			return "Das Zielsystem weist den Aufruf ab (Status " + s + ")."
		}
	}
	return "Der Aufruf ist fehlgeschlagen."
}

// DeliveryRejection says in German why a case's FIT-Connect delivery does
// not go on: its destination rejected it, or did not answer before the
// deadline.
func DeliveryRejection(timedOut bool) string {
	if timedOut {
		return "Die Empfangsstelle hat bis zur Frist nicht geantwortet."
	}
	return "Die Empfangsstelle hat den Vorgang abgelehnt."
}
