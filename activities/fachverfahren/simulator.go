package fachverfahren

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
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

// BrokenPath is where dev serves a second simulator with every fault
// (BrokenFaults), for trying the conformance kit on a back office that
// fails it.
const BrokenPath = "/sandbox/kaputtes-fachverfahren"

// SimulatorConfig configures the simulator.
type SimulatorConfig struct {
	Secret    []byte       // HMAC key deliveries must be signed with, and callbacks are signed with
	StateFile string       // journal of the records (JSON lines); empty keeps them in memory
	Logger    *slog.Logger // nil means slog.Default()
	// Path is where Register serves the simulator; empty means Path.
	Path string
	// KeptInMemory is how many of the newest records keep their whole
	// submission in memory when StateFile is set; older ones keep what
	// callbacks need and are completed from the journal when listed. Zero
	// or less means sandbox.KeptInMemory.
	KeptInMemory int

	// Callbacks says on which deliveries the simulator reports back to the
	// delivery's callbackUrl; the zero value is CallbacksDecisions.
	Callbacks CallbackMode
	// CallbackDelay is the pause before each callback, as a back office
	// takes its time; zero means 200 ms.
	CallbackDelay time.Duration
	// Outcome is the decision the simulator reports (approve or reject);
	// empty means approve.
	Outcome string
	// CallbackAttempts bounds the tries of one callback; zero means 12
	// (about a minute with the backoff from 250 ms to 10 s).
	CallbackAttempts int
	// HTTPClient sends the callbacks; nil means one with a 10 s timeout.
	HTTPClient *http.Client

	// Faults break the simulator on purpose: the conformance kit's tests
	// show that it fails a back office that behaves so.
	Faults Faults
}

// CallbackMode says on which deliveries the simulator reports back.
type CallbackMode string

// Callback modes (OZGFLOW_SIMULATOR_CALLBACKS).
const (
	// CallbacksOff sends no callbacks.
	CallbacksOff CallbackMode = "off"
	// CallbacksProgress reports received and in review on deliveries that
	// await the back office's decision; the decision waits for
	// POST {path}/callbacks.
	CallbacksProgress CallbackMode = "progress"
	// CallbacksDecisions reports received, in review and the decision
	// (Outcome, with a PDF) on deliveries that await the back office's
	// decision. The default.
	CallbacksDecisions CallbackMode = "decisions"
	// CallbacksAll reports progress on every case delivered, and the
	// decision on those that await it.
	CallbacksAll CallbackMode = "all"
)

// ParseCallbackMode reads a mode; empty is CallbacksDecisions.
func ParseCallbackMode(s string) (CallbackMode, error) {
	switch m := CallbackMode(strings.TrimSpace(s)); m {
	case "":
		return CallbacksDecisions, nil
	case CallbacksOff, CallbacksProgress, CallbacksDecisions, CallbacksAll:
		return m, nil
	}
	return "", fmt.Errorf("unknown callback mode %q: want off, progress, decisions or all", s)
}

// Faults are what a broken back office does wrong.
type Faults struct {
	// AcceptBadSignatures takes deliveries whatever their signature says:
	// wrong, missing or too old.
	AcceptBadSignatures bool `json:"acceptBadSignatures,omitempty"`
	// RepeatedKeyIsNew records a delivery again, under a new reference,
	// when its Idempotency-Key comes again.
	RepeatedKeyIsNew bool `json:"repeatedKeyIsNew,omitempty"`
	// SlowAnswers delays every answer to a delivery or withdrawal.
	SlowAnswers time.Duration `json:"slowAnswers,omitempty"`
	// WrongCallbackSignatures signs callbacks with another key.
	WrongCallbackSignatures bool `json:"wrongCallbackSignatures,omitempty"`
}

// Any reports whether a fault is set.
func (f Faults) Any() bool { return f != Faults{} }

// SlowAnswer is how long the broken simulator takes to answer: longer than
// the conformance kit's default timeout allows.
const SlowAnswer = AnswerTimeout + 2*time.Second

// BrokenFaults are every fault at once.
var BrokenFaults = Faults{AcceptBadSignatures: true, RepeatedKeyIsNew: true, SlowAnswers: SlowAnswer,
	WrongCallbackSignatures: true}

// ParseFaults reads a comma-separated list of faults (OZGFLOW_SIMULATOR_FAULTS):
// bad-signatures, repeated-key, slow, callback-signatures, or broken for all.
func ParseFaults(s string) (Faults, error) {
	var f Faults
	for _, name := range strings.Split(s, ",") {
		switch strings.TrimSpace(name) {
		case "":
		case "broken":
			f = BrokenFaults
		case "bad-signatures":
			f.AcceptBadSignatures = true
		case "repeated-key":
			f.RepeatedKeyIsNew = true
		case "slow":
			f.SlowAnswers = SlowAnswer
		case "callback-signatures":
			f.WrongCallbackSignatures = true
		default:
			return Faults{}, fmt.Errorf("unknown fault %q: want bad-signatures, repeated-key, slow, callback-signatures or broken", name)
		}
	}
	return f, nil
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
	// CallbackURL is where the delivery asked to be reported back to.
	CallbackURL string `json:"callbackUrl,omitempty"`
	// Callbacks are the reports the simulator sent back, in order.
	Callbacks []SentCallback `json:"callbacks,omitempty"`

	// partial says that Submission holds only what callbacks need; the
	// whole of it is in the journal.
	partial bool
}

// partOfSubmission is what a record older than the newest
// SimulatorConfig.KeptInMemory keeps of its submission in memory: what callbacks
// need. The journal has the rest.
func partOfSubmission(sub activities.Submission) activities.Submission {
	return activities.Submission{CaseID: sub.CaseID, Service: sub.Service, AwaitsDecision: sub.AwaitsDecision}
}

// SentCallback is one callback the simulator sent, as GET /received shows it.
type SentCallback struct {
	ID       string    `json:"id"`
	Event    string    `json:"event"`
	Outcome  string    `json:"outcome,omitempty"`
	Status   int       `json:"status"`   // the receiver's last answer; 0 when none came
	Attempts int       `json:"attempts"` // tries, the first one included
	Error    string    `json:"error,omitempty"`
	At       time.Time `json:"at"`
}

// simState is what the simulator keeps across restarts.
type simState struct {
	Records []Record
	Keys    map[string]string // idempotency key → reference
	Next    int               // number of the last reference
}

// journalEntry is one line of the journal: a record as it is now and, for a
// new delivery, its idempotency key. A record's submission never changes:
// the first line of a reference has it, and later lines' is not read (for
// records older than the newest KeptInMemory it holds only what callbacks
// need).
type journalEntry struct {
	Key    string `json:"key,omitempty"`
	Next   int    `json:"next,omitempty"`
	Record Record `json:"record"`
}

// Simulator is a Fachverfahren for development and tests: it verifies the
// signature, records each delivery once per idempotency key, takes
// withdrawals, reports back with signed callbacks (received, in review,
// decided with a PDF) where a delivery asks for them, and can be switched
// into an outage. The outage switch is not persisted: a restarted
// simulator is up, and sends the callbacks it had not finished. It is safe
// for concurrent use.
type Simulator struct {
	cfg SimulatorConfig
	log *slog.Logger

	outage  *sandbox.Outage
	mu      sync.Mutex
	state   simState
	byRef   map[string]int // reference → index in state.Records
	journal *sandbox.Journal

	stop    context.Context // ends the callbacks under way at Close
	cancel  context.CancelFunc
	senders sync.WaitGroup
	sending map[string]bool // references whose callbacks are under way
	closed  bool
}

// NewSimulator returns a simulator with the records of cfg.StateFile, if that
// file exists.
func NewSimulator(cfg SimulatorConfig) (*Simulator, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Path == "" {
		cfg.Path = Path
	}
	if cfg.Callbacks == "" {
		cfg.Callbacks = CallbacksDecisions
	}
	if cfg.KeptInMemory <= 0 {
		cfg.KeptInMemory = sandbox.KeptInMemory
	}
	if cfg.CallbackDelay <= 0 {
		cfg.CallbackDelay = 200 * time.Millisecond
	}
	if cfg.Outcome == "" {
		cfg.Outcome = ozgflow.OutcomeApprove
	}
	if cfg.Outcome != ozgflow.OutcomeApprove && cfg.Outcome != ozgflow.OutcomeReject {
		return nil, fmt.Errorf("fachverfahren simulator: outcome %q: want approve or reject", cfg.Outcome)
	}
	if cfg.CallbackAttempts <= 0 {
		cfg.CallbackAttempts = 12
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	log := cfg.Logger.With("component", "fachverfahren-simulator", "path", cfg.Path)
	s := &Simulator{cfg: cfg, log: log, outage: sandbox.NewOutage("Fachverfahren", log),
		state: simState{Keys: map[string]string{}}, byRef: map[string]int{}, sending: map[string]bool{}}
	s.stop, s.cancel = context.WithCancel(context.Background())
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
	if cfg.Faults.Any() {
		log.Warn("Fachverfahren simulator broken on purpose", "faults", fmt.Sprintf("%+v", cfg.Faults))
	}
	s.mu.Lock()
	for _, rec := range s.state.Records {
		if s.reportsOn(rec) && len(s.pending(rec)) > 0 {
			s.startCallbacks(rec.Reference)
		}
	}
	s.mu.Unlock()
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
		e.Record.Submission, e.Record.partial = s.state.Records[i].Submission, s.state.Records[i].partial
		s.state.Records[i] = e.Record
	} else {
		s.add(e.Record)
	}
	if e.Key != "" {
		s.state.Keys[e.Key] = e.Record.Reference
	}
	s.state.Next = max(s.state.Next, e.Next)
	return nil
}

// add appends a new record and, when the journal is a file, keeps only
// part of the submission of the record that is now older than the newest
// cfg.KeptInMemory.
func (s *Simulator) add(rec Record) {
	s.byRef[rec.Reference] = len(s.state.Records)
	s.state.Records = append(s.state.Records, rec)
	if old := len(s.state.Records) - 1 - s.cfg.KeptInMemory; old >= 0 && s.cfg.StateFile != "" {
		s.state.Records[old].Submission = partOfSubmission(s.state.Records[old].Submission)
		s.state.Records[old].partial = true
	}
}

// Close ends the callbacks under way and closes the journal.
func (s *Simulator) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.senders.Wait()
	return s.journal.Close()
}

// Register adds the simulator's routes under its path (Path unless
// configured otherwise) to the root router r.
func (s *Simulator) Register(r *mux.Router) {
	sr := r.PathPrefix(s.cfg.Path).Subrouter()
	sr.HandleFunc("/cases", s.slow(s.handleDeliver)).Methods(http.MethodPost)
	sr.HandleFunc("/cases/{caseId}/withdrawal", s.slow(s.handleWithdraw)).Methods(http.MethodPost)
	sr.HandleFunc("/received", s.handleReceived).Methods(http.MethodGet)
	sr.HandleFunc("/callbacks", s.handleSendCallback).Methods(http.MethodPost)
	sr.Handle("/outage", s.outage).Methods(http.MethodGet, http.MethodPut)
}

// slow delays the answers of h by the fault SlowAnswers.
func (s *Simulator) slow(h http.HandlerFunc) http.HandlerFunc {
	d := s.cfg.Faults.SlowAnswers
	if d <= 0 {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
		h(w, r)
	}
}

// SetDown switches the simulated outage on or off. While it is on, deliveries
// and withdrawals are answered with 503.
func (s *Simulator) SetDown(down bool) { s.outage.SetDown(down) }

// Down reports whether the simulated outage is on.
func (s *Simulator) Down() bool { return s.outage.Down() }

// Received returns a copy of the records in arrival order. When the
// journal cannot complete an older record, it logs the error and returns
// the records as far as they could be completed.
func (s *Simulator) Received() []Record {
	out, err := s.records(func(Record) bool { return true })
	if err != nil {
		s.log.Error("Records not read", "error", err)
	}
	return out
}

// records returns copies of the records that keep selects, in arrival
// order, with the whole submission of each, read from the journal where
// memory keeps only part of it. The journal is read without holding up
// deliveries: a record's submission never changes, and its first line is
// written before the record is kept.
func (s *Simulator) records(keep func(Record) bool) ([]Record, error) {
	s.mu.Lock()
	out, partial := []Record{}, map[string]int{}
	for _, rec := range s.state.Records {
		if keep(rec) {
			if rec.partial {
				partial[rec.Reference] = len(out)
			}
			out = append(out, rec)
		}
	}
	s.mu.Unlock()
	if len(partial) == 0 {
		return out, nil
	}
	err := s.journal.Read(func(line []byte) error {
		var e journalEntry
		if err := json.Unmarshal(line, &e); err != nil {
			return err
		}
		if i, ok := partial[e.Record.Reference]; ok {
			out[i].Submission, out[i].partial = e.Record.Submission, false
			delete(partial, e.Record.Reference)
		}
		if len(partial) == 0 {
			return sandbox.ErrStop
		}
		return nil
	})
	if err == nil && len(partial) > 0 {
		err = fmt.Errorf("the journal lacks the deliveries of %d records", len(partial))
	}
	return out, err
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
		if !s.cfg.Faults.AcceptBadSignatures {
			sandbox.WriteError(w, http.StatusUnauthorized, "signature refused: "+err.Error())
			return nil, false
		}
		s.log.Warn("Signature refused, request taken anyway (fault)", "error", err)
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
	if ref, seen := s.state.Keys[key]; seen && !s.cfg.Faults.RepeatedKeyIsNew {
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
		Reference: fmt.Sprintf("FV-%d-%06d", now.Year(), s.state.Next), ReceivedAt: now, Submission: d.Submission,
		CallbackURL: d.CallbackURL}
	if err := s.journal.Append(journalEntry{Key: key, Next: s.state.Next, Record: rec}); err != nil {
		s.state.Next--
		s.log.Error("Delivery not saved", "caseId", rec.CaseID, "error", err)
		sandbox.WriteError(w, http.StatusInternalServerError, "delivery not saved")
		return
	}
	s.add(rec)
	s.state.Keys[key] = rec.Reference
	s.log.Info("Case received", "caseId", rec.CaseID, "kind", rec.Kind, "target", rec.Target, "reference", rec.Reference)
	if s.reportsOn(rec) {
		s.startCallbacks(rec.Reference)
	}
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
	out, err := s.records(func(rec Record) bool { return caseID == "" || rec.CaseID == caseID })
	if err != nil {
		s.log.Error("Records not listed", "error", err)
		sandbox.WriteError(w, http.StatusInternalServerError, "journal not read")
		return
	}
	sandbox.WriteJSON(w, http.StatusOK, out)
}
