package definitions

// NoticeCancelled tells the applicant that the authority ended the case
// (an administrator cancelled it, e.g. because the receiving system cannot
// take it), with the reason in Comment and the refunded fee, if one was
// paid. A variant words it itself under the same key.
const NoticeCancelled = "cancelled_by_authority"

// OperationNotices are the texts of the notices of operations on cases,
// for variants that have none of their own.
var OperationNotices = map[string]NoticeTemplate{
	NoticeCancelled: {
		Title: "Bearbeitung Ihres Antrags abgebrochen",
		Text: "Die zuständige Stelle hat die Bearbeitung Ihres Antrags abgebrochen. Grund: {{.Comment}}" +
			"{{if .Refund}} Die gezahlte Gebühr von {{.Refund}} wird Ihnen erstattet.{{end}}" +
			" Sie können einen neuen Antrag stellen.",
		Easy: "Die Behörde bearbeitet Ihren Antrag nicht weiter. Der Grund: {{.Comment}}" +
			"{{if .Refund}} Sie bekommen Ihr Geld zurück: {{.Refund}}.{{end}}" +
			" Sie können den Antrag noch einmal stellen.",
	},
}
