package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

type parcel struct {
	ID         string `json:"id"`
	Deliveries int    `json:"deliveries"`
}

func openParcels(t *testing.T, path string) *Arrivals[parcel] {
	t.Helper()
	a, err := OpenArrivals(path, "parcel", func(p parcel) string { return p.ID }, func(p *parcel) *int { return &p.Deliveries })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func TestArrivalsKeepEachIDOnceAndCountRepeatsAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parcels.jsonl")
	a := openParcels(t, path)
	for _, id := range []string{"p1", "p2", "p1", "p1"} {
		duplicate, err := a.Add(parcel{ID: id})
		if err != nil {
			t.Fatal(err)
		}
		all, _, _ := a.List(func(parcel) bool { return true })
		if want := id == "p1" && len(all) == 2; duplicate != want {
			t.Errorf("Add(%s) duplicate = %v, want %v", id, duplicate, want)
		}
	}
	a.Close()

	b, _ := os.ReadFile(path)
	wantJournal := `{"parcel":{"id":"p1","deliveries":1}}
{"parcel":{"id":"p2","deliveries":1}}
{"duplicate":"p1"}
{"duplicate":"p1"}
`
	if string(b) != wantJournal {
		t.Errorf("journal =\n%s\nwant\n%s", b, wantJournal)
	}
	items, duplicates, err := openParcels(t, path).List(func(p parcel) bool { return p.ID == "p1" })
	if err != nil || len(items) != 1 || items[0].Deliveries != 3 || duplicates != 2 {
		t.Errorf("after restart: %+v with %d duplicates (%v), want p1 delivered 3 times, 2 duplicates", items, duplicates, err)
	}
}

func TestArrivalsRefuseARepeatOfNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parcels.jsonl")
	if err := os.WriteFile(path, []byte("{\"duplicate\":\"p9\"}\n{\"parcel\":{\"id\":\"p1\"}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenArrivals(path, "parcel", func(p parcel) string { return p.ID }, func(p *parcel) *int { return &p.Deliveries }); err == nil {
		t.Error("a journal that repeats an unknown parcel opened")
	}
}

// TestArrivalsBeyondTheLimitAreListedFromTheJournal fills a journal past
// what is kept in memory: duplicates are still found, before and after a
// restart, and the lists read from the journal equal those kept in memory.
func TestArrivalsBeyondTheLimitAreListedFromTheJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parcels.jsonl")
	open := func() *Arrivals[parcel] {
		a, err := openArrivals(path, "parcel", func(p parcel) string { return p.ID }, func(p *parcel) *int { return &p.Deliveries }, 3)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		return a
	}
	memory := openParcels(t, "") // keeps everything in memory, the reference
	a := open()
	add := func(a *Arrivals[parcel], id string, wantDuplicate bool) {
		t.Helper()
		for _, to := range []*Arrivals[parcel]{a, memory} {
			if duplicate, err := to.Add(parcel{ID: id}); err != nil || duplicate != wantDuplicate {
				t.Fatalf("Add(%s) = %v, %v; want duplicate %v", id, duplicate, err, wantDuplicate)
			}
		}
	}
	for i := range 5 {
		add(a, fmt.Sprint("p", i), false)
	}
	add(a, "p0", true)
	add(a, "p4", true)
	if !a.spilled || a.items != nil {
		t.Fatalf("five items kept in memory with a limit of three")
	}
	check := func(a *Arrivals[parcel], when string) {
		t.Helper()
		for _, want := range []string{"", "p0", "p3", "p4", "p9"} {
			keep := func(p parcel) bool { return want == "" || p.ID == want }
			items, duplicates, err := a.List(keep)
			wantItems, wantDuplicates, _ := memory.List(keep)
			if err != nil || !slices.Equal(items, wantItems) || duplicates != wantDuplicates {
				t.Errorf("%s: List(%q) = %v, %d duplicates, %v; want %v, %d", when, want, items, duplicates, err, wantItems, wantDuplicates)
			}
		}
	}
	check(a, "before a restart")
	a.Close()
	b := open()
	if !b.spilled {
		t.Error("the replay kept five items in memory")
	}
	add(b, "p2", true)
	add(b, "p5", false)
	check(b, "after a restart")
}
