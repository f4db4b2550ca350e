package staff

import (
	"regexp"
	"time"

	"github.com/ozgflow/ozgflow/locale"
)

// importWords are the results of an Excel import's rows as the page says them.
var importWords = map[string]string{
	"unchanged": "unverändert", "changed": "geändert", "new": "neu", "invalid": "fehlerhaft", "removed": "entfernt",
}

// diffWords say how a field differs between two versions.
var diffWords = map[string]string{"changed": "geändert", "added": "neu", "removed": "entfällt"}

// stampTime writes an RFC 3339 time as summaries carry it in German local
// time; "" stays "".
func stampTime(s string) string {
	if s == "" {
		return ""
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return locale.DE.Short(t)
}

var (
	fromVersion     = regexp.MustCompile(`^from version (\d+)$`)
	replacedVersion = regexp.MustCompile(`^replaced by version (\d+)$`)
)

// changeDetail is the note of an entry of the record of changes in German;
// entries recorded before the notes were German say them in English.
func changeDetail(s string) string {
	if m := fromVersion.FindStringSubmatch(s); m != nil {
		return "aus Version " + m[1]
	}
	if m := replacedVersion.FindStringSubmatch(s); m != nil {
		return "ersetzt durch Version " + m[1]
	}
	return s
}
