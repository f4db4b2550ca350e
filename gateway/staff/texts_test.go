package staff

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/ozgflow/ozgflow/locale"
)

// TestEveryTextTheStaffPagesSayExists keeps every key the staff pages' code
// says (say("…"), the flashes, the error pages) present in both languages.
func TestEveryTextTheStaffPagesSayExists(t *testing.T) {
	used := map[string]bool{}
	said := regexp.MustCompile(`say\("([a-z_.]*[a-z_])"[,)]`)
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range said.FindAllStringSubmatch(string(b), -1) {
			used["staff."+m[1]] = true
		}
	}
	for _, key := range flashes {
		used["staff.flash."+key] = true
	}
	for _, kind := range []string{"forbidden", "notfound", "conflict", "unavailable", "csrf"} {
		for _, part := range []string{"title", "text", "help"} {
			used["staff.error."+kind+"."+part] = true
		}
	}
	if len(used) < 40 {
		t.Fatalf("found only %d keys; does the scan still see the code?", len(used))
	}
	for key := range used {
		for _, l := range []locale.Lang{locale.DE, locale.EN} {
			if l.Text(false, key) == key {
				t.Errorf("%s has no %s text", key, l)
			}
		}
	}
}

func TestLocalPathRefusesOtherSites(t *testing.T) {
	for p, want := range map[string]string{
		"/arbeitskorb":                   "/arbeitskorb",
		"/verwaltung/auswertung?x=1&y=2": "/verwaltung/auswertung?x=1&y=2",
		"//evil.example/":                "",
		"/\t/evil.example/":              "",
		"/\n/evil.example/":              "",
		"/\\evil.example":                "",
		"https://evil.example/":          "",
		"evil.example":                   "",
		"/ /evil.example":                "",
		"":                               "",
	} {
		if got := localPath(p); got != want {
			t.Errorf("localPath(%q) = %q, want %q", p, got, want)
		}
	}
}
