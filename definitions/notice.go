package definitions

import (
	"fmt"
	"strings"
	"text/template"

	"github.com/ozgflow/ozgflow"
)

// NoticeData is what notice templates may use.
type NoticeData struct {
	CaseID string
	// CaseNumber is the short case number (GEW-2026-000123); the case ID
	// for cases from before case numbers.
	CaseNumber string
	Service    string
	Authority  string
	Amount     string // e.g. "26,00 EUR"
	Purpose    string
	Comment    string
	Question   string
	Deadline   string // e.g. "24.11.2026 18:00"
	Reference  string
	Refund     string // the amount refunded after a withdrawal, "" if none
	// Documents come with the notice (the decision's document from the
	// Fachverfahren); templates ask {{if .Documents}}.
	Documents []ozgflow.Attachment
}

// Render fills the template's title and text.
func (t NoticeTemplate) Render(data NoticeData) (title, text string, err error) {
	if title, err = renderText("title", t.Title, data); err != nil {
		return "", "", err
	}
	if text, err = renderText("text", t.Text, data); err != nil {
		return "", "", err
	}
	return title, text, nil
}

// RenderEasy fills the easy-to-read text; "" when the template has none.
func (t NoticeTemplate) RenderEasy(data NoticeData) (string, error) {
	if t.Easy == "" {
		return "", nil
	}
	return renderText("easy", t.Easy, data)
}

// noticeTemplates are the notice texts parsed so far.
var noticeTemplates = memo[string, *template.Template]{limit: 4096}

func renderText(name, src string, data NoticeData) (string, error) {
	tmpl, err := noticeTemplates.get(name+"\x00"+src, func() (*template.Template, error) {
		return template.New(name).Option("missingkey=error").Parse(src)
	})
	if err != nil {
		return "", fmt.Errorf("notice %s: %w", name, err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		return "", fmt.Errorf("notice %s: %w", name, err)
	}
	return strings.TrimSpace(b.String()), nil
}

// Lines are the contact as the applicant reads it, one item a line.
func (c *Contact) Lines() []string {
	if c == nil {
		return nil
	}
	var out []string
	for _, l := range []struct{ label, value string }{
		{"", c.Office}, {"", c.Address}, {"Telefon: ", c.Phone}, {"E-Mail: ", c.Email}, {"Sprechzeiten: ", c.Hours},
	} {
		if v := strings.TrimSpace(l.value); v != "" {
			out = append(out, l.label+v)
		}
	}
	return out
}

// Rejection completes the text of a rejection notice, and its easy-to-read
// text where there is one, with the variant's Rechtsbehelfsbelehrung and
// the office to turn to, each a paragraph of its own.
func (d *Definition) Rejection(text, easy string, contact *Contact) (string, string) {
	lines := contact.Lines()
	if r := d.LegalRemedy; r != nil && strings.TrimSpace(r.Text) != "" {
		text += "\n\nRechtsbehelfsbelehrung: " + strings.TrimSpace(r.Text)
		if easy != "" {
			remedy := r.Easy
			if strings.TrimSpace(remedy) == "" {
				remedy = r.Text
			}
			easy += "\n\nSo können Sie sich wehren: " + strings.TrimSpace(remedy)
		}
	}
	if len(lines) > 0 {
		text += "\n\nIhre Ansprechstelle:\n" + strings.Join(lines, "\n")
		if easy != "" {
			easy += "\n\nHier bekommen Sie Hilfe:\n" + strings.Join(lines, "\n")
		}
	}
	return text, easy
}
