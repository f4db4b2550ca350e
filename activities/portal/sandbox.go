package portal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities/internal/sandbox"
)

// SandboxPath is where the sandbox portal serves; its webhook is
// SandboxPath + "/events".
const SandboxPath = "/sandbox/portal"

// maxEventBody is the largest event the sandbox accepts.
const maxEventBody = 1 << 20

// SandboxConfig configures the sandbox portal.
type SandboxConfig struct {
	Secret    []byte       // HMAC key the events must be signed with
	StateFile string       // journal of what arrived (JSON lines); empty keeps it in memory
	Logger    *slog.Logger // nil means slog.Default()
}

// Received is one event as the sandbox portal recorded it.
type Received struct {
	ID         string    `json:"id"`
	Subject    string    `json:"subject"`
	ReceivedAt time.Time `json:"receivedAt"`
	// Deliveries counts how often the event came: 1, or more for duplicates,
	// which the portal drops by the event's ID.
	Deliveries int   `json:"deliveries"`
	Event      Event `json:"event"`
}

// Sandbox is a portal for development, tests and demos that speaks the
// production protocol: it verifies signature and timestamp, records each
// event ID once and counts duplicates, and can be switched into an outage
// (503). The outage switch is not persisted. It is safe for concurrent use.
type Sandbox struct {
	cfg      SandboxConfig
	log      *slog.Logger
	outage   *sandbox.Outage
	received *sandbox.Arrivals[Received]
}

// NewSandbox returns a sandbox portal with what cfg.StateFile recorded.
func NewSandbox(cfg SandboxConfig) (*Sandbox, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	log := cfg.Logger.With("component", "portal-sandbox")
	received, err := sandbox.OpenArrivals(cfg.StateFile, "received",
		func(r Received) string { return r.ID }, func(r *Received) *int { return &r.Deliveries })
	if err != nil {
		return nil, fmt.Errorf("portal sandbox: %w", err)
	}
	return &Sandbox{cfg: cfg, log: log, outage: sandbox.NewOutage("Portal", log), received: received}, nil
}

// Close closes the journal.
func (s *Sandbox) Close() error { return s.received.Close() }

// Register adds the sandbox portal's routes to the root router r:
// POST and GET /sandbox/portal/events, POST (or PUT) and GET /sandbox/portal/outage.
func (s *Sandbox) Register(r *mux.Router) {
	sr := r.PathPrefix(SandboxPath).Subrouter()
	sr.HandleFunc("/events", s.handleEvent).Methods(http.MethodPost)
	sr.HandleFunc("/events", s.handleList).Methods(http.MethodGet)
	sr.Handle("/outage", s.outage).Methods(http.MethodGet, http.MethodPost, http.MethodPut)
}

// SetDown switches the simulated outage on or off; while it is on, every
// event is answered with 503.
func (s *Sandbox) SetDown(down bool) { s.outage.SetDown(down) }

// Down reports whether the simulated outage is on.
func (s *Sandbox) Down() bool { return s.outage.Down() }

// Received returns a copy of what arrived, in order of first arrival. When
// the journal cannot be read (beyond sandbox.KeptInMemory events), it logs
// the error and returns the events read before it.
func (s *Sandbox) Received() []Received {
	all, _, err := s.received.List(func(Received) bool { return true })
	if err != nil {
		s.log.Error("Events not read", "error", err)
	}
	return all
}

func (s *Sandbox) handleEvent(w http.ResponseWriter, r *http.Request) {
	if s.Down() {
		sandbox.WriteError(w, http.StatusServiceUnavailable, "Portal nicht erreichbar")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		sandbox.WriteError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("event larger than %d bytes", maxEventBody))
		return
	case err != nil:
		sandbox.WriteError(w, http.StatusBadRequest, "body not read")
		return
	}
	if err := ozgflow.VerifyBody(s.cfg.Secret, time.Now(), r.Header.Get(ozgflow.HeaderSignatureTimestamp),
		r.Header.Get(ozgflow.HeaderSignature), body); err != nil {
		sandbox.WriteError(w, http.StatusUnauthorized, "signature refused: "+err.Error())
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != ContentType {
		sandbox.WriteError(w, http.StatusUnsupportedMediaType, "want "+ContentType+" (structured mode)")
		return
	}
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		sandbox.WriteError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return
	}
	if err := e.Valid(); err != nil {
		sandbox.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	duplicate, err := s.record(e)
	if err != nil {
		s.log.Error("Event not saved", "event", e.ID, "error", err)
		sandbox.WriteError(w, http.StatusInternalServerError, "event not saved")
		return
	}
	sandbox.WriteJSON(w, http.StatusOK, map[string]any{"id": e.ID, "duplicate": duplicate})
}

// record keeps an event once by its ID and counts the duplicates.
func (s *Sandbox) record(e Event) (duplicate bool, err error) {
	duplicate, err = s.received.Add(Received{ID: e.ID, Subject: e.Subject, ReceivedAt: time.Now().UTC(), Event: e})
	if err == nil && !duplicate {
		s.log.Info("Notice received", "event", e.ID)
	}
	return duplicate, err
}

// eventList is the answer of GET /events.
type eventList struct {
	Events []Received `json:"events"`
	// Duplicates is how many deliveries came again for an event already here.
	Duplicates int  `json:"duplicates"`
	Down       bool `json:"down"`
}

// handleList lists what arrived, all or (?caseId=) of one case.
func (s *Sandbox) handleList(w http.ResponseWriter, r *http.Request) {
	caseID := r.URL.Query().Get("caseId")
	out := eventList{Down: s.Down()}
	var err error
	out.Events, out.Duplicates, err = s.received.List(func(rec Received) bool { return caseID == "" || rec.Subject == caseID })
	if err != nil {
		s.log.Error("Events not listed", "error", err)
		sandbox.WriteError(w, http.StatusInternalServerError, "journal not read")
		return
	}
	sandbox.WriteJSON(w, http.StatusOK, out)
}
