// Package portal carries the notices of cases to the citizens' service
// portal (Amt24): each notice filed into a portal mailbox becomes a
// CloudEvent that a dispatcher posts, HMAC-signed, to the portal's webhook
// until the portal takes it, from an outbox in Redis. A sandbox portal
// speaks the same protocol for development, tests and demos.
package portal

import (
	"fmt"
	"time"

	"github.com/ozgflow/ozgflow"
)

// The CloudEvents envelope (CloudEvents 1.0, structured JSON mode).
const (
	SpecVersion = "1.0"
	ContentType = "application/cloudevents+json"
	// EventType is the type of a notice event.
	EventType = "de.ozgflow.notice"
	// Source names ozgflow as the producer; with the ID it identifies an event.
	Source = "urn:ozgflow:notices"
)

// Event is a notice as a CloudEvent. Its ID is the notice's stable ID
// ("<caseId>-<n>"), the same on every attempt, so that the portal can drop
// what it already has.
type Event struct {
	SpecVersion     string    `json:"specversion"`
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	Type            string    `json:"type"`
	Subject         string    `json:"subject"` // the case ID
	Time            time.Time `json:"time"`    // when the notice was issued
	DataContentType string    `json:"datacontenttype"`
	Data            Notice    `json:"data"`
}

// Notice is the data of an event: what the portal files into the account's
// mailbox.
type Notice struct {
	CaseID string `json:"caseId"`
	// CaseNumber is the short number the applicant quotes; absent for
	// cases from before case numbers.
	CaseNumber    string         `json:"caseNumber,omitempty"`
	PortalAccount string         `json:"portalAccount"`
	Status        ozgflow.Status `json:"status"`
	Title         string         `json:"title"`
	Text          string         `json:"text"`
	// Easy is the text in easy-to-read German, where the variant has one.
	Easy string `json:"easy,omitempty"`
	// Documents come with the notice, e.g. the decision's PDF from the
	// Fachverfahren.
	Documents []Document `json:"documents,omitempty"`
}

// Document is a document that comes with a notice. The portal fetches it
// from ozgflow's API at Href (relative to /api/v1's host) with the case's
// access token.
type Document struct {
	Name        string `json:"name"`
	ContentType string `json:"contentType,omitempty"`
	Size        int64  `json:"size,omitempty"`
	SHA256      string `json:"sha256"`
	Href        string `json:"href"`
}

// NewEvent returns the event of a notice; the same notice always gives the
// same event.
func NewEvent(n ozgflow.Notice) Event {
	return Event{
		SpecVersion: SpecVersion, ID: n.ID, Source: Source, Type: EventType,
		Subject: n.CaseID, Time: n.At.UTC(), DataContentType: "application/json",
		Data: Notice{CaseID: n.CaseID, CaseNumber: n.CaseNumber, PortalAccount: n.PortalAccount, Status: n.Status,
			Title: n.Title, Text: n.Text, Easy: n.Easy, Documents: documents(n)},
	}
}

// documents are the documents of a notice with their addresses.
func documents(n ozgflow.Notice) []Document {
	var out []Document
	for _, d := range n.Documents {
		out = append(out, Document{Name: d.Name, ContentType: d.ContentType, Size: d.Size, SHA256: d.SHA256,
			Href: "/api/v1/applications/" + n.CaseID + "/documents/" + d.SHA256})
	}
	return out
}

// Valid reports what is missing for an event to be a CloudEvent of ours.
func (e Event) Valid() error {
	switch {
	case e.SpecVersion != SpecVersion:
		return fmt.Errorf("specversion %q, want %q", e.SpecVersion, SpecVersion)
	case e.ID == "" || e.Source == "" || e.Type == "":
		return fmt.Errorf("id, source and type are required")
	case e.Type == EventType && (e.Subject == "" || e.Data.CaseID == "" || e.Data.PortalAccount == ""):
		return fmt.Errorf("a notice needs subject, data.caseId and data.portalAccount")
	}
	return nil
}
