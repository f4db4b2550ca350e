package records_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/internal/recordstest"
	"github.com/ozgflow/ozgflow/records"
)

// each runs a test on SQLite and on PostgreSQL.
func each(t *testing.T, fn func(t *testing.T, dialect string)) {
	for _, d := range recordstest.Dialects {
		t.Run(d, func(t *testing.T) { fn(t, d) })
	}
}

func TestDocumentsAreKeptEncryptedOncePerContent(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		url := recordstest.URL(t, dialect)
		db := recordstest.OpenURL(t, url, recordstest.Ring(t, recordstest.Secret))
		data := []byte("%PDF-1.4 Meldebescheinigung Erika Mustermann")
		doc := records.Document{CaseID: "case-a", SHA256: records.SumSHA256(data), Name: "meldung.pdf",
			ContentType: "application/pdf", Data: data}
		created, err := db.PutDocument(ctx, doc)
		if err != nil || !created {
			t.Fatalf("put: created %v, %v", created, err)
		}
		if created, _ := db.PutDocument(ctx, doc); created {
			t.Error("the same document kept twice for one case")
		}
		other := doc
		other.CaseID, other.Name = "case-b", "kopie.pdf"
		if created, err := db.PutDocument(ctx, other); err != nil || !created {
			t.Fatalf("put for a second case: %v, %v", created, err)
		}
		bad := doc
		bad.SHA256 = records.SumSHA256([]byte("else"))
		if _, err := db.PutDocument(ctx, bad); err == nil {
			t.Error("a hash that does not name the bytes was accepted")
		}
		got, err := db.Document(ctx, "case-b", doc.SHA256)
		if err != nil || string(got.Data) != string(data) || got.Name != "kopie.pdf" || got.Size != int64(len(data)) {
			t.Fatalf("read back %+v, %v", got, err)
		}
		if _, err := db.Document(ctx, "case-c", doc.SHA256); ozgflow.ErrorCode(err) != ozgflow.ENOTFOUND {
			t.Errorf("another case reads the document: %v", err)
		}
		// The bytes at rest are not the document's.
		if n := countPlain(t, db, data); n != 0 {
			t.Errorf("%d rows hold the document in the clear", n)
		}
		if err := db.DeleteDocument(ctx, "case-a", doc.SHA256); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Document(ctx, "case-b", doc.SHA256); err != nil {
			t.Errorf("deleting one case's copy took another's: %v", err)
		}
		list, err := db.Documents(ctx, "case-b")
		if err != nil || len(list) != 1 || list[0].Data != nil {
			t.Errorf("list: %+v, %v", list, err)
		}
	})
}

// countPlain counts the blobs whose stored bytes contain plain.
func countPlain(t *testing.T, db *records.DB, plain []byte) int {
	t.Helper()
	n, err := db.CountStoredBytesContaining(context.Background(), plain)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestKeysRotateAndOldKeysStillRead(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		url := recordstest.URL(t, dialect)
		old := recordstest.OpenURL(t, url, recordstest.Ring(t, "the-first-secret-of-this-test"))
		data := []byte("Personalausweis")
		doc := records.Document{CaseID: "c1", SHA256: records.SumSHA256(data), Name: "ausweis.png", ContentType: "image/png", Data: data}
		if _, err := old.PutDocument(ctx, doc); err != nil {
			t.Fatal(err)
		}
		closed := records.ClosedCase{Case: ozgflow.Case{ID: "c1", Revision: 3, Status: ozgflow.StatusApproved},
			Application: ozgflow.Application{Applicant: ozgflow.Applicant{Name: "Erika Mustermann"}}}
		if err := old.SaveClosedCase(ctx, closed); err != nil {
			t.Fatal(err)
		}
		rotated := recordstest.OpenURL(t, url, recordstest.Ring(t, "the-second-secret-of-this-test", "the-first-secret-of-this-test"))
		if got, err := rotated.Document(ctx, "c1", doc.SHA256); err != nil || string(got.Data) != string(data) {
			t.Fatalf("read with the previous key: %v", err)
		}
		n, err := rotated.RotateKeys(ctx, 100)
		if err != nil || n != 2 {
			t.Fatalf("rotate: %d, %v", n, err)
		}
		if n, _ := rotated.RotateKeys(ctx, 100); n != 0 {
			t.Errorf("second rotation re-encrypted %d", n)
		}
		fresh := recordstest.OpenURL(t, url, recordstest.Ring(t, "the-second-secret-of-this-test"))
		if got, err := fresh.Document(ctx, "c1", doc.SHA256); err != nil || string(got.Data) != string(data) {
			t.Fatalf("read with the new key alone: %v", err)
		}
		if rec, err := fresh.ClosedCase(ctx, "c1"); err != nil || rec.Application.Applicant.Name != "Erika Mustermann" {
			t.Fatalf("closed case with the new key alone: %+v, %v", rec, err)
		}
		if _, err := old.Document(ctx, "c1", doc.SHA256); err == nil || !strings.Contains(err.Error(), "OZGFLOW_PREVIOUS_SECRETS") {
			t.Errorf("a process without the new key reads: %v", err)
		}
	})
}

func TestTrailIsAppendOnly(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := recordstest.Open(t, dialect)
		at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
		for i, e := range []records.Entry{
			{At: at, Actor: "sb-leipzig", Role: "caseworker", Authority: "147130000000", CaseID: "c1", Action: "case.read", Address: "10.0.0.1"},
			{At: at.Add(time.Hour), Actor: "sb-leipzig", Role: "caseworker", Authority: "147130000000", CaseID: "c2", Action: "document.download"},
			{At: at.Add(24 * time.Hour), Actor: "portal", Role: "portal", CaseID: "c1", Account: "amt24-1", Action: "case.read"},
		} {
			if err := db.Append(ctx, e); err != nil {
				t.Fatalf("entry %d: %v", i, err)
			}
		}
		if err := db.Append(ctx, records.Entry{Action: "x"}); err == nil {
			t.Error("an entry without actor was appended")
		}
		byCase, _ := db.Trail(ctx, records.TrailQuery{CaseID: "c1"})
		byActor, _ := db.Trail(ctx, records.TrailQuery{Actor: "sb-leipzig"})
		byDay, _ := db.Trail(ctx, records.TrailQuery{From: at, To: at.Add(2 * time.Hour)})
		byAccount, _ := db.Trail(ctx, records.TrailQuery{Account: "amt24-1"})
		if len(byCase) != 2 || len(byActor) != 2 || len(byDay) != 2 || len(byAccount) != 1 {
			t.Fatalf("selections: case %d, actor %d, period %d, account %d", len(byCase), len(byActor), len(byDay), len(byAccount))
		}
		if byCase[0].Address != "10.0.0.1" || !byCase[0].At.Equal(at) {
			t.Errorf("entry read back as %+v", byCase[0])
		}
		for _, stmt := range []string{
			"UPDATE trail SET actor = 'someone else'",
			"DELETE FROM trail",
			"DELETE FROM trail WHERE id = 1",
		} {
			if err := db.ExecForTest(ctx, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v", stmt, err)
			}
		}
		if dialect == "postgres" {
			if err := db.ExecForTest(ctx, "TRUNCATE trail"); err == nil {
				t.Error("TRUNCATE emptied the trail")
			}
		}
		after, _ := db.Trail(ctx, records.TrailQuery{})
		if len(after) != 3 || after[0].Actor != "sb-leipzig" {
			t.Errorf("the trail changed: %+v", after)
		}
	})
}

func TestReadMarks(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := recordstest.Open(t, dialect)
		now := time.Now()
		for _, id := range []string{"n1", "n2", "n1"} {
			if err := db.MarkRead(ctx, "amt24-1", id, now); err != nil {
				t.Fatal(err)
			}
		}
		read, err := db.ReadMarks(ctx, "amt24-1", []string{"n1", "n3"})
		if err != nil || !read["n1"] || read["n3"] {
			t.Fatalf("marks %v, %v", read, err)
		}
		if n, _ := db.ReadCount(ctx, "amt24-1"); n != 2 {
			t.Errorf("read count %d, want 2", n)
		}
		if err := db.ForgetReadMarks(ctx, "amt24-1"); err != nil {
			t.Fatal(err)
		}
		if n, _ := db.ReadCount(ctx, "amt24-1"); n != 0 {
			t.Errorf("after forgetting: %d", n)
		}
	})
}

func TestClosedCasesAreKeptThenErased(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := recordstest.Open(t, dialect)
		closedAt := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		c := ozgflow.Case{ID: "c9", Revision: 7, Service: "99050035001000", ServiceName: "Gewerbeanmeldung",
			Authority: "147130000000", DefinitionID: "gewerbe-leipzig", DefinitionVersion: 2, PortalAccount: "amt24-9",
			Status: ozgflow.StatusApproved, SubmittedAt: closedAt.Add(-48 * time.Hour),
			Decision: &ozgflow.Decision{Outcome: ozgflow.OutcomeApprove, By: "sb-leipzig", At: closedAt}}
		rec := records.ClosedCase{Case: c, ClosedAt: closedAt, RetainUntil: closedAt.AddDate(0, 6, 0),
			Application: ozgflow.Application{Applicant: ozgflow.Applicant{Name: "Erika Mustermann"}}}
		if err := db.SaveClosedCase(ctx, rec); err != nil {
			t.Fatal(err)
		}
		older := rec
		older.Case.Revision, older.Case.Status = 5, ozgflow.StatusInReview
		if err := db.SaveClosedCase(ctx, older); err != nil {
			t.Fatal(err)
		}
		got, err := db.ClosedCase(ctx, "c9")
		if err != nil || got.Case.Status != ozgflow.StatusApproved || got.Application.Applicant.Name != "Erika Mustermann" {
			t.Fatalf("record %+v, %v", got, err)
		}
		data := []byte("anlage")
		if _, err := db.PutDocument(ctx, records.Document{CaseID: "c9", SHA256: records.SumSHA256(data), Name: "a.pdf", Data: data}); err != nil {
			t.Fatal(err)
		}
		if due, _ := db.DueForErasure(ctx, closedAt.AddDate(0, 5, 0), 10); len(due) != 0 {
			t.Errorf("due before retention ended: %v", due)
		}
		due, err := db.DueForErasure(ctx, closedAt.AddDate(0, 7, 0), 10)
		if err != nil || len(due) != 1 || due[0] != "c9" {
			t.Fatalf("due %v, %v", due, err)
		}
		if ids, _ := db.ClosedCasesOf(ctx, "amt24-9"); len(ids) != 1 {
			t.Errorf("cases of the account: %v", ids)
		}
		for _, id := range []string{"c9-1", "c9-2", "c90-1"} {
			if err := db.MarkRead(ctx, "amt24-9", id, closedAt); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.RecordDelivered(ctx, []string{"c9-1", "c90-1"}, closedAt); err != nil {
			t.Fatal(err)
		}
		if done, err := db.Delivered(ctx, []string{"c9-1", "c9-2", "c90-1"}); err != nil || !done["c9-1"] || done["c9-2"] {
			t.Fatalf("deliveries noted: %v, %v", done, err)
		}
		if _, err := db.AddNote(ctx, records.Note{CaseID: "c9", Author: "sb-leipzig", AuthorName: "Sachbearbeitung", Text: "Betrieb bekannt."}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.AddNote(ctx, records.Note{CaseID: "c90", Author: "sb-leipzig", Text: "Ein anderer Fall."}); err != nil {
			t.Fatal(err)
		}
		er, err := db.EraseCase(ctx, "c9", "retention ended", closedAt.AddDate(0, 7, 0))
		if err != nil || er.Documents != 1 || er.Already {
			t.Fatalf("erase: %+v, %v", er, err)
		}
		if notes, err := db.Notes(ctx, "c9"); err != nil || len(notes) != 0 {
			t.Errorf("notes of the erased case: %+v, %v", notes, err)
		}
		if notes, _ := db.Notes(ctx, "c90"); len(notes) != 1 {
			t.Errorf("the erasure took another case's notes: %+v", notes)
		}
		if er, _ := db.EraseCase(ctx, "c9", "again", time.Now()); !er.Already {
			t.Error("second erasure did not notice the first")
		}
		got, err = db.ClosedCase(ctx, "c9")
		if err != nil {
			t.Fatal(err)
		}
		if got.Application.Applicant.Name != "" || got.Case.PortalAccount != "" || got.ErasedAt.IsZero() || got.ErasedBecause != "retention ended" {
			t.Errorf("erased record still holds personal data or no erasure: %+v", got)
		}
		if got.Case.Status != ozgflow.StatusApproved || got.Case.Decision == nil || got.Case.Service != "99050035001000" ||
			!got.Case.SubmittedAt.Equal(c.SubmittedAt) || got.Case.DefinitionVersion != 2 {
			t.Errorf("statistics lost: %+v", got.Case)
		}
		if ids, _ := db.ClosedCasesOf(ctx, "amt24-9"); len(ids) != 0 {
			t.Errorf("erased case still found by account: %v", ids)
		}
		if marks, _ := db.ReadMarks(ctx, "amt24-9", []string{"c9-1", "c9-2", "c90-1"}); len(marks) != 1 || !marks["c90-1"] {
			t.Errorf("read marks after the erasure: %v, want only another case's", marks)
		}
		if done, _ := db.Delivered(ctx, []string{"c9-1", "c90-1"}); done["c9-1"] || !done["c90-1"] {
			t.Errorf("portal deliveries after the erasure: %v, want only another case's", done)
		}
		if _, err := db.Document(ctx, "c9", records.SumSHA256(data)); ozgflow.ErrorCode(err) != ozgflow.ENOTFOUND {
			t.Errorf("document survived the erasure: %v", err)
		}
		if err := db.SaveClosedCase(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.ClosedCase(ctx, "c9"); got.ErasedAt.IsZero() {
			t.Error("a repeated final record brought erased data back")
		}
		n := 0
		_ = db.EachClosedCase(ctx, "147130000000", func(records.ClosedCase) error { n++; return nil })
		if n != 1 {
			t.Errorf("each closed case: %d", n)
		}
	})
}

// TestMigrationsApplyOnce: processes that start at the same moment on an
// empty database (gateway and worker) all open it, and the schema is
// applied once.
func TestMigrationsApplyOnce(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		for round := 0; round < 3; round++ {
			url := recordstest.URL(t, dialect)
			ring := recordstest.Ring(t, recordstest.Secret)
			const starts = 6
			versions := make([]int, starts)
			errs := make([]error, starts)
			var ready, done sync.WaitGroup
			ready.Add(starts)
			done.Add(starts)
			for i := range starts {
				go func() {
					defer done.Done()
					ready.Done()
					ready.Wait()
					db, err := records.Open(context.Background(), url, ring)
					if err != nil {
						errs[i] = err
						return
					}
					defer db.Close()
					versions[i], errs[i] = db.SchemaVersion(context.Background())
				}()
			}
			done.Wait()
			for i := range starts {
				if errs[i] != nil || versions[i] < 1 || versions[i] != versions[0] {
					t.Errorf("round %d, start %d: version %d, %v", round, i, versions[i], errs[i])
				}
			}
		}
	})
}

// TestBrokenTextNeverFailsAQuery: PostgreSQL refuses invalid UTF-8 and NUL
// in text; what a caller sends such bytes in is stored mended and looked
// up in vain, never answered with an error.
func TestBrokenTextNeverFailsAQuery(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := recordstest.Open(t, dialect)
		broken := "amt24-\xff\x00x"
		if err := db.Append(ctx, records.Entry{Actor: broken, Role: "portal", Account: broken, Action: "mailbox.read", Detail: broken}); err != nil {
			t.Errorf("append: %v", err)
		}
		if _, err := db.Trail(ctx, records.TrailQuery{Actor: broken, Account: broken, CaseID: broken}); err != nil {
			t.Errorf("trail: %v", err)
		}
		if _, err := db.ClosedCasesOf(ctx, broken); err != nil {
			t.Errorf("closed cases of: %v", err)
		}
		if _, err := db.ReadMarks(ctx, broken, []string{broken}); err != nil {
			t.Errorf("read marks: %v", err)
		}
		if err := db.MarkRead(ctx, broken, broken, time.Now()); err != nil {
			t.Errorf("mark read: %v", err)
		}
		if _, err := db.Document(ctx, broken, broken); ozgflow.ErrorCode(err) != ozgflow.ENOTFOUND {
			t.Errorf("document: %v", err)
		}
		if _, err := db.ClosedCase(ctx, broken); ozgflow.ErrorCode(err) != ozgflow.ENOTFOUND {
			t.Errorf("closed case: %v", err)
		}
	})
}
