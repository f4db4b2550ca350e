package ozgflow

import (
	"encoding/json"
	"time"
)

// SealedPayload is what the authority's seal covers: the payload of
// Seal.JWS. The signer seals it when a case is submitted; the receipt
// (Eingangsbestätigung) prints it, the check at /pruefen reads it back, and
// the applicant's signing page shows it. Its JSON is canonical, so the same
// application always gives the same bytes: SubmittedAt in UTC to the second,
// Data with object keys sorted, and Attachments, never null, naming each
// attachment by Name and SHA256 only.
type SealedPayload struct {
	CaseID            string          `json:"caseId"`
	Service           string          `json:"service"`
	Authority         string          `json:"authority"`
	DefinitionID      string          `json:"definitionId"`
	DefinitionVersion int             `json:"definitionVersion"`
	SubmittedAt       time.Time       `json:"submittedAt"`
	Data              json.RawMessage `json:"data"`
	Attachments       []Attachment    `json:"attachments"`
}
