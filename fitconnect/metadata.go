package fitconnect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// MetadataSchemaPrefix starts the $schema URI of FIT-Connect metadata:
// https://schema.fitko.de/fit-connect/metadata/1.2.0/metadata.schema.json.
const MetadataSchemaPrefix = "https://schema.fitko.de/fit-connect/metadata/"

// Metadata describes a submission: its parts with their hashes, the service,
// references, the reply channel, how the applicant authenticated and what was
// paid. One type reads schemas 1.x and 2.x; fields only one of them knows are
// optional.
type Metadata struct {
	Schema                    string                     `json:"$schema,omitempty"`
	ContentStructure          ContentStructure           `json:"contentStructure"`
	PublicServiceType         *ServiceType               `json:"publicServiceType,omitempty"`
	AdditionalReferenceInfo   *ReferenceInfo             `json:"additionalReferenceInfo,omitempty"`
	ReplyChannel              map[string]json.RawMessage `json:"replyChannel,omitempty"`
	AuthenticationInformation []AuthenticationInfo       `json:"authenticationInformation,omitempty"`
	PaymentInformation        *PaymentInformation        `json:"paymentInformation,omitempty"`
}

// ContentStructure lists the submission's data part and its attachments.
type ContentStructure struct {
	Data        *DataPart    `json:"data,omitempty"`
	Attachments []Attachment `json:"attachments"`
}

// DataPart says which schema the data follows and what its hash is.
type DataPart struct {
	SubmissionSchema SchemaRef `json:"submissionSchema"`
	Hash             Hash      `json:"hash"`
}

// SchemaRef names a data schema by URI and the data's media type.
type SchemaRef struct {
	SchemaURI string `json:"schemaUri"`
	MimeType  string `json:"mimeType"`
}

// Hash is a part's checksum; FIT-Connect uses sha512 in hex.
type Hash struct {
	Type    string `json:"type"`
	Content string `json:"content"`
}

// HashSHA512 is the only hash type FIT-Connect defines.
const HashSHA512 = "sha512"

// Attachment describes one announced attachment.
type Attachment struct {
	AttachmentID string `json:"attachmentId"`
	Purpose      string `json:"purpose"` // form, attachment, report
	MimeType     string `json:"mimeType"`
	Filename     string `json:"filename,omitempty"`
	Description  string `json:"description,omitempty"`
	Hash         Hash   `json:"hash"`
}

// ReferenceInfo carries the sender's own reference and the date the
// applicant applied.
type ReferenceInfo struct {
	SenderReference string `json:"senderReference,omitempty"`
	ApplicationDate string `json:"applicationDate,omitempty"` // YYYY-MM-DD
}

// AuthenticationInfo is a report of how the applicant identified themselves.
type AuthenticationInfo struct {
	Type    string `json:"type"`
	Version string `json:"version"`
	Content string `json:"content"`
}

// PaymentInformation says what the online service collected.
type PaymentInformation struct {
	TransactionReference string `json:"transactionReference,omitempty"`
	TransactionID        string `json:"transactionId,omitempty"`
	TransactionURL       string `json:"transactionUrl,omitempty"`
	PaymentMethod        string `json:"paymentMethod,omitempty"`
	PaymentMethodDetail  string `json:"paymentMethodDetail,omitempty"`
	Status               string `json:"status,omitempty"`
	GrossAmount          string `json:"grossAmount,omitempty"`
}

// FieldProblem names what is wrong in the metadata, by JSON pointer.
type FieldProblem struct {
	Pointer string
	Detail  string
}

var (
	schemaVersion = regexp.MustCompile(`^` + regexp.QuoteMeta(MetadataSchemaPrefix) + `([12])\.\d+\.\d+/metadata\.schema\.json$`)
	hexSHA512     = regexp.MustCompile(`^[0-9a-f]{128}$`)
	applDate      = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// ParseMetadata reads metadata JSON, refusing unknown top-level structure
// only where it matters: the result still needs Check.
func ParseMetadata(b []byte) (Metadata, error) {
	var m Metadata
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("metadata is not valid JSON: %w", err)
	}
	if dec.More() {
		return m, fmt.Errorf("metadata holds more than one JSON value")
	}
	return m, nil
}

// MajorVersion is the metadata schema's major version (1 or 2); metadata
// without $schema counts as 1.
func (m Metadata) MajorVersion() int {
	if m.Schema == "" {
		return 1
	}
	if v := schemaVersion.FindStringSubmatch(m.Schema); v != nil {
		return int(v[1][0] - '0')
	}
	return 0
}

// Check lists what keeps the metadata from being usable: an unknown schema
// version, missing or malformed hashes, attachments without ID, a wrong
// application date.
func (m Metadata) Check() []FieldProblem {
	var out []FieldProblem
	add := func(p, d string) { out = append(out, FieldProblem{Pointer: p, Detail: d}) }
	if m.MajorVersion() == 0 {
		add("/$schema", "unknown metadata schema "+m.Schema+"; supported are 1.x and 2.x under "+MetadataSchemaPrefix)
	}
	if d := m.ContentStructure.Data; d != nil {
		if d.SubmissionSchema.SchemaURI == "" {
			add("/contentStructure/data/submissionSchema/schemaUri", "missing")
		}
		if d.SubmissionSchema.MimeType == "" {
			add("/contentStructure/data/submissionSchema/mimeType", "missing")
		}
		checkHash(d.Hash, "/contentStructure/data/hash", add)
	} else if m.MajorVersion() == 2 {
		add("/contentStructure/data", "missing (required in metadata 2.x)")
	}
	seen := map[string]bool{}
	for i, a := range m.ContentStructure.Attachments {
		p := fmt.Sprintf("/contentStructure/attachments/%d", i)
		switch {
		case a.AttachmentID == "":
			add(p+"/attachmentId", "missing")
		case seen[a.AttachmentID]:
			add(p+"/attachmentId", "named twice: "+a.AttachmentID)
		}
		seen[a.AttachmentID] = true
		switch a.Purpose {
		case "form", "attachment", "report":
		default:
			add(p+"/purpose", "must be form, attachment or report, not "+fmt.Sprintf("%q", a.Purpose))
		}
		if a.MimeType == "" {
			add(p+"/mimeType", "missing")
		}
		checkHash(a.Hash, p+"/hash", add)
	}
	if st := m.PublicServiceType; st != nil && st.Identifier == "" {
		add("/publicServiceType/identifier", "missing")
	}
	if ri := m.AdditionalReferenceInfo; ri != nil && ri.ApplicationDate != "" && !applDate.MatchString(ri.ApplicationDate) {
		add("/additionalReferenceInfo/applicationDate", "must be a date YYYY-MM-DD")
	}
	return out
}

func checkHash(h Hash, p string, add func(p, d string)) {
	if h.Type != HashSHA512 {
		add(p+"/type", "must be sha512")
	}
	if !hexSHA512.MatchString(strings.ToLower(h.Content)) {
		add(p+"/content", "must be 128 hexadecimal digits (sha512)")
	}
}

// Attachment returns the metadata entry of an attachment ID.
func (m Metadata) Attachment(id string) (Attachment, bool) {
	for _, a := range m.ContentStructure.Attachments {
		if a.AttachmentID == id {
			return a, true
		}
	}
	return Attachment{}, false
}
