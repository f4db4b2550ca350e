package api

import (
	"time"

	"github.com/ozgflow/ozgflow"
)

// caseView is a case as the API shows it.
type caseView struct {
	ID string `json:"id"`
	// CaseNumber is the short number people quote (GEW-2026-000123);
	// absent for cases from before case numbers. ID stays the technical ID.
	CaseNumber  string         `json:"caseNumber,omitempty"`
	Service     string         `json:"service"`
	ServiceName string         `json:"serviceName"`
	Authority   string         `json:"authority"`
	Status      ozgflow.Status `json:"status"`
	// WaitingFor says what the open case waits for (payment, signature,
	// delivery, case_worker, applicant, back_office).
	WaitingFor          string                       `json:"waitingFor,omitempty"`
	Final               bool                         `json:"final"`
	Stage               string                       `json:"stage"`
	Definition          definitionRef                `json:"definition"`
	Payment             *paymentView                 `json:"payment"`
	Seal                *sealView                    `json:"seal,omitempty"`
	Signing             *signingView                 `json:"signing,omitempty"`
	Delivery            *deliveryView                `json:"delivery,omitempty"`
	Decision            *ozgflow.Decision            `json:"decision,omitempty"`
	InformationRequests []ozgflow.InformationRequest `json:"informationRequests"`
	Tasks               []taskView                   `json:"tasks,omitempty"`
	Audit               []ozgflow.AuditEntry         `json:"audit,omitempty"`
	Timeline            []noticeView                 `json:"timeline"`
	SubmittedAt         time.Time                    `json:"submittedAt"`
	UpdatedAt           time.Time                    `json:"updatedAt"`
}

// signingView is the applicant's signature: where to sign, and its state.
type signingView struct {
	Status      string     `json:"status"`
	RedirectURL string     `json:"redirectUrl,omitempty"`
	SignedAt    *time.Time `json:"signedAt,omitempty"`
}

type definitionRef struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
}

type paymentView struct {
	ID       string `json:"id,omitempty"`
	Status   string `json:"status"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	Purpose  string `json:"purpose"`
	// Reference and Kassenzeichen name the payment for the cash office.
	Reference     string                `json:"reference,omitempty"`
	Kassenzeichen string                `json:"kassenzeichen,omitempty"`
	Items         []ozgflow.PaymentItem `json:"items,omitempty"`
	RedirectURL   string                `json:"redirectUrl,omitempty"`
	Attempt       int                   `json:"attempt"`
	DeadlineAt    *time.Time            `json:"deadlineAt,omitempty"`
	PaidAt        *time.Time            `json:"paidAt,omitempty"`
	Refund        string                `json:"refund,omitempty"`
}

type sealView struct {
	KeyID    string    `json:"keyId"`
	SealedAt time.Time `json:"sealedAt"`
	Receipt  string    `json:"receiptUrl"`
}

type deliveryView struct {
	State         string     `json:"state"` // pending, retrying, delivered, withdrawn, rejected (staff only)
	Target        string     `json:"target,omitempty"`
	Reference     string     `json:"reference,omitempty"`
	DeliveredAt   *time.Time `json:"deliveredAt,omitempty"`
	Attempts      int        `json:"attempts,omitempty"`
	LastError     string     `json:"lastError,omitempty"`
	NextAttemptAt *time.Time `json:"nextAttemptAt,omitempty"`
	// Reports are the Fachverfahren's callbacks, oldest first.
	Reports []ozgflow.DeliveryReport `json:"reports,omitempty"`
	// Protocol is "fitconnect" for a FIT-Connect submission (Reference is
	// its ID); Round counts its sends.
	Protocol string `json:"protocol,omitempty"`
	Round    int    `json:"round,omitempty"`
	// Rejected, for staff, says why the destination did not take the case
	// (or "keine Antwort"), since when: an administrator can resend it.
	Rejected *ozgflow.DeliveryRejection `json:"rejected,omitempty"`
}

type noticeView struct {
	ID         string          `json:"id"`
	CaseID     string          `json:"caseId"`
	CaseNumber string          `json:"caseNumber,omitempty"`
	Status     ozgflow.Status  `json:"status"`
	Title      string          `json:"title"`
	Text       string          `json:"text"`
	At         time.Time       `json:"at"`
	Documents  []noticeDocView `json:"documents,omitempty"`
}

// noticeDocView is a document that comes with a notice, and where to get it.
type noticeDocView struct {
	Name        string `json:"name"`
	ContentType string `json:"contentType,omitempty"`
	Size        int64  `json:"size,omitempty"`
	SHA256      string `json:"sha256"`
	Href        string `json:"href"`
}

// noticeDocs are the documents of a notice with their download addresses.
func noticeDocs(n ozgflow.Notice) []noticeDocView {
	var out []noticeDocView
	for _, d := range n.Documents {
		out = append(out, noticeDocView{Name: d.Name, ContentType: d.ContentType, Size: d.Size, SHA256: d.SHA256,
			Href: "/api/v1/applications/" + n.CaseID + "/documents/" + d.SHA256})
	}
	return out
}

type taskView struct {
	ID        string     `json:"id"`
	CaseID    string     `json:"caseId"`
	Title     string     `json:"title"`
	Authority string     `json:"authority"`
	Queue     string     `json:"queue"`
	Service   string     `json:"service"`
	Status    string     `json:"status"`
	Priority  int        `json:"priority"`
	Assignee  string     `json:"assignee,omitempty"`
	Outcomes  []string   `json:"outcomes"`
	CreatedAt time.Time  `json:"createdAt"`
	DueAt     *time.Time `json:"dueAt,omitempty"`
	Outcome   string     `json:"outcome,omitempty"`
	// Overdue is whether the due date has passed while the task waits.
	Overdue     bool              `json:"overdue"`
	Note        string            `json:"note,omitempty"`
	RemindedAt  *time.Time        `json:"remindedAt,omitempty"`
	EscalatedAt *time.Time        `json:"escalatedAt,omitempty"`
	Proposal    *ozgflow.Proposal `json:"proposal,omitempty"`
	ApprovedBy  string            `json:"approvedBy,omitempty"`
	// FollowUp is the follow-up date (Wiedervorlage); due once it came back.
	FollowUp *followUpView `json:"followUp,omitempty"`
}

type followUpView struct {
	Date     string     `json:"date"`
	Note     string     `json:"note,omitempty"`
	By       string     `json:"by"`
	Due      bool       `json:"due"`
	DueSince *time.Time `json:"dueSince,omitempty"`
}

func newFollowUpView(f *ozgflow.FollowUp) *followUpView {
	if f == nil {
		return nil
	}
	return &followUpView{Date: f.Date, Note: f.Note, By: f.By, Due: f.Due(), DueSince: timePtr(f.DueSince)}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func newPaymentView(p *ozgflow.Payment) *paymentView {
	if p == nil {
		return nil
	}
	return &paymentView{ID: p.ID, Status: p.Status, Amount: p.Amount, Currency: p.Currency, Purpose: p.Purpose,
		Reference: p.Reference, Kassenzeichen: p.Kassenzeichen, Items: p.Items, RedirectURL: p.RedirectURL, Attempt: p.Attempt, DeadlineAt: timePtr(p.DeadlineAt), PaidAt: timePtr(p.PaidAt),
		Refund: p.Refund}
}

func newNoticeView(n ozgflow.Notice) noticeView {
	return noticeView{ID: n.ID, CaseID: n.CaseID, CaseNumber: n.CaseNumber, Status: n.Status, Title: n.Title, Text: n.Text, At: n.At,
		Documents: noticeDocs(n)}
}

func newTaskView(t ozgflow.Task) taskView {
	return taskView{ID: t.ID, CaseID: t.CaseID, Title: t.Title, Authority: t.Authority, Queue: t.Queue,
		Service: t.Service, Status: t.Status, Priority: t.Priority, Assignee: t.Assignee, Outcomes: t.Outcomes,
		CreatedAt: t.CreatedAt, DueAt: timePtr(t.DueAt), Outcome: t.Outcome,
		Overdue: t.Overdue(time.Now()), Note: t.Note, RemindedAt: timePtr(t.RemindedAt), EscalatedAt: timePtr(t.EscalatedAt),
		Proposal: t.Proposal, ApprovedBy: t.ApprovedBy, FollowUp: newFollowUpView(t.FollowUp)}
}

// newCaseView renders a case; staff also see its tasks.
func newCaseView(c ozgflow.Case, staff bool) caseView {
	v := caseView{
		ID: c.ID, CaseNumber: c.CaseNumber, Service: c.Service, ServiceName: c.ServiceName, Authority: c.Authority,
		Status: c.ShownStatus(), WaitingFor: c.WaitingFor(), Final: c.Status.Final(), Stage: c.Stage,
		Definition:          definitionRef{ID: c.DefinitionID, Version: c.DefinitionVersion},
		Payment:             newPaymentView(c.Payment),
		Decision:            c.Decision,
		InformationRequests: c.Requests,
		Timeline:            make([]noticeView, len(c.Timeline)),
		SubmittedAt:         c.SubmittedAt, UpdatedAt: c.UpdatedAt,
	}
	if v.InformationRequests == nil {
		v.InformationRequests = []ozgflow.InformationRequest{}
	}
	for i, n := range c.Timeline {
		v.Timeline[i] = newNoticeView(n)
	}
	if c.Seal != nil {
		v.Seal = &sealView{KeyID: c.Seal.KeyID, SealedAt: c.Seal.SealedAt, Receipt: "/api/v1/applications/" + c.ID + "/receipt"}
	}
	if sg := c.Signing; sg != nil {
		v.Signing = &signingView{Status: sg.Status, RedirectURL: sg.RedirectURL, SignedAt: timePtr(sg.SignedAt)}
	}
	if d := c.Delivery; d != nil {
		state := "delivered"
		switch {
		case d.Withdrawn:
			state = "withdrawn"
		case d.Rejected != nil && staff:
			state = "rejected"
		case d.Pending || d.Rejected != nil:
			state = "pending"
		}
		v.Delivery = &deliveryView{State: state, Target: d.Target, Reference: d.Reference, DeliveredAt: timePtr(d.DeliveredAt),
			Reports: d.Reports, Protocol: d.Protocol, Round: d.Round}
		if staff {
			v.Delivery.Rejected = d.Rejected
		}
	}
	if staff {
		for _, t := range c.Tasks {
			v.Tasks = append(v.Tasks, newTaskView(t))
		}
		v.Audit = c.Audit
	}
	return v
}
