// Package activities holds the side effects of a case: payment, seal, delivery,
// archive and projections. Each family is a struct whose fields are the adapters
// it talks to; the structs are built once in the worker and their methods are
// registered as activities. Adapters live in sub-packages (payment, signer,
// fachverfahren) and in the store; this package knows them only by interface.
package activities

import (
	"context"
	"encoding/json"
	"time"

	"github.com/ozgflow/ozgflow"
)

// PaymentRequest asks a payment provider to collect a fee. RequestID is stable
// per case and attempt, so creating the same payment twice returns the first one.
type PaymentRequest struct {
	RequestID string `json:"requestId"`
	CaseID    string `json:"caseId"`
	Amount    int64  `json:"amount"` // in cents
	Currency  string `json:"currency"`
	Purpose   string `json:"purpose"`
}

// PaymentInfo is a provider's view of one payment.
type PaymentInfo struct {
	PaymentID   string `json:"paymentId"`
	Status      string `json:"status"` // ozgflow.PaymentInitial, PaymentPayed, …
	RedirectURL string `json:"redirectUrl"`
	Refund      string `json:"refund,omitempty"`
}

// PaymentProvider is an e-payment service speaking XBezahldienste-style states.
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

// Submission is what a Fachverfahren receives for a case.
type Submission struct {
	CaseID            string               `json:"caseId"`
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
}

// Receipt is a Fachverfahren's acknowledgement of a delivery.
type Receipt struct {
	Reference  string    `json:"reference"`
	ReceivedAt time.Time `json:"receivedAt"`
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
