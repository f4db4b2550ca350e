package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/gorilla/mux"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/gateway/web"
)

// CodecEndpoint is where the gateway speaks Temporal's remote codec
// protocol: POST CodecEndpoint+"/decode" with the payloads as protobuf
// JSON. Through it the Temporal Web UI (`dev` serves one) and the temporal
// CLI (--codec-endpoint) show an administrator the cases' payloads, which
// Temporal holds encrypted, decrypted.
const CodecEndpoint = "/api/v1/codec"

// CodecHeaders are the request headers the Web UI sends to the codec
// endpoint from another origin.
var CodecHeaders = []string{"Content-Type", "X-Namespace", "Authorization"}

// DecodeWith sets the codec of the codec endpoint: the workers' own
// (worker.Codec), so that it decrypts whatever the workers encrypted.
func (s *API) DecodeWith(codec converter.PayloadCodec) *API {
	s.codec = codec
	return s
}

// registerCodecRoutes adds the codec endpoint, for administrators alone:
// decoding reveals the personal data of any case, so each request is an
// entry of the audit trail. The Web UI's browser calls it with the staff
// session's cookie, the CLI with a bearer token; decoding changes nothing,
// so the session counts for its POST, and the cross-origin protection
// keeps every site but the Web UI's from sending it (web.Shared).
func (s *API) registerCodecRoutes(root *mux.Router, rooms *web.Rooms, prefix string) {
	decoders := rooms.Open(root, prefix, web.Audience{Name: "administrators (the Temporal Web UI's codec)",
		Roles: []ozgflow.Role{ozgflow.RoleAdmin}, Deny: s.deny("Only administrators see the payloads of cases decrypted."),
		Sources: []web.Source{web.SourceBearer, web.SourceSession}})
	decoders.Handle(strings.TrimPrefix(CodecEndpoint, prefix)+"/decode",
		s.audit.Declare(web.Reads("payload.decode"), s.handleDecode)).Methods(http.MethodPost)
}

// handleDecode decodes payloads as the workers' data converter does: those
// it encrypted come back as they were before, others as they are.
func (s *API) handleDecode(w http.ResponseWriter, r *http.Request) {
	if s.codec == nil {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EUNAVAILABLE, "This gateway decodes no payloads."))
		return
	}
	// The Web UI names the namespace of the payloads; other clients may not.
	if ns := r.Header.Get("X-Namespace"); ns != "" && ns != s.cases.Namespace {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EINVALID,
			"X-Namespace: this gateway decodes the payloads of namespace %s only.", s.cases.Namespace))
		return
	}
	body, err := web.ReadJSONBody(w, r)
	if err != nil {
		s.errors.Write(w, r, err)
		return
	}
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EINVALID, "The body must be a JSON object."))
		return
	}
	if err := web.CheckJSON(body); err != nil {
		s.errors.Write(w, r, err)
		return
	}
	var in commonpb.Payloads
	if err := protojson.Unmarshal(body, &in); err != nil {
		// protojson's message quotes the body; the answer does not.
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EINVALID,
			`The body must be payloads in protobuf JSON: {"payloads": [{"metadata": {…}, "data": "…"}]}.`))
		return
	}
	out, err := s.codec.Decode(in.Payloads)
	if err != nil {
		s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EUNPROCESSABLE, "The payloads cannot be decoded with this gateway's keys: %v.", err))
		return
	}
	answer := struct {
		Payloads []json.RawMessage `json:"payloads"`
	}{Payloads: make([]json.RawMessage, len(out))}
	for i, p := range out {
		if answer.Payloads[i], err = protojson.Marshal(p); err != nil {
			s.errors.Write(w, r, fmt.Errorf("encode payload %d: %w", i, err))
			return
		}
	}
	web.NoteDetail(r.Context(), fmt.Sprintf("%d payloads", len(out)))
	web.WriteJSON(w, http.StatusOK, answer)
}
