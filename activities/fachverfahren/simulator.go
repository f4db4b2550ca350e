package fachverfahren

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/activities/internal/sandbox"
)

// SimulatorConfig configures the simulator.
type SimulatorConfig struct {
	Secret    []byte // HMAC key deliveries must be signed with
	StateFile string // JSON file of the records; empty keeps them in memory
	Logger    *slog.Logger
}

// Record is one delivery the simulator received.
type Record struct {
	Key              string                `json:"-"`
	CaseID           string                `json:"caseId"`
	Kind             string                `json:"kind"`
	Target           string                `json:"target"`
	Reference        string                `json:"reference"`
	ReceivedAt       time.Time             `json:"receivedAt"`
	Submission       activities.Submission `json:"submission"`
	Withdrawn        bool                  `json:"withdrawn"`
	WithdrawalReason string                `json:"withdrawalReason,omitempty"`
}

// simState is what the simulator keeps across restarts.
type simState struct {
	Records []Record          `json:"records"`
	Keys    map[string]string `json:"keys"` // idempotency key → reference
	Next    int               `json:"next"`
}

// Simulator is a Fachverfahren for development and tests: it verifies the
// signature, records each delivery once per idempotency key, and can be
// switched into an outage.
type Simulator struct {
	cfg   SimulatorConfig
	mu    sync.Mutex
	state simState
	down  bool
}

// NewSimulator loads the simulator's state, if any.
func NewSimulator(cfg SimulatorConfig) (*Simulator, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Simulator{cfg: cfg, state: simState{Keys: map[string]string{}}}
	if err := sandbox.Load(cfg.StateFile, &s.state); err != nil {
		return nil, err
	}
	if s.state.Keys == nil {
		s.state.Keys = map[string]string{}
	}
	return s, nil
}

// Register adds the simulator's routes under /sandbox/fachverfahren.
func (s *Simulator) Register(r *mux.Router) {
	sr := r.PathPrefix("/sandbox/fachverfahren").Subrouter()
	sr.HandleFunc("/cases", s.handleDeliver).Methods(http.MethodPost)
	sr.HandleFunc("/cases/{caseId}/withdrawal", s.handleWithdraw).Methods(http.MethodPost)
	sr.HandleFunc("/received", s.handleReceived).Methods(http.MethodGet)
	sr.HandleFunc("/outage", s.handleGetOutage).Methods(http.MethodGet)
	sr.HandleFunc("/outage", s.handleSetOutage).Methods(http.MethodPut)
}

// SetDown switches the simulated outage on or off.
func (s *Simulator) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// Received returns a copy of the records in arrival order.
func (s *Simulator) Received() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Record(nil), s.state.Records...)
}

// readSigned reads a body and checks its signature and the outage switch,
// answering the refusal itself.
func (s *Simulator) readSigned(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		sandbox.WriteError(w, http.StatusServiceUnavailable, "Fachverfahren nicht erreichbar")
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 20<<20))
	if err != nil {
		sandbox.WriteError(w, http.StatusRequestEntityTooLarge, "body too large")
		return nil, false
	}
	if err := ozgflow.VerifyBody(s.cfg.Secret, time.Now(), r.Header.Get(ozgflow.HeaderSignatureTimestamp),
		r.Header.Get(ozgflow.HeaderSignature), body); err != nil {
		sandbox.WriteError(w, http.StatusUnauthorized, "signature refused: "+err.Error())
		return nil, false
	}
	return body, true
}

func (s *Simulator) handleDeliver(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readSigned(w, r)
	if !ok {
		return
	}
	var d delivery
	if err := json.Unmarshal(body, &d); err != nil || d.Submission.CaseID == "" || d.Kind == "" {
		sandbox.WriteError(w, http.StatusBadRequest, "kind and submission.caseId are required")
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		key = d.Submission.CaseID + ":" + d.Kind
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ref, seen := s.state.Keys[key]; seen {
		for _, rec := range s.state.Records {
			if rec.Reference == ref {
				sandbox.WriteJSON(w, http.StatusOK, activities.Receipt{Reference: ref, ReceivedAt: rec.ReceivedAt})
				return
			}
		}
	}
	s.state.Next++
	rec := Record{Key: key, CaseID: d.Submission.CaseID, Kind: d.Kind, Target: d.Target,
		Reference: fmt.Sprintf("FV-%d-%06d", time.Now().Year(), s.state.Next), ReceivedAt: time.Now().UTC(),
		Submission: d.Submission}
	s.state.Records = append(s.state.Records, rec)
	s.state.Keys[key] = rec.Reference
	if err := sandbox.Save(s.cfg.StateFile, s.state); err != nil {
		s.cfg.Logger.Error("Simulator state not saved", "error", err)
	}
	sandbox.WriteJSON(w, http.StatusCreated, activities.Receipt{Reference: rec.Reference, ReceivedAt: rec.ReceivedAt})
}

func (s *Simulator) handleWithdraw(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readSigned(w, r)
	if !ok {
		return
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		sandbox.WriteError(w, http.StatusBadRequest, "malformed JSON")
		return
	}
	caseID := mux.Vars(r)["caseId"]
	s.mu.Lock()
	defer s.mu.Unlock()
	found := false
	for i := range s.state.Records {
		if rec := &s.state.Records[i]; rec.CaseID == caseID && rec.Kind == "case" {
			rec.Withdrawn, rec.WithdrawalReason, found = true, req.Reason, true
		}
	}
	if !found {
		sandbox.WriteError(w, http.StatusNotFound, "no delivery of this case")
		return
	}
	if err := sandbox.Save(s.cfg.StateFile, s.state); err != nil {
		s.cfg.Logger.Error("Simulator state not saved", "error", err)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Simulator) handleReceived(w http.ResponseWriter, r *http.Request) {
	caseID := r.URL.Query().Get("caseId")
	out := []Record{}
	for _, rec := range s.Received() {
		if caseID == "" || rec.CaseID == caseID {
			out = append(out, rec)
		}
	}
	sandbox.WriteJSON(w, http.StatusOK, out)
}

func (s *Simulator) handleGetOutage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sandbox.WriteJSON(w, http.StatusOK, map[string]bool{"down": s.down})
}

func (s *Simulator) handleSetOutage(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Down *bool `json:"down"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&req); err != nil || req.Down == nil {
		sandbox.WriteError(w, http.StatusBadRequest, `want {"down": true|false}`)
		return
	}
	s.SetDown(*req.Down)
	sandbox.WriteJSON(w, http.StatusOK, map[string]bool{"down": *req.Down})
}
