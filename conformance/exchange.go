package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/activities/fachverfahren"
)

// run is one check of an endpoint: the exchanges with it, then the
// callbacks its receiver got.
type run struct {
	cfg     Config
	rcv     *receiver
	started time.Time

	// The test cases: A is delivered twice and awaits the decision, C is
	// delivered and withdrawn, D never delivered; each bad signature
	// comes with a case of its own.
	caseA, caseC, caseD string

	mu        sync.Mutex
	exchanges []exchange
}

// exchange is one request to the endpoint and its answer.
type exchange struct {
	what    string // e.g. "delivery of case A"
	caseID  string
	status  int
	took    time.Duration
	body    []byte
	err     error
	receipt activities.Receipt
}

// answer names the outcome of an exchange for the evidence.
func (e exchange) answer() string {
	if e.err != nil {
		return fmt.Sprintf("no answer after %s (%v)", e.took.Round(time.Millisecond), e.err)
	}
	s := fmt.Sprintf("%d %s in %s", e.status, http.StatusText(e.status), e.took.Round(time.Millisecond))
	if e.status >= 300 {
		if line := strings.Join(strings.Fields(string(e.body)), " "); line != "" {
			if len(line) > 160 {
				line = line[:160] + "…"
			}
			s += ": " + line
		}
	}
	return s
}

func (e exchange) ok() bool { return e.err == nil && e.status >= 200 && e.status < 300 }

// Names of the exchanges.
const (
	exDeliverA     = "delivery of case A"
	exRepeatA      = "the same delivery of case A again (same Idempotency-Key)"
	exWrongSecret  = "delivery signed with another secret"
	exNoSignature  = "delivery without signature"
	exStale        = "delivery signed 10 minutes ago"
	exDeliverC     = "delivery of case C"
	exWithdrawC    = "withdrawal of case C"
	exWithdrawNone = "withdrawal of case D, never delivered"
)

// exchange runs the requests: three groups side by side, so that a slow
// endpoint costs the kit little more than the slowest group.
func (r *run) exchange(ctx context.Context) {
	r.caseA, r.caseC, r.caseD = newCaseID(), newCaseID(), newCaseID()
	var wg sync.WaitGroup
	wg.Go(func() {
		body := r.delivery(r.caseA, true)
		r.deliver(ctx, exDeliverA, r.caseA, body, r.cfg.Secret, 0)
		r.deliver(ctx, exRepeatA, r.caseA, body, r.cfg.Secret, 0)
	})
	for _, bad := range []struct {
		what   string
		secret []byte
		age    time.Duration
	}{
		{exWrongSecret, []byte("not-the-shared-secret"), 0},
		{exNoSignature, nil, 0},
		{exStale, r.cfg.Secret, staleSignatureOffset},
	} {
		wg.Go(func() {
			caseID := newCaseID()
			r.deliver(ctx, bad.what, caseID, r.delivery(caseID, false), bad.secret, bad.age)
		})
	}
	wg.Go(func() {
		r.deliver(ctx, exDeliverC, r.caseC, r.delivery(r.caseC, false), r.cfg.Secret, 0)
		r.withdraw(ctx, exWithdrawC, r.caseC)
	})
	wg.Go(func() { r.withdraw(ctx, exWithdrawNone, r.caseD) })
	wg.Wait()
}

// delivery is the body of a test case's delivery, as ozgflow sends it.
func (r *run) delivery(caseID string, awaitsDecision bool) []byte {
	body, _ := json.Marshal(fachverfahren.Delivery{
		Kind: "case", Target: "conformance", CallbackURL: r.cfg.CallbackURL,
		Submission: activities.Submission{
			CaseID: caseID, Service: "99990000000099", Authority: "000000000000",
			DefinitionID: "conformance", DefinitionVersion: 1,
			Applicant:      ozgflow.Applicant{Name: "Erika Mustermann (Konformitätsprüfung)"},
			Data:           json.RawMessage(`{"betreff":"Konformitätsprüfung von ozgflow"}`),
			SubmittedAt:    r.cfg.Now().UTC().Truncate(time.Second),
			AwaitsDecision: awaitsDecision,
		},
	})
	return body
}

// deliver posts a delivery signed with secret as of age ago (nil: unsigned).
func (r *run) deliver(ctx context.Context, what, caseID string, body, secret []byte, age time.Duration) {
	e := r.post(ctx, what, caseID, r.cfg.Target+"/cases", caseID+":case", body, secret, age)
	if e.ok() {
		if err := json.Unmarshal(e.body, &e.receipt); err != nil {
			e.receipt = activities.Receipt{}
		}
	}
	r.keep(e)
}

// withdraw posts a signed withdrawal of caseID.
func (r *run) withdraw(ctx context.Context, what, caseID string) {
	body, _ := json.Marshal(fachverfahren.Withdrawal{Reason: "Konformitätsprüfung"})
	r.keep(r.post(ctx, what, caseID, r.cfg.Target+"/cases/"+url.PathEscape(caseID)+"/withdrawal",
		caseID+":withdrawal", body, r.cfg.Secret, 0))
}

func (r *run) keep(e exchange) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exchanges = append(r.exchanges, e)
}

// post sends one request as ozgflow's client does and times the answer.
func (r *run) post(ctx context.Context, what, caseID, u, key string, body, secret []byte, age time.Duration) exchange {
	e := exchange{what: what, caseID: caseID}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		e.err = err
		return e
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set(fachverfahren.HeaderIdempotencyKey, key)
	if secret != nil {
		signed := r.cfg.Now().Add(-age)
		req.Header.Set(ozgflow.HeaderSignatureTimestamp, strconv.FormatInt(signed.Unix(), 10))
		req.Header.Set(ozgflow.HeaderSignature, ozgflow.SignBody(secret, signed, body))
	}
	start := time.Now()
	res, err := r.cfg.HTTPClient.Do(req)
	if err != nil {
		e.took, e.err = time.Since(start), err
		return e
	}
	defer res.Body.Close()
	e.body, e.err = io.ReadAll(io.LimitReader(res.Body, 1<<20))
	e.took, e.status = time.Since(start), res.StatusCode
	return e
}

// find returns the exchanges named what, in the order they ended.
func (r *run) find(what string) []exchange {
	var out []exchange
	for _, e := range r.exchanges {
		if e.what == what {
			out = append(out, e)
		}
	}
	return out
}

// one returns the exchange named what; ok is false when it did not happen.
func (r *run) one(what string) (exchange, bool) {
	if all := r.find(what); len(all) > 0 {
		return all[0], true
	}
	return exchange{}, false
}

// references are the receipts' references of a case.
func (r *run) references(caseID string) []string {
	var out []string
	for _, e := range r.exchanges {
		if e.caseID == caseID && e.receipt.Reference != "" {
			out = append(out, e.receipt.Reference)
		}
	}
	return out
}

// awaitCallbacks waits until the endpoint has reported its decision on
// case A and retried the callback the receiver refused, or CallbackWait
// passed.
func (r *run) awaitCallbacks(ctx context.Context) {
	if a, ok := r.one(exDeliverA); !ok || !a.ok() {
		return // nothing delivered, nothing to report on
	}
	deadline := time.NewTimer(r.cfg.CallbackWait)
	defer deadline.Stop()
	for {
		if r.rcv.settled(r.caseA) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-r.rcv.changed():
		}
	}
}

// newCaseID is a case ID as ozgflow makes them: a random UUID.
func newCaseID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
