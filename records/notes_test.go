package records_test

import (
	"context"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow/internal/recordstest"
	"github.com/ozgflow/ozgflow/records"
)

// TestNotesAreKeptEncryptedPerCaseAndRotate: a case's notes read back in
// the order they were written, only for their case, never in the clear at
// rest, and move to a new key with the documents.
func TestNotesAreKeptEncryptedPerCaseAndRotate(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		url := recordstest.URL(t, dialect)
		old := recordstest.OpenURL(t, url, recordstest.Ring(t, "the-first-secret-of-the-notes"))
		at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
		for i, text := range []string{"Betrieb ist bekannt, Auflagen 2024.", "Rückruf Frau Muster: Auszug folgt."} {
			n, err := old.AddNote(ctx, records.Note{CaseID: "n1", At: at.Add(time.Duration(i) * time.Minute),
				Author: "sb-leipzig", AuthorName: "Sachbearbeitung Leipzig", Text: text})
			if err != nil || n.ID == "" {
				t.Fatalf("add: %+v, %v", n, err)
			}
		}
		if _, err := old.AddNote(ctx, records.Note{CaseID: "n2", Author: "sb-dresden", Text: "Anderer Fall"}); err != nil {
			t.Fatal(err)
		}
		notes, err := old.Notes(ctx, "n1")
		if err != nil || len(notes) != 2 || notes[0].Text != "Betrieb ist bekannt, Auflagen 2024." ||
			notes[1].AuthorName != "Sachbearbeitung Leipzig" || notes[1].Author != "sb-leipzig" || !notes[1].At.Equal(at.Add(time.Minute)) {
			t.Fatalf("notes: %+v, %v", notes, err)
		}
		if n := countPlain(t, old, []byte("Auszug folgt")); n != 0 {
			t.Errorf("%d rows hold a note in the clear", n)
		}
		rotated := recordstest.OpenURL(t, url, recordstest.Ring(t, "the-second-secret-of-the-notes", "the-first-secret-of-the-notes"))
		if n, err := rotated.RotateKeys(ctx, 100); err != nil || n != 3 {
			t.Fatalf("rotate: %d, %v", n, err)
		}
		fresh := recordstest.OpenURL(t, url, recordstest.Ring(t, "the-second-secret-of-the-notes"))
		if notes, err := fresh.Notes(ctx, "n1"); err != nil || len(notes) != 2 {
			t.Fatalf("notes with the new key alone: %+v, %v", notes, err)
		}
	})
}
