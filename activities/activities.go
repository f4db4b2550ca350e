// Package activities holds the side effects of a case: payment, seal, delivery,
// archive and projections. Each family is a struct whose fields are the adapters
// it talks to; the structs are built once in the worker and their methods are
// registered as activities. Adapters live in sub-packages (payment, signer,
// fachverfahren) and in the store; this package knows them only by interface.
package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow"
)

// PaymentRequest asks a payment provider to collect a fee, shaped after the
// XBezahldienste payment request. RequestID is stable per case and attempt,
// so creating the same payment twice returns the first one.
type PaymentRequest struct {
	RequestID string `json:"requestId"`
	CaseID    string `json:"caseId"`
	Amount    int64  `json:"amount"` // in cents, the sum of the items
	Currency  string `json:"currency"`
	Purpose   string `json:"purpose"` // Verwendungszweck
	// Items are the lines of the fee with their booking data; a request
	// without them is collected as one line of Amount under Purpose.
	Items []ozgflow.PaymentItem `json:"items,omitempty"`
	// ReturnURL is where the provider sends the applicant back after
	// paying or cancelling: the case's status page.
	ReturnURL string `json:"returnUrl,omitempty"`
}

// PaymentInfo is a provider's view of one payment.
type PaymentInfo struct {
	PaymentID   string `json:"paymentId"`
	Status      string `json:"status"` // ozgflow.PaymentInitial, PaymentPayed, …
	RedirectURL string `json:"redirectUrl"`
	// Kassenzeichen is the cash office's reference of the payment; a
	// provider may issue it only once the payment is made.
	Kassenzeichen string `json:"kassenzeichen,omitempty"`
	Refund        string `json:"refund,omitempty"`
}

// PaymentProvider is an e-payment service speaking XBezahldienste: a payment
// request opens a payment the applicant pays on the provider's page; its
// status (INITIAL, PAYED, CANCELED, FAILED) is asked for by ID.
type PaymentProvider interface {
	CreatePayment(ctx context.Context, req PaymentRequest) (PaymentInfo, error)
	PaymentStatus(ctx context.Context, paymentID string) (PaymentInfo, error)
	// Refund pays a collected fee back; refunding twice is a no-op.
	Refund(ctx context.Context, paymentID string) (PaymentInfo, error)
}

// SealResult is a JWS in compact serialization and the key that made it.
type SealResult struct {
	JWS   string `json:"jws"`
	KeyID string `json:"keyId"`
}

// Signer seals a payload with the authority's seal.
type Signer interface {
	Seal(ctx context.Context, payload []byte) (SealResult, error)
}

// SignatureRequest asks the signing service to let the applicant sign the
// receipt payload of a case. RequestID is stable per case, so starting the
// same signature twice returns the first session.
type SignatureRequest struct {
	RequestID string `json:"requestId"`
	CaseID    string `json:"caseId"`
	Payload   []byte `json:"payload"`
}

// SignatureSession is the signing service's view of one applicant signature:
// where the applicant signs and, once signed (ozgflow.SignatureSigned), the JWS.
type SignatureSession struct {
	ID          string `json:"id"`
	Status      string `json:"status"` // ozgflow.SignaturePending, SignatureSigned, SignatureDeclined
	RedirectURL string `json:"redirectUrl"`
	JWS         string `json:"jws,omitempty"`
	KeyID       string `json:"keyId,omitempty"`
}

// ApplicantSigner lets applicants sign their application (qualified electronic
// signature through a signing service).
type ApplicantSigner interface {
	StartSignature(ctx context.Context, req SignatureRequest) (SignatureSession, error)
	SignatureStatus(ctx context.Context, sessionID string) (SignatureSession, error)
}

// EmailRequest is one notice sent to an applicant by email. NoticeID is the
// idempotency key: a notice sent twice is delivered once.
type EmailRequest struct {
	NoticeID string `json:"noticeId"`
	To       string `json:"to"`
	Subject  string `json:"subject"`
	Text     string `json:"text"`
	// CaseID and CaseNumber name the case: the mail quotes the number and
	// links to the case's status page. Sends from before them have none;
	// the case ID then comes from the notice ID.
	CaseID     string `json:"caseId,omitempty"`
	CaseNumber string `json:"caseNumber,omitempty"`
}

// caseOfNotice is the case a notice ID names: "<caseId>-<n>".
func caseOfNotice(noticeID string) string {
	if i := strings.LastIndexByte(noticeID, '-'); i > 0 {
		return noticeID[:i]
	}
	return ""
}

// MailText is the body of an email notice: the notice's text, then the
// case number and the link to the status page, where there are.
func MailText(req EmailRequest, statusURL string) string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(req.Text))
	if req.CaseNumber != "" || statusURL != "" {
		b.WriteString("\n\n")
	}
	if req.CaseNumber != "" {
		b.WriteString("Antragsnummer: " + req.CaseNumber + "\n")
	}
	if statusURL != "" {
		b.WriteString("Den Stand Ihres Antrags sehen Sie jederzeit hier:\n" + statusURL + "\n")
	}
	b.WriteString("\nDiese Nachricht wurde automatisch versandt. Bitte antworten Sie nicht auf diese E-Mail.\n")
	return b.String()
}

// Mailer sends email notices (SMTP in production, a mail sink in dev).
type Mailer interface {
	Send(ctx context.Context, req EmailRequest) error
}

// ErrAddressRefused is what a Mailer's error wraps when the address is not
// one or the mail system refuses the recipient for good; trying again
// would not help.
var ErrAddressRefused = errors.New("email address refused")

// Notices sends notices to applicants by email, for variants that ask for it.
type Notices struct {
	Mailer Mailer
	// StatusURL gives the absolute address of a case's status page, which
	// every mail links to; nil leaves the link out.
	StatusURL func(caseID string) string
}

// Email sends one notice. An address the mailer refuses is a non-retryable
// error; anything else is retried, and the notice ID keeps a repeat from
// arriving twice where the mail system honours it.
func (n *Notices) Email(ctx context.Context, req EmailRequest) error {
	if _, err := mail.ParseAddress(req.To); err != nil {
		return temporal.NewNonRetryableApplicationError("no valid email address for notice "+req.NoticeID, "EINVALID", nil)
	}
	if n.Mailer == nil {
		return temporal.NewNonRetryableApplicationError("email is not configured (OZGFLOW_SMTP_ADDR)", "EUNAVAILABLE", nil)
	}
	caseID := req.CaseID
	if caseID == "" {
		caseID = caseOfNotice(req.NoticeID)
	}
	link := ""
	if n.StatusURL != nil && caseID != "" {
		link = n.StatusURL(caseID)
	}
	req.Text = MailText(req, link)
	if err := n.Mailer.Send(ctx, req); errors.Is(err, ErrAddressRefused) {
		return temporal.NewNonRetryableApplicationError("email notice "+req.NoticeID+" refused", "EINVALID", err)
	} else if err != nil {
		return fmt.Errorf("email notice %s: %w", req.NoticeID, err)
	}
	return nil
}

// Submission is what a Fachverfahren receives for a case.
type Submission struct {
	CaseID string `json:"caseId"`
	// CaseNumber is the short number people quote (GEW-2026-000123); cases
	// from before case numbers have none.
	CaseNumber        string               `json:"caseNumber,omitempty"`
	Service           string               `json:"service"`
	Authority         string               `json:"authority"`
	DefinitionID      string               `json:"definitionId"`
	DefinitionVersion int                  `json:"definitionVersion"`
	Applicant         ozgflow.Applicant    `json:"applicant"`
	Data              json.RawMessage      `json:"data"`
	Attachments       []ozgflow.Attachment `json:"attachments,omitempty"`
	Payment           *ozgflow.Payment     `json:"payment,omitempty"`
	Seal              *ozgflow.Seal        `json:"seal,omitempty"`
	Decision          *ozgflow.Decision    `json:"decision,omitempty"`
	SubmittedAt       time.Time            `json:"submittedAt"`
	// AwaitsDecision says that the receiving Fachverfahren, not a case
	// worker in ozgflow, decides the case and reports the decision back
	// with a callback (event decided).
	AwaitsDecision bool `json:"awaitsDecision,omitempty"`
	// DataSchema names the schema of Data by URI (the variant's schema
	// "$id"), as a FIT-Connect submission's metadata carries it.
	DataSchema string `json:"dataSchema,omitempty"`
}

// Receipt is a Fachverfahren's acknowledgement of a delivery.
type Receipt struct {
	Reference  string    `json:"reference"`
	ReceivedAt time.Time `json:"receivedAt"`
	// Protocol is ozgflow.DeliveryFITConnect for a FIT-Connect submission:
	// the Reference is then the submission's ID, and the destination's
	// accept or reject is still to come (Deliveries.Outcome).
	Protocol string `json:"protocol,omitempty"`
	// Sent is what the outcome's check needs of a FIT-Connect submission.
	Sent *SentSubmission `json:"sent,omitempty"`
	// AnswerWithin is how long the target's configuration lets a
	// FIT-Connect destination take to accept or reject; the variant's
	// timeout of the deliver step comes first.
	AnswerWithin time.Duration `json:"answerWithin,omitempty"`
}

// SentSubmission names a FIT-Connect submission sent for a case, with the
// authentication tags of its parts, which the destination's accept event
// confirms.
type SentSubmission struct {
	DestinationID string            `json:"destinationId"`
	SubmissionID  string            `json:"submissionId"`
	CaseID        string            `json:"caseId"` // FIT-Connect's case ID, not ozgflow's
	MetadataTag   string            `json:"metadataTag,omitempty"`
	DataTag       string            `json:"dataTag,omitempty"`
	AttachmentTag map[string]string `json:"attachmentTags,omitempty"`
}

// Outcomes of a submission as its destination's event log tells it.
const (
	OutcomePending  = "pending"
	OutcomeAccepted = "accepted"
	OutcomeRejected = "rejected"
)

// SubmissionOutcome is what a destination said about a submission: nothing
// yet, accepted, or rejected with its problems.
type SubmissionOutcome struct {
	Outcome  string    `json:"outcome"`
	At       time.Time `json:"at,omitzero"`
	Problems []Problem `json:"problems,omitempty"`
}

// Problem is one reason of a destination's rejection.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Detail string `json:"detail,omitempty"`
}

// Submitter sends cases as FIT-Connect submissions to the targets it
// serves and reads the destinations' signed answers.
type Submitter interface {
	// Serves reports whether target is a FIT-Connect destination.
	Serves(target string) bool
	// Submit sends round n of a case to target; repeating it for the same
	// case and round sends nothing new and returns the first receipt.
	Submit(ctx context.Context, target string, round int, s Submission) (Receipt, error)
	// Outcome reads the destination's verified accept or reject of a sent
	// submission.
	Outcome(ctx context.Context, target string, sent SentSubmission) (SubmissionOutcome, error)
}

// Fachverfahren is an authority's back-office system. Deliver is idempotent per
// case and kind: the same case delivered twice is recorded once.
type Fachverfahren interface {
	Deliver(ctx context.Context, target, kind string, s Submission) (Receipt, error)
	// Withdraw tells the back office that the applicant withdrew the case.
	Withdraw(ctx context.Context, target, caseID, reason string) error
}

// ProjectionStore mirrors case state for the API and files notices into the
// applicants' portal mailboxes. Writing an older revision than the stored one
// is a no-op, which makes every write safe to repeat.
type ProjectionStore interface {
	SaveCase(ctx context.Context, c ozgflow.Case) error
}

// Payments collects and refunds fees through a PaymentProvider.
type Payments struct {
	Provider PaymentProvider
	// ReturnURL gives the absolute address of a case's status page, where
	// the provider sends the applicant back, marked with
	// ozgflow.PaymentReturnQuery; nil leaves it to the provider.
	ReturnURL func(caseID string) string
}

// CreatePayment opens a payment; repeating it with the same RequestID is safe.
func (p *Payments) CreatePayment(ctx context.Context, req PaymentRequest) (PaymentInfo, error) {
	if req.ReturnURL == "" && p.ReturnURL != nil {
		if page := p.ReturnURL(req.CaseID); page != "" {
			sep := "?"
			if strings.Contains(page, "?") {
				sep = "&"
			}
			req.ReturnURL = page + sep + ozgflow.PaymentReturnQuery
		}
	}
	return p.Provider.CreatePayment(ctx, req)
}

// PaymentStatus asks the provider where a payment stands, so that a lost
// webhook cannot stall a case.
func (p *Payments) PaymentStatus(ctx context.Context, paymentID string) (PaymentInfo, error) {
	return p.Provider.PaymentStatus(ctx, paymentID)
}

// Refund pays a collected fee back; it is the compensation of a withdrawal.
func (p *Payments) Refund(ctx context.Context, paymentID string) (PaymentInfo, error) {
	return p.Provider.Refund(ctx, paymentID)
}

// SealRequest names what the seal covers: the case and its canonical application.
type SealRequest struct {
	CaseID            string              `json:"caseId"`
	DefinitionID      string              `json:"definitionId"`
	DefinitionVersion int                 `json:"definitionVersion"`
	SubmittedAt       time.Time           `json:"submittedAt"`
	Application       ozgflow.Application `json:"application"`
}

// Seals seals applications; the JWS is the signed receipt (Eingangsbestätigung).
type Seals struct {
	Signer Signer
	// Applicant lets applicants sign their application themselves.
	Applicant ApplicantSigner
}

// StartSignature opens the applicant's signature of the canonical receipt
// payload; starting it again returns the same session.
func (s *Seals) StartSignature(ctx context.Context, req SealRequest) (SignatureSession, error) {
	payload, err := ReceiptPayload(req)
	if err != nil {
		return SignatureSession{}, err
	}
	session, err := s.Applicant.StartSignature(ctx, SignatureRequest{RequestID: req.CaseID + "-signature", CaseID: req.CaseID, Payload: payload})
	if err != nil {
		return SignatureSession{}, fmt.Errorf("start signature of case %s: %w", req.CaseID, err)
	}
	return session, nil
}

// SignatureStatus asks the signing service where a signature stands, so that
// a lost webhook cannot stall a case.
func (s *Seals) SignatureStatus(ctx context.Context, sessionID string) (SignatureSession, error) {
	return s.Applicant.SignatureStatus(ctx, sessionID)
}

// Seal signs the canonical receipt payload of a case. Sealing again yields an
// equally valid seal over the same payload, so retries are harmless.
func (s *Seals) Seal(ctx context.Context, req SealRequest) (ozgflow.Seal, error) {
	payload, err := ReceiptPayload(req)
	if err != nil {
		return ozgflow.Seal{}, err
	}
	res, err := s.Signer.Seal(ctx, payload)
	if err != nil {
		return ozgflow.Seal{}, fmt.Errorf("seal case %s: %w", req.CaseID, err)
	}
	return ozgflow.Seal{JWS: res.JWS, KeyID: res.KeyID, SealedAt: time.Now().UTC()}, nil
}

// ReceiptPayload is the canonical JSON the seal covers
// (ozgflow.SealedPayload): case, service, authority, variant, submission
// time, the data with keys sorted and the attachments' hashes.
func ReceiptPayload(req SealRequest) ([]byte, error) {
	data, err := canonicalJSON(req.Application.Data)
	if err != nil {
		return nil, fmt.Errorf("canonical data of case %s: %w", req.CaseID, err)
	}
	payload := ozgflow.SealedPayload{
		CaseID: req.CaseID, Service: req.Application.Service, Authority: req.Application.Authority,
		DefinitionID: req.DefinitionID, DefinitionVersion: req.DefinitionVersion,
		SubmittedAt: req.SubmittedAt.UTC().Truncate(time.Second), Data: data, Attachments: []ozgflow.Attachment{},
	}
	for _, a := range req.Application.Attachments {
		payload.Attachments = append(payload.Attachments, ozgflow.Attachment{Name: a.Name, SHA256: a.SHA256})
	}
	return json.Marshal(payload)
}

// canonicalJSON re-encodes JSON with object keys sorted and no insignificant
// whitespace, keeping numbers exactly as written.
func canonicalJSON(raw []byte) ([]byte, error) {
	if len(raw) == 0 {
		return []byte("null"), nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// DeliverRequest hands a case of some kind ("case", "archive") to a target.
type DeliverRequest struct {
	Target     string     `json:"target"`
	Kind       string     `json:"kind"`
	Submission Submission `json:"submission"`
	// Round counts the sends of the case to a FIT-Connect target, 1 for
	// the first; a resend after a rejection is a new round. Ozgflow's own
	// delivery ignores it.
	Round int `json:"round,omitempty"`
	// StepRetry says that the variant's step states how this delivery is
	// tried again (definitions.Retry): the workflow's retry policy decides
	// then, not a retry stated for the target in the worker's configuration.
	StepRetry bool `json:"stepRetry,omitempty"`
}

// OutcomeRequest asks for the destination's answer to a FIT-Connect
// submission.
type OutcomeRequest struct {
	Target     string         `json:"target"`
	CaseID     string         `json:"caseId"`
	Submission SentSubmission `json:"submission"`
}

// WithdrawRequest tells a target that a delivered case was withdrawn.
type WithdrawRequest struct {
	Target string `json:"target"`
	CaseID string `json:"caseId"`
	Reason string `json:"reason"`
}

// Deliveries carries cases to Fachverfahren and archives.
type Deliveries struct {
	Fachverfahren Fachverfahren
	// FITConnect, if set, takes the deliveries to the targets it serves,
	// as FIT-Connect submissions.
	FITConnect Submitter
	// Trail, if set, records every transmission of a case's personal data
	// to a back-office system in the audit trail.
	Trail AuditTrail
}

// AuditTrail appends to the audit trail.
type AuditTrail interface {
	Audit(ctx context.Context, e TrailEntry) error
}

// Deliver sends a case; the receiver deduplicates by case and kind (and
// round, for FIT-Connect).
func (d *Deliveries) Deliver(ctx context.Context, req DeliverRequest) (Receipt, error) {
	var receipt Receipt
	var err error
	if d.FITConnect != nil && d.FITConnect.Serves(req.Target) {
		receipt, err = d.FITConnect.Submit(ctx, req.Target, max(req.Round, 1), req.Submission)
	} else {
		receipt, err = d.Fachverfahren.Deliver(ctx, req.Target, req.Kind, req.Submission)
	}
	if err == nil {
		// A delivery whose entry cannot be written is tried again; the
		// receiver keeps it once.
		err = d.audit(ctx, "case.deliver", req.Submission.CaseID, req.Target+" ("+req.Kind+")")
	}
	return receipt, err
}

// SubmissionOutcome reads whether the destination accepted or rejected a FIT-Connect
// submission; pending while its event log holds neither.
func (d *Deliveries) SubmissionOutcome(ctx context.Context, req OutcomeRequest) (SubmissionOutcome, error) {
	if d.FITConnect == nil || !d.FITConnect.Serves(req.Target) {
		return SubmissionOutcome{}, temporal.NewNonRetryableApplicationError(
			"target "+req.Target+" is not a FIT-Connect destination here", "UnknownTarget", nil)
	}
	out, err := d.FITConnect.Outcome(ctx, req.Target, req.Submission)
	if err != nil {
		return out, fmt.Errorf("outcome of submission %s of case %s: %w", req.Submission.SubmissionID, req.CaseID, err)
	}
	if out.Outcome != OutcomePending {
		detail := req.Target + " " + out.Outcome + " submission " + req.Submission.SubmissionID
		if err := d.audit(ctx, "case.deliver.outcome", req.CaseID, detail); err != nil {
			return out, err
		}
	}
	return out, nil
}

// audit records that the worker passed a case on; without a trail it does
// nothing.
func (d *Deliveries) audit(ctx context.Context, action, caseID, detail string) error {
	if d.Trail == nil {
		return nil
	}
	if err := d.Trail.Audit(ctx, TrailEntry{Actor: "system", Role: "system", CaseID: caseID, Action: action, Detail: detail}); err != nil {
		return fmt.Errorf("record the delivery of case %s: %w", caseID, err)
	}
	return nil
}

// Withdraw tells the receiver that the applicant withdrew the case.
func (d *Deliveries) Withdraw(ctx context.Context, req WithdrawRequest) error {
	if d.FITConnect != nil && d.FITConnect.Serves(req.Target) {
		return nil // FIT-Connect knows no withdrawal; the destination's case stays as sent
	}
	if err := d.Fachverfahren.Withdraw(ctx, req.Target, req.CaseID, req.Reason); err != nil {
		return err
	}
	return d.audit(ctx, "case.withdrawal.deliver", req.CaseID, req.Target)
}

// Projections mirrors case state to the store the API reads.
type Projections struct {
	Store ProjectionStore
}

// Publish writes a snapshot of a case; older revisions never overwrite newer ones.
func (p *Projections) Publish(ctx context.Context, c ozgflow.Case) error {
	return p.Store.SaveCase(ctx, c)
}
