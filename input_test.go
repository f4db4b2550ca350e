package ozgflow_test

import (
	"strings"
	"testing"

	"github.com/ozgflow/ozgflow"
)

func TestCheckText(t *testing.T) {
	tests := []struct {
		name  string
		field ozgflow.Text
		rule  string // "" when the field is acceptable
	}{
		{"name", ozgflow.Line("/n", "Anna Müller-Lüdenscheidt", ozgflow.MaxNameRunes), ""},
		{"name at the limit", ozgflow.Line("/n", strings.Repeat("ä", ozgflow.MaxNameRunes), ozgflow.MaxNameRunes), ""},
		{"name too long", ozgflow.Line("/n", strings.Repeat("a", ozgflow.MaxNameRunes+1), ozgflow.MaxNameRunes), ozgflow.RuleTooLong},
		{"line break in a name", ozgflow.Line("/n", "Anna\nMuster", ozgflow.MaxNameRunes), ozgflow.RuleControl},
		{"tab in a name", ozgflow.Line("/n", "Anna\tMuster", ozgflow.MaxNameRunes), ozgflow.RuleControl},
		{"line separator in a name", ozgflow.Line("/n", "Anna\u2028Muster", ozgflow.MaxNameRunes), ozgflow.RuleControl},
		{"escape in a name", ozgflow.Line("/n", "Anna\x1b[31m", ozgflow.MaxNameRunes), ozgflow.RuleControl},
		{"NUL in a name", ozgflow.Line("/n", "Anna\x00", ozgflow.MaxNameRunes), ozgflow.RuleInvalidText},
		{"invalid UTF-8", ozgflow.Line("/n", "Anna\xff", ozgflow.MaxNameRunes), ozgflow.RuleInvalidText},
		{"comment with lines", ozgflow.Prose("/c", "Zeile 1\r\nZeile 2\tEnde", ozgflow.MaxCommentRunes), ""},
		{"NUL in a comment", ozgflow.Prose("/c", "a\x00b", ozgflow.MaxCommentRunes), ozgflow.RuleInvalidText},
		{"bell in a comment", ozgflow.Prose("/c", "a\ab", ozgflow.MaxCommentRunes), ozgflow.RuleControl},
		{"comment too long", ozgflow.Prose("/c", strings.Repeat("x", 3<<20), ozgflow.MaxCommentRunes), ozgflow.RuleTooLong},
		{"portal account", ozgflow.PortalAccount("/a", "amt24-anna:x.y_z@portal"), ""},
		{"portal account with a space", ozgflow.PortalAccount("/a", "amt24 anna"), ozgflow.RuleCharset},
		{"portal account with a slash", ozgflow.PortalAccount("/a", "amt24/../anna"), ozgflow.RuleCharset},
		{"portal account with an umlaut", ozgflow.PortalAccount("/a", "amt24-jürgen"), ozgflow.RuleCharset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := ozgflow.CheckText(tt.field)
			if tt.rule == "" {
				if len(errs) > 0 {
					t.Fatalf("refused: %+v", errs)
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("got %d violations, want 1: %+v", len(errs), errs)
			}
			if got := errs[0]; got.Rule != tt.rule || got.Pointer != tt.field.Pointer || got.Detail == "" {
				t.Errorf("got %+v, want rule %s at %s", got, tt.rule, tt.field.Pointer)
			}
		})
	}
}

func TestCheckEmail(t *testing.T) {
	tests := []struct {
		email string
		ok    bool
	}{
		{"anna@example.org", true},
		{"anna.muster+antrag@sub.example.de", true},
		{"anna", false},
		{"anna@", false},
		{"Anna <anna@example.org>", false},
		{"<anna@example.org>", false},
		{"anna@example.org, ben@example.org", false},
		{"anna@example.org (Anna)", false},
		{"anna @example.org", false},
		{"anna@example.org\r\nBcc: x@example.org", false},
		{strings.Repeat("a", 250) + "@example.org", false},
	}
	for _, tt := range tests {
		fe, bad := ozgflow.CheckEmail("/applicant/email", tt.email)
		if bad == tt.ok {
			t.Errorf("CheckEmail(%q) refused = %v (%+v), want %v", tt.email, bad, fe, !tt.ok)
		}
		if bad && fe.Pointer != "/applicant/email" {
			t.Errorf("CheckEmail(%q) names %q", tt.email, fe.Pointer)
		}
	}
}

func TestInvalidInputCode(t *testing.T) {
	if err := ozgflow.InvalidInput(nil); err != nil {
		t.Fatalf("no violations gave %v", err)
	}
	long := ozgflow.CheckText(ozgflow.Line("/n", strings.Repeat("a", 300), ozgflow.MaxNameRunes))
	if got := ozgflow.ErrorCode(ozgflow.InvalidInput(long)); got != ozgflow.EUNPROCESSABLE {
		t.Errorf("too long: got %s, want EUNPROCESSABLE", got)
	}
	large, _ := ozgflow.CheckSize("/data", ozgflow.MaxDataBytes+1, ozgflow.MaxDataBytes)
	if got := ozgflow.ErrorCode(ozgflow.InvalidInput(append(long, large))); got != ozgflow.ETOOLARGE {
		t.Errorf("too large: got %s, want ETOOLARGE", got)
	}
}
