package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ozgflow/ozgflow/test/e2e"
)

// application is one application the suite's portal submits, always under
// its own Idempotency-Key, as a careful portal does: a submit that got no
// answer is sent again under the same key and finds the same case.
type application struct {
	key     string
	body    []byte
	account string // the applicant's portal account, one per application
	fee     bool   // a parking permit, paid on the payment page; else a Hundesteuer-Anmeldung

	// Filled in from the first 201.
	id, paymentURL string
	accepted       bool
	paid           bool
}

// applications returns n applications: Hundesteuer-Anmeldungen in Leipzig
// and Dresden, delivered and confirmed without a fee or a case worker, and,
// with fees, every fees-th a parking permit that waits for its payment.
func applications(t *testing.T, n, fees int) []*application {
	t.Helper()
	out := make([]*application, n)
	for i := range out {
		a := &application{key: "faults-" + uuid.NewString(), account: fmt.Sprintf("amt24-faults-%d", i)}
		var body map[string]any
		if fees > 0 && i%fees == fees-1 {
			a.fee = true
			body = e2e.Parkausweis("Südvorstadt", a.account)
		} else {
			authority := e2e.Leipzig
			if i%2 == 1 {
				authority = e2e.Dresden
			}
			body = e2e.Hundesteuer(authority)
			body["applicant"].(map[string]any)["portalAccount"] = a.account
		}
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		a.body = b
		out[i] = a
	}
	return out
}

// answer is how a submit ended.
type answer int

const (
	created    answer = iota // 201
	refused                  // 503: the gateway is stopping or not ready
	doorClosed               // nothing listened: the request never reached dev
	cutOff                   // the connection broke after the request was sent
	otherwise                // any other status: a failure
)

// portal is the suite's client: the demo portal for submits, the
// administrator for reading cases, and the sandboxes' switches and lists.
type portal struct {
	base string
	http *http.Client

	mu          sync.Mutex
	answers     map[answer]int
	wrong       []string // answers other than 201 and 503
	withoutLink []string // parking permits whose 201 carried no payment link
}

func newPortal(base string) *portal {
	// A connection per request, so that a broken one says whether the
	// request got through.
	tr := &http.Transport{DisableKeepAlives: true}
	return &portal{base: base, http: &http.Client{Transport: tr, Timeout: 60 * time.Second}, answers: map[answer]int{}}
}

// submit sends an application once and records the answer.
func (p *portal) submit(a *application) answer {
	req, err := http.NewRequest(http.MethodPost, p.base+"/api/v1/applications", bytes.NewReader(a.body))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer dev-portal")
	req.Header.Set("Idempotency-Key", a.key)
	res, err := p.http.Do(req)
	got := otherwise
	var body []byte
	switch {
	case err != nil && isDialError(err):
		got = doorClosed
	case err != nil:
		got = cutOff
	default:
		body, _ = io.ReadAll(res.Body)
		res.Body.Close()
		switch res.StatusCode {
		case http.StatusCreated:
			got = created
		case http.StatusServiceUnavailable:
			got = refused
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answers[got]++
	if got == otherwise {
		p.wrong = append(p.wrong, fmt.Sprintf("%d %s", res.StatusCode, body))
	}
	if got == created {
		var m struct {
			ID      string `json:"id"`
			Payment *struct {
				RedirectURL string `json:"redirectUrl"`
			} `json:"payment"`
		}
		if err := json.Unmarshal(body, &m); err != nil || m.ID == "" {
			p.wrong = append(p.wrong, fmt.Sprintf("201 without a case: %s", body))
			return otherwise
		}
		if a.accepted && a.id != m.ID {
			p.wrong = append(p.wrong, fmt.Sprintf("key %s answered case %s, before %s", a.key, m.ID, a.id))
		}
		a.id, a.accepted = m.ID, true
		if m.Payment != nil {
			a.paymentURL = m.Payment.RedirectURL
		}
	}
	return got
}

// submitAll submits the applications not yet accepted, workers at a time,
// each once, until all were tried or ctx ends. onAnswer, if set, sees each
// answer as it comes.
func (p *portal) submitAll(ctx context.Context, apps []*application, workers int, onAnswer func(answer)) {
	next := make(chan *application)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for a := range next {
				got := p.submit(a)
				if onAnswer != nil {
					onAnswer(got)
				}
			}
		})
	}
	for _, a := range apps {
		if a.accepted {
			continue
		}
		select {
		case next <- a:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
}

// resubmit sends every application that has no case yet again under its
// key, as a portal does after a failed attempt; each must now be accepted.
func (p *portal) resubmit(t *testing.T, apps []*application) int {
	t.Helper()
	n := 0
	for _, a := range apps {
		if a.accepted {
			continue
		}
		n++
		if got := p.submit(a); got != created {
			t.Errorf("resubmit under key %s: answer %d", a.key, got)
		}
	}
	return n
}

// wrongAnswers lists the answers that were neither 201 nor 503.
func (p *portal) wrongAnswers() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.wrong...)
}

// answered tells how often a kind of answer came.
func (p *portal) answered(a answer) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.answers[a]
}

// pay pays the accepted parking permits not yet paid on the payment
// sandbox's page, as the applicant does, with the link the submit answered.
// A permit whose 201 came without the link is noted (withoutLink) and paid
// with the link its case shows once it has one, as an applicant would on
// the status page.
func (p *portal) pay(t *testing.T, apps []*application) {
	t.Helper()
	for _, a := range apps {
		if !a.fee || !a.accepted || a.paid {
			continue
		}
		link := a.paymentURL
		if link == "" {
			p.mu.Lock()
			p.withoutLink = append(p.withoutLink, a.id)
			p.mu.Unlock()
			link = p.waitPaymentLink(a.id, finishTimeout)
		}
		if link == "" {
			t.Errorf("case %s has no payment link", a.id)
			continue
		}
		// The page sends the browser back to the status page, which
		// only the applicant's cookie opens: the redirect is the answer.
		client := *p.http
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		res, err := client.PostForm(link, url.Values{"action": {"pay"}})
		if err != nil {
			t.Errorf("payment page of case %s: %v", a.id, err)
			continue
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusOK {
			t.Errorf("payment page of case %s: %d", a.id, res.StatusCode)
			continue
		}
		a.paid = true
	}
}

// waitPaymentLink waits until the case shows its payment link.
func (p *portal) waitPaymentLink(id string, timeout time.Duration) string {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c, found, err := p.readCase(id); err == nil && found && c.Payment != nil && c.Payment.RedirectURL != "" {
			return c.Payment.RedirectURL
		}
		time.Sleep(200 * time.Millisecond)
	}
	return ""
}

// answeredWithoutLink lists the parking permits whose 201 carried no
// payment link.
func (p *portal) answeredWithoutLink() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.withoutLink...)
}

// call sends a request and decodes a JSON answer into out.
func (p *portal) call(method, path, token string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := p.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, err
	}
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			return res.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return res.StatusCode, nil
}

// caseView is what the suite reads of a case.
type caseView struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Payment *struct {
		RedirectURL string `json:"redirectUrl"`
	} `json:"payment"`
	Timeline []struct {
		ID string `json:"id"`
	} `json:"timeline"`
}

// finished reports whether a case reached its end: every application of
// the suite is approved, the Hundesteuer-Anmeldung after its delivery, the
// parking permit by rule after its payment.
func (c caseView) finished() bool { return c.Status == "approved" }

// readCase reads a case as the administrator; found is false on 404.
func (p *portal) readCase(id string) (c caseView, found bool, err error) {
	status, err := p.call(http.MethodGet, "/api/v1/applications/"+id, "dev-admin", nil, &c)
	switch {
	case err != nil:
		return c, false, err
	case status == http.StatusNotFound:
		return c, false, nil
	case status != http.StatusOK:
		return c, false, fmt.Errorf("read case %s: %d", id, status)
	}
	return c, true, nil
}

// ready reports whether /readyz answers 200, and what it says.
func (p *portal) ready() (bool, string) {
	status, body := get(p.base + "/readyz")
	return status == http.StatusOK, body
}

// waitFinished waits until /readyz answers 200 and every accepted case is
// finished, and returns when that was. When the deadline passes first, it
// returns the zero time; lost then tells which cases are missing.
func (p *portal) waitFinished(apps []*application, timeout time.Duration) time.Time {
	deadline := time.Now().Add(timeout)
	done := map[string]bool{}
	for {
		if ok, _ := p.ready(); ok {
			all := true
			for _, a := range apps {
				if !a.accepted || done[a.id] {
					continue
				}
				c, found, err := p.readCase(a.id)
				if err == nil && found && c.finished() {
					done[a.id] = true
					continue
				}
				all = false
				break
			}
			if all {
				return time.Now()
			}
		}
		if time.Now().After(deadline) {
			return time.Time{}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tally is what a scenario counts.
type tally struct {
	accepted            int
	lost                []string // accepted cases not found or not finished
	duplicateDeliveries int      // the Fachverfahren received a case more than once, or a case nobody submitted
	duplicateNotices    int      // the portal received a notice more than once
	missingNotices      int      // notices of finished cases the portal has not received
	noticesReceived     int      // notices of the scenario's cases the portal holds
}

// count reads the cases, the Fachverfahren simulator and the sandbox
// portal and counts what was lost and what came twice.
func (p *portal) count(t *testing.T, apps []*application) tally {
	t.Helper()
	var n tally
	ours := map[string]bool{}
	expected := map[string]int{} // notices per finished case
	for _, a := range apps {
		if !a.accepted {
			continue
		}
		n.accepted++
		ours[a.id] = true
		c, found, err := p.readCase(a.id)
		switch {
		case err != nil:
			t.Errorf("case %s: %v", a.id, err)
			n.lost = append(n.lost, a.id+" (unreadable)")
		case !found:
			n.lost = append(n.lost, a.id+" (not found)")
		case !c.finished():
			n.lost = append(n.lost, a.id+" ("+c.Status+")")
		default:
			expected[a.id] = len(c.Timeline)
		}
	}

	var received []struct {
		CaseID string `json:"caseId"`
		Kind   string `json:"kind"`
	}
	if status, err := p.call(http.MethodGet, "/sandbox/fachverfahren/received", "", nil, &received); err != nil || status != http.StatusOK {
		t.Fatalf("Fachverfahren simulator: %d %v", status, err)
	}
	deliveries := map[string]int{}
	for _, r := range received {
		if r.Kind == "case" {
			deliveries[r.CaseID]++
		}
	}
	for id, k := range deliveries {
		switch {
		case !ours[id]:
			t.Errorf("the Fachverfahren received case %s, which no submit of this scenario was answered with", id)
			n.duplicateDeliveries++
		case k > 1:
			t.Errorf("the Fachverfahren received case %s %d times", id, k)
			n.duplicateDeliveries += k - 1
		}
	}

	var events struct {
		Events []struct {
			ID         string `json:"id"`
			Subject    string `json:"subject"`
			Deliveries int    `json:"deliveries"`
		} `json:"events"`
		Duplicates int `json:"duplicates"`
	}
	if status, err := p.call(http.MethodGet, "/sandbox/portal/events", "", nil, &events); err != nil || status != http.StatusOK {
		t.Fatalf("sandbox portal: %d %v", status, err)
	}
	n.duplicateNotices = events.Duplicates
	got := map[string]int{}
	for _, e := range events.Events {
		if ours[e.Subject] {
			n.noticesReceived++
		}
		got[e.Subject]++
		if e.Deliveries > 1 {
			t.Errorf("the portal received notice %s %d times", e.ID, e.Deliveries)
		}
	}
	for id, want := range expected {
		if got[id] < want {
			n.missingNotices += want - got[id]
		}
	}
	sort.Strings(n.lost)
	return n
}

// waitNotices waits until the portal holds every notice of the finished
// cases, and returns when, or the zero time when the deadline passed.
func (p *portal) waitNotices(t *testing.T, apps []*application, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if n := p.count(t, apps); n.missingNotices == 0 {
			return time.Now()
		}
		if time.Now().After(deadline) {
			return time.Time{}
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// setDown switches a sandbox's outage: "fachverfahren" or "portal".
func (p *portal) setDown(t *testing.T, sandbox string, down bool) {
	t.Helper()
	status, err := p.call(http.MethodPut, "/sandbox/"+sandbox+"/outage", "", map[string]bool{"down": down}, nil)
	if err != nil || status != http.StatusOK {
		t.Fatalf("outage switch of %s: %d %v", sandbox, status, err)
	}
}

// summary says in a few words how the submits were answered.
func (p *portal) summary() string {
	var parts []string
	for _, x := range []struct {
		a    answer
		what string
	}{{created, "201"}, {refused, "503"}, {doorClosed, "door closed"}, {cutOff, "cut off"}, {otherwise, "other"}} {
		if k := p.answered(x.a); k > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", k, x.what))
		}
	}
	return strings.Join(parts, ", ")
}

// missingInMailboxes counts the notices of finished cases that their
// applicants' mailboxes lack: the mailboxes are projections in Redis.
func (p *portal) missingInMailboxes(t *testing.T, apps []*application) int {
	t.Helper()
	missing := 0
	for _, a := range apps {
		if !a.accepted {
			continue
		}
		c, found, err := p.readCase(a.id)
		if err != nil || !found {
			continue // counted as lost
		}
		var page struct {
			Notices []struct {
				CaseID string `json:"caseId"`
			} `json:"notices"`
		}
		status, err := p.call(http.MethodGet, "/api/v1/accounts/"+a.account+"/notices?limit=100", "dev-portal", nil, &page)
		if err != nil || status != http.StatusOK {
			t.Errorf("mailbox of %s: %d %v", a.account, status, err)
			continue
		}
		n := 0
		for _, x := range page.Notices {
			if x.CaseID == a.id {
				n++
			}
		}
		if n < len(c.Timeline) {
			missing += len(c.Timeline) - n
		}
	}
	return missing
}
