package portal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/internal/journal"
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

// sandboxEntry is one journal line: a new event, or a duplicate of one.
type sandboxEntry struct {
	Received  *Received `json:"received,omitempty"`
	Duplicate string    `json:"duplicate,omitempty"`
}

// Sandbox is a portal for development, tests and demos that speaks the
// production protocol: it verifies signature and timestamp, records each
// event ID once and counts duplicates, and can be switched into an outage
// (503). The outage switch is not persisted. It is safe for concurrent use.
type Sandbox struct {
	cfg SandboxConfig
	log *slog.Logger

	mu       sync.Mutex
	received []Received
	byID     map[string]int
	down     bool
	journal  *journal.Journal
}

// NewSandbox returns a sandbox portal with what cfg.StateFile recorded.
func NewSandbox(cfg SandboxConfig) (*Sandbox, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Sandbox{cfg: cfg, log: cfg.Logger.With("component", "portal-sandbox"), byID: map[string]int{}}
	j, err := journal.Open(cfg.StateFile, s.replay)
	if err != nil {
		return nil, fmt.Errorf("portal sandbox: %w", err)
	}
	s.journal = j
	return s, nil
}

func (s *Sandbox) replay(line []byte) error {
	var e sandboxEntry
	if err := json.Unmarshal(line, &e); err != nil {
		return err
	}
	switch {
	case e.Received != nil && e.Received.ID != "":
		s.byID[e.Received.ID] = len(s.received)
		s.received = append(s.received, *e.Received)
	case e.Duplicate != "":
		i, ok := s.byID[e.Duplicate]
		if !ok {
			return fmt.Errorf("duplicate of unknown event %q", e.Duplicate)
		}
		s.received[i].Deliveries++
	default:
		return errors.New("empty entry")
	}
	return nil
}

// Close closes the journal.
func (s *Sandbox) Close() error { return s.journal.Close() }

// Register adds the sandbox portal's routes to the root router r:
// POST and GET /sandbox/portal/events, POST (or PUT) and GET /sandbox/portal/outage.
func (s *Sandbox) Register(r *mux.Router) {
	sr := r.PathPrefix(SandboxPath).Subrouter()
	sr.HandleFunc("/events", s.handleEvent).Methods(http.MethodPost)
	sr.HandleFunc("/events", s.handleList).Methods(http.MethodGet)
	sr.HandleFunc("/outage", s.handleSetOutage).Methods(http.MethodPost, http.MethodPut)
	sr.HandleFunc("/outage", s.handleGetOutage).Methods(http.MethodGet)
}

// SetDown switches the simulated outage on or off; while it is on, every
// event is answered with 503.
func (s *Sandbox) SetDown(down bool) {
	s.mu.Lock()
	changed := s.down != down
	s.down = down
	s.mu.Unlock()
	if changed {
		s.log.Info("Portal outage switched", "down", down)
	}
}

// Down reports whether the simulated outage is on.
func (s *Sandbox) Down() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down
}

// Received returns a copy of what arrived, in order of first arrival.
func (s *Sandbox) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

func (s *Sandbox) handleEvent(w http.ResponseWriter, r *http.Request) {
	if s.Down() {
		writeError(w, http.StatusServiceUnavailable, "Portal nicht erreichbar")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEventBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("event larger than %d bytes", maxEventBody))
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, "body not read")
		return
	}
	if err := ozgflow.VerifyBody(s.cfg.Secret, time.Now(), r.Header.Get(ozgflow.HeaderSignatureTimestamp),
		r.Header.Get(ozgflow.HeaderSignature), body); err != nil {
		writeError(w, http.StatusUnauthorized, "signature refused: "+err.Error())
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != ContentType {
		writeError(w, http.StatusUnsupportedMediaType, "want "+ContentType+" (structured mode)")
		return
	}
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		writeError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return
	}
	if err := e.Valid(); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	duplicate, err := s.record(e)
	if err != nil {
		s.log.Error("Event not saved", "event", e.ID, "error", err)
		writeError(w, http.StatusInternalServerError, "event not saved")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": e.ID, "duplicate": duplicate})
}

// record keeps an event once by its ID and counts the duplicates.
func (s *Sandbox) record(e Event) (duplicate bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.byID[e.ID]; ok {
		if err := s.journal.Append(sandboxEntry{Duplicate: e.ID}); err != nil {
			return true, err
		}
		s.received[i].Deliveries++
		return true, nil
	}
	rec := Received{ID: e.ID, Subject: e.Subject, ReceivedAt: time.Now().UTC(), Deliveries: 1, Event: e}
	if err := s.journal.Append(sandboxEntry{Received: &rec}); err != nil {
		return false, err
	}
	s.byID[e.ID] = len(s.received)
	s.received = append(s.received, rec)
	s.log.Info("Notice received", "event", e.ID)
	return false, nil
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
	out := eventList{Events: []Received{}, Down: s.Down()}
	for _, rec := range s.Received() {
		if caseID == "" || rec.Subject == caseID {
			out.Events = append(out.Events, rec)
			out.Duplicates += rec.Deliveries - 1
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// outage is the body of the outage switch.
type outage struct {
	Down *bool `json:"down"`
}

func (s *Sandbox) handleGetOutage(w http.ResponseWriter, _ *http.Request) {
	down := s.Down()
	writeJSON(w, http.StatusOK, outage{Down: &down})
}

func (s *Sandbox) handleSetOutage(w http.ResponseWriter, r *http.Request) {
	var req outage
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&req); err != nil || req.Down == nil {
		writeError(w, http.StatusBadRequest, `want {"down": true} or {"down": false}`)
		return
	}
	s.SetDown(*req.Down)
	writeJSON(w, http.StatusOK, req)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
