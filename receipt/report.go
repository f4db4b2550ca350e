package receipt

import (
	"time"

	"github.com/ozgflow/ozgflow/locale"
)

// Report is a readable document of labelled values in sections, such as
// the information given to someone about the data kept on them (GDPR Art.
// 15). It uses the receipt's page layout, without a seal.
type Report struct {
	Title    string
	Subtitle string
	Intro    string
	Sections []Section
	Footer   string
	At       time.Time
}

// Section is a heading with labelled values and, optionally, text.
type Section struct {
	Heading string
	Fields  []Field
	Text    string
}

// Field is a label and its value.
type Field struct{ Label, Value string }

// RenderReport writes a report as a PDF.
func RenderReport(r Report) []byte {
	l := &layout{}
	l.newPage()
	l.paragraph(bold, titleSize, marginX, textArea, r.Title)
	if r.Subtitle != "" {
		l.paragraph(regular, 12, marginX, textArea, r.Subtitle)
	}
	l.gap(6)
	l.rule()
	l.gap(8)
	if r.Intro != "" {
		l.paragraph(regular, bodySize, marginX, textArea, r.Intro)
		l.gap(4)
	}
	for _, s := range r.Sections {
		l.heading(s.Heading)
		for _, f := range s.Fields {
			l.field(f.Label, f.Value)
		}
		if s.Text != "" {
			l.paragraph(regular, bodySize, marginX, textArea, s.Text)
		}
	}
	pages := l.finish(r.Footer)
	info := []infoEntry{
		{"Title", textString(r.Title)},
		{"Creator", "(ozgflow)"},
		{"Producer", "(ozgflow report)"},
		{"CreationDate", literal([]byte(pdfDate(r.At.In(locale.Berlin))))},
	}
	return writePDF(pages, info)
}
