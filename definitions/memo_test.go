package definitions

import (
	"errors"
	"testing"
)

func TestMemoBuildsOnceAndStaysBounded(t *testing.T) {
	m := memo[string, int]{limit: 2}
	builds := 0
	build := func(v int) func() (int, error) {
		return func() (int, error) { builds++; return v, nil }
	}
	for range 3 {
		if v, err := m.get("a", build(1)); v != 1 || err != nil {
			t.Fatalf("a = %d, %v", v, err)
		}
	}
	if builds != 1 {
		t.Errorf("built %d times, want once", builds)
	}
	if _, err := m.get("b", func() (int, error) { return 0, errors.New("broken") }); err == nil {
		t.Error("a failure is not returned")
	}
	if _, err := m.get("b", build(2)); err != nil || builds != 2 {
		t.Errorf("a failure was kept: builds %d, %v", builds, err)
	}
	m.get("c", build(3))
	if len(m.items) > 2 {
		t.Errorf("%d entries, limit 2", len(m.items))
	}
	if v, _ := m.get("c", build(99)); v != 3 {
		t.Errorf("c = %d after the memo started afresh", v)
	}
}

// TestAKeptTemplateRendersEachCasesData: a template kept from one case
// renders the next case's data, not the first's, and a failure is the
// failure of each case that meets it.
func TestAKeptTemplateRendersEachCasesData(t *testing.T) {
	tmpl := NoticeTemplate{Title: "Antrag {{.CaseNumber}}", Text: "Ihr Antrag {{.CaseNumber}} ist eingegangen."}
	for _, n := range []string{"GEW-2026-000001", "GEW-2026-000002"} {
		title, text, err := tmpl.Render(NoticeData{CaseNumber: n})
		if err != nil || title != "Antrag "+n || text != "Ihr Antrag "+n+" ist eingegangen." {
			t.Errorf("%s: %q %q %v", n, title, text, err)
		}
	}
	if _, _, err := (NoticeTemplate{Title: "{{.Missing}}"}).Render(NoticeData{}); err == nil {
		t.Error("a missing key renders")
	}
	if _, _, err := (NoticeTemplate{Title: "{{.Missing}}"}).Render(NoticeData{}); err == nil {
		t.Error("a missing key renders the second time")
	}
}
