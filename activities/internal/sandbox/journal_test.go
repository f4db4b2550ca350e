package sandbox

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestJournalReplaysWhatWasAppended(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.jsonl")
	j, err := OpenJournal(path, func([]byte) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if err := j.Append(map[string]int{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	// A crash in the middle of the last write leaves half a line.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte(`{"n": 4`))
	f.Close()

	var got []int
	j, err = OpenJournal(path, func(line []byte) error {
		var v struct{ N int }
		if err := json.Unmarshal(line, &v); err != nil {
			return err
		}
		got = append(got, v.N)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	if len(got) != 3 || got[2] != 3 {
		t.Errorf("replayed %v, want [1 2 3]", got)
	}

	os.WriteFile(path, []byte("garbage\n{\"n\":1}\n"), 0o644)
	if _, err := OpenJournal(path, func(line []byte) error { var v any; return json.Unmarshal(line, &v) }); err == nil {
		t.Error("a broken line in the middle was accepted")
	}
}

// TestJournalCutShortTwiceInARowStillStarts: a last line cut short by a
// crash is cut off, so the next line appended starts on its own line and
// the start after next replays both.
func TestJournalCutShortTwiceInARowStillStarts(t *testing.T) {
	for name, content := range map[string]string{
		"after whole lines": "{\"n\":1}\n{\"n\":",
		"without newline":   "{\"n\":1}",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "journal.jsonl")
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			var seen []int
			replay := func(line []byte) error {
				var v struct{ N int }
				if err := json.Unmarshal(line, &v); err != nil {
					return err
				}
				seen = append(seen, v.N)
				return nil
			}
			j, err := OpenJournal(path, replay)
			if err != nil {
				t.Fatalf("first start: %v", err)
			}
			if err := j.Append(map[string]int{"n": 2}); err != nil {
				t.Fatal(err)
			}
			j.Close()
			seen = nil
			j, err = OpenJournal(path, replay)
			if err != nil {
				t.Fatalf("the start after next: %v", err)
			}
			j.Close()
			if seen[len(seen)-1] != 2 {
				t.Errorf("replayed %v, want the appended line last", seen)
			}
		})
	}
}
