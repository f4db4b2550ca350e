// Package fitconnect is the FIT-Connect delivery adapter: it sends a case as
// a FIT-Connect submission (metadata with hashes, data and attachments
// encrypted as JWE to the destination's published key) and reads the
// destination's signed accept or reject from the event log. Which targets
// are FIT-Connect destinations, and with which credentials, is the worker's
// configuration. Sandbox is a destination for dev and tests that decrypts,
// checks hashes, records what it received and rejects on request.
package fitconnect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/fitconnect"
	"github.com/ozgflow/ozgflow/locale"
)

// Error types of the non-retryable errors the adapter returns.
const (
	ErrTypeRefused       = "SubmissionRefused" // the Submission API refused the submission for good
	ErrTypeUnknownTarget = "UnknownTarget"     // the target is not configured
	ErrTypeNoDocument    = "DocumentMissing"   // an attachment's content is not in the records
)

// DefaultAnswerWithin is how long a case waits for the destination's accept
// or reject when neither the variant nor the target says.
const DefaultAnswerWithin = 72 * time.Hour

// Target is one FIT-Connect destination a deliver step can name.
type Target struct {
	Name          string // the target's key in the catalog (authorities.yaml)
	TokenURL      string // OAuth 2 token endpoint of the sender client
	APIURL        string // the Submission API, ending in /v1
	ClientID      string
	ClientSecret  string
	DestinationID string
	// AnswerWithin bounds the wait for the destination's answer;
	// DefaultAnswerWithin when zero.
	AnswerWithin time.Duration
}

// Documents gives the content of a case's documents by their SHA-256.
type Documents interface {
	DocumentContent(ctx context.Context, caseID, sha256 string) ([]byte, error)
}

// Ledger keeps, per case and round, the submission sent, so that a
// repeated activity does not send the case twice. A first entry is written
// once the submission is announced (Submitted false), the second once it
// is submitted.
type Ledger interface {
	SentSubmission(ctx context.Context, key string) (body []byte, submitted, ok bool, err error)
	KeepSentSubmission(ctx context.Context, key string, submitted bool, body []byte) error
}

// Adapter sends cases to the FIT-Connect targets it is configured with.
// It is safe for concurrent use.
type Adapter struct {
	targets   map[string]Target
	clients   map[string]*fitconnect.Client
	documents Documents
	ledger    Ledger
	now       func() time.Time
}

var _ activities.Submitter = (*Adapter)(nil)

// New returns an adapter for targets; hc (nil: 30 s timeout) makes the
// HTTP calls.
func New(targets []Target, documents Documents, ledger Ledger, hc *http.Client) *Adapter {
	a := &Adapter{targets: map[string]Target{}, clients: map[string]*fitconnect.Client{},
		documents: documents, ledger: ledger, now: time.Now}
	for _, t := range targets {
		if t.AnswerWithin <= 0 {
			t.AnswerWithin = DefaultAnswerWithin
		}
		a.targets[t.Name] = t
		a.clients[t.Name] = fitconnect.NewClient(t.TokenURL, t.APIURL, t.ClientID, t.ClientSecret, hc)
	}
	return a
}

// Serves reports whether target is one of the adapter's destinations.
func (a *Adapter) Serves(target string) bool {
	_, ok := a.targets[target]
	return ok
}

// Targets lists the names of the adapter's targets, sorted.
func (a *Adapter) Targets() []string {
	out := make([]string, 0, len(a.targets))
	for name := range a.targets {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// entry is what the ledger keeps of a submission.
type entry struct {
	activities.SentSubmission
	SentAt time.Time `json:"sentAt"`
}

// Submit sends round n of a case. A round sent before returns its first
// receipt; a round announced but perhaps not submitted is looked up in the
// submission's event log, and only sent anew if it never was submitted
// (the destination never sees a submission that was not submitted).
func (a *Adapter) Submit(ctx context.Context, target string, round int, s activities.Submission) (activities.Receipt, error) {
	t, ok := a.targets[target]
	if !ok {
		return activities.Receipt{}, temporal.NewNonRetryableApplicationError(
			"fitconnect "+target+": not a configured destination", ErrTypeUnknownTarget, nil)
	}
	c := a.clients[target]
	key := s.CaseID + ":" + target + ":" + strconv.Itoa(round)
	if e, ok, err := a.sentBefore(ctx, c, key); err != nil {
		return activities.Receipt{}, fmt.Errorf("fitconnect %s: %w", target, err)
	} else if ok {
		return a.receipt(t, e), nil
	}
	out, err := a.outgoing(ctx, t, s)
	if err != nil {
		return activities.Receipt{}, err
	}
	out.Announced = func(created fitconnect.SubmissionCreated) error {
		e := entry{SentSubmission: activities.SentSubmission{DestinationID: created.DestinationID,
			SubmissionID: created.SubmissionID, CaseID: created.CaseID}, SentAt: a.now().UTC()}
		return a.keep(ctx, key, false, e)
	}
	sent, err := c.Send(ctx, out)
	if err != nil && sent.SubmissionID != "" && rejectedOnSubmit(err) {
		// A destination that decides at once refuses the submit with its
		// first reason; the signed reject event, with all of them, is in
		// the event log, where the case reads the outcome.
		err = nil
	}
	if err != nil {
		if fitconnect.IsFinal(err) {
			return activities.Receipt{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("fitconnect %s: %v", target, err), ErrTypeRefused, nil)
		}
		return activities.Receipt{}, fmt.Errorf("fitconnect %s: %w", target, err)
	}
	e := entry{SentSubmission: activities.SentSubmission{DestinationID: sent.DestinationID, SubmissionID: sent.SubmissionID,
		CaseID: sent.CaseID, MetadataTag: sent.Tags.Metadata, DataTag: sent.Tags.Data, AttachmentTag: sent.Tags.Attachments},
		SentAt: a.now().UTC()}
	if e.DestinationID == "" {
		e.DestinationID = t.DestinationID
	}
	if err := a.keep(ctx, key, true, e); err != nil {
		return activities.Receipt{}, err
	}
	return a.receipt(t, e), nil
}

// rejectedOnSubmit says whether err is a destination's rejection given as
// the answer to the submit (a problem of FIT-Connect's reject types).
func rejectedOnSubmit(err error) bool {
	var ae *fitconnect.APIError
	return errors.As(err, &ae) && strings.HasPrefix(ae.Problem.Type, fitconnect.RejectPrefix)
}

// sentBefore returns the submission of key if it reached the destination.
func (a *Adapter) sentBefore(ctx context.Context, c *fitconnect.Client, key string) (entry, bool, error) {
	var e entry
	if a.ledger == nil {
		return e, false, nil
	}
	body, submitted, ok, err := a.ledger.SentSubmission(ctx, key)
	if err != nil || !ok {
		return e, false, err
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return e, false, fmt.Errorf("sent submission %s: %w", key, err)
	}
	if submitted {
		return e, true, nil
	}
	// Announced, then the attempt ended: did the submit get through?
	log, err := c.EventLog(ctx, e.CaseID)
	if err != nil {
		var ae *fitconnect.APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			return e, false, nil
		}
		return e, false, err
	}
	for _, tok := range log {
		ev, err := fitconnect.PeekEvent(tok)
		if err == nil && ev.SubmissionID == e.SubmissionID && ev.Type == fitconnect.EventSubmit {
			return e, true, a.keep(ctx, key, true, e)
		}
	}
	return e, false, nil
}

func (a *Adapter) keep(ctx context.Context, key string, submitted bool, e entry) error {
	if a.ledger == nil {
		return nil
	}
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := a.ledger.KeepSentSubmission(ctx, key, submitted, body); err != nil {
		return fmt.Errorf("keep sent submission %s: %w", key, err)
	}
	return nil
}

func (a *Adapter) receipt(t Target, e entry) activities.Receipt {
	sent := e.SentSubmission
	return activities.Receipt{Reference: e.SubmissionID, ReceivedAt: e.SentAt, Protocol: ozgflow.DeliveryFITConnect, Sent: &sent,
		AnswerWithin: t.AnswerWithin}
}

// outgoing builds the submission of a case: its data under the variant's
// schema, its documents as attachments, the case number as the sender's
// reference, the day of application and what was paid.
func (a *Adapter) outgoing(ctx context.Context, t Target, s activities.Submission) (fitconnect.Outgoing, error) {
	schema := s.DataSchema
	if schema == "" {
		schema = fmt.Sprintf("urn:ozgflow:schema:%s:%d", s.Service, s.DefinitionVersion)
	}
	ref := s.CaseNumber
	if ref == "" {
		ref = s.CaseID
	}
	out := fitconnect.Outgoing{
		DestinationID: t.DestinationID,
		Service:       fitconnect.ServiceType{Identifier: fitconnect.ServiceURN(s.Service)},
		Data:          []byte(s.Data),
		DataSchema:    fitconnect.SchemaRef{SchemaURI: schema, MimeType: "application/json"},
		Reference:     &fitconnect.ReferenceInfo{SenderReference: ref, ApplicationDate: s.SubmittedAt.In(locale.Berlin).Format(time.DateOnly)},
	}
	if len(out.Data) == 0 {
		out.Data = []byte("{}")
	}
	if p := s.Payment; p != nil && p.ID != "" {
		out.Payment = &fitconnect.PaymentInformation{TransactionID: p.ID, TransactionReference: ref,
			PaymentMethod: "OTHER", Status: paymentStatus(p.Status), GrossAmount: amount(p.Amount)}
	}
	for _, att := range s.Attachments {
		content, err := a.content(ctx, s.CaseID, att.SHA256)
		if err != nil {
			return out, err
		}
		mime := att.ContentType
		if mime == "" {
			mime = "application/octet-stream"
		}
		out.Attachments = append(out.Attachments, fitconnect.OutgoingAttachment{
			ID: attachmentID(s.CaseID, att.SHA256), Filename: att.Name, MimeType: mime, Purpose: "attachment", Content: content,
		})
	}
	return out, nil
}

// content reads an attachment's bytes; one the records do not hold will
// never arrive.
func (a *Adapter) content(ctx context.Context, caseID, sha string) ([]byte, error) {
	if a.documents == nil {
		return nil, temporal.NewNonRetryableApplicationError("fitconnect: no document store to read attachments from", ErrTypeNoDocument, nil)
	}
	b, err := a.documents.DocumentContent(ctx, caseID, sha)
	if err != nil {
		if ozgflow.ErrorCode(err) == ozgflow.ENOTFOUND {
			return nil, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("fitconnect: attachment %s of case %s is not in the records", sha, caseID), ErrTypeNoDocument, err)
		}
		return nil, fmt.Errorf("fitconnect: read attachment %s of case %s: %w", sha, caseID, err)
	}
	return b, nil
}

// Outcome reads the destination's answer from the submission's event log.
// Only events the destination signed with a key it publishes count; a
// forged or unverifiable entry is passed over. An accept that confirms
// other parts than the ones sent (other authentication tags) is passed
// over too.
func (a *Adapter) Outcome(ctx context.Context, target string, sent activities.SentSubmission) (activities.SubmissionOutcome, error) {
	pending := activities.SubmissionOutcome{Outcome: activities.OutcomePending}
	c, ok := a.clients[target]
	if !ok {
		return pending, temporal.NewNonRetryableApplicationError(
			"fitconnect "+target+": not a configured destination", ErrTypeUnknownTarget, nil)
	}
	log, err := c.EventLog(ctx, sent.CaseID)
	if err != nil {
		return pending, fmt.Errorf("fitconnect %s: %w", target, err)
	}
	keys := c.DestinationKeys(ctx, sent.DestinationID)
	for i := len(log) - 1; i >= 0; i-- {
		peek, err := fitconnect.PeekEvent(log[i])
		if err != nil || peek.SubmissionID != sent.SubmissionID ||
			(peek.Type != fitconnect.EventAccept && peek.Type != fitconnect.EventReject) {
			continue
		}
		ev, err := fitconnect.VerifyEvent(log[i], keys)
		if err != nil || ev.SubmissionID != sent.SubmissionID {
			continue
		}
		if ev.Type == fitconnect.EventAccept {
			if !confirms(ev.Payload.AuthenticationTags, sent) {
				continue
			}
			return activities.SubmissionOutcome{Outcome: activities.OutcomeAccepted, At: ev.IssuedAt}, nil
		}
		out := activities.SubmissionOutcome{Outcome: activities.OutcomeRejected, At: ev.IssuedAt}
		for _, p := range ev.Payload.Problems {
			out.Problems = append(out.Problems, activities.Problem{Type: p.Type, Title: p.Title, Detail: p.Detail})
		}
		return out, nil
	}
	return pending, nil
}

// confirms says whether an accept's tags are those of the parts sent; an
// accept without tags, or a submission whose tags are not known, passes.
func confirms(tags *fitconnect.AuthenticationTags, sent activities.SentSubmission) bool {
	if tags == nil || sent.MetadataTag == "" {
		return true
	}
	if tags.Metadata != sent.MetadataTag || tags.Data != sent.DataTag {
		return false
	}
	for id, tag := range sent.AttachmentTag {
		if tags.Attachments[id] != tag {
			return false
		}
	}
	return true
}

// attachmentID is the UUID-shaped ID of a case's attachment, the same in
// every round, derived from the case and the content's hash.
func attachmentID(caseID, sha string) string {
	h := fitconnect.SHA512([]byte(caseID + ":" + sha))
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
}

// paymentStatus is FIT-Connect's word for an XBezahldienste status.
func paymentStatus(s string) string {
	switch s {
	case "PAYED":
		return "BOOKED"
	case "CANCELED":
		return "CANCELED"
	case "FAILED":
		return "FAILED"
	}
	return "INITIATED"
}

// amount writes cents as FIT-Connect's gross amount ("12.50").
func amount(cents int64) string {
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}
