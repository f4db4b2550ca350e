package ozgflow

import "time"

// The retention schedule and the workflow it starts.
const (
	// RetentionWorkflowName names the workflow that erases the personal
	// data of closed cases whose retention ended.
	RetentionWorkflowName = "RetentionWorkflow"
	// RetentionScheduleID names the Temporal schedule that starts it daily.
	RetentionScheduleID = "ozgflow-retention"
)

// Trail actions of erasure and access (GDPR Art. 17 and 15).
const (
	ActionCaseErase     = "case.erase"
	ActionAccountErase  = "account.erase"
	ActionAccountAccess = "account.access"
	// ActorSystem is the actor of what ozgflow does on its own schedule.
	ActorSystem = "system"
	// ReasonRetentionEnded is why the schedule erases a case.
	ReasonRetentionEnded = "Aufbewahrungsfrist abgelaufen"
)

// StatisticsOnly is what stays of a case once its personal data is
// erased: the fields the dashboard's figures and the reports count, and
// when it was erased, and the case number, by which the authority still
// refers to it. Nothing in it names or describes the applicant.
func (c Case) StatisticsOnly(erasedAt time.Time) Case {
	out := Case{
		ID:                c.ID,
		CaseNumber:        c.CaseNumber,
		Revision:          c.Revision,
		Service:           c.Service,
		ServiceName:       c.ServiceName,
		Authority:         c.Authority,
		DefinitionID:      c.DefinitionID,
		DefinitionVersion: c.DefinitionVersion,
		Status:            c.Status,
		Stage:             "done",
		SubmittedAt:       c.SubmittedAt,
		UpdatedAt:         c.UpdatedAt,
		Timeline:          []Notice{},
		ErasedAt:          erasedAt.UTC(),
	}
	if c.Decision != nil {
		out.Decision = &Decision{Outcome: c.Decision.Outcome, At: c.Decision.At}
	}
	if !c.ErasedAt.IsZero() {
		out.ErasedAt = c.ErasedAt
	}
	return out
}
