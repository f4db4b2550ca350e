package definitions

import (
	"fmt"
	"strings"
	"text/template"

	"github.com/ozgflow/ozgflow"
)

// NoticeData is what notice templates may use.
type NoticeData struct {
	CaseID    string
	Service   string
	Authority string
	Amount    string // e.g. "26,00 EUR"
	Purpose   string
	Comment   string
	Question  string
	Deadline  string // e.g. "24.11.2026 18:00"
	Reference string
	Refund    string // the amount refunded after a withdrawal, "" if none
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

func renderText(name, src string, data NoticeData) (string, error) {
	tmpl, err := template.New(name).Option("missingkey=error").Parse(src)
	if err != nil {
		return "", fmt.Errorf("notice %s: %w", name, err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		return "", fmt.Errorf("notice %s: %w", name, err)
	}
	return strings.TrimSpace(b.String()), nil
}
