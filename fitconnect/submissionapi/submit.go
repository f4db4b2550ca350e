package submissionapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ozgflow/ozgflow/fitconnect"
)

// Received is a submission as the receiver gets it: decrypted, every hash
// checked, the attachments in the order of the metadata.
type Received struct {
	Submission  Submission
	Metadata    fitconnect.Metadata
	Data        []byte // nil when the submission has no data part
	Attachments []ReceivedAttachment
	Tags        fitconnect.AuthenticationTags
}

// ReceivedAttachment is one attachment: its metadata entry and its content.
type ReceivedAttachment struct {
	fitconnect.Attachment
	Content []byte
}

// Receiver takes a checked submission. It answers nil to accept it, a
// *Rejection to reject it with the reasons the reject event carries, or
// any other error when it cannot decide now (the sender may submit again;
// a receiver must take the same submission twice as once).
type Receiver interface {
	Receive(ctx context.Context, r Received) error
}

// ReceiverFunc is a function as a Receiver.
type ReceiverFunc func(ctx context.Context, r Received) error

// Receive implements Receiver.
func (f ReceiverFunc) Receive(ctx context.Context, r Received) error { return f(ctx, r) }

// Rejection is a receiver's reasons to reject a submission, each a problem
// of FIT-Connect's reject types (fitconnect.Reject…) whose Instance names
// the part at fault as a JSON pointer into the metadata or data.
type Rejection struct {
	Problems []fitconnect.Problem
}

// Reject returns a rejection for the problems.
func Reject(problems ...fitconnect.Problem) *Rejection { return &Rejection{Problems: problems} }

func (r *Rejection) Error() string {
	parts := make([]string, len(r.Problems))
	for i, p := range r.Problems {
		parts[i] = p.Error()
	}
	return "submission rejected: " + strings.Join(parts, "; ")
}

// processing bounds how long a submit may hold its submission's lock.
const processing = 2 * time.Minute

// handleSubmit completes a submission with its metadata and data, checks
// every part, hands it to the receiver and records the submit and the
// destination's accept or reject. A rejection is answered with 422 and the
// first problem, naming the part; the reject event lists them all.
func (s *Server) handleSubmit(w http.ResponseWriter, r *http.Request) {
	sub, ok := s.submission(w, r)
	if !ok {
		return
	}
	var req fitconnect.SubmitSubmission
	if !readJSON(w, r, MaxSubmitBytes, &req) {
		return
	}
	if strings.TrimSpace(req.EncryptedMetadata) == "" {
		WriteProblem(w, http.StatusUnprocessableEntity, fitconnect.Problem{Type: fitconnect.ProblemRequestInvalid, Title: "Invalid request",
			Detail: "The metadata is missing.", Instance: "/encryptedMetadata"})
		return
	}
	if sub.State == StateAccepted && sub.Tags != nil && sub.Tags.Metadata == fitconnect.AuthTag(req.EncryptedMetadata) {
		// The same submit again (its answer was lost): the same answer.
		writeJSON(w, http.StatusAccepted, fitconnect.SubmissionSubmitted{DestinationID: sub.DestinationID, SubmissionID: sub.ID, CaseID: sub.CaseID})
		return
	}
	if sub.State != StateAnnounced {
		stateInvalid(w, sub)
		return
	}
	unlock, ok, err := s.cfg.Store.Lock(r.Context(), "submission:"+sub.ID, processing)
	if err != nil {
		s.unavailable(w, "lock submission", err)
		return
	}
	if !ok {
		WriteProblem(w, http.StatusConflict, fitconnect.Problem{Type: fitconnect.ProblemSubmissionStateInvalid, Title: "Submission state invalid",
			Detail: "The submission is being submitted by another request."})
		return
	}
	defer unlock()
	// Read again under the lock: another submit may have just finished.
	if sub, ok = s.submission(w, r); !ok {
		return
	}
	if sub.State != StateAnnounced {
		stateInvalid(w, sub)
		return
	}
	parts := map[string]string{}
	var missing []string
	for _, id := range sub.Announced {
		jwe, found, err := s.cfg.Store.Attachment(r.Context(), sub.ID, id)
		if err != nil {
			s.unavailable(w, "load attachment", err)
			return
		}
		if !found {
			missing = append(missing, id)
		}
		parts[id] = jwe
	}
	if len(missing) > 0 {
		WriteProblem(w, http.StatusUnprocessableEntity, fitconnect.Problem{Type: fitconnect.ProblemMissingAttachments, Title: "Missing attachments",
			Detail: "Announced but not uploaded: " + strings.Join(missing, ", ") + "."})
		return
	}
	if sub.SubmittedAt.IsZero() {
		sub.SubmittedAt = s.cfg.Now().UTC()
		if err := s.record(r.Context(), sub, fitconnect.EventSubmit, fitconnect.EventPayload{}); err != nil {
			s.unavailable(w, "record submit event", err)
			return
		}
		if err := s.cfg.Store.PutSubmission(r.Context(), sub); err != nil {
			s.unavailable(w, "keep submission", err)
			return
		}
	}
	received, problems := s.open(r.Context(), sub, req, parts)
	if len(problems) == 0 {
		err := s.cfg.Receiver.Receive(r.Context(), received)
		var rej *Rejection
		switch {
		case errors.As(err, &rej):
			problems = rej.Problems
			if len(problems) == 0 {
				problems = []fitconnect.Problem{{Type: fitconnect.RejectContentNotAccepted, Title: "Content not accepted"}}
			}
		case err != nil:
			s.unavailable(w, "receive submission", err)
			return
		}
	}
	if len(problems) > 0 {
		s.reject(w, r, sub, problems)
		return
	}
	tags := received.Tags
	sub.State, sub.Tags = StateAccepted, &tags
	if err := s.record(r.Context(), sub, fitconnect.EventAccept, fitconnect.EventPayload{AuthenticationTags: &tags}); err != nil {
		s.unavailable(w, "record accept event", err)
		return
	}
	if err := s.cfg.Store.PutSubmission(r.Context(), sub); err != nil {
		s.unavailable(w, "keep submission", err)
		return
	}
	s.dropAttachments(r.Context(), sub)
	writeJSON(w, http.StatusAccepted, fitconnect.SubmissionSubmitted{DestinationID: sub.DestinationID, SubmissionID: sub.ID, CaseID: sub.CaseID})
}

// reject records the destination's reject event and answers with the first
// problem.
func (s *Server) reject(w http.ResponseWriter, r *http.Request, sub Submission, problems []fitconnect.Problem) {
	for i := range problems {
		problems[i].Status = 0 // problems of an event carry no HTTP status
	}
	sub.State, sub.Problems = StateRejected, problems
	if err := s.record(r.Context(), sub, fitconnect.EventReject, fitconnect.EventPayload{Problems: problems}); err != nil {
		s.unavailable(w, "record reject event", err)
		return
	}
	if err := s.cfg.Store.PutSubmission(r.Context(), sub); err != nil {
		s.unavailable(w, "keep submission", err)
		return
	}
	s.dropAttachments(r.Context(), sub)
	first := problems[0]
	if len(problems) > 1 {
		first.Detail = strings.TrimSpace(first.Detail + fmt.Sprintf(" (%d problems in all; the reject event lists them)", len(problems)))
	}
	WriteProblem(w, http.StatusUnprocessableEntity, first)
}

// dropAttachments deletes a decided submission's attachments: the
// destination has them now (or refused them), and encrypted personal data
// is kept no longer than needed. The event log stays. A failure is only
// logged: the attachments then expire with the store's TTL.
func (s *Server) dropAttachments(ctx context.Context, sub Submission) {
	if err := s.cfg.Store.DeleteAttachments(context.WithoutCancel(ctx), sub.ID); err != nil {
		s.cfg.Logger.Warn("FIT-Connect submission API: attachments of a decided submission not deleted", "submission", sub.ID, "error", err)
	}
}

// open decrypts the metadata, the data and the attachments and checks
// them against each other: the metadata's shape, the service, the schema
// the destination takes, the announced attachments and every hash. It
// lists every problem it finds.
func (s *Server) open(ctx context.Context, sub Submission, req fitconnect.SubmitSubmission, parts map[string]string) (Received, []fitconnect.Problem) {
	rec := Received{Submission: sub, Tags: fitconnect.AuthenticationTags{Attachments: map[string]string{}}}
	var problems []fitconnect.Problem
	add := func(typ, title, pointer, detail string) {
		problems = append(problems, fitconnect.Problem{Type: typ, Title: title, Instance: pointer, Detail: detail})
	}
	plainMeta, tag, err := s.decrypt(req.EncryptedMetadata)
	if err != nil {
		add(fitconnect.RejectEncryptionIssue, "Encryption issue", "/encryptedMetadata", "The metadata cannot be decrypted with the destination's key: "+err.Error())
		return rec, problems
	}
	rec.Tags.Metadata = tag
	meta, err := fitconnect.ParseMetadata(plainMeta)
	if err != nil {
		add(fitconnect.RejectSyntaxViolation, "Syntax violation", "/encryptedMetadata", err.Error())
		return rec, problems
	}
	rec.Metadata = meta
	for _, fp := range meta.Check() {
		add(fitconnect.RejectSyntaxViolation, "Syntax violation", fp.Pointer, fp.Detail)
	}
	if len(problems) > 0 {
		return rec, problems
	}
	if st := meta.PublicServiceType; st != nil && st.Identifier != sub.ServiceType.Identifier {
		add(fitconnect.RejectUnsupportedService, "Unsupported service", "/publicServiceType/identifier",
			"The metadata names "+st.Identifier+", the submission was announced for "+sub.ServiceType.Identifier+".")
	}
	if data := meta.ContentStructure.Data; data != nil {
		problems = append(problems, s.openData(ctx, sub, req, data, &rec)...)
	} else if strings.TrimSpace(req.EncryptedData) != "" {
		add(fitconnect.RejectSyntaxViolation, "Syntax violation", "/contentStructure/data", "Data was sent, but the metadata does not describe it.")
	}
	described := make([]string, len(meta.ContentStructure.Attachments))
	for i, a := range meta.ContentStructure.Attachments {
		described[i] = a.AttachmentID
	}
	if !sameSet(described, sub.Announced) {
		add(fitconnect.RejectAttachmentsMismatch, "Attachments mismatch", "/contentStructure/attachments",
			"The metadata describes "+listOrNone(described)+"; announced were "+listOrNone(sub.Announced)+".")
		return rec, problems
	}
	for i, a := range meta.ContentStructure.Attachments {
		p := fmt.Sprintf("/contentStructure/attachments/%d", i)
		plain, tag, err := s.decrypt(parts[a.AttachmentID])
		if err != nil {
			add(fitconnect.RejectEncryptionIssue, "Encryption issue", p,
				"The attachment "+a.AttachmentID+" cannot be decrypted with the destination's key: "+err.Error())
			continue
		}
		if !fitconnect.HashMatches(a.Hash, plain) {
			add(fitconnect.RejectHashMismatch, "Hash mismatch", p+"/hash",
				"The attachment "+a.AttachmentID+" does not have the sha512 hash the metadata gives.")
			continue
		}
		rec.Tags.Attachments[a.AttachmentID] = tag
		rec.Attachments = append(rec.Attachments, ReceivedAttachment{Attachment: a, Content: plain})
	}
	return rec, problems
}

// openData decrypts and checks the data part.
func (s *Server) openData(ctx context.Context, sub Submission, req fitconnect.SubmitSubmission, data *fitconnect.DataPart, rec *Received) []fitconnect.Problem {
	var problems []fitconnect.Problem
	add := func(typ, title, pointer, detail string) {
		problems = append(problems, fitconnect.Problem{Type: typ, Title: title, Instance: pointer, Detail: detail})
	}
	dest, found, err := s.cfg.Destinations.Destination(ctx, sub.DestinationID)
	if err != nil || !found || !takesSchema(dest, sub.ServiceType.Identifier, data.SubmissionSchema.SchemaURI) {
		add(fitconnect.RejectUnsupportedSchema, "Unsupported schema", "/contentStructure/data/submissionSchema/schemaUri",
			"The destination does not take data of the schema "+data.SubmissionSchema.SchemaURI+" for this service.")
	}
	if strings.TrimSpace(req.EncryptedData) == "" {
		add(fitconnect.RejectSyntaxViolation, "Syntax violation", "/encryptedData", "The metadata describes data, but none was sent.")
		return problems
	}
	plain, tag, err := s.decrypt(req.EncryptedData)
	if err != nil {
		add(fitconnect.RejectEncryptionIssue, "Encryption issue", "/encryptedData", "The data cannot be decrypted with the destination's key: "+err.Error())
		return problems
	}
	if !fitconnect.HashMatches(data.Hash, plain) {
		add(fitconnect.RejectHashMismatch, "Hash mismatch", "/contentStructure/data/hash", "The data does not have the sha512 hash the metadata gives.")
		return problems
	}
	rec.Data, rec.Tags.Data = plain, tag
	return problems
}

// decrypt opens one part: a compact JWE to the destination's key, or a
// plain JSON value (a sender that does not encrypt), whose tag is empty.
func (s *Server) decrypt(part string) ([]byte, string, error) {
	part = strings.TrimSpace(part)
	if part == "" {
		return nil, "", errors.New("the part is empty")
	}
	if b := []byte(part); b[0] == '{' || b[0] == '[' {
		return bytes.Clone(b), "", nil
	}
	plain, tag, err := fitconnect.Decrypt(part, s.cfg.Keys.Encryption)
	if errors.Is(err, fitconnect.ErrNotJWE) {
		return nil, "", errors.New("not a compact JWE with RSA-OAEP-256 and A256GCM")
	}
	if err != nil {
		return nil, "", errors.New("the JWE was not encrypted to this destination's key, or was altered")
	}
	return plain, tag, nil
}

// takesSchema says whether a destination takes data of the schema for the
// service.
func takesSchema(d fitconnect.Destination, service, schemaURI string) bool {
	for _, ds := range d.Services {
		if ds.Identifier == service && slices.ContainsFunc(ds.SubmissionSchemas, func(ref fitconnect.SchemaRef) bool { return ref.SchemaURI == schemaURI }) {
			return true
		}
	}
	return false
}

func sameSet(a, b []string) bool {
	return len(a) == len(b) && slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

func listOrNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}
