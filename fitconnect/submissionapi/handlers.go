package submissionapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow/fitconnect"
)

// attachmentID is what an announced attachment's ID may look like
// (FIT-Connect uses UUIDs).
var attachmentID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// destination loads the route's destination, answering the problem itself.
func (s *Server) destination(w http.ResponseWriter, r *http.Request, id string) (fitconnect.Destination, bool) {
	if id == "" || len(id) > 100 {
		WriteProblem(w, http.StatusNotFound, fitconnect.Problem{Type: fitconnect.ProblemDestinationNotFound, Title: "Destination not found",
			Detail: "No destination has this ID."})
		return fitconnect.Destination{}, false
	}
	d, ok, err := s.cfg.Destinations.Destination(r.Context(), id)
	if err != nil {
		s.unavailable(w, "destination lookup", err)
		return d, false
	}
	if !ok {
		WriteProblem(w, http.StatusNotFound, fitconnect.Problem{Type: fitconnect.ProblemDestinationNotFound, Title: "Destination not found",
			Detail: "No destination has the ID " + id + "."})
		return d, false
	}
	d.DestinationID, d.EncryptionKid = id, s.encKid
	if len(d.MetadataVersions) == 0 {
		d.MetadataVersions = []string{"1.2.0", "2.1.0"}
	}
	return d, true
}

func (s *Server) handleDestination(w http.ResponseWriter, r *http.Request) {
	if d, ok := s.destination(w, r, mux.Vars(r)["destinationId"]); ok {
		writeJSON(w, http.StatusOK, d)
	}
}

// handleKey publishes the destination's encryption key (wrapKey) and the
// key its events are signed with (verify).
func (s *Server) handleKey(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.destination(w, r, mux.Vars(r)["destinationId"]); !ok {
		return
	}
	switch mux.Vars(r)["keyId"] {
	case s.encKid:
		writeJSON(w, http.StatusOK, fitconnect.EncryptionJWK(s.cfg.Keys.Encryption, s.encKid))
	case s.sigKid:
		writeJSON(w, http.StatusOK, fitconnect.SigningJWK(s.cfg.Keys.Signature, s.sigKid))
	default:
		WriteProblem(w, http.StatusNotFound, fitconnect.Problem{Type: fitconnect.ProblemKeyNotFound, Title: "Key not found",
			Detail: "The destination has no key with this ID."})
	}
}

// readJSON reads a bounded JSON body into v, answering the problem itself.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		WriteProblem(w, http.StatusUnsupportedMediaType, fitconnect.Problem{Type: fitconnect.ProblemRequestInvalid,
			Detail: "The body must be application/json."})
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		WriteProblem(w, http.StatusRequestEntityTooLarge, fitconnect.Problem{Type: fitconnect.ProblemRequestInvalid,
			Detail: fmt.Sprintf("The body is larger than %d bytes.", limit)})
		return false
	}
	if err != nil {
		WriteProblem(w, http.StatusBadRequest, fitconnect.Problem{Type: fitconnect.ProblemRequestInvalid, Detail: "The body could not be read."})
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil || dec.More() {
		detail := "The body is not one JSON object of the expected shape."
		if err != nil {
			detail += " " + err.Error()
		}
		WriteProblem(w, http.StatusBadRequest, fitconnect.Problem{Type: fitconnect.ProblemRequestInvalid, Detail: detail})
		return false
	}
	return true
}

// handleCreate announces a submission: its destination, service and the
// attachments that will follow. The case it opens is new.
func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	var req fitconnect.CreateSubmission
	if !readJSON(w, r, maxSmallBody, &req) {
		return
	}
	invalid := func(pointer, detail string) {
		WriteProblem(w, http.StatusUnprocessableEntity, fitconnect.Problem{Type: fitconnect.ProblemRequestInvalid, Title: "Invalid request",
			Detail: detail, Instance: pointer})
	}
	switch {
	case strings.TrimSpace(req.DestinationID) == "":
		invalid("/destinationId", "The destination is missing.")
		return
	case strings.TrimSpace(req.ServiceType.Identifier) == "":
		invalid("/serviceType/identifier", "The service type is missing.")
		return
	case len(req.AnnouncedAttachments) > MaxAttachments:
		invalid("/announcedAttachments", fmt.Sprintf("At most %d attachments per submission.", MaxAttachments))
		return
	}
	for i, id := range req.AnnouncedAttachments {
		if !attachmentID.MatchString(id) {
			invalid(fmt.Sprintf("/announcedAttachments/%d", i), "An attachment ID is a UUID (letters, digits, '.', '_', '-', at most 64).")
			return
		}
		if slices.Index(req.AnnouncedAttachments, id) < i {
			invalid(fmt.Sprintf("/announcedAttachments/%d", i), "The attachment "+id+" is announced twice.")
			return
		}
	}
	dest, ok := s.destination(w, r, req.DestinationID)
	if !ok {
		return
	}
	if dest.Status != fitconnect.DestinationActive {
		WriteProblem(w, http.StatusUnprocessableEntity, fitconnect.Problem{Type: fitconnect.ProblemDestinationStateInvalid,
			Title: "Destination state invalid", Detail: "The destination takes no submissions (status " + dest.Status + ")."})
		return
	}
	if !slices.ContainsFunc(dest.Services, func(ds fitconnect.DestinationService) bool { return ds.Identifier == req.ServiceType.Identifier }) {
		WriteProblem(w, http.StatusUnprocessableEntity, fitconnect.Problem{Type: fitconnect.ProblemServiceTypeMismatch,
			Title: "Service type mismatch", Detail: "The destination does not take " + req.ServiceType.Identifier + ".",
			Instance: "/serviceType/identifier"})
		return
	}
	sub := Submission{ID: uuid.NewString(), CaseID: uuid.NewString(), DestinationID: dest.DestinationID, Client: ClientFrom(r.Context()),
		ServiceType: req.ServiceType, Announced: req.AnnouncedAttachments, State: StateAnnounced, CreatedAt: s.cfg.Now().UTC()}
	if sub.Announced == nil {
		sub.Announced = []string{}
	}
	if err := s.cfg.Store.PutSubmission(r.Context(), sub); err != nil {
		s.unavailable(w, "keep submission", err)
		return
	}
	if err := s.record(r.Context(), sub, fitconnect.EventCreate, fitconnect.EventPayload{}); err != nil {
		s.unavailable(w, "record create event", err)
		return
	}
	s.cfg.NoteCase(r.Context(), sub.CaseID)
	w.Header().Set("Location", "submissions/"+sub.ID)
	writeJSON(w, http.StatusCreated, fitconnect.SubmissionCreated{DestinationID: sub.DestinationID, SubmissionID: sub.ID, CaseID: sub.CaseID})
}

// submission loads the route's submission of the calling client,
// answering the problem itself; another client's is not found.
func (s *Server) submission(w http.ResponseWriter, r *http.Request) (Submission, bool) {
	id := mux.Vars(r)["submissionId"]
	var sub Submission
	found := false
	if len(id) <= 100 {
		var err error
		sub, found, err = s.cfg.Store.Submission(r.Context(), id)
		if err != nil {
			s.unavailable(w, "load submission", err)
			return sub, false
		}
	}
	if !found || sub.Client != ClientFrom(r.Context()) {
		WriteProblem(w, http.StatusNotFound, fitconnect.Problem{Type: fitconnect.ProblemSubmissionNotFound, Title: "Submission not found",
			Detail: "No submission of this client has this ID."})
		return sub, false
	}
	s.cfg.NoteCase(r.Context(), sub.CaseID)
	return sub, true
}

// stateInvalid answers a request the submission's state does not allow.
func stateInvalid(w http.ResponseWriter, sub Submission) {
	WriteProblem(w, http.StatusConflict, fitconnect.Problem{Type: fitconnect.ProblemSubmissionStateInvalid, Title: "Submission state invalid",
		Detail: "The submission is " + sub.State + "; it takes no more parts."})
}

// handleAttachment takes one announced attachment: a compact JWE
// (application/jose) as FIT-Connect sends it, or plain bytes of any other
// type, which are encrypted to the destination's key before they are kept.
func (s *Server) handleAttachment(w http.ResponseWriter, r *http.Request) {
	sub, ok := s.submission(w, r)
	if !ok {
		return
	}
	if sub.State != StateAnnounced {
		stateInvalid(w, sub)
		return
	}
	aid := mux.Vars(r)["attachmentId"]
	if !slices.Contains(sub.Announced, aid) {
		WriteProblem(w, http.StatusNotFound, fitconnect.Problem{Type: fitconnect.ProblemAttachmentNotFound, Title: "Attachment not found",
			Detail: "The submission did not announce this attachment."})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxAttachmentBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		WriteProblem(w, http.StatusRequestEntityTooLarge, fitconnect.Problem{Type: fitconnect.ProblemRequestInvalid,
			Detail: fmt.Sprintf("An attachment may have at most %d bytes as sent.", MaxAttachmentBytes)})
		return
	}
	if err != nil {
		WriteProblem(w, http.StatusBadRequest, fitconnect.Problem{Type: fitconnect.ProblemRequestInvalid, Detail: "The body could not be read."})
		return
	}
	if len(body) == 0 {
		WriteProblem(w, http.StatusBadRequest, fitconnect.Problem{Type: fitconnect.ProblemRequestInvalid, Detail: "The attachment is empty."})
		return
	}
	part := string(body)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/jose" {
		part = strings.TrimSpace(part)
		if strings.Count(part, ".") != 4 {
			WriteProblem(w, http.StatusBadRequest, fitconnect.Problem{Type: fitconnect.ProblemRequestInvalid,
				Detail: "An application/jose attachment is a compact JWE (five parts separated by dots)."})
			return
		}
	} else {
		// Kept encrypted like every other part: attachments are personal data.
		if part, err = fitconnect.Encrypt(body, &s.cfg.Keys.Encryption.PublicKey, s.encKid, mt, len(body) > 1024); err != nil {
			s.unavailable(w, "encrypt plain attachment", err)
			return
		}
	}
	within, err := s.cfg.Store.PutAttachment(r.Context(), sub.ID, aid, part, MaxTotalAttachmentBytes)
	if err != nil {
		s.unavailable(w, "keep attachment", err)
		return
	}
	if !within {
		WriteProblem(w, http.StatusRequestEntityTooLarge, fitconnect.Problem{Type: fitconnect.ProblemRequestInvalid,
			Detail: fmt.Sprintf("The attachments of one submission may have at most %d bytes together.", MaxTotalAttachmentBytes)})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// statusView is what a sender reads of its submission.
type statusView struct {
	SubmissionID         string                 `json:"submissionId"`
	CaseID               string                 `json:"caseId"`
	DestinationID        string                 `json:"destinationId"`
	ServiceType          fitconnect.ServiceType `json:"serviceType"`
	AnnouncedAttachments []string               `json:"announcedAttachments"`
	Status               string                 `json:"status"`
	Problems             []fitconnect.Problem   `json:"problems,omitempty"`
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	sub, ok := s.submission(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, statusView{SubmissionID: sub.ID, CaseID: sub.CaseID, DestinationID: sub.DestinationID,
		ServiceType: sub.ServiceType, AnnouncedAttachments: sub.Announced, Status: sub.State, Problems: sub.Problems})
}

// handleEvents returns the case's event log to the client whose case it is.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	caseID := mux.Vars(r)["caseId"]
	var (
		owner  string
		events []string
		found  bool
		err    error
	)
	if len(caseID) <= 100 {
		if owner, events, found, err = s.cfg.Store.Events(r.Context(), caseID); err != nil {
			s.unavailable(w, "load events", err)
			return
		}
	}
	if !found || owner != ClientFrom(r.Context()) {
		WriteProblem(w, http.StatusNotFound, fitconnect.Problem{Type: fitconnect.ProblemCaseNotFound, Title: "Case not found",
			Detail: "No case of this client has this ID."})
		return
	}
	if events == nil {
		events = []string{}
	}
	writeJSON(w, http.StatusOK, fitconnect.EventLog{EventLog: events})
}

// record signs an event about sub and adds it to its case's log: create
// and submit in the API's name, accept and reject in the destination's.
func (s *Server) record(ctx context.Context, sub Submission, typ string, payload fitconnect.EventPayload) error {
	e := fitconnect.Event{ID: uuid.NewString(), Issuer: s.cfg.Issuer, SubmissionID: sub.ID, CaseID: sub.CaseID, Type: typ,
		IssuedAt: s.cfg.Now().UTC().Truncate(time.Second), Payload: payload}
	key, kid := s.cfg.SigningKey, s.apiKid
	if typ == fitconnect.EventAccept || typ == fitconnect.EventReject {
		e.Issuer, key, kid = sub.DestinationID, s.cfg.Keys.Signature, s.sigKid
	}
	token, err := fitconnect.SignEvent(e, key, kid)
	if err != nil {
		return err
	}
	return s.cfg.Store.AppendEvent(ctx, sub.CaseID, sub.Client, token)
}
