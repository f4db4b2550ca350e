package conformance

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/ozgflow/ozgflow"
)

// receiver is the kit's callback receiver: it answers as ozgflow's gateway
// does (401 for a bad signature, 204 for a callback taken or repeated) but
// for the first callback, which it answers 503 to see it come again, and
// keeps every request for the judgement.
type receiver struct {
	secret []byte
	now    func() time.Time

	mu       sync.Mutex
	arrivals []arrival
	refused  string // the ID of the callback answered 503, once one came
	wake     chan struct{}
	errs     []error
}

// arrival is one request to the receiver.
type arrival struct {
	at        time.Time
	signature error // nil: signed correctly and in time
	body      []byte
	parsed    bool
	callback  ozgflow.CallbackRequest
	answered  int
}

func newReceiver(secret []byte, now func() time.Time) *receiver {
	return &receiver{secret: secret, now: now, wake: make(chan struct{})}
}

// ServeHTTP takes a callback.
func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		problem(w, http.StatusMethodNotAllowed, "Callbacks are POSTed.")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, ozgflow.MaxCallbackBytes))
	if err != nil {
		problem(w, http.StatusRequestEntityTooLarge, "The callback is too large.")
		return
	}
	a := arrival{at: rc.now(), body: body}
	a.signature = ozgflow.VerifyBody(rc.secret, a.at, r.Header.Get(ozgflow.HeaderSignatureTimestamp),
		r.Header.Get(ozgflow.HeaderSignature), body)
	a.parsed = json.Unmarshal(body, &a.callback) == nil

	rc.mu.Lock()
	switch {
	case rc.refused == "" && a.parsed && a.callback.ID != "":
		// The first callback: as if the gateway were restarting.
		rc.refused = a.callback.ID
		a.answered = http.StatusServiceUnavailable
	case a.signature != nil:
		a.answered = http.StatusUnauthorized
	case !a.parsed:
		a.answered = http.StatusBadRequest
	default:
		a.answered = http.StatusNoContent
	}
	rc.arrivals = append(rc.arrivals, a)
	close(rc.wake)
	rc.wake = make(chan struct{})
	rc.mu.Unlock()

	switch a.answered {
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
		problem(w, a.answered, "The callback cannot be taken now; send it again later.")
	case http.StatusUnauthorized:
		problem(w, a.answered, "Callback signature refused: "+a.signature.Error()+".")
	case http.StatusBadRequest:
		problem(w, a.answered, "The callback is no JSON object of the documented shape.")
	default:
		w.WriteHeader(a.answered)
	}
}

func problem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"title": http.StatusText(status), "status": status, "detail": detail})
}

// changed is closed at the next arrival.
func (rc *receiver) changed() <-chan struct{} {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.wake
}

// fail keeps an error of the receiver's server for the report.
func (rc *receiver) fail(err error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.errs = append(rc.errs, err)
}

// all returns a copy of the arrivals.
func (rc *receiver) all() []arrival {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]arrival(nil), rc.arrivals...)
}

// settled reports whether the receiver has what it waits for on caseID:
// the callback it refused again, and the decision.
func (rc *receiver) settled(caseID string) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return retriedIn(rc.arrivals) && decidedIn(rc.arrivals, caseID)
}

// retriedIn reports whether the callback answered 503 came again.
func retriedIn(arrivals []arrival) bool {
	refused := ""
	for _, a := range arrivals {
		switch {
		case a.answered == http.StatusServiceUnavailable:
			refused = a.callback.ID
		case refused != "" && a.parsed && a.callback.ID == refused:
			return true
		}
	}
	return false
}

// decidedIn reports whether a decision on caseID arrived.
func decidedIn(arrivals []arrival, caseID string) bool {
	for _, a := range arrivals {
		if a.parsed && a.callback.CaseID == caseID && a.callback.Event == ozgflow.CallbackDecided {
			return true
		}
	}
	return false
}
