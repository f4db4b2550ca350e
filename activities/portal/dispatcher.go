package portal

import (
	"context"
	cryptorand "crypto/rand"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ozgflow/ozgflow/store"
)

// Outbox is where the dispatcher finds the events: the store's portal
// outbox, which SaveCase fills in the transaction that files each notice.
type Outbox interface {
	ClaimPortalEvents(ctx context.Context, now time.Time, lease time.Duration, limit int, claim string) ([]store.PortalEvent, time.Time, error)
	RetryPortalEventAt(ctx context.Context, id, claim string, at time.Time, reason string) error
	PortalEventUndeliverable(ctx context.Context, id, claim string, at time.Time, reason string) error
	PortalEventsDelivered(ctx context.Context, ids []string, at time.Time) error
}

// Ledger remembers which notices the portal took where a lost Redis does
// not take it along (ozgflow's records database): a rebuild of the
// projections files every notice again, marked refiled, and the
// dispatcher sends none the ledger knows, so the portal gets none twice.
type Ledger interface {
	RecordDelivered(ctx context.Context, noticeIDs []string, at time.Time) error
	// Delivered tells which of the notices the portal took.
	Delivered(ctx context.Context, noticeIDs []string) (map[string]bool, error)
}

// Sender posts one event to the portal (Client).
type Sender interface {
	Send(ctx context.Context, e Event) error
}

// Defaults of a Dispatcher.
const (
	DefaultMaxAttempts = 40 // with DefaultBackoff about five and a half hours of trying
	defaultLease       = 2 * time.Minute
	defaultSendTimeout = 30 * time.Second
	defaultPoll        = time.Second
	defaultBatch       = 32
	defaultParallel    = 4
	defaultStopGrace   = 5 * time.Second
)

// Dispatcher delivers the events of the outbox to the portal at least once:
// it claims due events for a lease, sends them, and records the outcome; a
// failed attempt comes back after a backoff, and after MaxAttempts the event
// is given up as undeliverable until an administrator resends it. Any number
// of dispatchers may run against one outbox: a claim keeps the others off an
// event while it is sent, and the events of a dispatcher that dies come due
// again when its lease runs out.
type Dispatcher struct {
	Outbox Outbox
	Sender Sender
	// Ledger, if set, notes the notices of each batch the portal took, in
	// one write per batch.
	Ledger Ledger
	// Backoff between attempts; zero means DefaultBackoff.
	Backoff Backoff
	// MaxAttempts before an event is undeliverable; zero means DefaultMaxAttempts.
	MaxAttempts int
	// Lease is how long a claim holds; it must outlast SendTimeout. Zero: 2 min.
	Lease time.Duration
	// SendTimeout bounds one attempt. Zero: 30 s.
	SendTimeout time.Duration
	// Poll is how often an idle dispatcher looks for new events. Zero: 1 s.
	Poll time.Duration
	// Batch is how many events one claim takes; Parallel how many are sent
	// at once. Zero: 32 and 4.
	Batch, Parallel int
	// StopGrace is how long the attempts under way may still take once Run
	// is told to stop: cut short, an attempt the portal took is given back
	// and sent again after the restart. Zero: 5 s.
	StopGrace time.Duration
	Logger    *slog.Logger     // nil means slog.Default()
	Now       func() time.Time // nil means time.Now
	Rand      func() float64   // jitter source in [0, 1); nil means math/rand

	claims atomic.Int64
	id     string
}

func (d *Dispatcher) init() {
	if d.Backoff == (Backoff{}) {
		d.Backoff = DefaultBackoff
	}
	if d.MaxAttempts <= 0 {
		d.MaxAttempts = DefaultMaxAttempts
	}
	if d.SendTimeout <= 0 {
		d.SendTimeout = defaultSendTimeout
	}
	if d.Lease <= 0 {
		d.Lease = defaultLease
	}
	d.Lease = max(d.Lease, d.SendTimeout+10*time.Second)
	if d.Poll <= 0 {
		d.Poll = defaultPoll
	}
	if d.Batch <= 0 {
		d.Batch = defaultBatch
	}
	if d.Parallel <= 0 {
		d.Parallel = defaultParallel
	}
	if d.StopGrace <= 0 {
		d.StopGrace = defaultStopGrace
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	d.Logger = d.Logger.With("component", "portal-dispatcher")
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Rand == nil {
		d.Rand = rand.Float64
	}
	d.id = cryptorand.Text()[:12]
}

// Run delivers events until ctx ends. Then it starts no attempt and gives
// the events it claimed back to the outbox; the attempts under way may
// finish within StopGrace, and those still waiting for the portal are
// given back too. Run returns nil after a cancel.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.init()
	d.Logger.Info("Portal dispatcher running", "maxAttempts", d.MaxAttempts,
		"backoffInitial", d.Backoff.Initial, "backoffMax", d.Backoff.Max)
	attempts, cut := context.WithCancel(context.WithoutCancel(ctx))
	defer cut()
	go func() {
		select {
		case <-ctx.Done():
		case <-attempts.Done():
			return
		}
		grace := time.NewTimer(d.StopGrace)
		defer grace.Stop()
		select {
		case <-grace.C:
			cut()
		case <-attempts.Done():
		}
	}()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		n, next, err := d.dispatch(ctx, attempts)
		if ctx.Err() != nil {
			return nil
		}
		wait := d.Poll
		switch {
		case err != nil:
			d.Logger.Warn("Portal outbox not read", "error", err)
		case n >= d.Batch:
			wait = 0
		case !next.IsZero():
			wait = max(min(wait, next.Sub(d.Now())), 0)
		}
		timer.Reset(wait)
	}
}

// dispatch claims one batch and delivers it, each attempt under attempts;
// once ctx ends it starts no further attempt. It returns how many events
// it claimed and when the earliest one left waiting is due.
func (d *Dispatcher) dispatch(ctx, attempts context.Context) (int, time.Time, error) {
	claim := d.id + "-" + strconv.FormatInt(d.claims.Add(1), 10)
	events, next, err := d.Outbox.ClaimPortalEvents(ctx, d.Now(), d.Lease, d.Batch, claim)
	if err != nil {
		return 0, time.Time{}, err
	}
	events = d.skipDelivered(ctx, events)
	slots := make(chan struct{}, d.Parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var delivered []string
	for _, e := range events {
		slots <- struct{}{}
		if ctx.Err() != nil {
			<-slots
			d.giveBack(ctx, e)
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			if d.deliver(attempts, e) {
				mu.Lock()
				delivered = append(delivered, e.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	d.note(ctx, delivered)
	d.markDelivered(ctx, delivered)
	return len(events), next, nil
}

// skipDelivered looks the refiled events up in the ledger: those the
// portal took before are marked delivered without being sent again. When
// the ledger does not answer, the refiled events wait for the next
// attempt rather than risk a second delivery. It returns the events to send.
func (d *Dispatcher) skipDelivered(ctx context.Context, events []store.PortalEvent) []store.PortalEvent {
	var refiled []string
	for _, e := range events {
		if e.Refiled {
			refiled = append(refiled, e.ID)
		}
	}
	if d.Ledger == nil || len(refiled) == 0 {
		return events
	}
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	done, err := d.Ledger.Delivered(rec, refiled)
	now := d.Now()
	send := events[:0:0]
	var known []string
	for _, e := range events {
		switch {
		case !e.Refiled:
			send = append(send, e)
		case err != nil:
			outcome := d.Outbox.RetryPortalEventAt(rec, e.ID, e.Claim, now.Add(d.Backoff.Delay(e.Attempts, d.Rand())),
				"the ledger of portal deliveries does not answer: "+err.Error())
			if outcome != nil {
				d.Logger.Error("Portal event outcome not saved; it comes back after the lease", "event", e.ID, "error", outcome)
			}
		case done[e.ID]:
			d.Logger.Debug("Portal event delivered before the projections were rebuilt; not sent again", "event", e.ID)
			known = append(known, e.ID)
		default:
			send = append(send, e)
		}
	}
	d.markDelivered(ctx, known)
	if err != nil {
		d.Logger.Warn("Refiled portal events wait: the ledger of portal deliveries does not answer", "events", len(refiled), "error", err)
	}
	return send
}

// markDelivered records in the outbox that the portal took the events, in
// one write; the ledger knows them first, so that losing the outbox in
// between sends none of them again.
func (d *Dispatcher) markDelivered(ctx context.Context, ids []string) {
	if len(ids) == 0 {
		return
	}
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := d.Outbox.PortalEventsDelivered(rec, ids, d.Now()); err != nil {
		d.Logger.Error("Portal event outcomes not saved; they come back after the lease", "events", len(ids), "error", err)
	}
}

// note writes the notices the portal took to the ledger.
func (d *Dispatcher) note(ctx context.Context, delivered []string) {
	if d.Ledger == nil || len(delivered) == 0 {
		return
	}
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := d.Ledger.RecordDelivered(rec, delivered, d.Now()); err != nil {
		d.Logger.Warn("Portal deliveries not noted; a rebuild of the projections would send them again",
			"events", len(delivered), "error", err)
	}
}

// giveBack returns a claimed event to the outbox, due at once, without
// an attempt: the dispatcher stops.
func (d *Dispatcher) giveBack(ctx context.Context, e store.PortalEvent) {
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := d.Outbox.RetryPortalEventAt(rec, e.ID, e.Claim, d.Now(), "dispatcher stopped before the attempt"); err != nil {
		d.Logger.Error("Portal event outcome not saved; it comes back after the lease", "event", e.ID, "error", err)
	}
}

// deliver makes one attempt and records its outcome, but for a success,
// which the batch records once the ledger knows it; it reports whether the
// portal took the event. An attempt cut short by ctx is given back.
func (d *Dispatcher) deliver(ctx context.Context, e store.PortalEvent) bool {
	sendCtx, cancel := context.WithTimeout(ctx, d.SendTimeout)
	sendErr := d.Sender.Send(sendCtx, NewEvent(e.Notice))
	cancel()
	// The outcome is recorded even when ctx ended during the attempt.
	rec, cancelRec := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancelRec()
	now := d.Now()
	var err error
	switch {
	case sendErr == nil:
		d.Logger.Debug("Portal event delivered", "event", e.ID, "attempt", e.Attempts)
	case ctx.Err() != nil:
		err = d.Outbox.RetryPortalEventAt(rec, e.ID, e.Claim, now, "dispatcher stopped during the attempt")
	case e.Attempts >= d.MaxAttempts:
		d.Logger.Warn("Portal event undeliverable; an administrator can resend it", "event", e.ID,
			"attempts", e.Attempts, "error", sendErr)
		err = d.Outbox.PortalEventUndeliverable(rec, e.ID, e.Claim, now, sendErr.Error())
	default:
		wait := d.Backoff.Delay(e.Attempts, d.Rand())
		var se *StatusError
		if errors.As(sendErr, &se) && se.RetryAfter > wait {
			wait = min(se.RetryAfter, d.Backoff.Max)
		}
		d.Logger.Debug("Portal event retried", "event", e.ID, "attempt", e.Attempts, "in", wait, "error", sendErr)
		err = d.Outbox.RetryPortalEventAt(rec, e.ID, e.Claim, now.Add(wait), sendErr.Error())
	}
	if err != nil {
		d.Logger.Error("Portal event outcome not saved; it comes back after the lease", "event", e.ID, "error", err)
	}
	return sendErr == nil
}
