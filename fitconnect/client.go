package fitconnect

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// maxAnswer bounds how much of a Submission API answer the client reads.
const maxAnswer = 8 << 20

// Client is a FIT-Connect sender: it fetches a token with the OAuth 2
// client-credentials grant, learns a destination's key, and sends encrypted
// submissions through the Submission API. It is safe for concurrent use.
type Client struct {
	tokenURL, apiURL   string
	clientID, secret   string
	hc                 *http.Client
	mu                 sync.Mutex
	token              string
	tokenUntil         time.Time
	now                func() time.Time
	metadataSchema     string
	compressLargerThan int
}

// DefaultMetadataSchema is the metadata schema the client writes.
const DefaultMetadataSchema = MetadataSchemaPrefix + "1.2.0/metadata.schema.json"

// NewClient returns a sender for the Submission API at apiURL (ending in /v1)
// with tokens from tokenURL; a nil hc means a client with a 30 s timeout.
func NewClient(tokenURL, apiURL, clientID, secret string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{
		tokenURL: tokenURL, apiURL: strings.TrimSuffix(apiURL, "/"),
		clientID: clientID, secret: secret, hc: hc, now: time.Now,
		metadataSchema: DefaultMetadataSchema, compressLargerThan: 1024,
	}
}

// WithMetadataSchema makes the client write metadata of another schema
// version (its $schema URI), e.g. 2.x for destinations that require it.
func (c *Client) WithMetadataSchema(schema string) *Client {
	c.metadataSchema = schema
	return c
}

// APIError is an answer of the Submission API other than success. Problem
// holds its problem document when it sent one.
type APIError struct {
	Status  int
	Problem Problem
}

func (e *APIError) Error() string {
	if e.Problem.Type != "" {
		return fmt.Sprintf("submission api: %d %s (%s)", e.Status, e.Problem.Error(), e.Problem.Type)
	}
	return fmt.Sprintf("submission api: %d", e.Status)
}

// Final says whether repeating the request cannot help: a 4xx other than
// 408 and 429.
func (e *APIError) Final() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != http.StatusRequestTimeout && e.Status != http.StatusTooManyRequests
}

// IsFinal says whether err is an answer that repeating cannot change.
func IsFinal(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Final()
}

// Token returns a valid access token, fetching a new one shortly before the
// old one runs out.
func (c *Client) Token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.now().Before(c.tokenUntil) {
		return c.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.clientID}, "client_secret": {c.secret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var tok Token
	if err := c.send(req, &tok); err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	if tok.AccessToken == "" {
		return "", errors.New("token: answer without access_token")
	}
	life := time.Duration(tok.ExpiresIn) * time.Second
	if life <= 0 {
		life = 5 * time.Minute
	}
	c.token, c.tokenUntil = tok.AccessToken, c.now().Add(life*9/10)
	return c.token, nil
}

// call sends an authenticated request to the Submission API and decodes a
// JSON answer into out (when out is not nil).
func (c *Client) call(ctx context.Context, method, path, contentType string, body []byte, out any) error {
	tok, err := c.Token(ctx)
	if err != nil {
		return err
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.apiURL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json, application/problem+json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if err := c.send(req, out); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}

func (c *Client) send(req *http.Request, out any) error {
	res, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if res.StatusCode >= 300 {
		ae := &APIError{Status: res.StatusCode}
		_ = json.Unmarshal(b, &ae.Problem)
		return ae
	}
	if out == nil || len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("answer is not the expected JSON: %w", err)
	}
	return nil
}

// Destination returns what a destination publishes about itself.
func (c *Client) Destination(ctx context.Context, id string) (Destination, error) {
	var d Destination
	err := c.call(ctx, http.MethodGet, "/destinations/"+url.PathEscape(id), "", nil, &d)
	return d, err
}

// Key returns one of a destination's published keys.
func (c *Client) Key(ctx context.Context, destinationID, kid string) (PublicJWK, error) {
	var k PublicJWK
	err := c.call(ctx, http.MethodGet, "/destinations/"+url.PathEscape(destinationID)+"/keys/"+url.PathEscape(kid), "", nil, &k)
	return k, err
}

// Create announces a submission.
func (c *Client) Create(ctx context.Context, s CreateSubmission) (SubmissionCreated, error) {
	var out SubmissionCreated
	body, err := json.Marshal(s)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, http.MethodPost, "/submissions", "application/json", body, &out)
	return out, err
}

// UploadAttachment sends one announced attachment as compact JWE.
func (c *Client) UploadAttachment(ctx context.Context, submissionID, attachmentID, jwe string) error {
	return c.call(ctx, http.MethodPut, "/submissions/"+url.PathEscape(submissionID)+"/attachments/"+url.PathEscape(attachmentID),
		"application/jose", []byte(jwe), nil)
}

// Submit completes a submission with its encrypted metadata and data.
func (c *Client) Submit(ctx context.Context, submissionID string, s SubmitSubmission) (SubmissionSubmitted, error) {
	var out SubmissionSubmitted
	body, err := json.Marshal(s)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, http.MethodPut, "/submissions/"+url.PathEscape(submissionID), "application/json", body, &out)
	return out, err
}

// EventLog returns the signed events of a case, oldest first.
func (c *Client) EventLog(ctx context.Context, caseID string) ([]string, error) {
	var log EventLog
	err := c.call(ctx, http.MethodGet, "/cases/"+url.PathEscape(caseID)+"/events", "", nil, &log)
	return log.EventLog, err
}

// DestinationKeys verifies events a destination signed with the keys it
// publishes (key_ops verify); events of other issuers are refused.
func (c *Client) DestinationKeys(ctx context.Context, destinationID string) KeyFunc {
	return func(issuer, kid string) (*rsa.PublicKey, error) {
		if issuer != destinationID {
			return nil, fmt.Errorf("issuer %s is not destination %s", issuer, destinationID)
		}
		k, err := c.Key(ctx, destinationID, kid)
		if err != nil {
			return nil, err
		}
		pub, ok := k.Key.(*rsa.PublicKey)
		if !ok {
			return nil, errors.New("not an RSA key")
		}
		for _, op := range k.KeyOps {
			if op == "verify" {
				return pub, nil
			}
		}
		return nil, errors.New("key is not meant to verify signatures")
	}
}

// Outgoing is one submission to send: what it is for, its data and
// attachments in plain form, and the metadata beyond the content structure.
type Outgoing struct {
	DestinationID string
	Service       ServiceType
	Data          []byte
	DataSchema    SchemaRef
	Attachments   []OutgoingAttachment
	Reference     *ReferenceInfo
	ReplyChannel  map[string]json.RawMessage
	Payment       *PaymentInformation
	Auth          []AuthenticationInfo
	// Announced, if set, learns the submission's IDs once it is announced,
	// before anything is uploaded, so that a sender can keep them against
	// a repeat of the send; an error ends the send.
	Announced func(SubmissionCreated) error
}

// OutgoingAttachment is one attachment of an Outgoing submission. ID is the
// attachment's UUID, chosen by the sender.
type OutgoingAttachment struct {
	ID          string
	Filename    string
	MimeType    string
	Purpose     string
	Description string
	Content     []byte
}

// Sent is what a sender keeps of a submission: its IDs and the
// authentication tags an accept event will confirm.
type Sent struct {
	SubmissionCreated
	Tags AuthenticationTags
}

// Send delivers a whole submission: it checks the destination accepts the
// service and schema, encrypts every part to the destination's key, announces,
// uploads and submits. A destination that is not active or does not accept the
// service is a final *APIError or a plain error naming the reason.
func (c *Client) Send(ctx context.Context, o Outgoing) (Sent, error) {
	dest, err := c.Destination(ctx, o.DestinationID)
	if err != nil {
		return Sent{}, err
	}
	if dest.Status != DestinationActive {
		return Sent{}, &APIError{Status: http.StatusConflict, Problem: Problem{Type: ProblemDestinationStateInvalid, Title: "Destination not active", Detail: "status " + dest.Status}}
	}
	if !accepts(dest, o.Service.Identifier, o.DataSchema.SchemaURI) {
		return Sent{}, &APIError{Status: http.StatusUnprocessableEntity, Problem: Problem{Type: ProblemServiceTypeMismatch, Title: "Destination does not accept this service and schema",
			Detail: o.Service.Identifier + " " + o.DataSchema.SchemaURI}}
	}
	jwk, err := c.Key(ctx, o.DestinationID, dest.EncryptionKid)
	if err != nil {
		return Sent{}, err
	}
	pub, err := EncryptionKey(jwk)
	if err != nil {
		return Sent{}, err
	}
	ids := make([]string, len(o.Attachments))
	for i, a := range o.Attachments {
		ids[i] = a.ID
	}
	created, err := c.Create(ctx, CreateSubmission{DestinationID: o.DestinationID, AnnouncedAttachments: ids, ServiceType: o.Service})
	if err != nil {
		return Sent{}, err
	}
	sent := Sent{SubmissionCreated: created, Tags: AuthenticationTags{Attachments: map[string]string{}}}
	if o.Announced != nil {
		if err := o.Announced(created); err != nil {
			return sent, err
		}
	}
	meta := Metadata{
		Schema:                    c.metadataSchema,
		PublicServiceType:         &o.Service,
		AdditionalReferenceInfo:   o.Reference,
		ReplyChannel:              o.ReplyChannel,
		PaymentInformation:        o.Payment,
		AuthenticationInformation: o.Auth,
		ContentStructure:          ContentStructure{Attachments: []Attachment{}},
	}
	for _, a := range o.Attachments {
		jwe, err := Encrypt(a.Content, pub, dest.EncryptionKid, a.MimeType, len(a.Content) > c.compressLargerThan)
		if err != nil {
			return sent, err
		}
		if err := c.UploadAttachment(ctx, created.SubmissionID, a.ID, jwe); err != nil {
			return sent, err
		}
		sent.Tags.Attachments[a.ID] = AuthTag(jwe)
		meta.ContentStructure.Attachments = append(meta.ContentStructure.Attachments, Attachment{
			AttachmentID: a.ID, Purpose: a.Purpose, MimeType: a.MimeType, Filename: a.Filename, Description: a.Description,
			Hash: Hash{Type: HashSHA512, Content: SHA512(a.Content)},
		})
	}
	var sub SubmitSubmission
	if o.Data != nil {
		meta.ContentStructure.Data = &DataPart{SubmissionSchema: o.DataSchema, Hash: Hash{Type: HashSHA512, Content: SHA512(o.Data)}}
		if sub.EncryptedData, err = Encrypt(o.Data, pub, dest.EncryptionKid, o.DataSchema.MimeType, len(o.Data) > c.compressLargerThan); err != nil {
			return sent, err
		}
		sent.Tags.Data = AuthTag(sub.EncryptedData)
	}
	mb, err := json.Marshal(meta)
	if err != nil {
		return sent, err
	}
	if sub.EncryptedMetadata, err = Encrypt(mb, pub, dest.EncryptionKid, "application/json", false); err != nil {
		return sent, err
	}
	sent.Tags.Metadata = AuthTag(sub.EncryptedMetadata)
	if _, err := c.Submit(ctx, created.SubmissionID, sub); err != nil {
		return sent, err
	}
	return sent, nil
}

// accepts says whether a destination takes the service with the schema.
func accepts(d Destination, service, schemaURI string) bool {
	for _, s := range d.Services {
		if s.Identifier != service {
			continue
		}
		if schemaURI == "" {
			return true
		}
		for _, ref := range s.SubmissionSchemas {
			if ref.SchemaURI == schemaURI {
				return true
			}
		}
	}
	return false
}
