package records_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"

	"github.com/ozgflow/ozgflow/internal/recordstest"
	"github.com/ozgflow/ozgflow/records"
)

func TestCaseNumbersCountPerPrefixAuthorityAndYear(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := recordstest.Open(t, dialect)
		gew := records.CaseNumberKey{Prefix: "GEW", Authority: "147130000000", Year: 2026}
		draw := func(wf string, key records.CaseNumberKey) string {
			t.Helper()
			n, err := db.AssignCaseNumber(ctx, wf, key)
			if err != nil {
				t.Fatalf("draw for %s: %v", wf, err)
			}
			return n
		}
		if got := draw("case-a", gew); got != "GEW-2026-000001" {
			t.Errorf("first number %q", got)
		}
		if got := draw("case-b", gew); got != "GEW-2026-000002" {
			t.Errorf("second number %q", got)
		}
		// A retried draw returns the first number, whatever it asks for.
		if got := draw("case-a", gew); got != "GEW-2026-000001" {
			t.Errorf("retried draw %q", got)
		}
		if got := draw("case-a", records.CaseNumberKey{Prefix: "APA", Authority: "x", Year: 2027}); got != "GEW-2026-000001" {
			t.Errorf("retried draw with another key %q", got)
		}
		// Other authority, other prefix, other year: counters of their own.
		dresden := gew
		dresden.Authority = "146120000000"
		if got := draw("case-c", dresden); got != "GEW-2026-000001" {
			t.Errorf("Dresden's first number %q", got)
		}
		apa := gew
		apa.Prefix = "APA"
		if got := draw("case-d", apa); got != "APA-2026-000001" {
			t.Errorf("first APA number %q", got)
		}
		next := gew
		next.Year = 2027
		if got := draw("case-e", next); got != "GEW-2027-000001" {
			t.Errorf("first number of 2027 %q", got)
		}
		if got := draw("case-f", gew); got != "GEW-2026-000003" {
			t.Errorf("third number %q", got)
		}
		if got, err := db.CaseNumber(ctx, "case-b"); err != nil || got != "GEW-2026-000002" {
			t.Errorf("case-b's number %q, %v", got, err)
		}
		if got, err := db.CaseNumber(ctx, "case-z"); err != nil || got != "" {
			t.Errorf("a case without a number: %q, %v", got, err)
		}
		if _, err := db.AssignCaseNumber(ctx, "case-g", records.CaseNumberKey{Authority: "x", Year: 2026}); err == nil {
			t.Error("a number without prefix was drawn")
		}
	})
}

// TestConcurrentCaseNumbersAreUnique: draws at the same time, repeated
// ones among them, give every case one number and no number twice.
func TestConcurrentCaseNumbersAreUnique(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		url := recordstest.URL(t, dialect)
		// Two processes' connections on one database, as two workers.
		dbs := []*records.DB{recordstest.OpenURL(t, url, recordstest.Ring(t, recordstest.Secret)),
			recordstest.OpenURL(t, url, recordstest.Ring(t, recordstest.Secret))}
		key := records.CaseNumberKey{Prefix: "GEW", Authority: "147130000000", Year: 2026}
		const cases, tries = 20, 3
		var mu sync.Mutex
		got := map[string]map[string]bool{} // workflow → numbers it got
		var wg sync.WaitGroup
		for i := range cases {
			for j := range tries {
				wg.Add(1)
				go func() {
					defer wg.Done()
					wf := fmt.Sprintf("case-%d", i)
					n, err := dbs[(i+j)%2].AssignCaseNumber(ctx, wf, key)
					if err != nil {
						t.Errorf("draw for %s: %v", wf, err)
						return
					}
					mu.Lock()
					defer mu.Unlock()
					if got[wf] == nil {
						got[wf] = map[string]bool{}
					}
					got[wf][n] = true
				}()
			}
		}
		wg.Wait()
		seen := map[string]string{}
		for wf, numbers := range got {
			if len(numbers) != 1 {
				t.Errorf("%s got %d numbers: %v", wf, len(numbers), numbers)
			}
			for n := range numbers {
				if other, dup := seen[n]; dup {
					t.Errorf("%s and %s share %s", wf, other, n)
				}
				seen[n] = wf
			}
		}
		if len(seen) != cases {
			t.Errorf("%d numbers for %d cases", len(seen), cases)
		}
	})
}

// TestCaseNumberMigrationUpgradesAnExistingDatabase: a database from
// before case numbers (schema version 2) gets their tables at the next
// start and keeps what it held.
func TestCaseNumberMigrationUpgradesAnExistingDatabase(t *testing.T) {
	each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		url := recordstest.URL(t, dialect)
		db := recordstest.OpenURL(t, url, recordstest.Ring(t, recordstest.Secret))
		if err := db.MarkRead(ctx, "acc-1", "n-1", db.Now()); err != nil {
			t.Fatal(err)
		}
		db.Close()
		raw := rawSQL(t, dialect, url)
		for _, stmt := range []string{"DROP TABLE case_numbers", "DROP TABLE case_number_sequences", "DROP TABLE case_notes",
			"DELETE FROM schema_migrations WHERE version >= 3"} {
			if _, err := raw.Exec(stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		raw.Close()

		db = recordstest.OpenURL(t, url, recordstest.Ring(t, recordstest.Secret))
		if v, err := db.SchemaVersion(ctx); err != nil || v < 3 {
			t.Fatalf("schema version %d, %v", v, err)
		}
		if n, err := db.AssignCaseNumber(ctx, "case-a", records.CaseNumberKey{Prefix: "HST", Authority: "146120000000", Year: 2026}); err != nil || n != "HST-2026-000001" {
			t.Errorf("number after the upgrade %q, %v", n, err)
		}
		if marks, err := db.ReadMarks(ctx, "acc-1", []string{"n-1"}); err != nil || !marks["n-1"] {
			t.Errorf("read marks after the upgrade %v, %v", marks, err)
		}
	})
}

// rawSQL opens the database at url without ozgflow's migrations.
func rawSQL(t *testing.T, dialect, url string) *sql.DB {
	t.Helper()
	driver, dsn := "sqlite", "file:"+url
	if dialect == "postgres" {
		driver, dsn = "postgres", url
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	return db
}
