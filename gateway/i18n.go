package gateway

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"

	"github.com/ozgflow/ozgflow/locale"
)

// The applicant's pages speak German first and English on request. The
// texts live here, one table per language; easyText overrides German texts
// with their easy-to-read form (Leichte Sprache: short sentences, one
// statement each). Notices come from the variant and stay German.

// lang is a language of the applicant's pages.
type lang string

const (
	langDE lang = "de"
	langEN lang = "en"
)

// langCookie remembers the language chosen with the switch.
const langCookie = "ozgflow_lang"

var langMatcher = language.NewMatcher([]language.Tag{language.German, language.English})

// parseLang accepts the codes of the switch.
func parseLang(s string) (lang, bool) {
	switch lang(s) {
	case langDE, langEN:
		return lang(s), true
	}
	return "", false
}

// requestLang is the language of a request: the switch's cookie, else the
// browser's Accept-Language, else German.
func requestLang(r *http.Request) lang {
	if c, err := r.Cookie(langCookie); err == nil {
		if l, ok := parseLang(c.Value); ok {
			return l
		}
	}
	if h := r.Header.Get("Accept-Language"); h != "" {
		if tags, _, err := language.ParseAcceptLanguage(h); err == nil && len(tags) > 0 {
			if _, i, conf := langMatcher.Match(tags...); conf != language.No && i == 1 {
				return langEN
			}
		}
	}
	return langDE
}

// text returns the message key in the language, formatted with args; in the
// easy view German texts take their easy-to-read form where there is one.
func (l lang) text(easy bool, key string, args ...any) string {
	msg, ok := "", false
	if easy && l == langDE {
		msg, ok = easyText[key]
	}
	if !ok {
		msg, ok = citizenText[l][key]
	}
	if !ok {
		return key // a test keeps every key in both tables
	}
	if len(args) > 0 {
		return fmt.Sprintf(msg, args...)
	}
	return msg
}

// formatTime writes a time in Berlin the way the language does.
func (l lang) formatTime(t time.Time) string {
	t = t.In(locale.Berlin)
	if l == langEN {
		return t.Format("2 January 2006, 15:04")
	}
	return t.Format("02.01.2006, 15:04") + " Uhr"
}

// formatDate writes a date in Berlin the way the language does.
func (l lang) formatDate(t time.Time) string {
	t = t.In(locale.Berlin)
	if l == langEN {
		return t.Format("2 January 2006")
	}
	return t.Format("02.01.2006")
}

// formatAmount writes cents the way the language does.
func (l lang) formatAmount(cents int64, currency string) string {
	if l == langDE {
		return locale.DE.Amount(cents, currency)
	}
	if currency == "" {
		currency = "EUR"
	}
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	units := strconv.FormatInt(cents/100, 10)
	var b strings.Builder
	for i, d := range units {
		if i > 0 && (len(units)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return fmt.Sprintf("%s %s%s.%02d", currency, sign, b.String(), cents%100)
}

// formatSize writes a number of bytes in MB (10⁶), as file dialogs do.
func (l lang) formatSize(n int64) string {
	mb := float64(n) / 1e6
	s := strconv.FormatFloat(mb, 'f', 1, 64)
	if strings.HasSuffix(s, ".0") {
		s = strings.TrimSuffix(s, ".0")
	}
	if l == langDE {
		s = strings.ReplaceAll(s, ".", ",")
	}
	return s + " MB"
}

// citizenText holds every text of the applicant's pages.
var citizenText = map[lang]map[string]string{
	langDE: {
		"site.name":               "Ihr Antrag online",
		"skip":                    "Zum Inhalt springen",
		"nav.options":             "Sprache und Ansicht",
		"nav.lang.other":          "English",
		"nav.easy.on":             "Einfache Sprache",
		"nav.easy.off":            "Standard-Sprache",
		"nav.verify":              "Eingangsbestätigung prüfen",
		"footer.text":             "Diese Seiten zeigen den Stand Ihres Antrags. Ihre Daten sehen nur Sie und die zuständige Behörde.",
		"flash.payment":           "Eine neue Zahlung ist angelegt. Bitte bezahlen Sie jetzt.",
		"flash.answer":            "Ihre Antwort ist angekommen. Die Behörde prüft Ihren Antrag weiter.",
		"flash.withdrawn":         "Sie haben Ihren Antrag zurückgezogen.",
		"problems.title":          "Bitte prüfen Sie Ihre Eingaben:",
		"problems.action":         "Das hat nicht geklappt:",
		"problems.back":           "Zurück zu Ihrem Antrag",
		"error.forbidden.title":   "Kein Zugang zu diesem Antrag",
		"error.forbidden.text":    "Diese Seite zeigt einen Antrag nur der Person, die ihn gestellt hat. Der Link, mit dem Sie gekommen sind, ist nicht gültig oder unvollständig.",
		"error.forbidden.help":    "Öffnen Sie bitte den Link aus Ihrer Eingangsbestätigung oder aus Ihrem Postfach im Serviceportal noch einmal. Kopieren Sie ihn vollständig.",
		"error.notfound.title":    "Antrag nicht gefunden",
		"error.notfound.text":     "Einen Antrag mit dieser Nummer gibt es nicht.",
		"error.notfound.help":     "Prüfen Sie bitte die Adresse. Am sichersten öffnen Sie den Link aus Ihrer Eingangsbestätigung oder aus Ihrem Postfach.",
		"error.unavailable.title": "Gerade nicht erreichbar",
		"error.unavailable.text":  "Der Stand Ihres Antrags kann gerade nicht gelesen werden. Ihr Antrag ist sicher gespeichert.",
		"error.unavailable.help":  "Bitte versuchen Sie es in einigen Minuten noch einmal.",
		"error.csrf":              "Das Formular ist abgelaufen. Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.",
		"error.conflict":          "Das ist gerade nicht möglich, weil sich der Stand Ihres Antrags geändert hat. Bitte sehen Sie sich den aktuellen Stand unten an.",
		"error.unavailable":       "Der Dienst ist gerade nicht erreichbar. Bitte versuchen Sie es in einigen Minuten noch einmal.",
		"error.internal":          "Es ist ein Fehler aufgetreten. Bitte versuchen Sie es später noch einmal.",

		"status.title":                 "Ihr Antrag: %s",
		"status.heading":               "Stand",
		"status.service":               "Leistung",
		"status.number":                "Antragsnummer",
		"status.submitted":             "Eingegangen am",
		"status.current":               "Aktueller Stand",
		"status.received":              "Ihr Antrag ist eingegangen und wird vorbereitet.",
		"status.awaiting_payment":      "Ihr Antrag wartet auf die Bezahlung der Gebühr.",
		"status.awaiting_signature":    "Ihr Antrag wartet auf Ihre Unterschrift.",
		"status.forwarded":             "Ihr Antrag wurde an die zuständige Behörde übermittelt.",
		"status.in_review":             "Ihr Antrag wird von der Behörde geprüft.",
		"status.information_requested": "Die Behörde hat eine Rückfrage an Sie.",
		"status.approved":              "Ihr Antrag wurde bewilligt.",
		"status.rejected":              "Ihr Antrag wurde abgelehnt.",
		"status.withdrawn":             "Sie haben Ihren Antrag zurückgezogen.",
		"status.cancelled":             "Ihr Antrag wurde abgebrochen.",

		"next.heading":           "Was Sie jetzt tun müssen",
		"next.heading.none":      "Wie es weitergeht",
		"next.received":          "Sie müssen nichts tun. Sobald es weitergeht, sehen Sie es auf dieser Seite.",
		"next.pay":               "Bitte bezahlen Sie die Gebühr von %s bis %s. Ohne Zahlung wird der Antrag danach abgebrochen.",
		"next.pay.preparing":     "Die Zahlung wird vorbereitet. Der Link zum Bezahlen erscheint gleich hier.",
		"next.pay.link":          "Gebühr jetzt bezahlen",
		"next.pay.failed":        "Die letzte Zahlung wurde nicht abgeschlossen. Sie können es bis %s noch einmal versuchen.",
		"next.pay.retry":         "Zahlung erneut versuchen",
		"next.sign":              "Bitte unterschreiben Sie Ihren Antrag beim Signaturdienst. Danach geht er an die Behörde.",
		"next.sign.link":         "Antrag jetzt unterschreiben",
		"next.sign.waiting":      "Die Unterschrift wird vorbereitet. Der Link zum Unterschreiben erscheint gleich hier.",
		"next.wait":              "Sie müssen nichts tun. Die Behörde meldet sich, wenn sie entschieden hat oder eine Frage hat.",
		"next.answer":            "Bitte beantworten Sie die Frage der Behörde unten.",
		"next.answer.due":        "Bitte beantworten Sie die Frage der Behörde bis %s.",
		"next.decided":           "Die Behörde hat entschieden. Die Entscheidung steht unten.",
		"next.closed":            "Der Antrag ist abgeschlossen. Sie müssen nichts mehr tun.",
		"next.cancelled":         "Der Antrag wird nicht weiter bearbeitet. Sie können jederzeit einen neuen Antrag stellen.",
		"payment.amount":         "Gebühr",
		"payment.deadline":       "Zu bezahlen bis",
		"payment.paid":           "Die Gebühr von %s ist am %s bezahlt worden.",
		"payment.refund.pending": "Die bezahlte Gebühr von %s wird Ihnen erstattet.",
		"payment.refund.done":    "Die bezahlte Gebühr von %s ist erstattet.",

		"request.heading":   "Rückfrage der Behörde",
		"request.asked":     "Gefragt am",
		"request.past":      "Frühere Rückfragen und Ihre Antworten",
		"request.fields":    "Angefordert:",
		"request.due":       "Antwort bis",
		"request.answered":  "Ihre Antwort vom %s",
		"request.expired":   "Die Frist für diese Rückfrage ist am %s abgelaufen.",
		"request.documents": "Ihre Dokumente:",
		"answer.heading":    "Ihre Antwort",
		"answer.text":       "Ihre Antwort",
		"answer.text.hint":  "Schreiben Sie hier Ihre Antwort. Wenn Sie nur Dokumente schicken, können Sie das Feld leer lassen.",
		"answer.files":      "Dokumente (freiwillig)",
		"answer.files.hint": "PDF, JPEG oder PNG. Höchstens %d Dateien, jede höchstens %s groß, zusammen höchstens %s.",
		"answer.submit":     "Antwort senden",

		"upload.empty_answer":    "Bitte schreiben Sie eine Antwort oder wählen Sie ein Dokument aus.",
		"upload.too_large_file":  "Die Datei „%s“ ist zu groß. Jede Datei darf höchstens %s groß sein.",
		"upload.too_large_total": "Die Dateien sind zusammen zu groß. Zusammen dürfen sie höchstens %s groß sein.",
		"upload.too_many":        "Sie können höchstens %d Dateien auf einmal schicken.",
		"upload.wrong_type":      "Die Datei „%s“ ist kein PDF, JPEG oder PNG. Bitte wählen Sie eine Datei in einem dieser Formate.",
		"upload.empty_file":      "Die Datei „%s“ ist leer.",
		"upload.text_too_long":   "Ihre Antwort ist zu lang. Bitte kürzen Sie sie auf höchstens %d Zeichen.",
		"upload.data_invalid":    "Die zusätzlichen Angaben sind nicht lesbar.",
		"upload.not_multipart":   "Das Formular wurde nicht vollständig gesendet. Bitte versuchen Sie es noch einmal.",
		"upload.unreadable":      "Das Formular konnte nicht gelesen werden. Bitte versuchen Sie es noch einmal.",

		"decision.heading":       "Entscheidung",
		"decision.approve":       "Bewilligt",
		"decision.reject":        "Abgelehnt",
		"decision.at":            "Entschieden am",
		"decision.comment":       "Begründung und Hinweise",
		"documents.heading":      "Dokumente",
		"documents.receipt":      "Eingangsbestätigung (PDF)",
		"documents.receipt.hint": "Mit der Eingangsbestätigung können Sie belegen, wann und was Sie beantragt haben. Ob sie echt ist, kann jede Person unter „Eingangsbestätigung prüfen“ nachsehen.",
		"documents.none":         "Noch keine Dokumente. Die Eingangsbestätigung erscheint hier, sobald Ihr Antrag gesiegelt ist.",
		"timeline.heading":       "Verlauf",
		"timeline.easy":          "Die Mitteilungen stehen hier in Einfacher Sprache, wo es sie gibt.",
		"timeline.german":        "Die Mitteilungen der Behörde sind auf Deutsch.",
		"timeline.empty":         "Noch keine Mitteilungen.",

		"withdraw.link":        "Antrag zurückziehen",
		"withdraw.title":       "Antrag zurückziehen?",
		"withdraw.means":       "Wenn Sie den Antrag zurückziehen, bearbeitet die Behörde ihn nicht weiter. Die Behörde wird informiert. Das können Sie nicht rückgängig machen; Sie können aber jederzeit einen neuen Antrag stellen.",
		"withdraw.refund":      "Die bereits bezahlte Gebühr von %s wird Ihnen erstattet.",
		"withdraw.unpaid":      "Sie haben noch keine Gebühr bezahlt. Es wird auch keine mehr fällig.",
		"withdraw.nofee":       "Für diesen Antrag fällt keine Gebühr an.",
		"withdraw.reason":      "Grund (freiwillig)",
		"withdraw.reason.hint": "Sie müssen keinen Grund nennen. Die Behörde sieht, was Sie hier schreiben.",
		"withdraw.confirm":     "Ja, Antrag zurückziehen",
		"withdraw.cancel":      "Nein, zurück zu meinem Antrag",
		"withdraw.final":       "Dieser Antrag ist abgeschlossen und kann nicht mehr zurückgezogen werden.",

		"live.changed":     "Der Stand Ihres Antrags hat sich geändert.",
		"live.reload":      "Neue Informationen zu Ihrem Antrag sind da. Ihre Eingaben bleiben erhalten, bis Sie die Seite neu laden.",
		"live.reload.link": "Seite neu laden",

		"verify.title":     "Eingangsbestätigung prüfen",
		"verify.intro":     "Hier prüfen Sie, ob eine Eingangsbestätigung echt und unverändert ist. Sie brauchen dafür kein Konto. Die Eingangsbestätigung wird nicht gespeichert.",
		"verify.text":      "Text der Eingangsbestätigung",
		"verify.text.hint": "Fügen Sie den vollständigen Text ein, mindestens das Siegel: den langen Text, der mit „eyJ“ beginnt.",
		"verify.file":      "Oder die PDF-Datei der Eingangsbestätigung",
		"verify.file.hint": "Höchstens %s.",
		"verify.submit":    "Prüfen",
		"verify.result":    "Ergebnis",
		"verify.valid":     "Echt und unverändert",
		"verify.tampered":  "Verändert",
		"verify.unknown":   "Unbekannt",
		"verify.empty":     "Bitte fügen Sie den Text ein oder wählen Sie die PDF-Datei aus.",
		"verify.too_large": "Die Datei ist zu groß. Sie darf höchstens %s groß sein.",
		"verify.case":      "Antragsnummer",
		"verify.service":   "Leistung",
		"verify.authority": "Behörde",
		"verify.submitted": "Eingegangen am",
	},
	langEN: {
		"site.name":               "Your application online",
		"skip":                    "Skip to content",
		"nav.options":             "Language and view",
		"nav.lang.other":          "Deutsch",
		"nav.easy.on":             "Einfache Sprache (easy-to-read German)",
		"nav.easy.off":            "Standard-Sprache",
		"nav.verify":              "Verify a receipt",
		"footer.text":             "These pages show where your application stands. Only you and the responsible authority see your data.",
		"flash.payment":           "A new payment has been set up. Please pay now.",
		"flash.answer":            "Your answer has arrived. The authority continues to review your application.",
		"flash.withdrawn":         "You have withdrawn your application.",
		"problems.title":          "Please check what you entered:",
		"problems.action":         "That did not work:",
		"problems.back":           "Back to your application",
		"error.forbidden.title":   "No access to this application",
		"error.forbidden.text":    "This page shows an application only to the person who submitted it. The link you followed is not valid or incomplete.",
		"error.forbidden.help":    "Please open the link from your receipt or from your mailbox in the service portal again, and copy it completely.",
		"error.notfound.title":    "Application not found",
		"error.notfound.text":     "There is no application with this number.",
		"error.notfound.help":     "Please check the address. The safest way is to open the link from your receipt or from your mailbox.",
		"error.unavailable.title": "Not available right now",
		"error.unavailable.text":  "Your application cannot be read right now. It is stored safely.",
		"error.unavailable.help":  "Please try again in a few minutes.",
		"error.csrf":              "The form has expired. Please reload the page and try again.",
		"error.conflict":          "This is not possible right now because your application has changed. Please see where it stands below.",
		"error.unavailable":       "The service is not available right now. Please try again in a few minutes.",
		"error.internal":          "Something went wrong. Please try again later.",

		"status.title":                 "Your application: %s",
		"status.heading":               "Status",
		"status.service":               "Service",
		"status.number":                "Application number",
		"status.submitted":             "Received on",
		"status.current":               "Current status",
		"status.received":              "Your application has been received and is being prepared.",
		"status.awaiting_payment":      "Your application is waiting for the fee to be paid.",
		"status.awaiting_signature":    "Your application is waiting for your signature.",
		"status.forwarded":             "Your application has been passed to the responsible authority.",
		"status.in_review":             "The authority is reviewing your application.",
		"status.information_requested": "The authority has a question for you.",
		"status.approved":              "Your application has been approved.",
		"status.rejected":              "Your application has been rejected.",
		"status.withdrawn":             "You have withdrawn your application.",
		"status.cancelled":             "Your application has been cancelled.",

		"next.heading":           "What you need to do now",
		"next.heading.none":      "What happens next",
		"next.received":          "You do not need to do anything. As soon as things move on, you will see it on this page.",
		"next.pay":               "Please pay the fee of %s by %s. Without payment the application will be cancelled after that.",
		"next.pay.preparing":     "The payment is being prepared. The link to pay will appear here shortly.",
		"next.pay.link":          "Pay the fee now",
		"next.pay.failed":        "The last payment was not completed. You can try again until %s.",
		"next.pay.retry":         "Try the payment again",
		"next.sign":              "Please sign your application with the signing service. It then goes to the authority.",
		"next.sign.link":         "Sign the application now",
		"next.sign.waiting":      "The signature is being prepared. The link to sign will appear here shortly.",
		"next.wait":              "You do not need to do anything. The authority will get in touch once it has decided or has a question.",
		"next.answer":            "Please answer the authority's question below.",
		"next.answer.due":        "Please answer the authority's question by %s.",
		"next.decided":           "The authority has decided. You find the decision below.",
		"next.closed":            "The application is closed. You do not need to do anything more.",
		"next.cancelled":         "The application will not be processed further. You can submit a new application at any time.",
		"payment.amount":         "Fee",
		"payment.deadline":       "Payable by",
		"payment.paid":           "The fee of %s was paid on %s.",
		"payment.refund.pending": "The fee of %s you paid will be refunded.",
		"payment.refund.done":    "The fee of %s you paid has been refunded.",

		"request.heading":   "Question from the authority",
		"request.asked":     "Asked on",
		"request.past":      "Earlier questions and your answers",
		"request.fields":    "Requested:",
		"request.due":       "Answer by",
		"request.answered":  "Your answer of %s",
		"request.expired":   "The time to answer this question ended on %s.",
		"request.documents": "Your documents:",
		"answer.heading":    "Your answer",
		"answer.text":       "Your answer",
		"answer.text.hint":  "Write your answer here. If you only send documents, you can leave this field empty.",
		"answer.files":      "Documents (optional)",
		"answer.files.hint": "PDF, JPEG or PNG. At most %d files, each at most %s, together at most %s.",
		"answer.submit":     "Send answer",

		"upload.empty_answer":    "Please write an answer or choose a document.",
		"upload.too_large_file":  "The file “%s” is too large. Each file may be at most %s.",
		"upload.too_large_total": "The files are too large together. Together they may be at most %s.",
		"upload.too_many":        "You can send at most %d files at once.",
		"upload.wrong_type":      "The file “%s” is not a PDF, JPEG or PNG. Please choose a file in one of these formats.",
		"upload.empty_file":      "The file “%s” is empty.",
		"upload.text_too_long":   "Your answer is too long. Please shorten it to at most %d characters.",
		"upload.data_invalid":    "The additional data cannot be read.",
		"upload.not_multipart":   "The form was not sent completely. Please try again.",
		"upload.unreadable":      "The form could not be read. Please try again.",

		"decision.heading":       "Decision",
		"decision.approve":       "Approved",
		"decision.reject":        "Rejected",
		"decision.at":            "Decided on",
		"decision.comment":       "Reasons and notes",
		"documents.heading":      "Documents",
		"documents.receipt":      "Receipt (PDF)",
		"documents.receipt.hint": "The receipt shows when and what you applied for. Anyone can check that it is genuine under “Verify a receipt”.",
		"documents.none":         "No documents yet. The receipt appears here as soon as your application is sealed.",
		"timeline.heading":       "History",
		"timeline.easy":          "The messages are shown in easy-to-read German where available.",
		"timeline.german":        "The authority's messages are in German.",
		"timeline.empty":         "No messages yet.",

		"withdraw.link":        "Withdraw the application",
		"withdraw.title":       "Withdraw the application?",
		"withdraw.means":       "If you withdraw the application, the authority will not process it further. The authority is informed. You cannot undo this, but you can submit a new application at any time.",
		"withdraw.refund":      "The fee of %s you already paid will be refunded.",
		"withdraw.unpaid":      "You have not paid a fee yet, and none will be due.",
		"withdraw.nofee":       "There is no fee for this application.",
		"withdraw.reason":      "Reason (optional)",
		"withdraw.reason.hint": "You do not have to give a reason. The authority sees what you write here.",
		"withdraw.confirm":     "Yes, withdraw the application",
		"withdraw.cancel":      "No, back to my application",
		"withdraw.final":       "This application is closed and can no longer be withdrawn.",

		"live.changed":     "Your application has changed.",
		"live.reload":      "There is new information about your application. What you entered stays until you reload the page.",
		"live.reload.link": "Reload the page",

		"verify.title":     "Verify a receipt",
		"verify.intro":     "Check here whether a receipt is genuine and unchanged. You do not need an account. The receipt is not stored.",
		"verify.text":      "Text of the receipt",
		"verify.text.hint": "Paste the complete text, at least the seal: the long text that starts with “eyJ”.",
		"verify.file":      "Or the receipt's PDF file",
		"verify.file.hint": "At most %s.",
		"verify.submit":    "Verify",
		"verify.result":    "Result",
		"verify.valid":     "Genuine and unchanged",
		"verify.tampered":  "Altered",
		"verify.unknown":   "Unknown",
		"verify.empty":     "Please paste the text or choose the PDF file.",
		"verify.too_large": "The file is too large. It may be at most %s.",
		"verify.case":      "Application number",
		"verify.service":   "Service",
		"verify.authority": "Authority",
		"verify.submitted": "Received on",
	},
}

// easyText are the German texts in Leichte Sprache: short sentences, one
// statement each, everyday words.
var easyText = map[string]string{
	"status.received":              "Ihr Antrag ist da.",
	"status.awaiting_payment":      "Sie müssen noch Geld bezahlen. Das Geld heißt Gebühr.",
	"status.awaiting_signature":    "Sie müssen den Antrag noch unterschreiben.",
	"status.forwarded":             "Ihr Antrag ist jetzt beim Amt.",
	"status.in_review":             "Das Amt prüft Ihren Antrag.",
	"status.information_requested": "Das Amt hat eine Frage an Sie.",
	"status.approved":              "Ihr Antrag ist angenommen.",
	"status.rejected":              "Ihr Antrag ist abgelehnt.",
	"status.withdrawn":             "Sie haben den Antrag zurückgenommen.",
	"status.cancelled":             "Der Antrag ist beendet. Das Amt bearbeitet ihn nicht mehr.",
	"next.received":                "Sie müssen nichts tun. Wir zeigen Ihnen hier, wie es weitergeht.",
	"next.pay":                     "Bitte bezahlen Sie %s. Sie haben Zeit bis %s. Sonst ist der Antrag beendet.",
	"next.pay.failed":              "Das Bezahlen hat nicht geklappt. Sie können es noch einmal versuchen. Sie haben Zeit bis %s.",
	"next.sign":                    "Bitte unterschreiben Sie den Antrag. Danach bekommt das Amt den Antrag.",
	"next.wait":                    "Sie müssen nichts tun. Das Amt meldet sich bei Ihnen.",
	"next.answer":                  "Bitte beantworten Sie die Frage vom Amt.",
	"next.answer.due":              "Bitte beantworten Sie die Frage vom Amt. Sie haben Zeit bis %s.",
	"next.decided":                 "Das Amt hat entschieden. Die Entscheidung steht unten.",
	"next.closed":                  "Der Antrag ist fertig. Sie müssen nichts mehr tun.",
	"next.cancelled":               "Das Amt bearbeitet den Antrag nicht mehr. Sie können einen neuen Antrag stellen.",
	"withdraw.means":               "Sie können den Antrag zurücknehmen. Dann bearbeitet das Amt den Antrag nicht mehr. Das Amt bekommt eine Nachricht. Sie können das nicht rückgängig machen. Sie können aber einen neuen Antrag stellen.",
	"withdraw.refund":              "Sie haben schon %s bezahlt. Sie bekommen das Geld zurück.",
}
