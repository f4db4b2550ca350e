// Package conformance is the conformance kit for Fachverfahren vendors: it
// runs ozgflow's delivery and callback protocol against a vendor's endpoint
// and reports, requirement by requirement, whether the endpoint behaves as
// ozgflow needs it to, with the evidence. `ozgflow conformance --target URL
// --secret …` runs it (cmd/ozgflow); it needs neither Temporal nor Redis.
//
// The kit delivers test cases as ozgflow's delivery client does (POST
// {target}/cases, signed with the shared secret, one Idempotency-Key per
// case and kind, the receipt {reference, receivedAt} expected back), tries
// what must be refused (a wrong, a missing and a stale signature), repeats a
// delivery, withdraws a case (POST {target}/cases/{caseId}/withdrawal), and
// runs a callback receiver of its own whose URL each delivery names as
// callbackUrl: there the endpoint must report back, signed as ozgflow
// signs deliveries, on the case it received (received, in review, and the
// decision with its PDF, as the delivery says awaitsDecision). The receiver
// answers the first callback with 503, as a gateway in a restart would, so
// that the endpoint shows it tries again.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ozgflow/ozgflow/activities/fachverfahren"
)

// Requirements, in the order of the report.
const (
	ReqDeliveryAccepted  = "delivery-accepted"
	ReqSignatureChecked  = "signature-checked"
	ReqIdempotent        = "idempotent"
	ReqTimely            = "timely"
	ReqWithdrawal        = "withdrawal"
	ReqCallbacksSent     = "callbacks-sent"
	ReqCallbacksSigned   = "callbacks-signed"
	ReqCallbacksValid    = "callbacks-valid"
	ReqCallbacksRetried  = "callbacks-retried"
	ReqDecisionReported  = "decision-reported"
	defaultCallbackWait  = time.Minute
	defaultReceiverPath  = "/callbacks"
	defaultReceiverAddr  = "127.0.0.1:0"
	staleSignatureOffset = 10 * time.Minute
)

// requirement is one line of the report before it is judged.
type requirement struct{ id, title string }

// requirements lists what the kit checks, with the sentence the report
// gives each; the timeout fills %s.
var requirements = []requirement{
	{ReqDeliveryAccepted, "accepts a signed delivery and answers with its receipt (reference, receivedAt)"},
	{ReqSignatureChecked, "refuses a delivery whose signature is wrong, missing or older than 5 minutes (401 or 403)"},
	{ReqIdempotent, "treats a repeated Idempotency-Key as the same delivery: the same receipt again"},
	{ReqTimely, "answers every delivery and withdrawal within %s"},
	{ReqWithdrawal, "takes a signed withdrawal of a case it received (2xx), and of one it never received (2xx or 404)"},
	{ReqCallbacksSent, "reports back to the delivery's callbackUrl (received, in_review)"},
	{ReqCallbacksSigned, "signs every callback with the shared secret over timestamp and body, within 5 minutes"},
	{ReqCallbacksValid, "sends callbacks of the documented shape: unique id, the case and its reference, a known event"},
	{ReqCallbacksRetried, "sends a callback again, with the same id, when the receiver answered 503"},
	{ReqDecisionReported, "reports its decision (event decided) with outcome and the decision's PDF where the delivery awaits it"},
}

// Config says what the kit checks and how.
type Config struct {
	// Target is the endpoint's base URL: deliveries go to {Target}/cases.
	Target string
	// Secret is the HMAC key ozgflow and the endpoint share.
	Secret []byte
	// Timeout is how long the endpoint may take to answer; zero means
	// fachverfahren.AnswerTimeout. The kit waits longer for an answer,
	// so that a slow endpoint fails this requirement only.
	Timeout time.Duration
	// Listen is where the kit's callback receiver listens; empty means a
	// free port on 127.0.0.1.
	Listen string
	// CallbackURL is the receiver's address as the endpoint reaches it;
	// empty means http://<Listen>/callbacks.
	CallbackURL string
	// CallbackWait bounds the wait for the callbacks; zero means 1 minute.
	CallbackWait time.Duration
	// HTTPClient sends the requests; nil means a client whose timeout is
	// Timeout with a margin.
	HTTPClient *http.Client
	// Now is the clock of the signatures; nil means time.Now.
	Now func() time.Time
}

// Result is one requirement's verdict with its evidence.
type Result struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Passed   bool     `json:"passed"`
	Evidence []string `json:"evidence"`
}

// Report is what a run found.
type Report struct {
	Target       string    `json:"target"`
	CallbackURL  string    `json:"callbackUrl"`
	StartedAt    time.Time `json:"startedAt"`
	Took         string    `json:"took"`
	Passed       bool      `json:"passed"`
	Requirements []Result  `json:"requirements"`
}

// Failed lists the IDs of the requirements not met.
func (r Report) Failed() []string {
	var out []string
	for _, res := range r.Requirements {
		if !res.Passed {
			out = append(out, res.ID)
		}
	}
	return out
}

// Run checks the endpoint and returns the report. Its error is for what
// kept the kit from checking (a bad configuration, no port to listen on);
// what the endpoint does wrong is in the report.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.setDefaults(); err != nil {
		return Report{}, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return Report{}, fmt.Errorf("callback receiver on %s: %w", cfg.Listen, err)
	}
	if cfg.CallbackURL == "" {
		cfg.CallbackURL = "http://" + ln.Addr().String() + defaultReceiverPath
	}
	rcv := newReceiver(cfg.Secret, cfg.Now)
	srv := &http.Server{Handler: rcv, ReadHeaderTimeout: 10 * time.Second}
	var served sync.WaitGroup
	served.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			rcv.fail(err)
		}
	})
	defer func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		served.Wait()
	}()

	run := &run{cfg: cfg, rcv: rcv, started: cfg.Now()}
	run.exchange(ctx)
	run.awaitCallbacks(ctx)
	report := Report{Target: cfg.Target, CallbackURL: cfg.CallbackURL, StartedAt: run.started.UTC(),
		Took: cfg.Now().Sub(run.started).Round(time.Millisecond).String(), Passed: true}
	verdicts := run.judge()
	for _, req := range requirements {
		title := req.title
		if strings.Contains(title, "%s") {
			title = fmt.Sprintf(title, cfg.Timeout)
		}
		v := verdicts[req.id]
		if len(v.evidence) == 0 {
			v.evidence = []string{"nothing to show"}
		}
		report.Requirements = append(report.Requirements, Result{ID: req.id, Title: title, Passed: v.passed, Evidence: v.evidence})
		report.Passed = report.Passed && v.passed
	}
	return report, nil
}

func (cfg *Config) setDefaults() error {
	cfg.Target = strings.TrimSuffix(strings.TrimSpace(cfg.Target), "/")
	if !strings.HasPrefix(cfg.Target, "http://") && !strings.HasPrefix(cfg.Target, "https://") {
		return fmt.Errorf("target %q: want the endpoint's http(s) base URL, e.g. https://fv.example.de/ozgflow", cfg.Target)
	}
	if len(cfg.Secret) == 0 {
		return errors.New("no secret: the kit signs deliveries with the secret the endpoint shares with ozgflow")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = fachverfahren.AnswerTimeout
	}
	if cfg.Listen == "" {
		cfg.Listen = defaultReceiverAddr
	}
	if cfg.CallbackWait <= 0 {
		cfg.CallbackWait = defaultCallbackWait
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: max(2*cfg.Timeout, cfg.Timeout+30*time.Second)}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return nil
}
