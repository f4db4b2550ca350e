package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ozgflow/ozgflow"
)

// The portal outbox: every notice filed into a portal mailbox is also queued
// here, in the same transaction, as an event for the portal's webhook. An
// event is a hash (the notice, its state, attempts, times, last error); the
// pending ones sit in a sorted set by the time of their next attempt, the
// undeliverable ones in another by the time they gave up. A dispatcher claims
// due events by pushing their next attempt past a lease, so several
// dispatchers never send the same event at once, and one that dies leaves its
// events to the others once the lease runs out.

// States of a portal event.
const (
	PortalPending     = "pending"   // waiting for its next attempt, or being sent
	PortalFailed      = "failed"    // gave up after the last attempt; an administrator may resend it
	PortalDelivered   = "delivered" // the portal took it
	deliveredRetained = 7 * 24 * time.Hour
	maxErrorLen       = 500
)

// PortalEvent is one notice on its way to the portal.
type PortalEvent struct {
	ID          string         `json:"id"`
	Notice      ozgflow.Notice `json:"notice"`
	State       string         `json:"state"`
	Attempts    int            `json:"attempts"`
	CreatedAt   time.Time      `json:"createdAt"`
	NextAt      time.Time      `json:"nextAt"`
	FailedAt    time.Time      `json:"failedAt"`
	DeliveredAt time.Time      `json:"deliveredAt"`
	LastError   string         `json:"lastError"`
	// Refiled marks a notice filed again after the projections were lost:
	// the portal may have it already, which the dispatcher's ledger tells.
	Refiled bool `json:"refiled"`
	// Claim identifies the dispatcher's claim of a claimed event; only that
	// claim may reschedule it or give it up.
	Claim string `json:"-"`
}

// PortalEventPage is one page of the outbox in one state.
type PortalEventPage struct {
	Events []PortalEvent
	Total  int64
}

func (s *Store) portalEventKey(id string) string { return s.prefix + "portal:event:" + id }
func (s *Store) portalDueKey() string            { return s.prefix + "portal:due" }
func (s *Store) portalFailedKey() string         { return s.prefix + "portal:failed" }

// enqueueScript queues a notice unless an event with its ID exists already
// (a projection rebuilt after the loss of its case keeps the outbox as is).
var enqueueScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'notice', ARGV[2], 'state', 'pending', 'attempts', 0, 'createdAt', ARGV[3], 'nextAt', ARGV[3])
if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 'refiled', 1) end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1`)

// enqueuePortalEvent queues a newly filed notice for the portal, inside the
// transaction that files it, so that no notice is filed without its event.
// refiled marks a notice the portal may have taken before the projections
// were lost.
func (s *Store) enqueuePortalEvent(ctx context.Context, p redis.Pipeliner, n ozgflow.Notice, refiled bool) {
	b, _ := json.Marshal(n)
	flag := "0"
	if refiled {
		flag = "1"
	}
	enqueueScript.Eval(ctx, p, []string{s.portalEventKey(n.ID), s.portalDueKey()}, n.ID, b, time.Now().UnixMilli(), flag)
}

// claimScript takes up to ARGV[3] events due at ARGV[1], counts the attempt,
// pushes their next attempt to the lease's end and returns the score of the
// earliest event still waiting, then id, notice, attempts and the refiled
// flag of each.
var claimScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {''}
for _, id in ipairs(ids) do
  local k = ARGV[5] .. id
  local notice = redis.call('HGET', k, 'notice')
  if notice then
    local n = redis.call('HINCRBY', k, 'attempts', 1)
    redis.call('HSET', k, 'claim', ARGV[4], 'nextAt', ARGV[2])
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    table.insert(out, id)
    table.insert(out, notice)
    table.insert(out, n)
    table.insert(out, redis.call('HGET', k, 'refiled') or '0')
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if first[2] then out[1] = first[2] end
return out`)

// ClaimPortalEvents claims up to limit events due at now for the given lease
// and returns them with their attempt counted, and when the earliest event
// left waiting is due (zero when none waits). claim names this claim.
func (s *Store) ClaimPortalEvents(ctx context.Context, now time.Time, lease time.Duration, limit int, claim string) ([]PortalEvent, time.Time, error) {
	res, err := claimScript.Run(ctx, s.rdb, []string{s.portalDueKey()},
		now.UnixMilli(), now.Add(lease).UnixMilli(), limit, claim, s.portalEventKey("")).Slice()
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("claim portal events: %w", err)
	}
	var next time.Time
	if len(res) > 0 {
		if ms, err := strconv.ParseFloat(fmt.Sprint(res[0]), 64); err == nil {
			next = time.UnixMilli(int64(ms))
		}
	}
	var events []PortalEvent
	for i := 1; i+3 < len(res); i += 4 {
		e := PortalEvent{ID: fmt.Sprint(res[i]), State: PortalPending, Claim: claim}
		if err := json.Unmarshal([]byte(fmt.Sprint(res[i+1])), &e.Notice); err != nil {
			// A broken record would come back forever; it goes to the
			// undeliverable ones, where an administrator sees it.
			if err := s.PortalEventUndeliverable(ctx, e.ID, claim, now, "broken record: "+err.Error()); err != nil {
				return nil, next, err
			}
			continue
		}
		n, _ := res[i+2].(int64)
		e.Attempts = int(n)
		e.Refiled = fmt.Sprint(res[i+3]) == "1"
		events = append(events, e)
	}
	return events, next, nil
}

// retryScript moves a claimed event's next attempt, if the claim still holds.
var retryScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'claim') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'nextAt', ARGV[3], 'lastError', ARGV[4])
redis.call('HDEL', KEYS[1], 'claim')
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1`)

// RetryPortalEventAt schedules the next attempt of a claimed event after a
// failed one. A claim that no longer holds (its lease ran out and another
// dispatcher took the event, or an administrator resent it) changes nothing.
func (s *Store) RetryPortalEventAt(ctx context.Context, id, claim string, at time.Time, reason string) error {
	err := retryScript.Run(ctx, s.rdb, []string{s.portalEventKey(id), s.portalDueKey()},
		id, claim, at.UnixMilli(), truncate(reason)).Err()
	if err != nil {
		return fmt.Errorf("reschedule portal event %s: %w", id, err)
	}
	return nil
}

// failScript gives a claimed event up, if the claim still holds.
var failScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'claim') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'failed', 'failedAt', ARGV[3], 'lastError', ARGV[4])
redis.call('HDEL', KEYS[1], 'claim', 'nextAt')
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
return 1`)

// PortalEventUndeliverable gives a claimed event up after its last attempt:
// it leaves the queue for the list of undeliverable events, where an
// administrator can resend it.
func (s *Store) PortalEventUndeliverable(ctx context.Context, id, claim string, at time.Time, reason string) error {
	err := failScript.Run(ctx, s.rdb, []string{s.portalEventKey(id), s.portalDueKey(), s.portalFailedKey()},
		id, claim, at.UnixMilli(), truncate(reason)).Err()
	if err != nil {
		return fmt.Errorf("give up portal event %s: %w", id, err)
	}
	return nil
}

// deliveredScript marks an event delivered, whoever holds it, and keeps the
// record for a while so that a rebuilt projection does not queue it again.
var deliveredScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'state', 'delivered', 'deliveredAt', ARGV[2])
redis.call('HDEL', KEYS[1], 'claim', 'nextAt', 'failedAt')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1`)

// PortalEventDelivered records that the portal took an event.
func (s *Store) PortalEventDelivered(ctx context.Context, id string, at time.Time) error {
	keys, args := s.deliveredCall(id, at)
	err := deliveredScript.Run(ctx, s.rdb, keys, args...).Err()
	if err != nil {
		return fmt.Errorf("mark portal event %s delivered: %w", id, err)
	}
	return nil
}

// deliveredCall is the keys and arguments of deliveredScript for the event
// id, delivered at.
func (s *Store) deliveredCall(id string, at time.Time) ([]string, []any) {
	return []string{s.portalEventKey(id), s.portalDueKey(), s.portalFailedKey()},
		[]any{id, at.UnixMilli(), deliveredRetained.Milliseconds()}
}

// PortalEventsDelivered records that the portal took the events, in one
// round trip however many there are. It returns the failure of each event
// whose mark failed; those come back after their lease.
func (s *Store) PortalEventsDelivered(ctx context.Context, ids []string, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	if len(ids) == 1 {
		return s.PortalEventDelivered(ctx, ids[0], at)
	}
	// EVAL, not EVALSHA: a pipeline cannot load a script the server lost.
	cmds, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, id := range ids {
			keys, args := s.deliveredCall(id, at)
			deliveredScript.Eval(ctx, p, keys, args...)
		}
		return nil
	})
	if len(cmds) < len(ids) {
		return fmt.Errorf("mark portal events delivered: %w", err)
	}
	var failed []error
	for i, cmd := range cmds {
		if cmd.Err() != nil {
			failed = append(failed, fmt.Errorf("mark portal event %s delivered: %w", ids[i], cmd.Err()))
		}
	}
	return errors.Join(failed...)
}

// resendScript queues an event again with a fresh count of attempts.
var resendScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'state', 'pending', 'attempts', 0, 'nextAt', ARGV[2])
redis.call('HDEL', KEYS[1], 'claim', 'failedAt', 'deliveredAt')
redis.call('PERSIST', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1`)

// ResendPortalEvent queues an event again, due at once, with a fresh count
// of attempts: an undeliverable one after the portal is back, or any other
// that an administrator wants sent again (the portal drops what it has by
// the event's ID). An unknown event is not found.
func (s *Store) ResendPortalEvent(ctx context.Context, id string, now time.Time) error {
	n, err := resendScript.Run(ctx, s.rdb, []string{s.portalEventKey(id), s.portalDueKey(), s.portalFailedKey()},
		id, now.UnixMilli()).Int()
	if err != nil {
		return fmt.Errorf("resend portal event %s: %w", id, err)
	}
	if n == 0 {
		return ozgflow.Errorf(ozgflow.ENOTFOUND, "Portal event %s not found.", id)
	}
	return nil
}

// PortalEvent returns one event of the outbox.
func (s *Store) PortalEvent(ctx context.Context, id string) (PortalEvent, error) {
	fields, err := s.rdb.HGetAll(ctx, s.portalEventKey(id)).Result()
	if err != nil {
		return PortalEvent{}, fmt.Errorf("read portal event %s: %w", id, err)
	}
	if len(fields) == 0 {
		return PortalEvent{}, ozgflow.Errorf(ozgflow.ENOTFOUND, "Portal event %s not found.", id)
	}
	return portalEventOf(id, fields)
}

// PortalEvents lists the events in one state: the pending ones by their next
// attempt, the undeliverable ones newest first.
func (s *Store) PortalEvents(ctx context.Context, state string, offset, limit int64) (PortalEventPage, error) {
	var ids []string
	var total int64
	var err error
	switch state {
	case PortalPending:
		if total, err = s.rdb.ZCard(ctx, s.portalDueKey()).Result(); err == nil {
			ids, err = s.rdb.ZRange(ctx, s.portalDueKey(), offset, offset+limit-1).Result()
		}
	case PortalFailed:
		if total, err = s.rdb.ZCard(ctx, s.portalFailedKey()).Result(); err == nil {
			ids, err = s.rdb.ZRevRange(ctx, s.portalFailedKey(), offset, offset+limit-1).Result()
		}
	default:
		return PortalEventPage{}, ozgflow.Errorf(ozgflow.EINVALID, "Unknown state %q of portal events: want pending or failed.", state)
	}
	if err != nil {
		return PortalEventPage{}, fmt.Errorf("list %s portal events: %w", state, err)
	}
	page := PortalEventPage{Events: make([]PortalEvent, 0, len(ids)), Total: total}
	if len(ids) == 0 {
		return page, nil
	}
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, s.portalEventKey(id))
		}
		return nil
	}); err != nil {
		return PortalEventPage{}, fmt.Errorf("read %s portal events: %w", state, err)
	}
	for i, cmd := range cmds {
		if len(cmd.Val()) == 0 {
			continue
		}
		e, err := portalEventOf(ids[i], cmd.Val())
		if err != nil {
			return PortalEventPage{}, err
		}
		page.Events = append(page.Events, e)
	}
	return page, nil
}

// PortalEventCounts returns how many events wait and how many gave up.
func (s *Store) PortalEventCounts(ctx context.Context) (pending, failed int64, err error) {
	var p, f *redis.IntCmd
	if _, err := s.rdb.Pipelined(ctx, func(pl redis.Pipeliner) error {
		p, f = pl.ZCard(ctx, s.portalDueKey()), pl.ZCard(ctx, s.portalFailedKey())
		return nil
	}); err != nil {
		return 0, 0, fmt.Errorf("count portal events: %w", err)
	}
	return p.Val(), f.Val(), nil
}

// portalEventOf reads an event from its hash.
func portalEventOf(id string, f map[string]string) (PortalEvent, error) {
	e := PortalEvent{ID: id, State: f["state"], LastError: f["lastError"], Claim: f["claim"], Refiled: f["refiled"] == "1"}
	if err := json.Unmarshal([]byte(f["notice"]), &e.Notice); err != nil {
		return PortalEvent{}, fmt.Errorf("decode portal event %s: %w", id, err)
	}
	e.Attempts, _ = strconv.Atoi(f["attempts"])
	ms := func(name string) time.Time {
		if v, err := strconv.ParseInt(f[name], 10, 64); err == nil {
			return time.UnixMilli(v).UTC()
		}
		return time.Time{}
	}
	e.CreatedAt, e.NextAt, e.FailedAt, e.DeliveredAt = ms("createdAt"), ms("nextAt"), ms("failedAt"), ms("deliveredAt")
	return e, nil
}

// truncate keeps error texts short in Redis and in the administrators' list.
func truncate(s string) string {
	if len(s) <= maxErrorLen {
		return s
	}
	return s[:maxErrorLen] + "…"
}

// EachDeliveredPortalEvent calls fn with the IDs of the events the portal
// took that the outbox still keeps (for a week after delivery), in
// batches: what a ledger of deliveries begun later learns from it.
func (s *Store) EachDeliveredPortalEvent(ctx context.Context, fn func(ids []string) error) error {
	prefix := s.portalEventKey("")
	iter := s.rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	flush := func() error {
		if len(keys) == 0 {
			return nil
		}
		cmds := make([]*redis.StringCmd, len(keys))
		if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				cmds[i] = p.HGet(ctx, k, "state")
			}
			return nil
		}); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		var ids []string
		for i, c := range cmds {
			if c.Val() == PortalDelivered {
				ids = append(ids, strings.TrimPrefix(keys[i], prefix))
			}
		}
		keys = keys[:0]
		if len(ids) == 0 {
			return nil
		}
		return fn(ids)
	}
	for iter.Next(ctx) {
		if keys = append(keys, iter.Val()); len(keys) == 1000 {
			if err := flush(); err != nil {
				return fmt.Errorf("read delivered portal events: %w", err)
			}
		}
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("read delivered portal events: %w", err)
	}
	if err := flush(); err != nil {
		return fmt.Errorf("read delivered portal events: %w", err)
	}
	return nil
}
