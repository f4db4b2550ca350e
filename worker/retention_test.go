package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/internal/recordstest"
	"github.com/ozgflow/ozgflow/internal/redistest"
	"github.com/ozgflow/ozgflow/records"
	"github.com/ozgflow/ozgflow/store"
	"github.com/ozgflow/ozgflow/worker"
	"github.com/ozgflow/ozgflow/workflows"
)

// deletedHistories notes which case histories were deleted.
type deletedHistories struct {
	mu  sync.Mutex
	ids []string
}

func (d *deletedHistories) DeleteCaseHistory(_ context.Context, caseID string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ids = append(d.ids, caseID)
	return nil
}

// closeCase puts a closed case where the case workflow leaves it: its
// projection with two notices in the account's postbox, an uploaded
// document, and the final record kept for the retention.
func closeCase(t *testing.T, st *store.Store, db *records.DB, id, account string, closedAt time.Time, keep definitions.Retention) {
	t.Helper()
	ctx := context.Background()
	c := ozgflow.Case{ID: id, Revision: 3, Service: "99050035001000", ServiceName: "Gewerbeanmeldung",
		Authority: "147130000000", DefinitionID: "gewerbeanmeldung-leipzig", DefinitionVersion: 1,
		PortalAccount: account, Status: ozgflow.StatusApproved, Stage: "done",
		Decision:    &ozgflow.Decision{Outcome: "approve", By: "sb-anna", Comment: "Alles vollständig, Frau Muster", At: closedAt},
		SubmittedAt: closedAt.Add(-48 * time.Hour), UpdatedAt: closedAt}
	for i, status := range []ozgflow.Status{ozgflow.StatusReceived, ozgflow.StatusApproved} {
		c.Timeline = append(c.Timeline, ozgflow.Notice{ID: fmt.Sprintf("%s-%d", id, i+1), CaseID: id, PortalAccount: account,
			Status: status, Title: "Ihr Antrag", Text: "Sehr geehrte Frau Muster", At: closedAt.Add(time.Duration(i-2) * time.Hour)})
	}
	if err := st.SaveCase(ctx, c); err != nil {
		t.Fatal(err)
	}
	data := []byte("Gewerbeanmeldung von Anna Muster, " + id)
	if _, err := db.PutDocument(ctx, records.Document{CaseID: id, SHA256: records.SumSHA256(data), Name: "anmeldung.pdf",
		ContentType: "application/pdf", Data: data}); err != nil {
		t.Fatal(err)
	}
	rec := activities.FinalRecord{Case: c, ClosedAt: closedAt, RetainUntil: keep.Until(closedAt),
		Application: ozgflow.Application{Service: c.Service, Authority: c.Authority,
			Applicant: ozgflow.Applicant{Name: "Anna Muster", PortalAccount: account}, Data: json.RawMessage(`{"name":"Anna Muster"}`)}}
	ret := &activities.Retention{Records: worker.Records{DB: db}, Projections: st}
	if err := ret.KeepClosedCase(ctx, rec); err != nil {
		t.Fatal(err)
	}
}

// TestRetentionErasesWhatIsDueAndKeepsTheRest runs the retention workflow
// with real activities against a SQLite records database and Redis, with
// workflow time months after two cases closed: the one whose six months
// are over loses its personal data everywhere, keeps its statistics and
// gets a trail entry; the one kept for a year is untouched.
func TestRetentionErasesWhatIsDueAndKeepsTheRest(t *testing.T) {
	ctx := context.Background()
	db := recordstest.Open(t, "sqlite")
	st := redistest.Store(t, "retention-test:")
	const account = "acc-retention"
	due, kept := "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
	closeCase(t, st, db, due, account, time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC), "6M")
	closeCase(t, st, db, kept, account, time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), "1Y")
	countsBefore, err := st.CaseCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}

	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	histories := &deletedHistories{}
	env.RegisterWorkflowWithOptions(workflows.RetentionWorkflow, workflow.RegisterOptions{Name: ozgflow.RetentionWorkflowName})
	env.RegisterActivity(&activities.Retention{Records: worker.Records{DB: db}, Projections: st, Histories: histories})
	now := time.Date(2026, 9, 1, 3, 0, 0, 0, time.UTC)
	env.SetStartTime(now)
	env.ExecuteWorkflow(ozgflow.RetentionWorkflowName, workflows.RetentionInput{})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res workflows.RetentionResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Erased != 1 || res.Documents != 1 || len(res.Failed) != 0 || !res.Cutoff.Equal(now) {
		t.Errorf("run erased %d cases, %d documents, failed %v, cut-off %s; want 1, 1, none, %s",
			res.Erased, res.Documents, res.Failed, res.Cutoff, now)
	}

	// The due case: statistics only, everywhere.
	rec, err := db.ClosedCase(ctx, due)
	if err != nil {
		t.Fatal(err)
	}
	if rec.ErasedAt.IsZero() || rec.ErasedBecause != ozgflow.ReasonRetentionEnded || rec.Application.Applicant.Name != "" ||
		rec.Case.PortalAccount != "" || rec.Case.Status != ozgflow.StatusApproved || rec.Case.Decision.Outcome != "approve" {
		t.Errorf("record of the due case: %+v", rec)
	}
	if docs, _ := db.Documents(ctx, due); len(docs) != 0 {
		t.Errorf("due case still holds %d documents", len(docs))
	}
	proj, err := st.Case(ctx, due)
	if err != nil {
		t.Fatal(err)
	}
	if proj.ErasedAt.IsZero() || proj.PortalAccount != "" || len(proj.Timeline) != 0 || proj.Decision.Comment != "" ||
		proj.Decision.By != "" || proj.Status != ozgflow.StatusApproved {
		t.Errorf("projection of the due case keeps more than statistics: %+v", proj)
	}
	notices, total, err := st.Notices(ctx, account, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range notices {
		if n.CaseID == due {
			t.Errorf("notice %s of the erased case still in the postbox", n.ID)
		}
	}
	if total != 2 {
		t.Errorf("postbox holds %d notices, want the kept case's 2", total)
	}
	trail, err := db.Trail(ctx, records.TrailQuery{CaseID: due})
	if err != nil {
		t.Fatal(err)
	}
	if len(trail) != 1 || trail[0].Actor != ozgflow.ActorSystem || trail[0].Action != ozgflow.ActionCaseErase ||
		trail[0].Detail != ozgflow.ReasonRetentionEnded {
		t.Errorf("trail of the due case: %+v", trail)
	}
	if len(histories.ids) != 1 || histories.ids[0] != due {
		t.Errorf("histories deleted: %v, want only %s", histories.ids, due)
	}

	// The kept case: untouched.
	rec, err = db.ClosedCase(ctx, kept)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.ErasedAt.IsZero() || rec.Application.Applicant.Name != "Anna Muster" {
		t.Errorf("the case kept for a year lost its data: %+v", rec)
	}
	if docs, _ := db.Documents(ctx, kept); len(docs) != 1 {
		t.Errorf("kept case holds %d documents, want 1", len(docs))
	}
	if proj, err := st.Case(ctx, kept); err != nil || proj.PortalAccount != account || len(proj.Timeline) != 2 {
		t.Errorf("projection of the kept case: %+v, %v", proj, err)
	}

	// The dashboard's figures stay true.
	countsAfter, err := st.CaseCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(countsAfter) != fmt.Sprint(countsBefore) {
		t.Errorf("case counts changed by the erasure: %v, before %v", countsAfter, countsBefore)
	}
	var stats int
	if err := db.EachClosedCase(ctx, "", func(records.ClosedCase) error { stats++; return nil }); err != nil || stats != 2 {
		t.Errorf("records count %d closed cases (%v), want both", stats, err)
	}

	// A second run finds nothing to do.
	env = suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.RetentionWorkflow, workflow.RegisterOptions{Name: ozgflow.RetentionWorkflowName})
	env.RegisterActivity(&activities.Retention{Records: worker.Records{DB: db}, Projections: st, Histories: histories})
	env.SetStartTime(now.Add(24 * time.Hour))
	env.ExecuteWorkflow(ozgflow.RetentionWorkflowName, workflows.RetentionInput{})
	if err := env.GetWorkflowResult(&res); err != nil || res.Erased != 0 {
		t.Errorf("second run erased %d (%v), want 0", res.Erased, err)
	}
}
