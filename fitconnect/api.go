// Package fitconnect speaks FIT-Connect, the federal standard for carrying
// applications from online services to authorities: the Submission API's wire
// types, submission metadata (schemas 1.x and 2.x), JWE encryption to a
// destination's key, Security Event Tokens for the event log, and a sender
// client. The intake room (gateway) and the delivery adapter (activities)
// both build on it; it imports neither.
package fitconnect

import "strings"

// Event types of a submission's event log (Security Event Tokens, RFC 8417).
const (
	EventCreate = "https://schema.fitko.de/fit-connect/events/create-submission"
	EventSubmit = "https://schema.fitko.de/fit-connect/events/submit-submission"
	EventNotify = "https://schema.fitko.de/fit-connect/events/notify-submission"
	EventAccept = "https://schema.fitko.de/fit-connect/events/accept-submission"
	EventReject = "https://schema.fitko.de/fit-connect/events/reject-submission"
	EventDelete = "https://schema.fitko.de/fit-connect/events/delete-submission"
)

// ProblemPrefix starts the type URI of every Submission API problem document.
const ProblemPrefix = "https://schema.fitko.de/fit-connect/submission-api/problems/"

// Problem types the Submission API answers with.
const (
	ProblemDestinationNotFound     = ProblemPrefix + "destination-not-found"
	ProblemDestinationStateInvalid = ProblemPrefix + "destination-state-invalid"
	ProblemSubmissionNotFound      = ProblemPrefix + "submission-not-found"
	ProblemAttachmentNotFound      = ProblemPrefix + "attachment-not-found"
	ProblemKeyNotFound             = ProblemPrefix + "key-not-found"
	ProblemCaseNotFound            = ProblemPrefix + "case-not-found"
	ProblemSubmissionStateInvalid  = ProblemPrefix + "submission-state-invalid"
	ProblemServiceTypeMismatch     = ProblemPrefix + "service-type-mismatch"
	ProblemMissingAttachments      = ProblemPrefix + "missing-attachments"
	ProblemRequestInvalid          = ProblemPrefix + "invalid-request"
	ProblemUnauthorized            = ProblemPrefix + "unauthorized"
	ProblemForbidden               = ProblemPrefix + "forbidden"
)

// Problem types a destination names when it rejects a submission (in the
// payload of a reject-submission event).
const (
	RejectPrefix              = "https://schema.fitko.de/fit-connect/events/problems/"
	RejectEncryptionIssue     = RejectPrefix + "encryption-issue"
	RejectHashMismatch        = RejectPrefix + "hash-mismatch"
	RejectSchemaViolation     = RejectPrefix + "schema-violation"
	RejectSyntaxViolation     = RejectPrefix + "syntax-violation"
	RejectMissingSchema       = RejectPrefix + "missing-schema"
	RejectUnsupportedSchema   = RejectPrefix + "unsupported-schema"
	RejectIncorrectAuthTag    = RejectPrefix + "incorrect-authentication-tag"
	RejectTechnicalError      = RejectPrefix + "technical-error"
	RejectUnsupportedService  = RejectPrefix + "unsupported-service"
	RejectInvalidReference    = RejectPrefix + "invalid-attachment-reference"
	RejectContentNotAccepted  = RejectPrefix + "content-not-accepted"
	RejectMissingAuthTag      = RejectPrefix + "missing-authentication-tag"
	RejectAttachmentsMismatch = RejectPrefix + "attachments-mismatch"
)

// Problem is an RFC 9457 problem as FIT-Connect uses it, in answers and in
// reject events.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status,omitempty"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// Error makes a problem usable as an error.
func (p Problem) Error() string {
	s := p.Title
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	if p.Instance != "" {
		s += " (" + p.Instance + ")"
	}
	return s
}

// ServiceType names the administrative service a submission is for, by its
// LeiKa key as URN (urn:de:fim:leika:leistung:99050035001000).
type ServiceType struct {
	Name        string `json:"name,omitempty"`
	Identifier  string `json:"identifier"`
	Description string `json:"description,omitempty"`
}

// LeikaURNPrefix starts a service identifier taken from the LeiKa catalogue.
const LeikaURNPrefix = "urn:de:fim:leika:leistung:"

// LeikaKey returns the LeiKa key of a service identifier, or "" when the
// identifier is not a LeiKa URN.
func LeikaKey(identifier string) string {
	key, ok := strings.CutPrefix(identifier, LeikaURNPrefix)
	if !ok || key == "" {
		return ""
	}
	return key
}

// ServiceURN returns the identifier of a LeiKa key.
func ServiceURN(leikaKey string) string { return LeikaURNPrefix + leikaKey }

// Destination is what a sender learns about a destination before it encrypts.
type Destination struct {
	DestinationID    string               `json:"destinationId"`
	Status           string               `json:"status"` // "active"
	EncryptionKid    string               `json:"encryptionKid"`
	Services         []DestinationService `json:"services"`
	MetadataVersions []string             `json:"metadataVersions,omitempty"`
	ReplyChannels    map[string]any       `json:"replyChannels,omitempty"`
}

// DestinationService is one service a destination accepts, with the data
// schemas it understands.
type DestinationService struct {
	Identifier        string      `json:"identifier"`
	SubmissionSchemas []SchemaRef `json:"submissionSchemas"`
	Regions           []string    `json:"regions,omitempty"`
}

// Destination statuses: only an active destination takes submissions.
const (
	DestinationActive   = "active"
	DestinationInactive = "inactive"
)

// CreateSubmission announces a submission: its destination, service and the
// IDs of the attachments that will follow.
type CreateSubmission struct {
	DestinationID        string      `json:"destinationId"`
	AnnouncedAttachments []string    `json:"announcedAttachments,omitempty"`
	ServiceType          ServiceType `json:"serviceType"`
	Callback             *Callback   `json:"callback,omitempty"`
}

// Callback is where the Submission API tells a sender about new events.
type Callback struct {
	URL    string `json:"url"`
	Secret string `json:"secret,omitempty"`
}

// SubmissionCreated answers a CreateSubmission.
type SubmissionCreated struct {
	DestinationID string `json:"destinationId"`
	SubmissionID  string `json:"submissionId"`
	CaseID        string `json:"caseId"`
}

// SubmitSubmission completes an announced submission with its encrypted
// metadata and data (compact JWE).
type SubmitSubmission struct {
	EncryptedMetadata string `json:"encryptedMetadata"`
	EncryptedData     string `json:"encryptedData,omitempty"`
}

// SubmissionSubmitted answers a SubmitSubmission.
type SubmissionSubmitted struct {
	DestinationID string `json:"destinationId"`
	SubmissionID  string `json:"submissionId"`
	CaseID        string `json:"caseId"`
}

// EventLog is a case's (or submission's) event log: signed SETs in order.
type EventLog struct {
	EventLog []string `json:"eventLog"`
}

// Token is an OAuth 2 token answer of the client-credentials grant.
type Token struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
}
