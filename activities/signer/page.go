package signer

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities/internal/sandbox"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/locale"
)

//go:embed signature.html
var signatureHTML string

// signaturePage is the applicant's signing page; a broken template fails at
// start, not on a request.
var signaturePage = template.Must(template.New("signature").Parse(signatureHTML))

// signaturePageData fills the signing page.
type signaturePageData struct {
	Found                                   bool
	CaseID, Service, Authority, SubmittedAt string
	Fields                                  []definitions.LabelledField
	Attachments                             []ozgflow.Attachment
	Payload, Hash                           string
	Status, Result, Message                 string
	Open                                    bool
	Action, Return                          string
}

// signatureStatusText names a status for the applicant.
var signatureStatusText = map[string]string{
	ozgflow.SignaturePending:  "Offen",
	ozgflow.SignatureSigned:   "Signiert",
	ozgflow.SignatureDeclined: "Abgelehnt",
}

// signatureResultText tells the applicant what a decision means.
var signatureResultText = map[string]string{
	ozgflow.SignatureSigned:   "Sie haben Ihren Antrag signiert. Er wird jetzt weiter bearbeitet.",
	ozgflow.SignatureDeclined: "Sie haben die Signatur abgelehnt. Der Antrag wird nicht weiter bearbeitet.",
}

// renderSignature answers the signing page of sessionID with the given
// status and an optional message for the applicant.
func (s *Sandbox) renderSignature(w http.ResponseWriter, status int, sessionID, message string) {
	data := signaturePageData{Message: message}
	if rec, ok := s.sessionView(sessionID); ok {
		data.Found = true
		data.CaseID = rec.CaseID
		data.Status, data.Result = signatureStatusText[rec.Status], signatureResultText[rec.Status]
		data.Open = rec.Status == ozgflow.SignaturePending
		data.Action, data.Return = SignaturePagePath+rec.ID, s.returnURL(rec.CaseID)
		sum := sha256.Sum256(rec.Payload)
		data.Hash = hex.EncodeToString(sum[:])
		var p ozgflow.SealedPayload
		if json.Unmarshal(rec.Payload, &p) == nil {
			data.Service, data.Authority, data.Attachments = p.Service, p.Authority, p.Attachments
			if !p.SubmittedAt.IsZero() {
				data.SubmittedAt = locale.DE.Time(p.SubmittedAt)
			}
			data.Fields = (*definitions.Definition)(nil).LabelledData(p.Data)
		}
		var pretty bytes.Buffer
		if json.Indent(&pretty, rec.Payload, "", "  ") == nil {
			data.Payload = pretty.String()
		} else {
			data.Payload = string(rec.Payload)
		}
	} else if message == "" {
		data.Message = "Diese Signatur ist unbekannt. Bitte starten Sie die Signatur aus Ihrem Antrag heraus."
	}
	if err := sandbox.WritePage(w, status, signaturePage, data); err != nil {
		s.log.Error("Signing page not rendered", "sessionId", sessionID, "error", err)
	}
}

func (s *Sandbox) handleSignaturePage(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	status := http.StatusOK
	if _, ok := s.sessionView(id); !ok {
		status = http.StatusNotFound
	}
	s.renderSignature(w, status, id, "")
}

// handleSignatureAction takes the applicant's decision and sends the
// browser back to the status page of the case.
func (s *Sandbox) handleSignatureAction(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		s.renderSignature(w, http.StatusBadRequest, id, "Das Formular konnte nicht gelesen werden.")
		return
	}
	caseID, err := s.Decide(id, r.PostForm.Get("action"))
	switch {
	case err == nil:
		http.Redirect(w, r, s.returnURL(caseID), http.StatusSeeOther)
	case errors.Is(err, ErrUnknownSession):
		s.renderSignature(w, http.StatusNotFound, id, "")
	case errors.Is(err, ErrBadDecision):
		s.renderSignature(w, http.StatusBadRequest, id, "Unbekannte Aktion. Bitte wählen Sie „Signieren“ oder „Ablehnen“.")
	case errors.Is(err, ErrDecided):
		s.renderSignature(w, http.StatusConflict, id, "Über diese Signatur ist bereits entschieden; sie kann nicht mehr geändert werden.")
	default:
		s.log.Error("Signature not saved", "sessionId", id, "error", err)
		s.renderSignature(w, http.StatusInternalServerError, id, "Die Signatur konnte nicht gespeichert werden. Bitte versuchen Sie es erneut.")
	}
}
