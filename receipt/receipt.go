// Package receipt makes and checks the applicant's receipt
// (Eingangsbestätigung): a PDF with the case, the submitted data, the fee and
// the authority's seal, printed for people and embedded for machines; and a
// check that tells whether a receipt, as a PDF or pasted text, is genuine,
// altered, or cannot be judged.
package receipt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/locale"
)

// Receipt is what the Eingangsbestätigung shows.
type Receipt struct {
	CaseID string
	// CaseNumber is the short number the applicant quotes
	// (GEW-2026-000123); cases from before it have none.
	CaseNumber string
	// Applicant names who applied; receipts from before it name nobody.
	Applicant string
	// CheckURL is the absolute address of the receipt check (/pruefen)
	// and KeysURL of the keys; without them the receipt prints the paths
	// as receipts did before.
	CheckURL, KeysURL string
	Service           string // LeiKa key
	ServiceName       string
	Authority         string // Amtlicher Regionalschlüssel
	AuthorityName     string
	SubmittedAt       time.Time
	// Fields are the submitted data, labelled (definitions.LabelledData).
	Fields      []definitions.LabelledField
	Attachments []ozgflow.Attachment
	// Payment is the fee; nil or a zero amount prints none.
	Payment *ozgflow.Payment
	Seal    ozgflow.Seal
}

// ErrNotSealed is returned for a case that has no seal yet: there is no
// receipt to give.
var ErrNotSealed = errors.New("the case is not sealed yet")

// payloadOf decodes the payload of a compact JWS without checking it.
func payloadOf(jws string) (ozgflow.SealedPayload, error) {
	var p ozgflow.SealedPayload
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return p, errors.New("not a compact JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return p, fmt.Errorf("payload: %w", err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("payload: %w", err)
	}
	return p, nil
}

// Legacy is the receipt as it was printed before it named the applicant,
// the case number and the check's address, for a receipt fetched then.
func (r Receipt) Legacy() Receipt {
	r.CaseNumber, r.Applicant, r.CheckURL, r.KeysURL = "", "", "", ""
	return r
}

// FromCase builds the receipt of a sealed case. The data printed is the data
// the seal covers, read from its payload and labelled with def's schema (nil
// labels with the keys); authorityName names the authority.
func FromCase(c ozgflow.Case, def *definitions.Definition, authorityName string) (Receipt, error) {
	if c.Seal == nil || c.Seal.JWS == "" {
		return Receipt{}, ErrNotSealed
	}
	p, err := payloadOf(c.Seal.JWS)
	if err != nil {
		return Receipt{}, fmt.Errorf("receipt of case %s: %w", c.ID, err)
	}
	r := Receipt{
		CaseID: c.ID, CaseNumber: c.CaseNumber, Service: c.Service, ServiceName: c.ServiceName, Authority: c.Authority,
		AuthorityName: authorityName, SubmittedAt: c.SubmittedAt, Payment: c.Payment, Seal: *c.Seal,
		Fields: def.LabelledData(p.Data),
	}
	if c.Applicant != nil {
		r.Applicant = c.Applicant.Name
	}
	if r.ServiceName == "" && def != nil {
		r.ServiceName = def.Name
	}
	if len(p.Attachments) > 0 {
		r.Attachments = p.Attachments
	}
	return r, nil
}

// Sizes of the receipt's text, in points.
const (
	titleSize   = 20
	headSize    = 13
	bodySize    = 10
	sealSize    = 8
	footerSize  = 8
	labelColumn = 180
	lineFactor  = 1.35
)

// Render writes the receipt as a PDF: the case, the authority, the time of
// submission, the submitted data, the fee, and the seal as JWS printed in
// Courier and embedded in the document information (entry OzgflowJWS), from
// where Extract reads it exactly.
func Render(r Receipt) ([]byte, error) {
	if r.CaseID == "" {
		return nil, errors.New("render receipt: no case ID")
	}
	if strings.Count(r.Seal.JWS, ".") != 2 || strings.ContainsAny(r.Seal.JWS, " \n\t()\\") {
		return nil, fmt.Errorf("render receipt of case %s: the seal is not a compact JWS", r.CaseID)
	}
	l := &layout{}
	l.newPage()
	l.paragraph(bold, titleSize, marginX, textArea, "Eingangsbestätigung")
	sub := r.ServiceName
	if r.AuthorityName != "" {
		sub += " · " + r.AuthorityName
	}
	l.paragraph(regular, 12, marginX, textArea, sub)
	l.gap(6)
	l.rule()
	l.gap(8)
	l.paragraph(regular, bodySize, marginX, textArea, "Ihr Antrag ist bei der Behörde eingegangen. Diese Bestätigung "+
		"enthält Ihre Angaben so, wie sie übermittelt wurden, und trägt das elektronische Siegel der Behörde.")
	l.gap(8)

	if r.CaseNumber != "" {
		l.field("Antragsnummer", r.CaseNumber)
		l.field("Technische Kennung", r.CaseID)
	} else {
		l.field("Vorgangsnummer", r.CaseID)
	}
	if r.Applicant != "" {
		l.field("Antragsteller/in", r.Applicant)
	}
	service := r.ServiceName
	if r.Service != "" {
		service += " (Leistungsschlüssel " + r.Service + ")"
	}
	l.field("Leistung", strings.TrimSpace(service))
	authority := r.AuthorityName
	if r.Authority != "" {
		authority = strings.TrimSpace(authority + " (ARS " + r.Authority + ")")
	}
	l.field("Behörde", authority)
	l.field("Eingegangen am", locale.DE.Time(r.SubmittedAt))
	if p := r.Payment; p != nil && p.Amount > 0 {
		fee := locale.DE.Amount(p.Amount, p.Currency)
		if !p.PaidAt.IsZero() {
			fee += ", bezahlt am " + locale.DE.Time(p.PaidAt)
		}
		l.field("Gebühr", fee)
		// The cash office's references of the payment, once it is made: an
		// attempt that failed had references of its own.
		if !p.PaidAt.IsZero() && p.Kassenzeichen != "" {
			l.field("Kassenzeichen", p.Kassenzeichen)
		}
		if !p.PaidAt.IsZero() && p.Reference != "" {
			l.field("Zahlungsreferenz", p.Reference)
		}
	}
	if !r.Seal.SealedAt.IsZero() {
		l.field("Gesiegelt am", locale.DE.Time(r.Seal.SealedAt))
	}

	l.heading("Ihre Angaben")
	if len(r.Fields) == 0 {
		l.paragraph(regular, bodySize, marginX, textArea, "Keine Angaben.")
	}
	for _, f := range r.Fields {
		l.field(f.Label, f.Value)
	}
	if len(r.Attachments) > 0 {
		l.heading("Anlagen")
		for _, a := range r.Attachments {
			l.field(a.Name, "SHA-256 "+a.SHA256)
		}
	}

	l.heading("Elektronisches Siegel")
	check, keys := "/pruefen", "/api/v1/keys"
	if r.CheckURL != "" {
		check, keys = r.CheckURL, r.KeysURL
	}
	explain := "Das Siegel (JSON Web Signature) bestätigt, dass die Behörde den Antrag mit diesen Angaben " +
		"zu diesem Zeitpunkt erhalten hat. Prüfen können Sie es auf der Seite „Eingangsbestätigung prüfen“ " +
		"(" + check + ") oder selbst mit den öffentlichen Schlüsseln unter " + keys + "."
	if r.Seal.KeyID != "" {
		explain += " Schlüssel-ID: " + r.Seal.KeyID
	}
	l.paragraph(regular, bodySize, marginX, textArea, explain)
	l.gap(6)
	l.seal(r.Seal.JWS)

	footer := "Eingangsbestätigung · Vorgang " + r.CaseID
	if r.CaseNumber != "" {
		footer = "Eingangsbestätigung · Antrag " + r.CaseNumber
	}
	pages := l.finish(footer)
	at := r.Seal.SealedAt
	if at.IsZero() {
		at = r.SubmittedAt
	}
	info := []infoEntry{
		{"Title", textString("Eingangsbestätigung " + r.CaseID)},
		{"Subject", textString(strings.TrimSpace(r.ServiceName + " · " + r.AuthorityName))},
		{"Author", textString(r.AuthorityName)},
		{"Creator", "(ozgflow)"},
		{"Producer", "(ozgflow receipt)"},
		{"CreationDate", literal([]byte(pdfDate(at.In(locale.Berlin))))},
		{infoSealKey, literal([]byte(r.Seal.JWS))},
	}
	return writePDF(pages, info), nil
}

// textArea is the width of the text between the margins.
const textArea = pageWidth - 2*marginX

// layout places text on pages from top to bottom, starting a new page when
// the next block does not fit.
type layout struct {
	pages []*bytes.Buffer
	cur   *bytes.Buffer
	y     float64 // baseline of the next line
	parts int     // segments of the printed seal so far
}

func (l *layout) newPage() {
	l.cur = &bytes.Buffer{}
	l.pages = append(l.pages, l.cur)
	l.y = pageHeight - marginTop
}

// room starts a new page unless height fits above the bottom margin.
func (l *layout) room(height float64) {
	if l.y-height < marginBot {
		l.newPage()
	}
}

func (l *layout) gap(h float64) { l.y -= h }

// show writes one line at x on the current baseline.
func (l *layout) show(f font, size, x float64, s string) {
	fmt.Fprintf(l.cur, "BT /%s %s Tf %s %s Td %s Tj ET\n", fontResource[f], num(size), num(x), num(l.y), literal(encode(s)))
}

// paragraph writes wrapped text, line by line, moving down.
func (l *layout) paragraph(f font, size, x, width float64, text string) {
	lead := size * lineFactor
	for _, line := range wrap(f, size, width, text) {
		l.room(lead)
		l.y -= size
		l.show(f, size, x, line)
		l.y -= lead - size
	}
}

func (l *layout) heading(text string) {
	l.gap(10)
	l.room(headSize*lineFactor + 2*bodySize*lineFactor) // keep a heading with what follows
	l.paragraph(bold, headSize, marginX, textArea, text)
	l.gap(2)
}

// field writes a label and its value side by side, both wrapped; a row
// longer than the rest of a page continues on the next.
func (l *layout) field(label, value string) {
	if value == "" {
		value = "–"
	}
	lead := bodySize * lineFactor
	labels := wrap(bold, bodySize, labelColumn-10, label)
	values := wrap(regular, bodySize, textArea-labelColumn, value)
	for i := 0; i < max(len(labels), len(values)); i++ {
		l.room(lead)
		l.y -= bodySize
		if i < len(labels) {
			l.show(bold, bodySize, marginX, labels[i])
		}
		if i < len(values) {
			l.show(regular, bodySize, marginX+labelColumn, values[i])
		}
		l.y -= lead - bodySize
	}
	l.gap(3)
}

// rule draws a thin line across the text area.
func (l *layout) rule() {
	fmt.Fprintf(l.cur, "0.5 w %s %s m %s %s l S\n", num(marginX), num(l.y), num(pageWidth-marginX), num(l.y))
}

// seal prints the JWS in Courier, cut into lines of equal length. The lines
// of each page are marked as one numbered part of the seal, so that Extract
// finds the printed seal again whatever order the pages' objects are in.
func (l *layout) seal(jws string) {
	perLine := int(math.Floor(textArea / (sealSize * 0.6)))
	lead := sealSize * lineFactor
	open := false
	for len(jws) > 0 {
		n := min(perLine, len(jws))
		line := jws[:n]
		jws = jws[n:]
		if l.y-lead < marginBot {
			if open {
				l.cur.WriteString("EMC\n")
				open = false
			}
			l.newPage()
		}
		if !open {
			fmt.Fprintf(l.cur, "/%s << /Part %d >> BDC\n", sealTag, l.parts)
			l.parts++
			open = true
		}
		l.y -= sealSize
		l.show(mono, sealSize, marginX, line)
		l.y -= lead - sealSize
	}
	if open {
		l.cur.WriteString("EMC\n")
	}
}

// finish adds the footer with page numbers and returns the content streams.
func (l *layout) finish(footer string) [][]byte {
	out := make([][]byte, len(l.pages))
	for i, p := range l.pages {
		l.cur, l.y = p, 36
		l.show(regular, footerSize, marginX, fmt.Sprintf("%s · Seite %d von %d", footer, i+1, len(l.pages)))
		out[i] = p.Bytes()
	}
	return out
}
