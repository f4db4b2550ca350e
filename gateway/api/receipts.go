package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/gateway/web"
)

// The receipt (Eingangsbestätigung) as PDF for whoever may read the case,
// and the check of receipts that anyone may run.

// handleReceiptPDF answers the receipt of a sealed case as a PDF download.
// The applicant's pages link to it without the access token: their cookie
// identifies the applicant (the token in the address of an older link
// still does).
func (s *API) handleReceiptPDF(w http.ResponseWriter, r *http.Request) {
	c, _, ok := s.caseFor(w, r)
	if !ok {
		return
	}
	pdf, err := s.receipts.PDF(r.Context(), c)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", `attachment; filename="eingangsbestaetigung-`+c.ID+`.pdf"`)
	h.Set("Content-Length", strconv.Itoa(len(pdf)))
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(pdf)
}

// sealedPayload decodes the payload of a seal's compact JWS without
// checking it; nil when it is no JSON.
func sealedPayload(jws string) json.RawMessage {
	if parts := strings.Split(jws, "."); len(parts) == 3 {
		if b, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil && json.Valid(b) {
			return b
		}
	}
	return nil
}

// handleVerifyReceipt checks the receipt in the body: a PDF
// (application/pdf), text (text/plain) or JSON {"receipt": "..."}. No token
// is needed: anyone holding a receipt may check it.
func (s *API) handleVerifyReceipt(w http.ResponseWriter, r *http.Request) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		mt = ""
	}
	switch mt {
	case "application/pdf", "text/plain", "application/octet-stream", "application/json":
	default:
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EUNSUPPORTED,
			"Send the receipt as application/pdf, as text/plain or as JSON {\"receipt\": \"...\"}."))
		return
	}
	body, err := readReceiptBody(w, r, mt)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, s.receipts.Verify(r.Context(), body))
}

// readReceiptBody reads the receipt to check from the body.
func readReceiptBody(w http.ResponseWriter, r *http.Request, mediaType string) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, web.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, ozgflow.Errorf(ozgflow.ETOOLARGE, "The receipt is larger than %d MiB.", web.MaxBodyBytes>>20)
	case err != nil:
		return nil, ozgflow.Errorf(ozgflow.EINVALID, "The body could not be read.")
	}
	if mediaType == "application/json" {
		var req struct {
			Receipt *string `json:"receipt"`
		}
		if err := web.DecodeJSON(body, &req); err != nil {
			return nil, err
		}
		if req.Receipt == nil {
			return nil, &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: "The body needs the receipt.",
				Fields: []ozgflow.FieldError{{Pointer: "/receipt", Detail: "is required"}}}
		}
		body = []byte(*req.Receipt)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, ozgflow.Errorf(ozgflow.EINVALID, "The body is empty; send the receipt's PDF or its seal.")
	}
	return body, nil
}
