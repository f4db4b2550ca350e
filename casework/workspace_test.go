package casework

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/definitions/catalog"
	"github.com/ozgflow/ozgflow/internal/recordstest"
	"github.com/ozgflow/ozgflow/internal/redistest"
	"github.com/ozgflow/ozgflow/locale"
)

const leipzig, dresden = "147130000000", "146120000000"

func catalogService(t *testing.T) *Service {
	t.Helper()
	reg, err := definitions.LoadCatalog(catalog.FS)
	if err != nil {
		t.Fatal(err)
	}
	return &Service{Defs: StaticDefinitions{Reg: reg}, Now: time.Now}
}

var (
	lead      = ozgflow.Identity{Subject: "sb-leipzig", Name: "Teamleitung", Role: ozgflow.RoleCaseWorker, Authority: leipzig, Queues: []string{"gewerbe", "gewerbe-leitung", "parken"}}
	colleague = ozgflow.Identity{Subject: "sb-leipzig-2", Name: "Kollegin", Role: ozgflow.RoleCaseWorker, Authority: leipzig, Queues: []string{"gewerbe", "parken"}}
)

func TestQueueNamesShortNumbersAndTeamLeads(t *testing.T) {
	s := catalogService(t)
	for _, tt := range []struct{ got, want string }{
		{s.QueueName(leipzig, "gewerbe"), "Gewerbeangelegenheiten"},
		{s.QueueName(dresden, "gewerbe-leitung"), "Gewerbe – Sachgebietsleitung"},
		{s.QueueName(leipzig, "unbekannt"), "unbekannt"},
		{s.QueueName("999999999999", "gewerbe"), "gewerbe"},
		{ShortNumber("0b9c8f5e-5a55-4d4f-9f43-000000000000", ""), "0b9c8f5e"},
		{ShortNumber("0b9c8f5e-5a55-4d4f-9f43-000000000000", "GEW-2026-000123"), "GEW-2026-000123"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	// A team lead works the queue Gewerbeanmeldung escalates to.
	if !s.LeadsTeam(lead) {
		t.Error("the team lead does not lead a team")
	}
	for _, id := range []ozgflow.Identity{colleague, {Subject: "admin", Role: ozgflow.RoleAdmin},
		{Subject: "sb-chemnitz", Role: ozgflow.RoleCaseWorker, Authority: "145110000000"}} {
		if s.LeadsTeam(id) {
			t.Errorf("%s leads a team", id.Subject)
		}
	}
}

func TestRefusalsNameQueuesByTheirNames(t *testing.T) {
	s := catalogService(t)
	err := Refusal(ozgflow.ReasonColleagueNotInQueue, "Max Muster", "gewerbe-leitung")
	if got := s.Explain(context.Background(), locale.DE, leipzig, err); !strings.Contains(got, "Max Muster arbeitet nicht im Arbeitskorb „Gewerbe – Sachgebietsleitung“") {
		t.Errorf("refusal: %q", got)
	}
}

// Refusal is a refusal error as the workflow returns it.
func Refusal(reason ozgflow.Reason, args ...string) error {
	return ozgflow.Refuse(ozgflow.EUNPROCESSABLE, reason, "refused", args...)
}

// reviewCase is a Gewerbeanmeldung in review, its task held by holder.
func reviewCase(authority, holder string) (ozgflow.Case, ozgflow.Task) {
	id := uuid.NewString()
	t := ozgflow.Task{ID: ozgflow.TaskID(id, "review", 1), CaseID: id, StepID: "review", Authority: authority, Queue: "gewerbe",
		Status: ozgflow.TaskClaimed, Assignee: holder, Outcomes: []string{"approve", "reject", "request_information"}}
	c := ozgflow.Case{ID: id, Revision: 1, Authority: authority, Status: ozgflow.StatusInReview, Tasks: []ozgflow.Task{t},
		Timeline: []ozgflow.Notice{}, Applicant: &ozgflow.CaseApplicant{Name: "Anna Muster", Email: "anna@example.org"},
		Payment: &ozgflow.Payment{Amount: 2600, Currency: "EUR", Status: ozgflow.PaymentPayed, Purpose: "Gebühr"}}
	return c, t
}

func TestMessagesRenderAsTheApplicantReadsThem(t *testing.T) {
	s := catalogService(t)
	for _, authority := range []string{leipzig, dresden} {
		def, err := s.Defs.Registry().Resolve("gewerbeanmeldung", authority)
		if err != nil {
			t.Fatal(err)
		}
		c, task := reviewCase(authority, "sb")
		now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
		office := &definitions.Contact{Office: "Ordnungsamt", Address: "Markt 1, 04109 Leipzig"}
		rejected := renderMessage(def, office, c, task, Completion{Outcome: "reject", Comment: "Die Tätigkeit ist erlaubnispflichtig."}, now)
		if rejected.Key != "rejected" || rejected.Title != "Gewerbeanmeldung abgelehnt" ||
			!strings.HasPrefix(rejected.Text, "Ihre Gewerbeanmeldung wurde abgelehnt. Begründung: Die Tätigkeit ist erlaubnispflichtig.\n\nRechtsbehelfsbelehrung: ") ||
			!strings.HasSuffix(rejected.Text, "Ihre Ansprechstelle:\nOrdnungsamt\nMarkt 1, 04109 Leipzig") ||
			!strings.Contains(rejected.Easy, "Das ist der Grund: Die Tätigkeit ist erlaubnispflichtig.") {
			t.Errorf("%s: rejection %+v", def.ID, rejected)
		}
		// Leipzig has every decision confirmed by a second person first.
		if rejected.AfterApproval != (authority == leipzig) {
			t.Errorf("%s: after approval = %v", def.ID, rejected.AfterApproval)
		}
		asked := renderMessage(def, nil, c, task, Completion{Outcome: ozgflow.OutcomeRequestInformation, Comment: "Bitte den Auszug nachreichen."}, now)
		if asked.Key != "information_requested" || asked.Text != "Das Gewerbeamt braucht weitere Angaben: Bitte den Auszug nachreichen." || asked.AfterApproval {
			t.Errorf("%s: question %+v", def.ID, asked)
		}
	}
	def, _ := s.Defs.Registry().Resolve("gewerbeanmeldung", leipzig)
	delete(def.Notices, "approved")
	c, task := reviewCase(leipzig, "sb")
	if m := renderMessage(def, nil, c, task, Completion{Outcome: "approve"}, time.Now()); !m.None {
		t.Errorf("a variant without the notice: %+v", m)
	}
}

func TestDecisionsAreCheckedBeforeThePreview(t *testing.T) {
	c, task := reviewCase(leipzig, "sb-leipzig")
	for _, tt := range []struct {
		name   string
		id     ozgflow.Identity
		req    Completion
		reason ozgflow.Reason
		field  string
	}{
		{"no outcome", lead, Completion{}, ozgflow.ReasonOutcomeMissing, "/outcome"},
		{"an outcome not offered", lead, Completion{Outcome: "shrug"}, ozgflow.ReasonOutcomeNotOffered, "/outcome"},
		{"a question without text", lead, Completion{Outcome: ozgflow.OutcomeRequestInformation, Comment: " "}, ozgflow.ReasonQuestionMissing, "/comment"},
		{"someone else holds it", colleague, Completion{Outcome: "approve"}, ozgflow.ReasonTaskClaimed, ""},
		{"fine", lead, Completion{Outcome: "approve"}, "", ""},
	} {
		err := decidable(tt.id, c, task, tt.req)
		r := ozgflow.RefusalOf(err)
		switch {
		case tt.reason == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.reason != "" && (r == nil || r.Reason != tt.reason):
			t.Errorf("%s: %v, want %s", tt.name, err, tt.reason)
		case tt.field != "" && (len(ozgflow.ErrorFields(err)) != 1 || ozgflow.ErrorFields(err)[0].Pointer != tt.field):
			t.Errorf("%s: fields %+v, want %s", tt.name, ozgflow.ErrorFields(err), tt.field)
		}
	}
}

func TestNotesAreForCaseWorkersOfTheCase(t *testing.T) {
	ctx := context.Background()
	s := catalogService(t)
	s.Store, s.Records = redistest.Store(t, "test:"), recordstest.Open(t, "sqlite")
	c, _ := reviewCase(leipzig, "sb-leipzig")
	if err := s.Store.SaveCase(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddNote(ctx, lead, c.ID, " \n "); ozgflow.RefusalOf(err) == nil || ozgflow.RefusalOf(err).Reason != ozgflow.ReasonNoteMissing {
		t.Errorf("an empty note: %v", err)
	}
	if _, err := s.AddNote(ctx, lead, c.ID, strings.Repeat("x", ozgflow.MaxCommentRunes+1)); ozgflow.ErrorCode(err) != ozgflow.EUNPROCESSABLE {
		t.Errorf("a note too long: %v", err)
	}
	n, err := s.AddNote(ctx, lead, c.ID, "  Rückruf vereinbart.  ")
	if err != nil || n.Text != "Rückruf vereinbart." || n.AuthorName != "Teamleitung" {
		t.Fatalf("note: %+v, %v", n, err)
	}
	stranger := ozgflow.Identity{Subject: "sb-dresden", Role: ozgflow.RoleCaseWorker, Authority: dresden}
	if _, err := s.AddNote(ctx, stranger, c.ID, "x"); ozgflow.ErrorCode(err) != ozgflow.ENOTFOUND {
		t.Errorf("another authority writes a note: %v", err)
	}
	admin := ozgflow.Identity{Subject: "admin", Role: ozgflow.RoleAdmin}
	if _, err := s.AddNote(ctx, admin, c.ID, "x"); ozgflow.ErrorCode(err) != ozgflow.EFORBIDDEN {
		t.Errorf("an administrator writes a note: %v", err)
	}
	if notes, err := s.Notes(ctx, colleague, c.ID); err != nil || len(notes) != 1 {
		t.Errorf("the colleague reads %+v, %v", notes, err)
	}
	if _, err := s.Notes(ctx, stranger, c.ID); ozgflow.ErrorCode(err) != ozgflow.ENOTFOUND {
		t.Errorf("another authority reads the notes: %v", err)
	}
}
