// Package intake is the room of online services that deliver applications
// over FIT-Connect: the Submission API under /fit-connect (served by
// fitconnect/submissionapi), with ozgflow's receiver behind it, which turns
// each accepted submission into a case like the submit API does.
package intake

import (
	"context"
	"crypto/rsa"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/fitconnect"
	"github.com/ozgflow/ozgflow/fitconnect/submissionapi"
	"github.com/ozgflow/ozgflow/gateway/web"
)

// Prefix is where the Submission API lives: its token endpoint is
// Prefix+"/token", its API Prefix+"/v1".
const Prefix = "/fit-connect"

// Config is what the intake needs besides the case service.
type Config struct {
	// Clients are the online services' client IDs and secrets.
	Clients map[string]string
	// TokenSecret signs the access tokens the token endpoint issues.
	TokenSecret []byte
	// SigningKey signs the Submission API's own events (create, submit).
	SigningKey *rsa.PrivateKey
	// Keys are the destinations' encryption and signature keys.
	Keys submissionapi.Keys
	// PublicURL is the gateway's address; the API's events name
	// PublicURL+Prefix as their issuer.
	PublicURL string
}

// Intake serves the FIT-Connect room and receives its submissions.
type Intake struct {
	cases  *casework.Service
	api    *submissionapi.Server
	audit  web.Auditor
	logger *slog.Logger
}

// New builds the intake over the case service, whose Destinations it
// serves and whose Store keeps the submissions in progress.
func New(cases *casework.Service, cfg Config, logger *slog.Logger) (*Intake, error) {
	in := &Intake{cases: cases, logger: logger, audit: web.Auditor{Records: cases.Records, Logger: logger, Now: cases.Now}}
	var store submissionapi.Store = submissionapi.NewMemoryStore()
	if cases.Store != nil {
		store = submissionapi.RedisStore{RDB: cases.Store.Client(), Prefix: cases.Store.Prefix()}
	}
	api, err := submissionapi.New(submissionapi.Config{
		Issuer: strings.TrimSuffix(cfg.PublicURL, "/") + Prefix, Clients: cfg.Clients, TokenSecret: cfg.TokenSecret,
		SigningKey: cfg.SigningKey, Keys: cfg.Keys, Destinations: in, Store: store, Receiver: in,
		NoteCase: web.NoteCase, Logger: logger, Now: cases.Now,
	})
	if err != nil {
		return nil, err
	}
	in.api = api
	return in, nil
}

// senderSubject prefixes an online service's client ID in its identity.
const senderSubject = "fitconnect:"

// Sender is the identity of an online service by its client ID.
func Sender(client string) ozgflow.Identity {
	return ozgflow.Identity{Subject: senderSubject + client, Name: client + " (FIT-Connect)", Role: ozgflow.RoleFITConnect}
}

// asSender hands a Submission API handler the client ID of the online
// service the identity middleware admitted: the request is authenticated
// once, by the room, not again by the API.
func asSender(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := ozgflow.IdentityFrom(r.Context())
		client, ok := strings.CutPrefix(id.Subject, senderSubject)
		if id.Role != ozgflow.RoleFITConnect || !ok || client == "" {
			deny(w, r)
			return
		}
		h(w, r.WithContext(submissionapi.WithClient(r.Context(), client)))
	}
}

// Authenticate implements web.Authenticator: an access token of the
// intake's token endpoint identifies its online service.
func (in *Intake) Authenticate(_ context.Context, token string) (ozgflow.Identity, bool) {
	client, ok := in.api.Authenticate(token)
	if !ok {
		return ozgflow.Identity{}, false
	}
	return Sender(client), true
}

// Register adds the Submission API's routes under Prefix: the token
// endpoint and the API's keys for anyone, everything else for online
// services with an access token.
func (in *Intake) Register(root *mux.Router, rooms *web.Rooms) {
	anyone := rooms.Open(root, Prefix, web.Audience{Name: "anyone (FIT-Connect token endpoint, the API's keys)",
		Roles: []ozgflow.Role{ozgflow.RoleAnonymous}})
	senders := rooms.Open(root, Prefix, web.Audience{Name: "online services with FIT-Connect client credentials",
		Roles: []ozgflow.Role{ozgflow.RoleFITConnect}, Deny: deny, Sources: []web.Source{web.SourceBearer}})
	for _, rt := range in.api.Routes() {
		use := web.NoPersonalData
		switch {
		case rt.Use.Personal && rt.Use.Changes:
			use = web.Changes(rt.Use.Action)
		case rt.Use.Personal:
			use = web.Reads(rt.Use.Action)
		}
		room, h := senders, asSender(rt.Handler)
		if rt.Open {
			room, h = anyone, rt.Handler
		}
		room.Handle(rt.Path, in.audit.Declare(use, h)).Methods(rt.Method)
	}
}

// deny answers whoever the senders' room does not admit, with FIT-Connect's
// problems: 401 without a valid token, 403 for another kind of caller.
func deny(w http.ResponseWriter, r *http.Request) {
	if ozgflow.IdentityFrom(r.Context()).Role == ozgflow.RoleAnonymous {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fit-connect"`)
		submissionapi.WriteProblem(w, http.StatusUnauthorized, fitconnect.Problem{Type: fitconnect.ProblemUnauthorized,
			Detail: "A valid access token of " + Prefix + "/token is required."})
		return
	}
	submissionapi.WriteProblem(w, http.StatusForbidden, fitconnect.Problem{Type: fitconnect.ProblemForbidden,
		Detail: "Only online services with FIT-Connect client credentials use the Submission API."})
}

// Destination implements submissionapi.Destinations: a configured
// destination takes the service of its variant, with the variant's schema,
// while the variant is published.
func (in *Intake) Destination(_ context.Context, id string) (fitconnect.Destination, bool, error) {
	view, _, ok := in.cases.FITConnectDestination(id)
	if !ok {
		return fitconnect.Destination{}, false, nil
	}
	d := fitconnect.Destination{DestinationID: view.DestinationID, Status: view.Status, Services: []fitconnect.DestinationService{}}
	if view.Status == fitconnect.DestinationActive {
		d.Services = append(d.Services, fitconnect.DestinationService{Identifier: view.ServiceIdentifier,
			SubmissionSchemas: []fitconnect.SchemaRef{{SchemaURI: view.SchemaURI, MimeType: "application/json"}},
			Regions:           []string{"DE" + view.Authority}})
	}
	return d, true, nil
}
