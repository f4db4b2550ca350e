package ozgflow

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestStatisticsOnlyKeepsTheNumberNotThePerson: an erased case keeps its
// case number, by which the authority still refers to it, and nothing of
// who applied.
func TestStatisticsOnlyKeepsTheNumberNotThePerson(t *testing.T) {
	c := Case{ID: "c1", CaseNumber: "GEW-2026-000123", Status: StatusApproved,
		Applicant: &CaseApplicant{Name: "Erika Mustermann", Email: "erika@example.org", BusinessName: "Café Erika"},
		Timeline:  []Notice{{ID: "c1-1", Text: "Guten Tag, Frau Mustermann"}}}
	out := c.StatisticsOnly(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	if out.CaseNumber != "GEW-2026-000123" || out.Applicant != nil {
		t.Errorf("erased case %+v", out)
	}
	b, _ := json.Marshal(out)
	if strings.Contains(string(b), "Mustermann") || strings.Contains(string(b), "Erika") {
		t.Errorf("the erased case names the applicant: %s", b)
	}
}

// TestStatisticsOnlyKeepsNobodysName: what stays of an erased case names
// neither the applicant nor their business or address.
func TestStatisticsOnlyKeepsNobodysName(t *testing.T) {
	c := Case{ID: "c1", Revision: 4, Service: "99050035001000", Status: StatusApproved, PortalAccount: "amt24-anna",
		Applicant: &CaseApplicant{Name: "Anna Muster", Email: "anna@example.org", BusinessName: "Café Anna", Address: "Markt 1, 04109 Leipzig"},
		Decision:  &Decision{Outcome: OutcomeApprove, By: "sb-leipzig", Comment: "Alles da."}}
	stats := c.StatisticsOnly(time.Now())
	if stats.Applicant != nil || stats.PortalAccount != "" || stats.Decision.By != "" || stats.Decision.Comment != "" {
		t.Errorf("statistics keep personal data: %+v", stats)
	}
	if stats.ID != "c1" || stats.Status != StatusApproved || stats.Decision.Outcome != OutcomeApprove {
		t.Errorf("statistics lose their figures: %+v", stats)
	}
}
