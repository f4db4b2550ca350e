package locale

import (
	"strings"
	"testing"

	"github.com/ozgflow/ozgflow"
)

func TestInputProblem(t *testing.T) {
	long := ozgflow.CheckText(ozgflow.Prose("/comment", strings.Repeat("x", 6000), ozgflow.MaxCommentRunes))[0]
	if got, want := DE.InputProblem(long), "Der Kommentar ist zu lang: höchstens 5000 Zeichen sind möglich."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	field := ozgflow.CheckText(ozgflow.Line("/fields/3", "a\nb", ozgflow.MaxCodeRunes))[0]
	if got, want := EN.InputProblem(field), "The list of fields contains control characters. Please remove them."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	large, _ := ozgflow.CheckSize("/data", 300<<10, ozgflow.MaxDataBytes)
	if got, want := DE.InputProblem(large), "Der Datenteil ist zu groß: höchstens 256 KiB sind möglich."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := DE.InputProblems([]ozgflow.FieldError{{Pointer: "/outcome", Detail: "is required"}}); got != nil {
		t.Errorf("a field without a rule was worded: %v", got)
	}
}

func TestEveryInputRuleInBothLanguages(t *testing.T) {
	for _, rule := range []string{ozgflow.RuleTooLong, ozgflow.RuleTooLarge, ozgflow.RuleControl,
		ozgflow.RuleInvalidText, ozgflow.RuleCharset, ozgflow.RuleEmail} {
		w, ok := inputRules[rule]
		if !ok || w.de == "" || w.en == "" {
			t.Errorf("rule %s has no words in both languages", rule)
		}
	}
}

func TestAnAttachmentsNameHasItsLabel(t *testing.T) {
	got := DE.InputProblem(ozgflow.FieldError{Pointer: "/attachments/3/name", Rule: ozgflow.RuleTooLong, Limit: 255})
	if !strings.HasPrefix(got, "Der Name eines Dokuments") {
		t.Errorf("problem = %q", got)
	}
}
