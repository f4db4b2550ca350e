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
