package submissionapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow/fitconnect"
	"github.com/ozgflow/ozgflow/fitconnect/submissionapi"
	"github.com/ozgflow/ozgflow/internal/fitconnecttest"
	"github.com/ozgflow/ozgflow/internal/redistest"
)

const (
	destID    = "9f4c1a52-6d0e-4b53-a0c5-0d6a0f3b1e01"
	service   = "urn:de:fim:leika:leistung:99050035001000"
	schemaURI = "urn:test:schema:1"
)

type destinations map[string]fitconnect.Destination

func (d destinations) Destination(_ context.Context, id string) (fitconnect.Destination, bool, error) {
	dest, ok := d[id]
	return dest, ok, nil
}

// recorder is a receiver that keeps what it got and rejects data that
// says so.
type recorder struct {
	mu  sync.Mutex
	got []submissionapi.Received
}

func (r *recorder) Receive(_ context.Context, rec submissionapi.Received) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if bytes.Contains(rec.Data, []byte("reject me")) {
		return submissionapi.Reject(fitconnect.Problem{Type: fitconnect.RejectSchemaViolation, Title: "Schema violation", Instance: "/x"})
	}
	r.got = append(r.got, rec)
	return nil
}

type fixture struct {
	srv    *httptest.Server
	api    *submissionapi.Server
	client *fitconnect.Client
	rec    *recorder
	apiKey *rsa.PrivateKey
	keys   submissionapi.Keys
	store  submissionapi.Store
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureOn(t, submissionapi.NewMemoryStore())
}

// newFixtureOn is a server keeping its submissions in store.
func newFixtureOn(t *testing.T, store submissionapi.Store) *fixture {
	t.Helper()
	apiKey, keys := fitconnecttest.Keys(t)
	f := &fixture{rec: &recorder{}, apiKey: apiKey, keys: keys, store: store}
	dests := destinations{
		destID: {Status: fitconnect.DestinationActive, Services: []fitconnect.DestinationService{{Identifier: service,
			SubmissionSchemas: []fitconnect.SchemaRef{{SchemaURI: schemaURI, MimeType: "application/json"}}}}},
		"inactive": {Status: "inactive"},
	}
	api, err := submissionapi.New(submissionapi.Config{Issuer: "https://fit.example/fit-connect", Clients: map[string]string{"sender": "secret", "other": "secret2"},
		TokenSecret: []byte("0123456789abcdef0123"), SigningKey: apiKey, Keys: keys, Destinations: dests,
		Store: f.store, Receiver: f.rec})
	if err != nil {
		t.Fatal(err)
	}
	f.api = api
	f.srv = httptest.NewServer(api.Handler("/fit-connect"))
	t.Cleanup(f.srv.Close)
	f.client = fitconnect.NewClient(f.srv.URL+"/fit-connect/token", f.srv.URL+"/fit-connect/v1", "sender", "secret", nil)
	return f
}

// verify checks every event of the case with the published keys and
// returns their types.
func (f *fixture) verify(t *testing.T, c *fitconnect.Client, caseID string) []fitconnect.Event {
	t.Helper()
	log, err := c.EventLog(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	destKeys := c.DestinationKeys(context.Background(), destID)
	var out []fitconnect.Event
	for _, tok := range log {
		e, err := fitconnect.VerifyEvent(tok, func(iss, kid string) (*rsa.PublicKey, error) {
			if iss == "https://fit.example/fit-connect" {
				return f.apiPublicKey(t, kid)
			}
			return destKeys(iss, kid)
		})
		if err != nil {
			t.Fatalf("event does not verify with the published keys: %v", err)
		}
		out = append(out, e)
	}
	return out
}

// apiPublicKey reads the API's key from its JWKS.
func (f *fixture) apiPublicKey(t *testing.T, kid string) (*rsa.PublicKey, error) {
	res, err := http.Get(f.srv.URL + "/fit-connect/.well-known/jwks.json")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var set struct{ Keys []fitconnect.PublicJWK }
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		return nil, err
	}
	for _, k := range set.Keys {
		if k.KeyID == kid {
			return k.Key.(*rsa.PublicKey), nil
		}
	}
	return nil, errors.New("no such key")
}

func types(events []fitconnect.Event) string {
	var out []string
	for _, e := range events {
		out = append(out, strings.TrimPrefix(e.Type, "https://schema.fitko.de/fit-connect/events/"))
	}
	return strings.Join(out, " ")
}

func outgoing(attachments ...fitconnect.OutgoingAttachment) fitconnect.Outgoing {
	return fitconnect.Outgoing{DestinationID: destID, Service: fitconnect.ServiceType{Identifier: service, Name: "Gewerbeanmeldung"},
		Data: []byte(`{"betrieb":"Bäckerei"}`), DataSchema: fitconnect.SchemaRef{SchemaURI: schemaURI, MimeType: "application/json"},
		Attachments: attachments, Reference: &fitconnect.ReferenceInfo{SenderReference: "A-1", ApplicationDate: "2026-11-27"}}
}

func TestSubmissionWithAttachmentsIsAcceptedAndLogged(t *testing.T) {
	f := newFixture(t)
	big := bytes.Repeat([]byte("%PDF-1.7 Seite "), 500) // compressed (zip: DEF)
	sent, err := f.client.Send(context.Background(), outgoing(
		fitconnect.OutgoingAttachment{ID: uuid.NewString(), Filename: "nachweis.pdf", MimeType: "application/pdf", Purpose: "attachment", Content: big},
		fitconnect.OutgoingAttachment{ID: uuid.NewString(), Filename: "foto.png", MimeType: "image/png", Purpose: "attachment", Content: []byte("\x89PNG small")},
	))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.rec.got) != 1 {
		t.Fatalf("receiver got %d submissions, want 1", len(f.rec.got))
	}
	got := f.rec.got[0]
	if got.Submission.CaseID != sent.CaseID || string(got.Data) != `{"betrieb":"Bäckerei"}` || len(got.Attachments) != 2 ||
		!bytes.Equal(got.Attachments[0].Content, big) || got.Attachments[1].Filename != "foto.png" ||
		got.Metadata.AdditionalReferenceInfo.SenderReference != "A-1" {
		t.Errorf("receiver got %+v", got.Submission)
	}
	events := f.verify(t, f.client, sent.CaseID)
	if types(events) != "create-submission submit-submission accept-submission" {
		t.Fatalf("events: %s", types(events))
	}
	accept := events[2]
	if accept.Issuer != destID || accept.Payload.AuthenticationTags == nil || accept.Payload.AuthenticationTags.Data != sent.Tags.Data ||
		accept.Payload.AuthenticationTags.Metadata != sent.Tags.Metadata || len(accept.Payload.AuthenticationTags.Attachments) != 2 {
		t.Errorf("accept event: %+v", accept)
	}
	// Another client learns nothing of the case.
	other := fitconnect.NewClient(f.srv.URL+"/fit-connect/token", f.srv.URL+"/fit-connect/v1", "other", "secret2", nil)
	_, err = other.EventLog(context.Background(), sent.CaseID)
	if problemType(err) != fitconnect.ProblemCaseNotFound {
		t.Errorf("another client's event log: %v", err)
	}
}

func problemType(err error) string {
	var ae *fitconnect.APIError
	if errors.As(err, &ae) {
		return ae.Problem.Type
	}
	return ""
}

func problemOf(err error) fitconnect.Problem {
	var ae *fitconnect.APIError
	if errors.As(err, &ae) {
		return ae.Problem
	}
	return fitconnect.Problem{}
}

// sendRaw announces, uploads and submits parts the test has made itself.
func (f *fixture) sendRaw(t *testing.T, meta fitconnect.Metadata, data string, attachments map[string]string) (fitconnect.SubmissionCreated, error) {
	t.Helper()
	ctx := context.Background()
	var ids []string
	for _, a := range meta.ContentStructure.Attachments {
		ids = append(ids, a.AttachmentID)
	}
	created, err := f.client.Create(ctx, fitconnect.CreateSubmission{DestinationID: destID, AnnouncedAttachments: ids,
		ServiceType: fitconnect.ServiceType{Identifier: service}})
	if err != nil {
		t.Fatal(err)
	}
	for id, jwe := range attachments {
		if err := f.client.UploadAttachment(ctx, created.SubmissionID, id, jwe); err != nil {
			t.Fatal(err)
		}
	}
	mb, _ := json.Marshal(meta)
	encMeta, err := fitconnect.Encrypt(mb, &f.keys.Encryption.PublicKey, "k", "application/json", false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.client.Submit(ctx, created.SubmissionID, fitconnect.SubmitSubmission{EncryptedMetadata: encMeta, EncryptedData: data})
	return created, err
}

func (f *fixture) encrypt(t *testing.T, b []byte) string {
	t.Helper()
	jwe, err := fitconnect.Encrypt(b, &f.keys.Encryption.PublicKey, "k", "", true)
	if err != nil {
		t.Fatal(err)
	}
	return jwe
}

func meta(schema string, data []byte, atts ...fitconnect.Attachment) fitconnect.Metadata {
	return fitconnect.Metadata{Schema: schema, PublicServiceType: &fitconnect.ServiceType{Identifier: service},
		ContentStructure: fitconnect.ContentStructure{Attachments: atts,
			Data: &fitconnect.DataPart{SubmissionSchema: fitconnect.SchemaRef{SchemaURI: schemaURI, MimeType: "application/json"},
				Hash: fitconnect.Hash{Type: fitconnect.HashSHA512, Content: fitconnect.SHA512(data)}}}}
}

func TestRefusals(t *testing.T) {
	f := newFixture(t)
	data := []byte(`{"a":1}`)
	pdf := []byte("%PDF-1.7 test")
	v1 := fitconnect.MetadataSchemaPrefix + "1.0.0/metadata.schema.json"
	v2 := fitconnect.MetadataSchemaPrefix + "2.1.0/metadata.schema.json"
	att := func(id string, content []byte) fitconnect.Attachment {
		return fitconnect.Attachment{AttachmentID: id, Purpose: "attachment", MimeType: "application/pdf",
			Hash: fitconnect.Hash{Type: fitconnect.HashSHA512, Content: fitconnect.SHA512(content)}}
	}
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	foreign, _ := fitconnect.Encrypt(data, &otherKey.PublicKey, "x", "", false)
	tests := []struct {
		name     string
		meta     fitconnect.Metadata
		data     string
		atts     map[string]string
		wantType string
		wantPart string
		accepted bool
	}{
		{"metadata 1.x, plain data", meta(v1, data), string(data), nil, "", "", true},
		{"metadata 2.x, with attachment", meta(v2, data, att("a1", pdf)), f.encrypt(t, data), map[string]string{"a1": f.encrypt(t, pdf)}, "", "", true},
		{"wrong hash of an attachment", meta(v1, data, att("a1", pdf), att("a2", pdf)), f.encrypt(t, data),
			map[string]string{"a1": f.encrypt(t, pdf), "a2": f.encrypt(t, []byte("other"))}, fitconnect.RejectHashMismatch, "/contentStructure/attachments/1/hash", false},
		{"wrong hash of the data", meta(v1, data), f.encrypt(t, []byte(`{"a":2}`)), nil, fitconnect.RejectHashMismatch, "/contentStructure/data/hash", false},
		{"data for another key", meta(v1, data), foreign, nil, fitconnect.RejectEncryptionIssue, "/encryptedData", false},
		{"data not JWE", meta(v1, data), "eyJ.broken", nil, fitconnect.RejectEncryptionIssue, "/encryptedData", false},
		{"attachment undecryptable", meta(v1, data, att("a1", pdf)), f.encrypt(t, data), map[string]string{"a1": "a.b.c.d.e"},
			fitconnect.RejectEncryptionIssue, "/contentStructure/attachments/0", false},
		{"unknown schema", func() fitconnect.Metadata {
			m := meta(v1, data)
			m.ContentStructure.Data.SubmissionSchema.SchemaURI = "urn:other"
			return m
		}(), f.encrypt(t, data), nil, fitconnect.RejectUnsupportedSchema, "/contentStructure/data/submissionSchema/schemaUri", false},
		{"receiver rejects", meta(v1, []byte(`{"x":"reject me"}`)), `{"x":"reject me"}`, nil, fitconnect.RejectSchemaViolation, "/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			created, err := f.sendRaw(t, tt.meta, tt.data, tt.atts)
			events := f.verify(t, f.client, created.CaseID)
			if tt.accepted {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if types(events) != "create-submission submit-submission accept-submission" {
					t.Fatalf("events %s", types(events))
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			p := problemOf(err)
			if tt.wantType != "" && (p.Type != tt.wantType || p.Instance != tt.wantPart) {
				t.Errorf("problem %+v, want %s at %s", p, tt.wantType, tt.wantPart)
			}
			if types(events) != "create-submission submit-submission reject-submission" {
				t.Fatalf("events %s", types(events))
			}
			if rej := events[2].Payload.Problems; len(rej) == 0 || (tt.wantType != "" && rej[0].Type != tt.wantType) {
				t.Errorf("reject event problems %+v", rej)
			}
		})
	}
}

func TestRequestsRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.client.Destination(ctx, "no-such-destination"); problemType(err) != fitconnect.ProblemDestinationNotFound {
		t.Errorf("unknown destination: %v", err)
	}
	_, err := f.client.Create(ctx, fitconnect.CreateSubmission{DestinationID: "inactive", ServiceType: fitconnect.ServiceType{Identifier: service}})
	if problemType(err) != fitconnect.ProblemDestinationStateInvalid {
		t.Errorf("inactive destination: %v", err)
	}
	_, err = f.client.Create(ctx, fitconnect.CreateSubmission{DestinationID: destID, ServiceType: fitconnect.ServiceType{Identifier: fitconnect.ServiceURN("1")}})
	if problemType(err) != fitconnect.ProblemServiceTypeMismatch {
		t.Errorf("other service: %v", err)
	}
	if err := f.client.UploadAttachment(ctx, uuid.NewString(), "a", "a.b.c.d.e"); problemType(err) != fitconnect.ProblemSubmissionNotFound {
		t.Errorf("unknown submission: %v", err)
	}
	created, err := f.client.Create(ctx, fitconnect.CreateSubmission{DestinationID: destID, AnnouncedAttachments: []string{"a1"},
		ServiceType: fitconnect.ServiceType{Identifier: service}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.client.UploadAttachment(ctx, created.SubmissionID, "a2", "a.b.c.d.e"); problemType(err) != fitconnect.ProblemAttachmentNotFound {
		t.Errorf("unannounced attachment: %v", err)
	}
	_, err = f.client.Submit(ctx, created.SubmissionID, fitconnect.SubmitSubmission{EncryptedMetadata: "a.b.c.d.e"})
	if problemType(err) != fitconnect.ProblemMissingAttachments {
		t.Errorf("submit without the attachment: %v", err)
	}
	bad := fitconnect.NewClient(f.srv.URL+"/fit-connect/token", f.srv.URL+"/fit-connect/v1", "sender", "wrong", nil)
	if _, err := bad.Destination(ctx, destID); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong secret: %v", err)
	}
	res, err := http.Get(f.srv.URL + "/fit-connect/v1/destinations/" + destID)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || res.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("without token: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	d, err := f.client.Destination(ctx, destID)
	if err != nil {
		t.Fatal(err)
	}
	k, err := f.client.Key(ctx, destID, d.EncryptionKid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fitconnect.EncryptionKey(k); err != nil {
		t.Errorf("published key unusable: %v", err)
	}
}

// TestSubmitAgainAfterAFailure: a receiver that cannot decide answers 503;
// the sender submits again and the receiver gets the same case, the log
// holds one submit and one accept; the same submit once more is answered
// as before.
func TestSubmitAgainAfterAFailure(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	var calls []string
	flaky := submissionapi.ReceiverFunc(func(_ context.Context, rec submissionapi.Received) error {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, rec.Submission.CaseID)
		if len(calls) == 1 {
			return errors.New("the engine is away")
		}
		return nil
	})
	apiKey, keys := fitconnecttest.Keys(t)
	api, err := submissionapi.New(submissionapi.Config{Issuer: "https://fit.example/fit-connect", Clients: map[string]string{"sender": "secret"},
		TokenSecret: []byte("0123456789abcdef0123"), SigningKey: apiKey, Keys: keys,
		Destinations: destinations{destID: {Status: fitconnect.DestinationActive, Services: []fitconnect.DestinationService{{Identifier: service,
			SubmissionSchemas: []fitconnect.SchemaRef{{SchemaURI: schemaURI, MimeType: "application/json"}}}}}},
		Store: submissionapi.NewMemoryStore(), Receiver: flaky})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.Handler("/fit-connect"))
	defer srv.Close()
	f.srv = srv
	f.client = fitconnect.NewClient(srv.URL+"/fit-connect/token", srv.URL+"/fit-connect/v1", "sender", "secret", nil)
	ctx := context.Background()
	data := []byte(`{"a":1}`)
	created, err := f.sendRaw(t, meta(fitconnect.DefaultMetadataSchema, data), f.encrypt(t, data), nil)
	var ae *fitconnect.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable {
		t.Fatalf("first submit: %v", err)
	}
	mb, _ := json.Marshal(meta(fitconnect.DefaultMetadataSchema, data))
	encMeta, _ := fitconnect.Encrypt(mb, &keys.Encryption.PublicKey, "k", "", false)
	again := fitconnect.SubmitSubmission{EncryptedMetadata: encMeta, EncryptedData: f.encrypt(t, data)}
	if _, err := f.client.Submit(ctx, created.SubmissionID, again); err != nil {
		t.Fatalf("second submit: %v", err)
	}
	if _, err := f.client.Submit(ctx, created.SubmissionID, again); err != nil {
		t.Fatalf("the same submit once more: %v", err)
	}
	if len(calls) != 2 || calls[0] != created.CaseID || calls[1] != created.CaseID {
		t.Errorf("receiver calls %v, want two for case %s", calls, created.CaseID)
	}
	if got := types(f.verify(t, f.client, created.CaseID)); got != "create-submission submit-submission accept-submission" {
		t.Errorf("events: %s", got)
	}
	other := fitconnect.SubmitSubmission{EncryptedMetadata: f.encrypt(t, mb), EncryptedData: f.encrypt(t, data)}
	if _, err := f.client.Submit(ctx, created.SubmissionID, other); problemType(err) != fitconnect.ProblemSubmissionStateInvalid {
		t.Errorf("another submit of an accepted submission: %v", err)
	}
}

// TestAttachmentsDroppedOnceDecided: an accepted and a rejected
// submission keep no attachments; their event logs stay.
func TestAttachmentsDroppedOnceDecided(t *testing.T) {
	f := newFixture(t)
	data, pdf := []byte(`{"a":1}`), []byte("%PDF-1.7 test")
	att := fitconnect.Attachment{AttachmentID: "a1", Purpose: "attachment", MimeType: "application/pdf",
		Hash: fitconnect.Hash{Type: fitconnect.HashSHA512, Content: fitconnect.SHA512(pdf)}}
	tests := []struct {
		name    string
		content []byte
		events  string
	}{
		{"accepted", pdf, "create-submission submit-submission accept-submission"},
		{"rejected", []byte("other"), "create-submission submit-submission reject-submission"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			created, _ := f.sendRaw(t, meta(fitconnect.DefaultMetadataSchema, data, att), f.encrypt(t, data),
				map[string]string{"a1": f.encrypt(t, tt.content)})
			if _, found, err := f.store.Attachment(context.Background(), created.SubmissionID, "a1"); found || err != nil {
				t.Errorf("the attachment is still kept (err %v)", err)
			}
			if got := types(f.verify(t, f.client, created.CaseID)); got != tt.events {
				t.Errorf("events: %s, want %s", got, tt.events)
			}
		})
	}
}

// TestParallelUploadsStayWithinTheTotal: uploads at the same time together
// never pass MaxTotalAttachmentBytes; those beyond are refused with 413.
func TestParallelUploadsStayWithinTheTotal(t *testing.T) {
	st := redistest.Store(t, "fitconnect-test:")
	for name, store := range map[string]submissionapi.Store{
		"memory": submissionapi.NewMemoryStore(),
		"redis":  submissionapi.RedisStore{RDB: st.Client(), Prefix: st.Prefix(), TTL: time.Minute},
	} {
		t.Run(name, func(t *testing.T) { parallelUploads(t, newFixtureOn(t, store)) })
	}
}

func parallelUploads(t *testing.T, f *fixture) {
	ctx := context.Background()
	const n, size = 12, 7 << 20 // four fit into 32 MiB, five do not
	ids := make([]string, n)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	created, err := f.client.Create(ctx, fitconnect.CreateSubmission{DestinationID: destID, AnnouncedAttachments: ids,
		ServiceType: fitconnect.ServiceType{Identifier: service}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.store.DeleteAttachments(context.Background(), created.SubmissionID) })
	jwe := "a.b.c.d." + strings.Repeat("x", size-8)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { errs[i] = f.client.UploadAttachment(ctx, created.SubmissionID, id, jwe) })
	}
	wg.Wait()
	kept, total := 0, 0
	for i, id := range ids {
		var ae *fitconnect.APIError
		switch {
		case errs[i] == nil:
			kept++
		case !errors.As(errs[i], &ae) || ae.Status != http.StatusRequestEntityTooLarge:
			t.Errorf("upload %d: %v", i, errs[i])
		}
		if v, found, _ := f.store.Attachment(ctx, created.SubmissionID, id); found {
			total += len(v)
		}
	}
	if want := submissionapi.MaxTotalAttachmentBytes / size; kept != want || total > submissionapi.MaxTotalAttachmentBytes {
		t.Errorf("%d uploads kept with %d bytes, want %d within %d", kept, total, want, submissionapi.MaxTotalAttachmentBytes)
	}
}

// TestRoutesTrustTheHost: a host that authenticates registers Routes and
// notes the client; the handlers do not ask for a token again. The submit
// answers 202 Accepted with the submission's IDs, as FIT-Connect's API does.
func TestRoutesTrustTheHost(t *testing.T) {
	f := newFixture(t)
	r := mux.NewRouter()
	for _, rt := range f.api.Routes() {
		h := rt.Handler
		if !rt.Open {
			h = func(w http.ResponseWriter, r *http.Request) {
				rt.Handler(w, r.WithContext(submissionapi.WithClient(r.Context(), "sender")))
			}
		}
		r.Handle("/fit-connect"+rt.Path, h).Methods(rt.Method)
	}
	host := httptest.NewServer(r)
	defer host.Close()
	call := func(method, path string, body any, out any) int {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, host.URL+"/fit-connect/v1"+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if out != nil {
			_ = json.NewDecoder(res.Body).Decode(out)
		}
		return res.StatusCode
	}
	var created fitconnect.SubmissionCreated
	if st := call(http.MethodPost, "/submissions", fitconnect.CreateSubmission{DestinationID: destID,
		ServiceType: fitconnect.ServiceType{Identifier: service}}, &created); st != http.StatusCreated {
		t.Fatalf("create without a token behind an authenticating host: %d", st)
	}
	data := []byte(`{"a":1}`)
	mb, _ := json.Marshal(meta(fitconnect.DefaultMetadataSchema, data))
	var submitted fitconnect.SubmissionSubmitted
	st := call(http.MethodPut, "/submissions/"+created.SubmissionID,
		fitconnect.SubmitSubmission{EncryptedMetadata: f.encrypt(t, mb), EncryptedData: f.encrypt(t, data)}, &submitted)
	if st != http.StatusAccepted || submitted.SubmissionID != created.SubmissionID || submitted.CaseID != created.CaseID {
		t.Errorf("submit: %d %+v, want 202 with the submission's IDs", st, submitted)
	}
}
