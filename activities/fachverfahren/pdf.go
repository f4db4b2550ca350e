package fachverfahren

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/ozgflow/ozgflow"
)

// DecisionPDF is the simulator's decision letter (Bescheid): a one-page
// PDF 1.4 in Helvetica that names the delivery, the case and the outcome.
func DecisionPDF(reference, caseID, service, outcome, comment string, at time.Time) []byte {
	verdict := "Ihrem Antrag wird entsprochen."
	if outcome == ozgflow.OutcomeReject {
		verdict = "Ihr Antrag wird abgelehnt."
	}
	lines := []string{
		"Bescheid",
		"",
		"Aktenzeichen: " + reference,
		"Vorgang: " + caseID,
		"Leistung: " + service,
		"Datum: " + at.In(berlin()).Format("02.01.2006 15:04"),
		"",
		verdict,
	}
	if comment != "" {
		lines = append(lines, "Begründung: "+comment)
	}
	lines = append(lines, "", "Erstellt vom Fachverfahren-Simulator von ozgflow (kein echter Bescheid).")
	return onePagePDF("Bescheid "+reference, lines)
}

// berlin is the time zone of the letter's date; UTC when the system has no
// zone database.
func berlin() *time.Location {
	if loc, err := time.LoadLocation("Europe/Berlin"); err == nil {
		return loc
	}
	return time.UTC
}

// onePagePDF writes lines of text on an A4 page.
func onePagePDF(title string, lines []string) []byte {
	var content bytes.Buffer
	content.WriteString("BT /F1 18 Tf 57 770 Td 22 TL\n")
	for i, l := range lines {
		if i == 1 {
			content.WriteString("/F1 11 Tf 16 TL\n")
		}
		fmt.Fprintf(&content, "(%s) Tj T*\n", pdfText(l))
	}
	content.WriteString("ET\n")
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595.28 841.89] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
		fmt.Sprintf("<< /Title (%s) /Producer (ozgflow) >>", pdfText(title)),
	}
	var out bytes.Buffer
	out.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, len(objects), xref)
	return out.Bytes()
}

// pdfText escapes s for a PDF string in WinAnsiEncoding: Latin-1 letters as
// octal escapes, anything beyond as '?'.
func pdfText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 32 && r < 127:
			b.WriteRune(r)
		case r >= 0xa0 && r <= 0xff:
			fmt.Fprintf(&b, "\\%03o", r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}
