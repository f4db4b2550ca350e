package ozgflow

import (
	"testing"
	"time"
)

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
