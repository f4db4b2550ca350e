package sandbox

import (
	"os"
	"path/filepath"
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
		if want := id == "p1" && len(a.All()) == 2; duplicate != want {
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
	items, duplicates := openParcels(t, path).List(func(p parcel) bool { return p.ID == "p1" })
	if len(items) != 1 || items[0].Deliveries != 3 || duplicates != 2 {
		t.Errorf("after restart: %+v with %d duplicates, want p1 delivered 3 times, 2 duplicates", items, duplicates)
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
