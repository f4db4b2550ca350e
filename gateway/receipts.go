package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/receipt"
)

// The receipt (Eingangsbestätigung) as PDF for the applicant, and the check
// of receipts that anyone may run.

func (s *Server) registerReceiptRoutes(api *mux.Router) {
	api.HandleFunc("/applications/{id}/receipt.pdf", s.handleReceiptPDF).Methods(http.MethodGet)
	api.HandleFunc("/receipts/verify", s.handleVerifyReceipt).Methods(http.MethodPost)
}

// handleReceiptPDF answers the receipt of a sealed case as a PDF download,
// to whoever may read the case (handleReceipt). The applicant's pages link
// to it with the access token in the query, and their cookie holds it too.
func (s *Server) handleReceiptPDF(w http.ResponseWriter, r *http.Request) {
	c, _, ok := s.caseFor(w, s.withApplicantToken(r))
	if !ok {
		return
	}
	if c.Seal == nil || c.Seal.JWS == "" {
		s.writeError(w, r, ozgflow.Errorf(ozgflow.ECONFLICT,
			"The application has not been sealed yet; its receipt is available once it is."))
		return
	}
	def := s.receiptDefinition(c)
	rc, err := receipt.FromCase(c, def, s.authorityName(c.Authority))
	if err == nil {
		var pdf []byte
		if pdf, err = receipt.Render(rc); err == nil {
			h := w.Header()
			h.Set("Content-Type", "application/pdf")
			h.Set("Content-Disposition", `attachment; filename="eingangsbestaetigung-`+c.ID+`.pdf"`)
			h.Set("Content-Length", strconv.Itoa(len(pdf)))
			h.Set("Cache-Control", "private, no-store")
			h.Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(pdf)
			return
		}
	}
	s.writeError(w, r, ozgflow.Errorf(ozgflow.EINTERNAL, "receipt of case %s: %v", c.ID, err))
}

// withApplicantToken returns r with the case's access token as bearer token
// when the request brings none but has the token in the query (links from
// the applicant's pages) or the applicant's cookie holds the case's token.
// Only access tokens count in the query, so that no staff token is taken
// from an address. The staff's session cookie still works when neither does.
func (s *Server) withApplicantToken(r *http.Request) *http.Request {
	if bearerToken(r) != "" {
		return r
	}
	caseID := mux.Vars(r)["id"]
	token := r.URL.Query().Get("token")
	if !strings.HasPrefix(token, "at_") {
		token = ""
	}
	if ck, err := r.Cookie(citizenCookie); token == "" && err == nil && s.tokens.Valid(caseID, ck.Value) {
		token = ck.Value
	}
	if token == "" {
		return r
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

// receiptDefinition finds the definition whose schema labels a case's data:
// the version the case started with, else what is published now for its
// service and authority. Without either the data is labelled by its keys.
func (s *Server) receiptDefinition(c ozgflow.Case) *definitions.Definition {
	if s.cfg.Catalog != nil && c.DefinitionID != "" {
		snapshot := s.cfg.Catalog.Snapshot()
		if def, err := snapshot.Effective(c.DefinitionID, c.DefinitionVersion); err == nil {
			return &def
		}
	}
	if s.defs != nil {
		if reg := s.defs.Registry(); reg != nil {
			if def, err := reg.Resolve(c.Service, c.Authority); err == nil {
				return &def
			}
		}
	}
	return nil
}

// authorityName names an authority by its ARS, or gives "" when unknown.
func (s *Server) authorityName(ars string) string {
	if s.defs == nil || s.defs.Registry() == nil {
		return ""
	}
	a, _ := s.defs.Registry().Authority(ars)
	return a.Name
}

// VerifyReceipt checks a receipt, as its PDF or as text containing its seal,
// against the keys of the signer, and names the service and authority of a
// valid one. When the keys cannot be read the verdict is unknown and says
// to try again later.
func (s *Server) VerifyReceipt(ctx context.Context, input []byte) receipt.Result {
	if s.cfg.Keys == nil {
		return receipt.KeysUnavailable()
	}
	keys, err := s.cfg.Keys(ctx)
	if err != nil {
		s.logger.Warn("Keys to check a receipt not read", "error", err)
		return receipt.KeysUnavailable()
	}
	res := receipt.Verify(input, keys)
	if res.Verdict == receipt.Valid {
		if name := s.serviceName(res.Service); name != res.Service {
			res.ServiceName = name
		}
		res.AuthorityName = s.authorityName(res.Authority)
	}
	return res
}

// handleVerifyReceipt checks the receipt in the body: a PDF
// (application/pdf), text (text/plain) or JSON {"receipt": "..."}. No token
// is needed: anyone holding a receipt may check it.
func (s *Server) handleVerifyReceipt(w http.ResponseWriter, r *http.Request) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		mt = ""
	}
	switch mt {
	case "application/pdf", "text/plain", "application/octet-stream", "application/json":
	default:
		s.writeError(w, r, ozgflow.Errorf(ozgflow.EUNSUPPORTED,
			"Send the receipt as application/pdf, as text/plain or as JSON {\"receipt\": \"...\"}."))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		s.writeError(w, r, ozgflow.Errorf(ozgflow.ETOOLARGE, "The receipt is larger than %d MiB.", MaxBodyBytes>>20))
		return
	case err != nil:
		s.writeError(w, r, ozgflow.Errorf(ozgflow.EINVALID, "The body could not be read."))
		return
	}
	if mt == "application/json" {
		var req struct {
			Receipt *string `json:"receipt"`
		}
		if err := decodeJSON(body, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
		if req.Receipt == nil {
			s.writeError(w, r, &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: "The body needs the receipt.",
				Fields: []ozgflow.FieldError{{Pointer: "/receipt", Detail: "is required"}}})
			return
		}
		body = []byte(*req.Receipt)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		s.writeError(w, r, ozgflow.Errorf(ozgflow.EINVALID, "The body is empty; send the receipt's PDF or its seal."))
		return
	}
	writeJSON(w, http.StatusOK, s.VerifyReceipt(r.Context(), body))
}
