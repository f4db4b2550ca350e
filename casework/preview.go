package casework

import (
	"context"
	"strings"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/locale"
)

// Message is the notice an action sends to the applicant, as the applicant
// will read it: a case worker sees it before sending.
type Message struct {
	// Key is the notice's key in the variant, e.g. "rejected".
	Key string
	// None says the variant has no notice for it: nothing is sent.
	None              bool
	Title, Text, Easy string
	// Email is the address the notice goes to by e-mail as well, if the
	// variant sends notices by e-mail.
	Email string
	// AfterApproval says a second case worker confirms the decision
	// first (four-eyes principle); only then does the notice go out.
	AfterApproval bool
}

// PreviewMessage checks a decision or a question to the applicant as the
// workflow would take it, and renders the notice it will send, from the
// variant the case started with; it sends and changes nothing.
func (s *Service) PreviewMessage(ctx context.Context, id ozgflow.Identity, taskID string, req Completion) (Message, error) {
	if err := checkAction(req); err != nil {
		return Message{}, err
	}
	c, task, err := s.VisibleTask(ctx, id, taskID)
	if err != nil {
		return Message{}, err
	}
	if !id.MemberOf(task.Queue) {
		return Message{}, ozgflow.Refuse(ozgflow.ENOTFOUND, ozgflow.ReasonTaskNotFound, "Task "+taskID+" not found.", taskID)
	}
	if !id.WorksCases(c.Authority) {
		return Message{}, ozgflow.Refuse(ozgflow.EFORBIDDEN, ozgflow.ReasonNotCaseWorker,
			"Only case workers of the case's authority work on its tasks; administrators may look, not act.")
	}
	if err := decidable(id, c, task, req); err != nil {
		return Message{}, err
	}
	in, err := s.Input(ctx, c.ID)
	if err != nil {
		return Message{}, err
	}
	return renderMessage(in.Definition, in.Contact, c, task, req, s.now()), nil
}

// decidable refuses a decision or question as the workflow's validator
// would: the case is open, the task active and not waiting for approval,
// held by nobody else, and the outcome is one the task offers.
func decidable(id ozgflow.Identity, c ozgflow.Case, t ozgflow.Task, req Completion) error {
	switch {
	case c.Status.Final():
		return ozgflow.Refuse(ozgflow.ECONFLICT, ozgflow.ReasonCaseClosed, "The case is already closed.", string(c.Status))
	case !t.Active():
		return ozgflow.Refuse(ozgflow.ECONFLICT, ozgflow.ReasonTaskFinished, "The task has ended.", t.Status)
	case t.Status == ozgflow.TaskApproval && t.Proposal != nil:
		return ozgflow.Refuse(ozgflow.ECONFLICT, ozgflow.ReasonAwaitsApproval, "A decision waits for approval.", t.Proposal.By)
	case t.Assignee != "" && t.Assignee != id.Subject:
		return ozgflow.Refuse(ozgflow.ECONFLICT, ozgflow.ReasonTaskClaimed, "The task is claimed by "+t.Assignee+".", t.Assignee)
	}
	return checkCompletion(t, req)
}

// checkCompletion refuses a decision without an outcome or with one the
// task does not offer, and a question without its text, naming the field.
func checkCompletion(t ozgflow.Task, req Completion) error {
	refused := func(reason ozgflow.Reason, pointer, message string, args ...string) error {
		err := ozgflow.Refuse(ozgflow.EUNPROCESSABLE, reason, message, args...)
		err.Fields = []ozgflow.FieldError{{Pointer: pointer, Detail: message}}
		return err
	}
	switch {
	case req.Outcome == "":
		return refused(ozgflow.ReasonOutcomeMissing, "/outcome", "An outcome is required.")
	case !t.Offers(req.Outcome):
		return refused(ozgflow.ReasonOutcomeNotOffered, "/outcome", "The task does not offer this outcome.", req.Outcome)
	case req.Outcome == ozgflow.OutcomeRequestInformation && strings.TrimSpace(req.Comment) == "":
		return refused(ozgflow.ReasonQuestionMissing, "/comment", "A question to the applicant needs its text.")
	}
	return nil
}

// renderMessage fills the variant's notice for the outcome as the case
// workflow does when it decides or asks (workflows: decide, askApplicant,
// notify): with the case number, and a rejection with the variant's
// Rechtsbehelfsbelehrung and the office's contact.
func renderMessage(def definitions.Definition, contact *definitions.Contact, c ozgflow.Case, t ozgflow.Task, req Completion, now time.Time) Message {
	step, _ := def.Step(t.StepID)
	var m Message
	data := definitions.NoticeData{CaseID: c.ID, CaseNumber: c.CaseNumber, Service: def.Name, Authority: c.Authority}
	if data.CaseNumber == "" {
		data.CaseNumber = c.ID // as the workflow quotes cases from before case numbers
	}
	switch req.Outcome {
	case ozgflow.OutcomeRequestInformation:
		m.Key, data.Question = string(ozgflow.StatusInformationRequested), req.Comment
		if step.AnswerDeadline > 0 {
			data.Deadline = locale.DE.Deadline(now.Add(time.Duration(step.AnswerDeadline)))
		}
	case ozgflow.OutcomeReject:
		m.Key, data.Comment, m.AfterApproval = string(ozgflow.StatusRejected), req.Comment, step.FourEyes
	default:
		m.Key, data.Comment, m.AfterApproval = string(ozgflow.StatusApproved), req.Comment, step.FourEyes
	}
	if p := c.Payment; p != nil {
		data.Amount, data.Purpose = locale.DE.Amount(p.Amount, p.Currency), p.Purpose
		if data.Deadline == "" && !p.DeadlineAt.IsZero() {
			data.Deadline = locale.DE.Deadline(p.DeadlineAt)
		}
	}
	tmpl, ok := def.Notices[m.Key]
	if !ok {
		m.None = true
		return m
	}
	var err error
	if m.Title, m.Text, err = tmpl.Render(data); err != nil {
		m.Title, m.Text = m.Key, m.Key // as the workflow sends it
	}
	m.Easy, _ = tmpl.RenderEasy(data)
	if m.Key == string(ozgflow.StatusRejected) {
		m.Text, m.Easy = def.Rejection(m.Text, m.Easy, contact)
	}
	if def.EmailNotices && c.Applicant != nil {
		m.Email = c.Applicant.Email
	}
	return m
}

// ProposalMessage renders the notice a proposed decision will send once a
// second case worker confirms it, for the one who confirms.
func (s *Service) ProposalMessage(ctx context.Context, c ozgflow.Case, t ozgflow.Task) (Message, bool) {
	if t.Proposal == nil {
		return Message{}, false
	}
	in, err := s.Input(ctx, c.ID)
	if err != nil {
		return Message{}, false
	}
	m := renderMessage(in.Definition, in.Contact, c, t, Completion{Outcome: t.Proposal.Outcome, Comment: t.Proposal.Comment}, s.now())
	m.AfterApproval = false
	return m, true
}
