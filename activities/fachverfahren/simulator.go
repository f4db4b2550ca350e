package fachverfahren

import (
	"encoding/json"
	"errors"
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

// Path is where the simulator serves its API below the gateway's root
// router; it is the base URL of the targets that the simulator plays.
const Path = "/sandbox/fachverfahren"

// MaxBody is the largest delivery the simulator accepts.
const MaxBody = 20 << 20

// outageMessage is the answer to every delivery during a simulated outage.
const outageMessage = "Fachverfahren nicht erreichbar"

// SimulatorConfig configures the simulator.
type SimulatorConfig struct {
	Secret    []byte       // HMAC key deliveries must be signed with
	StateFile string       // journal of the records (JSON lines); empty keeps them in memory
	Logger    *slog.Logger // nil means slog.Default()
}

// Record is one delivery the simulator received, as GET /received lists it.
type Record struct {
	CaseID           string                `json:"caseId"`
	Kind             string                `json:"kind"`
	Target           string                `json:"target"`
	Reference        string                `json:"reference"`
	ReceivedAt       time.Time             `json:"receivedAt"`
	Submission       activities.Submission `json:"submission"`
	Withdrawn        bool                  `json:"withdrawn"`
	WithdrawalReason string                `json:"withdrawalReason"`
}

// simState is what the simulator keeps across restarts.
type simState struct {
	Records []Record
	Keys    map[string]string // idempotency key → reference
	Next    int               // number of the last reference
}

// journalEntry is one line of the journal: a record as it is now and, for a
// new delivery, its idempotency key.
type journalEntry struct {
	Key    string `json:"key,omitempty"`
	Next   int    `json:"next,omitempty"`
	Record Record `json:"record"`
}

// Simulator is a Fachverfahren for development and tests: it verifies the
// signature, records each delivery once per idempotency key, takes
// withdrawals, and can be switched into an outage. The outage switch is not
// persisted: a restarted simulator is up. It is safe for concurrent use.
type Simulator struct {
	cfg SimulatorConfig
	log *slog.Logger

	outage  *sandbox.Outage
	mu      sync.Mutex
	state   simState
	byRef   map[string]int // reference → index in state.Records
	journal *sandbox.Journal
}

// NewSimulator returns a simulator with the records of cfg.StateFile, if that
// file exists.
func NewSimulator(cfg SimulatorConfig) (*Simulator, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	log := cfg.Logger.With("component", "fachverfahren-simulator")
	s := &Simulator{cfg: cfg, log: log, outage: sandbox.NewOutage("Fachverfahren", log),
		state: simState{Keys: map[string]string{}}, byRef: map[string]int{}}
	journal, err := sandbox.OpenJournal(cfg.StateFile, s.replay)
	if err != nil {
		return nil, fmt.Errorf("fachverfahren simulator: %w", err)
	}
	s.journal = journal
	for key, ref := range s.state.Keys {
		if _, ok := s.byRef[ref]; !ok {
			return nil, fmt.Errorf("fachverfahren simulator: state %s: key %q names unknown reference %q",
				cfg.StateFile, key, ref)
		}
	}
	return s, nil
}

// replay applies one journal line at start.
func (s *Simulator) replay(line []byte) error {
	var e journalEntry
	if err := json.Unmarshal(line, &e); err != nil {
		return err
	}
	if e.Record.Reference == "" || e.Record.CaseID == "" {
		return fmt.Errorf("record without reference or case")
	}
	if i, ok := s.byRef[e.Record.Reference]; ok {
		s.state.Records[i] = e.Record
	} else {
		s.byRef[e.Record.Reference] = len(s.state.Records)
		s.state.Records = append(s.state.Records, e.Record)
	}
	if e.Key != "" {
		s.state.Keys[e.Key] = e.Record.Reference
	}
	s.state.Next = max(s.state.Next, e.Next)
	return nil
}

// Close closes the journal.
func (s *Simulator) Close() error { return s.journal.Close() }

// Register adds the simulator's routes under /sandbox/fachverfahren to the
// root router r.
func (s *Simulator) Register(r *mux.Router) {
	sr := r.PathPrefix(Path).Subrouter()
	sr.HandleFunc("/cases", s.handleDeliver).Methods(http.MethodPost)
	sr.HandleFunc("/cases/{caseId}/withdrawal", s.handleWithdraw).Methods(http.MethodPost)
	sr.HandleFunc("/received", s.handleReceived).Methods(http.MethodGet)
	sr.Handle("/outage", s.outage).Methods(http.MethodGet, http.MethodPut)
}

// SetDown switches the simulated outage on or off. While it is on, deliveries
// and withdrawals are answered with 503.
func (s *Simulator) SetDown(down bool) { s.outage.SetDown(down) }

// Down reports whether the simulated outage is on.
func (s *Simulator) Down() bool { return s.outage.Down() }

// Received returns a copy of the records in arrival order.
func (s *Simulator) Received() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Record(nil), s.state.Records...)
}

// readSigned reads a request body and checks the outage switch and the
// signature, answering a refusal itself.
func (s *Simulator) readSigned(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if s.Down() {
		w.Header().Set("Retry-After", "30")
		sandbox.WriteError(w, http.StatusServiceUnavailable, outageMessage)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		sandbox.WriteError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", MaxBody))
		return nil, false
	case err != nil:
		sandbox.WriteError(w, http.StatusBadRequest, "body not read")
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
	var d Delivery
	if err := json.Unmarshal(body, &d); err != nil {
		sandbox.WriteError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return
	}
	if d.Submission.CaseID == "" || d.Kind == "" {
		sandbox.WriteError(w, http.StatusBadRequest, "kind and submission.caseId are required")
		return
	}
	key := r.Header.Get(HeaderIdempotencyKey)
	if key == "" {
		key = d.Submission.CaseID + ":" + d.Kind
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if ref, seen := s.state.Keys[key]; seen {
		rec := s.state.Records[s.byRef[ref]]
		if rec.CaseID != d.Submission.CaseID || rec.Kind != d.Kind {
			sandbox.WriteError(w, http.StatusConflict, "Idempotency-Key "+key+" belongs to another delivery")
			return
		}
		sandbox.WriteJSON(w, http.StatusOK, activities.Receipt{Reference: rec.Reference, ReceivedAt: rec.ReceivedAt})
		return
	}
	now := time.Now().UTC()
	s.state.Next++
	rec := Record{CaseID: d.Submission.CaseID, Kind: d.Kind, Target: d.Target,
		Reference: fmt.Sprintf("FV-%d-%06d", now.Year(), s.state.Next), ReceivedAt: now, Submission: d.Submission}
	s.state.Records = append(s.state.Records, rec)
	s.state.Keys[key] = rec.Reference
	s.byRef[rec.Reference] = len(s.state.Records) - 1
	if err := s.journal.Append(journalEntry{Key: key, Next: s.state.Next, Record: rec}); err != nil {
		s.state.Records = s.state.Records[:len(s.state.Records)-1]
		delete(s.state.Keys, key)
		delete(s.byRef, rec.Reference)
		s.state.Next--
		s.log.Error("Delivery not saved", "caseId", rec.CaseID, "error", err)
		sandbox.WriteError(w, http.StatusInternalServerError, "delivery not saved")
		return
	}
	s.log.Info("Case received", "caseId", rec.CaseID, "kind", rec.Kind, "target", rec.Target, "reference", rec.Reference)
	sandbox.WriteJSON(w, http.StatusCreated, activities.Receipt{Reference: rec.Reference, ReceivedAt: rec.ReceivedAt})
}

// withdrawalAnswer is the body of a successful withdrawal.
type withdrawalAnswer struct {
	CaseID     string   `json:"caseId"`
	Withdrawn  bool     `json:"withdrawn"`
	References []string `json:"references"`
}

func (s *Simulator) handleWithdraw(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readSigned(w, r)
	if !ok {
		return
	}
	var req Withdrawal
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			sandbox.WriteError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
			return
		}
	}
	caseID := mux.Vars(r)["caseId"]

	s.mu.Lock()
	defer s.mu.Unlock()
	answer := withdrawalAnswer{CaseID: caseID, Withdrawn: true, References: []string{}}
	var changed []int
	for i, rec := range s.state.Records {
		if rec.CaseID != caseID {
			continue
		}
		answer.References = append(answer.References, rec.Reference)
		if !rec.Withdrawn {
			changed = append(changed, i)
		}
	}
	if len(answer.References) == 0 {
		sandbox.WriteError(w, http.StatusNotFound, "no delivery of case "+caseID)
		return
	}
	if len(changed) == 0 {
		sandbox.WriteJSON(w, http.StatusOK, answer)
		return
	}
	var err error
	for _, i := range changed {
		s.state.Records[i].Withdrawn, s.state.Records[i].WithdrawalReason = true, req.Reason
		if err == nil {
			err = s.journal.Append(journalEntry{Record: s.state.Records[i]})
		}
	}
	if err != nil {
		for _, i := range changed {
			s.state.Records[i].Withdrawn, s.state.Records[i].WithdrawalReason = false, ""
		}
		s.log.Error("Withdrawal not saved", "caseId", caseID, "error", err)
		sandbox.WriteError(w, http.StatusInternalServerError, "withdrawal not saved")
		return
	}
	s.log.Info("Case withdrawn", "caseId", caseID, "records", len(changed))
	sandbox.WriteJSON(w, http.StatusOK, answer)
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
