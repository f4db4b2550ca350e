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
