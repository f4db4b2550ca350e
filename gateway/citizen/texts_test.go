package citizen

import (
	"io/fs"
	"regexp"
	"sort"
	"testing"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/locale"
)

// TestEveryTextThePagesUseExists keeps every key the applicant's pages and
// handlers use present in the locale's tables, in both languages.
func TestEveryTextThePagesUseExists(t *testing.T) {
	used := usedTexts()
	var missing []string
	for key := range used {
		for _, l := range []locale.Lang{locale.DE, locale.EN} {
			if l.Text(false, key) == key {
				missing = append(missing, string(l)+":"+key)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("texts used but not defined: %v", missing)
	}
}

// sentence finds a sentence: words, then a full stop, question or
// exclamation mark (labels such as "Gebühr" or "Antragsnummer" are none).
var sentence = regexp.MustCompile(`\pL\pL[.?!:](\s|$)`)

// TestEverySentenceHasAnEasyForm: in the easy view the applicant's pages
// say every sentence in easy-to-read German (Leichte Sprache); none stays
// in standard language.
func TestEverySentenceHasAnEasyForm(t *testing.T) {
	var missing []string
	for key := range usedTexts() {
		if sentence.MatchString(locale.DE.Text(false, key)) && !locale.HasEasy(key) {
			missing = append(missing, key+": "+locale.DE.Text(false, key))
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("no easy-to-read form: %s", m)
	}
}

// usedTexts are the keys of every text the applicant's pages and handlers
// use.
func usedTexts() map[string]bool {
	used := map[string]bool{}
	quoted := regexp.MustCompile(`\.T "([a-z_.]+)"`)
	_ = fs.WalkDir(templateFS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(templateFS, path)
		for _, m := range quoted.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
		return nil
	})
	for _, st := range []ozgflow.Status{ozgflow.StatusReceived, ozgflow.StatusAwaitingPayment, ozgflow.StatusAwaitingSignature,
		ozgflow.StatusForwarded, ozgflow.StatusInReview, ozgflow.StatusInformationRequested, ozgflow.StatusApproved,
		ozgflow.StatusRejected, ozgflow.StatusWithdrawn, ozgflow.StatusCancelled} {
		used["status."+string(st)] = true
	}
	for _, kind := range []string{"forbidden", "notfound", "unavailable", "conflict"} {
		for _, part := range []string{"title", "text", "help"} {
			used["error."+kind+"."+part] = true
		}
	}
	for _, reason := range []string{"empty_answer", "too_large_file", "too_large_total", "too_many", "wrong_type",
		"empty_file", "text_too_long", "data_invalid", "not_multipart", "unreadable"} {
		used["upload."+reason] = true
	}
	used["decision."+ozgflow.OutcomeApprove], used["decision."+ozgflow.OutcomeReject] = true, true
	for _, verdict := range []string{"valid", "tampered", "unknown", "empty", "too_large"} {
		used["verify."+verdict] = true
	}
	for _, key := range flashKeys {
		used[key] = true
	}
	for _, key := range []string{"problems.title", "problems.action", "error.conflict", "error.unavailable", "error.internal",
		"error.csrf", "next.received", "next.delivering", "next.pay", "next.pay.preparing", "next.pay.failed", "next.sign",
		"next.sign.waiting", "next.wait", "next.answer", "next.answer.due", "next.decided", "next.closed", "next.cancelled",
		"payment.paid", "payment.refund.done", "payment.refund.pending", "withdraw.refund", "withdraw.nofee", "withdraw.unpaid",
		"status.title", "withdraw.title"} {
		used[key] = true
	}
	return used
}
