package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ozgflow/ozgflow/fitconnect"
)

// The FIT-Connect sender of `dev`.
const (
	fitConnectClient = "dev-fitconnect"
	fitConnectSecret = "dev-fitconnect-secret"
)

// fitConnectIntake: an online service delivers with a FIT-Connect sender
// (fitconnect.Client) to the Gewerbeanmeldung of Leipzig by the
// destination administrators see listed. A submission with attachments
// becomes a case with the attachments as documents, with metadata 1.x and
// 2.x; a wrong hash, an undecryptable part and data the variant's schema
// refuses are rejected with a problem naming the part, and the case's event
// log holds create, submit and accept or reject, each verified with the
// keys the API and the destination publish.
func fitConnectIntake(t *testing.T, st *Stack) {
	ctx := context.Background()
	dest := fitConnectDestination(t, st, "99050035001000", leipzig)
	sender := func() *fitconnect.Client {
		return fitconnect.NewClient(st.URL+"/fit-connect/token", st.URL+"/fit-connect/v1", fitConnectClient, fitConnectSecret, nil)
	}
	data := func(name string) []byte {
		app := gewerbeanmeldung(leipzig, "")["data"].(map[string]any)
		app["antragsteller"] = map[string]any{"name": name, "email": "fit@example.org"}
		b, _ := json.Marshal(app)
		return b
	}
	outgoing := func(name string, atts ...fitconnect.OutgoingAttachment) fitconnect.Outgoing {
		return fitconnect.Outgoing{DestinationID: dest.DestinationID,
			Service: fitconnect.ServiceType{Identifier: fitconnect.ServiceURN("99050035001000"), Name: "Gewerbeanmeldung"},
			Data:    data(name), DataSchema: fitconnect.SchemaRef{SchemaURI: dest.SchemaURI, MimeType: "application/json"},
			Attachments: atts, Reference: &fitconnect.ReferenceInfo{SenderReference: "OS-4711", ApplicationDate: "2026-11-27"}}
	}

	t.Run("the destination and its key", func(t *testing.T) {
		d, err := sender().Destination(ctx, dest.DestinationID)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != fitconnect.DestinationActive || len(d.Services) != 1 || d.Services[0].Identifier != fitconnect.ServiceURN("99050035001000") ||
			d.Services[0].SubmissionSchemas[0].SchemaURI != dest.SchemaURI || d.EncryptionKid == "" {
			t.Errorf("destination %+v", d)
		}
		k, err := sender().Key(ctx, dest.DestinationID, d.EncryptionKid)
		if err != nil {
			t.Fatal(err)
		}
		if pub, err := fitconnect.EncryptionKey(k); err != nil || pub.N.BitLen() != 4096 {
			t.Errorf("published key %v: %v", k.KeyOps, err)
		}
		_, err = sender().Destination(ctx, uuid.NewString())
		if p := fitProblem(err); p.Type != fitconnect.ProblemDestinationNotFound {
			t.Errorf("unknown destination: %v", err)
		}
	})

	t.Run("with attachments, metadata 1.x", func(t *testing.T) {
		pdf, png := SamplePDF("Gewerbenachweis"), samplePNG
		sent, err := sender().Send(ctx, outgoing("Fiona Fit",
			fitconnect.OutgoingAttachment{ID: uuid.NewString(), Filename: "nachweis.pdf", MimeType: "application/pdf", Purpose: "attachment", Content: pdf},
			fitconnect.OutgoingAttachment{ID: uuid.NewString(), Filename: "foto.png", MimeType: "image/png", Purpose: "attachment", Content: png}))
		if err != nil {
			t.Fatal(err)
		}
		c := st.fitConnectCase(t, sent.CaseID)
		if c["service"] != "99050035001000" || c["authority"] != leipzig {
			t.Errorf("case %v", c)
		}
		// The applicant, as the case workers find the case.
		WaitFor(t, "the FIT-Connect case in the case workers' search", 20*time.Second, func() bool {
			res := st.api(t, http.MethodGet, "/api/v1/cases?q=Fiona+Fit", "dev-sb-leipzig", nil)
			for _, h := range res.JSON(t)["cases"].([]any) {
				hit := h.(map[string]any)
				app, _ := hit["applicant"].(map[string]any)
				if hit["id"] == sent.CaseID && app != nil && app["name"] == "Fiona Fit" && app["email"] == "fit@example.org" {
					return true
				}
			}
			return false
		})
		res := st.api(t, http.MethodGet, "/api/v1/applications/"+sent.CaseID+"/documents", "dev-admin", nil)
		docs, _ := res.JSON(t)["documents"].([]any)
		names := map[string]bool{}
		for _, d := range docs {
			names[d.(map[string]any)["name"].(string)] = true
		}
		if res.Status != http.StatusOK || len(docs) != 2 || !names["nachweis.pdf"] || !names["foto.png"] {
			t.Errorf("documents %d %s", res.Status, res.Body)
		}
		events := st.fitConnectEvents(t, sender(), dest.DestinationID, sent.CaseID)
		if got := eventTypes(events); got != "create-submission submit-submission accept-submission" {
			t.Fatalf("event log: %s", got)
		}
		tags := events[2].Payload.AuthenticationTags
		if events[2].Issuer != dest.DestinationID || tags == nil || tags.Metadata != sent.Tags.Metadata || tags.Data != sent.Tags.Data ||
			len(tags.Attachments) != 2 {
			t.Errorf("accept event %+v", events[2])
		}
	})

	t.Run("metadata 2.x", func(t *testing.T) {
		c := sender().WithMetadataSchema(fitconnect.MetadataSchemaPrefix + "2.1.0/metadata.schema.json")
		sent, err := c.Send(ctx, outgoing("Zora Zwei"))
		if err != nil {
			t.Fatal(err)
		}
		st.fitConnectCase(t, sent.CaseID)
	})

	// raw announces and submits parts the test makes itself.
	raw := func(t *testing.T, meta fitconnect.Metadata, encData string, atts map[string]string) (fitconnect.SubmissionCreated, error) {
		t.Helper()
		c := sender()
		d, err := c.Destination(ctx, dest.DestinationID)
		if err != nil {
			t.Fatal(err)
		}
		k, _ := c.Key(ctx, dest.DestinationID, d.EncryptionKid)
		pub, err := fitconnect.EncryptionKey(k)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range meta.ContentStructure.Attachments {
			ids = append(ids, a.AttachmentID)
		}
		created, err := c.Create(ctx, fitconnect.CreateSubmission{DestinationID: dest.DestinationID, AnnouncedAttachments: ids,
			ServiceType: fitconnect.ServiceType{Identifier: fitconnect.ServiceURN("99050035001000")}})
		if err != nil {
			t.Fatal(err)
		}
		for id, content := range atts {
			if err := c.UploadAttachment(ctx, created.SubmissionID, id, encryptFor(t, pub, d.EncryptionKid, []byte(content))); err != nil {
				t.Fatal(err)
			}
		}
		mb, _ := json.Marshal(meta)
		if encData == "" {
			encData = "to-be-encrypted"
		}
		sub := fitconnect.SubmitSubmission{EncryptedMetadata: encryptFor(t, pub, d.EncryptionKid, mb), EncryptedData: encData}
		if encData == "to-be-encrypted" {
			sub.EncryptedData = encryptFor(t, pub, d.EncryptionKid, data("Rita Roh"))
		}
		_, err = c.Submit(ctx, created.SubmissionID, sub)
		return created, err
	}
	metaFor := func(dataContent []byte, atts ...fitconnect.Attachment) fitconnect.Metadata {
		return fitconnect.Metadata{Schema: fitconnect.DefaultMetadataSchema,
			PublicServiceType: &fitconnect.ServiceType{Identifier: fitconnect.ServiceURN("99050035001000")},
			ContentStructure: fitconnect.ContentStructure{Attachments: atts, Data: &fitconnect.DataPart{
				SubmissionSchema: fitconnect.SchemaRef{SchemaURI: dest.SchemaURI, MimeType: "application/json"},
				Hash:             fitconnect.Hash{Type: fitconnect.HashSHA512, Content: fitconnect.SHA512(dataContent)}}}}
	}
	rejected := func(t *testing.T, created fitconnect.SubmissionCreated, err error, wantType, wantPart string) {
		t.Helper()
		p := fitProblem(err)
		if p.Type != wantType || p.Instance != wantPart {
			t.Errorf("answer %v, want %s at %s", err, wantType, wantPart)
		}
		events := st.fitConnectEvents(t, sender(), dest.DestinationID, created.CaseID)
		if got := eventTypes(events); got != "create-submission submit-submission reject-submission" {
			t.Fatalf("event log: %s", got)
		}
		if probs := events[2].Payload.Problems; len(probs) == 0 || probs[0].Type != wantType || probs[0].Instance != wantPart {
			t.Errorf("reject event problems %+v", probs)
		}
		if res := st.api(t, http.MethodGet, "/api/v1/applications/"+created.CaseID, "dev-admin", nil); res.Status != http.StatusNotFound {
			t.Errorf("a rejected submission has a case: %d", res.Status)
		}
	}

	t.Run("a wrong hash", func(t *testing.T) {
		pdf := SamplePDF("echt")
		id := uuid.NewString()
		created, err := raw(t, metaFor(data("Rita Roh"), fitconnect.Attachment{AttachmentID: id, Purpose: "attachment", MimeType: "application/pdf",
			Hash: fitconnect.Hash{Type: fitconnect.HashSHA512, Content: fitconnect.SHA512(pdf)}}), "", map[string]string{id: string(SamplePDF("vertauscht"))})
		rejected(t, created, err, fitconnect.RejectHashMismatch, "/contentStructure/attachments/0/hash")
		if p := fitProblem(err); !strings.Contains(p.Detail, id) {
			t.Errorf("the problem does not name the attachment %s: %s", id, p.Detail)
		}
	})

	t.Run("an undecryptable JWE", func(t *testing.T) {
		other, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		foreign := encryptFor(t, &other.PublicKey, "fremd", data("Rita Roh"))
		created, err := raw(t, metaFor(data("Rita Roh")), foreign, nil)
		rejected(t, created, err, fitconnect.RejectEncryptionIssue, "/encryptedData")
	})

	t.Run("data the schema refuses", func(t *testing.T) {
		app := gewerbeanmeldung(leipzig, "")["data"].(map[string]any)
		delete(app["betrieb"].(map[string]any), "name")
		app["antragsteller"] = map[string]any{"name": "Rita Roh"}
		bad, _ := json.Marshal(app)
		_, err := sender().Send(ctx, fitconnect.Outgoing{DestinationID: dest.DestinationID,
			Service: fitconnect.ServiceType{Identifier: fitconnect.ServiceURN("99050035001000")}, Data: bad,
			DataSchema: fitconnect.SchemaRef{SchemaURI: dest.SchemaURI, MimeType: "application/json"}})
		if p := fitProblem(err); p.Type != fitconnect.RejectSchemaViolation || p.Instance != "/betrieb/name" {
			t.Errorf("answer %v, want schema-violation at /betrieb/name", err)
		}
	})

	t.Run("another caller", func(t *testing.T) {
		res := st.api(t, http.MethodGet, "/fit-connect/v1/destinations/"+dest.DestinationID, "dev-portal", nil)
		if res.Status != http.StatusForbidden || !strings.Contains(string(res.Body), fitconnect.ProblemForbidden) {
			t.Errorf("a portal client's token: %d %s", res.Status, res.Body)
		}
		if res := st.api(t, http.MethodGet, "/api/v1/fit-connect/destinations", "dev-sb-leipzig", nil); res.Status != http.StatusForbidden {
			t.Errorf("a case worker lists the destinations: %d", res.Status)
		}
	})
}

// fitConnectDestination finds the destination of a variant in the
// administrators' list.
func fitConnectDestination(t *testing.T, st *Stack, service, authority string) struct{ DestinationID, SchemaURI string } {
	t.Helper()
	res := st.api(t, http.MethodGet, "/api/v1/fit-connect/destinations", "dev-admin", nil)
	var list struct {
		Destinations []struct {
			DestinationID string `json:"destinationId"`
			Service       string `json:"service"`
			Authority     string `json:"authority"`
			SchemaURI     string `json:"schemaUri"`
			Status        string `json:"status"`
		} `json:"destinations"`
	}
	if err := json.Unmarshal(res.Body, &list); err != nil || res.Status != http.StatusOK {
		t.Fatalf("destinations: %d %s", res.Status, res.Body)
	}
	for _, d := range list.Destinations {
		if d.Service == service && d.Authority == authority {
			if d.Status != "active" || d.SchemaURI == "" {
				t.Fatalf("destination %+v", d)
			}
			return struct{ DestinationID, SchemaURI string }{d.DestinationID, d.SchemaURI}
		}
	}
	t.Fatalf("no destination for %s in %s: %s", service, authority, res.Body)
	return struct{ DestinationID, SchemaURI string }{}
}

// fitConnectCase waits for the case a submission started and returns it.
func (st *Stack) fitConnectCase(t *testing.T, caseID string) map[string]any {
	t.Helper()
	var c map[string]any
	waitFor(t, "the case of the FIT-Connect submission", 20*time.Second, func() bool {
		res := st.api(t, http.MethodGet, "/api/v1/applications/"+caseID, "dev-admin", nil)
		if res.Status == http.StatusOK {
			c = res.JSON(t)
		}
		return res.Status == http.StatusOK
	})
	return c
}

// fitConnectEvents reads a case's event log and verifies every event: the
// API's with the key at /fit-connect/.well-known/jwks.json, the
// destination's with the keys the destination publishes.
func (st *Stack) fitConnectEvents(t *testing.T, c *fitconnect.Client, destinationID, caseID string) []fitconnect.Event {
	t.Helper()
	log, err := c.EventLog(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	res := call(t, st.URL, http.MethodGet, "/fit-connect/.well-known/jwks.json", "", nil)
	var set struct{ Keys []fitconnect.PublicJWK }
	if err := json.Unmarshal(res.Body, &set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("the API's keys: %d %s", res.Status, res.Body)
	}
	destKeys := c.DestinationKeys(context.Background(), destinationID)
	var out []fitconnect.Event
	for _, tok := range log {
		e, err := fitconnect.VerifyEvent(tok, func(issuer, kid string) (*rsa.PublicKey, error) {
			if strings.HasSuffix(issuer, "/fit-connect") {
				for _, k := range set.Keys {
					if k.KeyID == kid {
						return k.Key.(*rsa.PublicKey), nil
					}
				}
				return nil, errors.New("the API publishes no key " + kid)
			}
			return destKeys(issuer, kid)
		})
		if err != nil {
			t.Fatalf("an event of case %s does not verify: %v", caseID, err)
		}
		if e.CaseID != caseID {
			t.Errorf("event of case %s in the log of %s", e.CaseID, caseID)
		}
		out = append(out, e)
	}
	return out
}

func eventTypes(events []fitconnect.Event) string {
	var out []string
	for _, e := range events {
		out = append(out, strings.TrimPrefix(e.Type, "https://schema.fitko.de/fit-connect/events/"))
	}
	return strings.Join(out, " ")
}

func fitProblem(err error) fitconnect.Problem {
	var ae *fitconnect.APIError
	if errors.As(err, &ae) {
		return ae.Problem
	}
	return fitconnect.Problem{}
}

func encryptFor(t *testing.T, pub *rsa.PublicKey, kid string, plain []byte) string {
	t.Helper()
	jwe, err := fitconnect.Encrypt(plain, pub, kid, "", len(plain) > 1024)
	if err != nil {
		t.Fatal(err)
	}
	return jwe
}
