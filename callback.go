package ozgflow

import "time"

// Callbacks from the Fachverfahren: a back-office system that received a
// case reports back to ozgflow what became of it, with a request signed
// like a delivery (HMAC over timestamp and body with the delivery secret)
// to the gateway's POST /api/v1/fachverfahren/callbacks. The gateway checks
// the signature, keeps a decision's document and passes the callback to
// the case as the update UpdateCallback.

// UpdateCallback is the case workflow's update that takes a Fachverfahren's
// callback.
const UpdateCallback = "fachverfahren-callback"

// Events a Fachverfahren reports. Received and in review are progress;
// decided carries the decision, which a case takes only where its variant
// waits for it (a wait-external step on the event "decided").
const (
	CallbackReceived = "received"
	CallbackInReview = "in_review"
	CallbackDecided  = "decided"
)

// CallbackEvents lists the events in the order a case passes through them.
var CallbackEvents = []string{CallbackReceived, CallbackInReview, CallbackDecided}

// KnownCallbackEvent reports whether event is one a Fachverfahren reports.
func KnownCallbackEvent(event string) bool {
	for _, e := range CallbackEvents {
		if e == event {
			return true
		}
	}
	return false
}

// Callback is a Fachverfahren's report on a case delivered to it, as the
// case workflow takes it: the document of a decision is kept in the records
// database by then, and the callback names it by its hash.
type Callback struct {
	// ID is unique per callback and the same on every retry of it; a case
	// takes a callback once.
	ID        string `json:"id"`
	CaseID    string `json:"caseId"`
	Reference string `json:"reference"` // the delivery's reference, as the receipt gave it
	Event     string `json:"event"`
	// At is when the Fachverfahren says it happened; zero: when it arrived.
	At      time.Time `json:"at,omitzero"`
	Outcome string    `json:"outcome,omitempty"` // decided: approve or reject
	Comment string    `json:"comment,omitempty"`
	// Document is the decision's document (a PDF), kept with the case.
	Document *Attachment `json:"document,omitempty"`
	// By names the Fachverfahren: its delivery target.
	By string `json:"by,omitempty"`
}

// DeliveryReport is one callback of the Fachverfahren as the case records
// it on its delivery.
type DeliveryReport struct {
	ID      string    `json:"id"`
	Event   string    `json:"event"`
	At      time.Time `json:"at"`
	Comment string    `json:"comment,omitempty"`
}

// CallbackPath is where the gateway takes callbacks.
const CallbackPath = "/api/v1/fachverfahren/callbacks"

// Bounds of a callback: its body, and the decision's document in it (a
// PDF, base64 in the body).
const (
	MaxCallbackBytes         = 16 << 20
	MaxDecisionDocumentBytes = 10 << 20
)

// CallbackRequest is the body a Fachverfahren posts to CallbackPath,
// signed as ozgflow signs deliveries: X-Ozgflow-Timestamp and
// X-Ozgflow-Signature (SignBody) with the delivery secret.
type CallbackRequest struct {
	ID        string            `json:"id"`
	CaseID    string            `json:"caseId"`
	Reference string            `json:"reference"`
	Event     string            `json:"event"`
	At        time.Time         `json:"at,omitzero"`
	Outcome   string            `json:"outcome,omitempty"`
	Comment   string            `json:"comment,omitempty"`
	Document  *CallbackDocument `json:"document,omitempty"`
}

// CallbackDocument is a decision's document in a callback; Content is
// base64 in JSON.
type CallbackDocument struct {
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	Content     []byte `json:"content"`
}
