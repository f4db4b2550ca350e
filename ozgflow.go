// Package ozgflow holds the domain of the processing layer: applications, cases,
// statuses, tasks, notices and the names that workflows, activities, the gateway
// and the store agree on. It imports only the standard library.
package ozgflow

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Namespace is the Temporal namespace ozgflow runs in unless configured otherwise.
const Namespace = "ozgflow"

// CaseTaskQueue is the Temporal task queue the case workflow and its activities use.
const CaseTaskQueue = "ozgflow-cases"

// CaseWorkflowName is the registered name of the case workflow.
const CaseWorkflowName = "CaseWorkflow"

// Names of the workflow's query, updates and signals.
const (
	QueryState = "state"
	QueryInput = "input" // the application and definition the case started with

	UpdateClaim        = "claim"
	UpdateRelease      = "release"
	UpdateComplete     = "complete"
	UpdateRespond      = "respond"
	UpdateWithdraw     = "withdraw"
	UpdateRetryPayment = "retry-payment"
	// UpdatePaymentReturned tells the case that its applicant came back
	// from the payment provider: the case asks the provider for the status
	// at once instead of waiting for the webhook or the next poll.
	UpdatePaymentReturned = "payment-returned"
	// PaymentReturnQuery marks the status page's address the payment
	// provider sends the applicant back to; a visit with it sends
	// UpdatePaymentReturned.
	PaymentReturnQuery = "rueckkehr=zahlung"
	UpdateHandover     = "handover"
	UpdateApprove      = "approve"
	UpdateSubmitted    = "submitted"
	// UpdateResendDelivery sends a case again whose destination rejected
	// its delivery or never answered, once an administrator fixed the cause.
	UpdateResendDelivery = "resend-delivery"
	SignalPayment        = "payment"
	SignalExternal       = "external"
	SignalSignature      = "signature"
	// SignalCallFailing tells a case that an attempt of a call it waits on
	// (a delivery, a payment's creation) failed, the first and again the
	// second, fourth, eighth …, or that the first is slow to answer: it may
	// wait long now, so it writes its state to its projection and to the
	// memo, where a rebuild finds it.
	SignalCallFailing = "call-failing"
)

// Search attributes registered in the namespace. They carry IDs, codes and dates
// only, never personal data.
const (
	SearchAttrService   = "OzgService"
	SearchAttrAuthority = "OzgAuthority"
	SearchAttrStatus    = "OzgStatus"
	SearchAttrStage     = "OzgStage"
	SearchAttrQueue     = "OzgQueue"
	SearchAttrDueAt     = "OzgDueAt"
	// SearchAttrDefinition is "<definition id>@<version>", to count the cases
	// running on each version.
	SearchAttrDefinition = "OzgDefinition"
)

// MemoCase is the key of the case workflow's memo that holds the case's
// projection for a rebuild to read, as of its last wait or failing call
// (a closed case's final record holds its end).
const MemoCase = "case"

// CatalogWorkflowName and CatalogWorkflowID name the one workflow that holds
// the versioned definitions, so that Temporal is their system of record too.
const (
	CatalogWorkflowName = "CatalogWorkflow"
	CatalogWorkflowID   = "ozgflow-catalog"
)

// Names of the catalog workflow's query and updates.
const (
	QueryCatalog            = "catalog"
	UpdateDefinitionCreate  = "definition-create"
	UpdateDefinitionDraft   = "definition-draft"
	UpdateDefinitionEdit    = "definition-edit"
	UpdateDefinitionPublish = "definition-publish"
	UpdateDefinitionRetire  = "definition-retire"
	// UpdateCatalogAuthorities replaces the catalog's authorities with those
	// a gateway ships (authorities.yaml): their queues and targets are what
	// publishing checks variants against, and they change with deployments.
	UpdateCatalogAuthorities = "catalog-authorities"
)

// DefinitionChange is an administrator's change to one version of a
// definition: create (Document), draft (From), edit (Document), publish, retire.
type DefinitionChange struct {
	ID       string         `json:"id"`
	Version  int            `json:"version,omitempty"`
	From     int            `json:"from,omitempty"`
	Document map[string]any `json:"document,omitempty"`
	// Source is the YAML text an edit's Document was written as, kept with
	// the version so that the administrator gets their order and comments back.
	Source string `json:"source,omitempty"`
	// Revision, if set, is the revision of the version an edit was made on
	// (definitions.Version.Revision): an edit of a version changed since is
	// refused, so that two administrators do not overwrite each other.
	Revision string `json:"revision,omitempty"`
	By       string `json:"by"`
}

// CaseWorkflowID is the Temporal workflow ID of the case with the given ID.
func CaseWorkflowID(caseID string) string { return "case-" + caseID }

// CaseIDFromWorkflowID reverses CaseWorkflowID; ok is false for other workflows.
func CaseIDFromWorkflowID(workflowID string) (string, bool) {
	return strings.CutPrefix(workflowID, "case-")
}

// TaskID names the n-th task that step stepID of a case created.
func TaskID(caseID, stepID string, n int) string {
	return caseID + "." + stepID + "." + strconv.Itoa(n)
}

// CaseIDFromTaskID returns the case a task belongs to.
func CaseIDFromTaskID(taskID string) (string, bool) {
	caseID, _, ok := strings.Cut(taskID, ".")
	return caseID, ok && caseID != ""
}

// Status is where a case stands, as the applicant sees it.
type Status string

// The statuses of a case. Approved, rejected, withdrawn and cancelled are final.
const (
	StatusReceived             Status = "received"
	StatusAwaitingPayment      Status = "awaiting_payment"
	StatusAwaitingSignature    Status = "awaiting_signature"
	StatusForwarded            Status = "forwarded"
	StatusInReview             Status = "in_review"
	StatusInformationRequested Status = "information_requested"
	StatusApproved             Status = "approved"
	StatusRejected             Status = "rejected"
	StatusWithdrawn            Status = "withdrawn"
	StatusCancelled            Status = "cancelled"
)

// Final reports whether no further change can follow this status.
func (s Status) Final() bool {
	switch s {
	case StatusApproved, StatusRejected, StatusWithdrawn, StatusCancelled:
		return true
	}
	return false
}

// Applicant is the person or company that submits an application.
type Applicant struct {
	Name          string `json:"name"`
	Email         string `json:"email,omitempty"`
	PortalAccount string `json:"portalAccount,omitempty"`
}

// Attachment is a document submitted with an application; the case keeps its hash.
type Attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"contentType,omitempty"`
	Size        int64  `json:"size,omitempty"`
	SHA256      string `json:"sha256"`
}

// Application is what an applicant submits.
type Application struct {
	Service     string          `json:"service"`
	Authority   string          `json:"authority"`
	Applicant   Applicant       `json:"applicant"`
	Data        json.RawMessage `json:"data"`
	Attachments []Attachment    `json:"attachments,omitempty"`
}

// Payment statuses follow XBezahldienste.
const (
	PaymentInitial  = "INITIAL"
	PaymentPayed    = "PAYED"
	PaymentCanceled = "CANCELED"
	PaymentFailed   = "FAILED"
)

// Refund statuses of a payment taken back after a withdrawal.
const (
	RefundPending  = "PENDING"
	RefundRefunded = "REFUNDED"
)

// Payment is the fee of a case and the state of its collection.
type Payment struct {
	ID      string `json:"id,omitempty"`
	Attempt int    `json:"attempt,omitempty"`
	// Reference is the payment reference ozgflow gave the provider for this
	// attempt (its requestId): the cash office matches its booking by it.
	Reference string `json:"reference,omitempty"`
	// Kassenzeichen is the cash office's reference the provider issued for
	// the payment; the Fachverfahren books the fee under it.
	Kassenzeichen string `json:"kassenzeichen,omitempty"`
	Amount        int64  `json:"amount"` // in cents
	Currency      string `json:"currency"`
	Purpose       string `json:"purpose"`
	Status        string `json:"status"`
	// Items are the lines of the fee with their booking data, as sent to
	// the provider; cases from before line items have none.
	Items       []PaymentItem `json:"items,omitempty"`
	RedirectURL string        `json:"redirectUrl,omitempty"`
	DeadlineAt  time.Time     `json:"deadlineAt,omitzero"`
	PaidAt      time.Time     `json:"paidAt,omitzero"`
	Refund      string        `json:"refund,omitempty"`
}

// Seal is the signer's JWS over the canonical application.
type Seal struct {
	JWS      string    `json:"jws"`
	KeyID    string    `json:"keyId,omitempty"`
	SealedAt time.Time `json:"sealedAt"`
}

// Signature statuses of an applicant's signature.
const (
	SignaturePending  = "PENDING"
	SignatureSigned   = "SIGNED"
	SignatureDeclined = "DECLINED"
)

// Signing is the applicant's signature of the application through the signing
// service: where to sign and, once signed, the JWS.
type Signing struct {
	ID          string    `json:"id"`
	Status      string    `json:"status"`
	RedirectURL string    `json:"redirectUrl,omitempty"`
	JWS         string    `json:"jws,omitempty"`
	KeyID       string    `json:"keyId,omitempty"`
	SignedAt    time.Time `json:"signedAt,omitzero"`
}

// SignatureEvent is the signing service's report that a signature session
// changed, passed to the case as a signal.
type SignatureEvent struct {
	SessionID string `json:"sessionId"`
	Status    string `json:"status"`
}

// Delivery records the hand-over of a case to its Fachverfahren.
type Delivery struct {
	Target      string    `json:"target"`
	Reference   string    `json:"reference,omitempty"`
	DeliveredAt time.Time `json:"deliveredAt,omitzero"`
	Withdrawn   bool      `json:"withdrawn,omitempty"`
	// Reports are what the Fachverfahren reported back by callback
	// (received, in review, decided), oldest first.
	Reports []DeliveryReport `json:"reports,omitempty"`
	// Protocol is how the case went: "" for ozgflow's own delivery,
	// DeliveryFITConnect for a FIT-Connect submission, whose ID is then the
	// Reference.
	Protocol string `json:"protocol,omitempty"`
	// Round counts the submissions of the case to the target, 1 for the
	// first; every resend after a rejection adds one.
	Round int `json:"round,omitempty"`
	// Pending says the destination has not answered the submission yet;
	// the case waits for its accept or reject.
	Pending bool `json:"pending,omitempty"`
	// Rejected is set while the destination's rejection (or its silence
	// until the deadline) keeps the case from going on, until an
	// administrator resends it.
	Rejected *DeliveryRejection `json:"rejected,omitempty"`
}

// DeliveryFITConnect is the protocol of deliveries sent as FIT-Connect
// submissions.
const DeliveryFITConnect = "fitconnect"

// DeliveryRejection is why a case's delivery did not go through: the
// destination's problems, or no answer in time. The case waits for an
// administrator to resend it.
type DeliveryRejection struct {
	Target       string    `json:"target"`
	SubmissionID string    `json:"submissionId,omitempty"`
	Since        time.Time `json:"since"`
	// Reason is for people: the problems' titles and details, or
	// "keine Antwort" when the deadline passed without one.
	Reason   string   `json:"reason"`
	Problems []string `json:"problems,omitempty"` // the problems' type URIs
	// TimedOut says the destination did not answer before the deadline.
	TimedOut bool `json:"timedOut,omitempty"`
}

// DeliveryRejectedReasonNoAnswer is the reason of a delivery whose
// destination did not answer before the deadline.
const DeliveryRejectedReasonNoAnswer = "keine Antwort"

// DeliveryRejected reports whether the case waits for an administrator to
// resend a rejected delivery.
func (c Case) DeliveryRejected() bool {
	return c.Delivery != nil && c.Delivery.Rejected != nil && !c.Status.Final()
}

// Task statuses. A task in approval holds a decision proposed by one case
// worker that a second one must approve (four-eyes principle).
const (
	TaskOpen      = "open"
	TaskClaimed   = "claimed"
	TaskApproval  = "approval"
	TaskDone      = "done"
	TaskCancelled = "cancelled"
)

// Outcomes a case worker or a rule can reach.
const (
	OutcomeApprove            = "approve"
	OutcomeReject             = "reject"
	OutcomeRequestInformation = "request_information"
)

// Task is human work in a queue of an authority.
type Task struct {
	ID        string    `json:"id"`
	CaseID    string    `json:"caseId"`
	StepID    string    `json:"stepId"`
	Title     string    `json:"title"`
	Authority string    `json:"authority"`
	Queue     string    `json:"queue"`
	Service   string    `json:"service"`
	Status    string    `json:"status"`
	Priority  int       `json:"priority"`
	Assignee  string    `json:"assignee,omitempty"`
	Outcomes  []string  `json:"outcomes"`
	CreatedAt time.Time `json:"createdAt"`
	DueAt     time.Time `json:"dueAt,omitzero"`
	Outcome   string    `json:"outcome,omitempty"`
	Comment   string    `json:"comment,omitempty"`
	// Note is what the last hand-over said to the next case worker.
	Note       string    `json:"note,omitempty"`
	RemindedAt time.Time `json:"remindedAt,omitzero"`
	// EscalatedAt is when the overdue task was escalated (priority raised,
	// moved to the supervisors' queue).
	EscalatedAt time.Time `json:"escalatedAt,omitzero"`
	// Proposal is the decision waiting for a second case worker's approval.
	Proposal *Proposal `json:"proposal,omitempty"`
	// ApprovedBy is the second case worker who approved the decision.
	ApprovedBy string `json:"approvedBy,omitempty"`
	// FollowUp is the case worker's follow-up date (Wiedervorlage), if any.
	FollowUp *FollowUp `json:"followUp,omitempty"`
}

// Proposal is a decision one case worker took that a second must approve.
type Proposal struct {
	Outcome string    `json:"outcome"`
	Comment string    `json:"comment,omitempty"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// Active reports whether the task still waits for a case worker.
func (t Task) Active() bool {
	return t.Status == TaskOpen || t.Status == TaskClaimed || t.Status == TaskApproval
}

// Overdue reports whether the active task's due date has passed at now.
func (t Task) Overdue(now time.Time) bool {
	return t.Active() && !t.DueAt.IsZero() && now.After(t.DueAt)
}

// Offers reports whether outcome is one the task allows.
func (t Task) Offers(outcome string) bool {
	for _, o := range t.Outcomes {
		if o == outcome {
			return true
		}
	}
	return false
}

// Notice is a message to the applicant: a status notice or a decision.
type Notice struct {
	ID     string `json:"id"`
	CaseID string `json:"caseId"`
	// CaseNumber is the case's short number, which the notice quotes.
	CaseNumber    string `json:"caseNumber,omitempty"`
	PortalAccount string `json:"portalAccount,omitempty"`
	Status        Status `json:"status"`
	Title         string `json:"title"`
	Text          string `json:"text"`
	// Easy is the text in easy-to-read German, where the variant has one.
	Easy string    `json:"easy,omitempty"`
	At   time.Time `json:"at"`
	// Documents come with the notice, e.g. the decision's document from
	// the Fachverfahren; the case holds them (GET
	// /applications/{caseId}/documents/{sha256}).
	Documents []Attachment `json:"documents,omitempty"`
}

// Decision is the outcome of a case, taken by a case worker or a rule.
type Decision struct {
	Outcome string    `json:"outcome"`
	By      string    `json:"by"` // user ID, "rule:<step>" or "external:<system>" (a Fachverfahren: its delivery target)
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"at"`
	// ApprovedBy is the second case worker under the four-eyes principle.
	ApprovedBy string `json:"approvedBy,omitempty"`
	// Document is the decision's document, where the Fachverfahren took
	// the decision and sent one.
	Document *Attachment `json:"document,omitempty"`
}

// InformationRequest is a question to the applicant and, once given, the answer.
type InformationRequest struct {
	Question   string          `json:"question"`
	Fields     []string        `json:"fields,omitempty"`
	AskedBy    string          `json:"askedBy,omitempty"`
	AskedAt    time.Time       `json:"askedAt"`
	Answer     string          `json:"answer,omitempty"`
	AnswerData json.RawMessage `json:"answerData,omitempty"`
	AnsweredAt time.Time       `json:"answeredAt,omitzero"`
	// Attachments are the documents the applicant uploaded with the answer.
	Attachments []Attachment `json:"attachments,omitempty"`
	// DueAt is when the answer is due; zero when the variant sets no deadline.
	DueAt      time.Time `json:"dueAt,omitzero"`
	RemindedAt time.Time `json:"remindedAt,omitzero"`
	// ExpiredAt is when the deadline passed without an answer.
	ExpiredAt time.Time `json:"expiredAt,omitzero"`
}

// Open reports whether the request still waits for the applicant's answer.
func (r InformationRequest) Open() bool { return r.AnsweredAt.IsZero() && r.ExpiredAt.IsZero() }

// Audit actions: what case workers, the applicant and deadlines did to a case.
const (
	AuditClaimed        = "claimed"
	AuditReleased       = "released"
	AuditHandedOver     = "handed_over"
	AuditDecided        = "decided"
	AuditProposed       = "proposed"
	AuditApproved       = "approved"
	AuditApprovalDenied = "approval_denied"
	AuditAsked          = "information_requested"
	AuditAnswered       = "answered"
	AuditReminded       = "reminded"
	AuditEscalated      = "escalated"
	AuditAnswerReminded = "answer_reminded"
	AuditAnswerExpired  = "answer_expired"
	AuditWithdrawn      = "withdrawn"
	// A FIT-Connect destination accepted or rejected the case's
	// submission, and an administrator resent a rejected one.
	AuditDeliveryAccepted = "delivery_accepted"
	AuditDeliveryRejected = "delivery_rejected"
	AuditDeliveryResent   = "delivery_resent"
	// AuditReported is a callback of the Fachverfahren (received, in
	// review, decided); the detail names the event.
	AuditReported = "reported"
)

// AuditEntry records who did what to a case, and when.
type AuditEntry struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"` // user ID, "applicant" or "system"
	Action string    `json:"action"`
	TaskID string    `json:"taskId,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// Case is the state of one case as the workflow holds it and the store mirrors it.
// Revision grows with every change so a projection never goes back in time.
type Case struct {
	ID string `json:"id"`
	// CaseNumber is the short number people read and quote, e.g.
	// GEW-2026-000123: unique per service and authority, assigned by the
	// workflow. ID stays the technical ID.
	CaseNumber string `json:"caseNumber,omitempty"`
	// Applicant is who applied, as case workers see and search it.
	Applicant         *CaseApplicant       `json:"applicant,omitempty"`
	Revision          int64                `json:"revision"`
	Service           string               `json:"service"`
	ServiceName       string               `json:"serviceName"`
	Authority         string               `json:"authority"`
	DefinitionID      string               `json:"definitionId"`
	DefinitionVersion int                  `json:"definitionVersion"`
	PortalAccount     string               `json:"portalAccount,omitempty"`
	Status            Status               `json:"status"`
	Stage             string               `json:"stage"`
	StageKind         string               `json:"stageKind,omitempty"`
	Payment           *Payment             `json:"payment,omitempty"`
	Seal              *Seal                `json:"seal,omitempty"`
	Signing           *Signing             `json:"signing,omitempty"`
	Delivery          *Delivery            `json:"delivery,omitempty"`
	Tasks             []Task               `json:"tasks,omitempty"`
	Decision          *Decision            `json:"decision,omitempty"`
	Audit             []AuditEntry         `json:"audit,omitempty"`
	Requests          []InformationRequest `json:"informationRequests,omitempty"`
	Timeline          []Notice             `json:"timeline"`
	SubmittedAt       time.Time            `json:"submittedAt"`
	RequestHash       string               `json:"requestHash,omitempty"`
	UpdatedAt         time.Time            `json:"updatedAt"`
	// ErasedAt is set once the case's personal data is erased; the case
	// then holds only what the statistics need.
	ErasedAt time.Time `json:"erasedAt,omitzero"`
}

// CaseApplicant is who applied, as the case workers' lists and search show
// it: the applicant's name and e-mail, and the business name and address
// where the variant's data names them.
type CaseApplicant struct {
	Name         string `json:"name"`
	Email        string `json:"email,omitempty"`
	BusinessName string `json:"businessName,omitempty"`
	Address      string `json:"address,omitempty"`
}

// OpenTasks returns the tasks that still wait for a case worker.
func (c *Case) OpenTasks() []Task {
	var open []Task
	for _, t := range c.Tasks {
		if t.Active() {
			open = append(open, t)
		}
	}
	return open
}

// TaskAction names a task and the case worker acting on it (claim, release).
type TaskAction struct {
	TaskID string `json:"taskId"`
	User   string `json:"user"`
}

// CompleteTask is a case worker's decision on a task.
type CompleteTask struct {
	TaskID  string `json:"taskId"`
	User    string `json:"user"`
	Outcome string `json:"outcome"`
	Comment string `json:"comment,omitempty"`
	// Fields names the data or documents asked for with request_information.
	Fields []string `json:"fields,omitempty"`
}

// Handover passes a task to a colleague, to another queue, or both, with a note.
type Handover struct {
	TaskID string `json:"taskId"`
	User   string `json:"user"`
	To     string `json:"to,omitempty"`
	Queue  string `json:"queue,omitempty"`
	Note   string `json:"note,omitempty"`
}

// Approval is a second case worker's answer to a proposed decision.
type Approval struct {
	TaskID  string `json:"taskId"`
	User    string `json:"user"`
	Approve bool   `json:"approve"`
	Comment string `json:"comment,omitempty"`
}

// Response is the applicant's answer to an information request.
type Response struct {
	Text        string          `json:"text"`
	Data        json.RawMessage `json:"data,omitempty"`
	Attachments []Attachment    `json:"attachments,omitempty"`
}

// Withdrawal is the applicant's withdrawal of the case.
type Withdrawal struct {
	Reason string `json:"reason,omitempty"`
}

// ExternalEvent is what a back-office system reports to a waiting case.
type ExternalEvent struct {
	Event   string `json:"event"`
	Outcome string `json:"outcome,omitempty"`
	Comment string `json:"comment,omitempty"`
	By      string `json:"by,omitempty"`
}

// PaymentEvent is a payment provider's report of a status change, passed to the
// case as a signal.
type PaymentEvent struct {
	PaymentID     string `json:"paymentId"`
	Status        string `json:"status"`
	Kassenzeichen string `json:"kassenzeichen,omitempty"`
}

// PaymentItem is one line of a fee as XBezahldienste names it: what is paid
// for, its price and quantity, and the booking data (Buchungsdaten) the cash
// office books it with, e.g. haushaltsstelle, objektnummer,
// buchungskennzeichen.
type PaymentItem struct {
	ID          string            `json:"id" yaml:"id"`
	Description string            `json:"description" yaml:"description"`
	Amount      int64             `json:"amount" yaml:"amount"` // price of one, in cents
	Quantity    int64             `json:"quantity" yaml:"quantity"`
	BookingData map[string]string `json:"bookingData,omitempty" yaml:"bookingData,omitempty"`
}

// Total is the line's amount: price times quantity, in cents.
func (i PaymentItem) Total() int64 { return i.Amount * i.Quantity }
