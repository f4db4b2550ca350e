package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ozgflow/ozgflow"
)

// The index of failing external calls: which cases wait on a target whose
// calls fail (one record per case and target, its last failure and since
// when), and since when each target fails without a success in between.
// The worker writes it at every attempt of an external call; it is a cheap
// list of candidates, while Temporal says whether a case still waits.
// Losing it loses nothing: the next failing attempt writes it again.

func (s *Store) callsKey() string   { return s.prefix + "ops:calls" }
func (s *Store) targetsKey() string { return s.prefix + "ops:targets" }
func (s *Store) alertedKey() string { return s.prefix + "ops:alerted" }

// callField names the record of a case's calls to one target: a case may
// wait on a Fachverfahren while its notice mail succeeds.
func callField(caseID, target string) string { return caseID + "|" + target }

// CallFailed records a failed attempt of a case's call to f.Target. The
// run's start (Since) stays that of the case's earlier failures on the same
// target, and the target counts as failing from its first failure on. The
// message is kept without e-mail addresses.
func (s *Store) CallFailed(ctx context.Context, f ozgflow.CallFailure) error {
	f.Since = f.At
	f.Error = ozgflow.RedactCallError(f.Error)
	field := callField(f.CaseID, f.Target)
	if b, err := s.rdb.HGet(ctx, s.callsKey(), field).Bytes(); err == nil {
		var prev ozgflow.CallFailure
		if json.Unmarshal(b, &prev) == nil && !prev.Since.IsZero() && prev.Since.Before(f.At) {
			f.Since = prev.Since
		}
	} else if err != redis.Nil {
		return fmt.Errorf("read failing call of case %s: %w", f.CaseID, err)
	}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	p := s.rdb.TxPipeline()
	p.HSet(ctx, s.callsKey(), field, b)
	p.HDel(ctx, s.callsKey(), f.CaseID) // a record of the case alone, as kept before
	p.HSetNX(ctx, s.targetsKey(), f.Target, f.At.UTC().Format(time.RFC3339Nano))
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("record failing call of case %s: %w", f.CaseID, err)
	}
	return nil
}

// CallSucceeded clears the case's failing call to the target and the
// target's failure: the target answers again. The case's calls to other
// targets keep their records.
func (s *Store) CallSucceeded(ctx context.Context, caseID, target string) error {
	p := s.rdb.Pipeline()
	p.HDel(ctx, s.callsKey(), callField(caseID, target))
	p.HDel(ctx, s.targetsKey(), target)
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("clear failing call of case %s: %w", caseID, err)
	}
	return nil
}

// ForgetCallFailure drops the record of a case that no longer waits on a
// target (its call failed for good, or it was resent); an empty target
// drops the case's records of every target (it was cancelled or ended).
func (s *Store) ForgetCallFailure(ctx context.Context, caseID, target string) error {
	fields := []string{caseID, callField(caseID, target)} // with a record of the case alone, as kept before
	if target == "" {
		keys, err := s.rdb.HKeys(ctx, s.callsKey()).Result()
		if err != nil {
			return fmt.Errorf("forget failing calls of case %s: %w", caseID, err)
		}
		fields = []string{caseID}
		for _, k := range keys {
			if strings.HasPrefix(k, caseID+"|") {
				fields = append(fields, k)
			}
		}
	}
	if err := s.rdb.HDel(ctx, s.callsKey(), fields...).Err(); err != nil {
		return fmt.Errorf("forget failing call of case %s: %w", caseID, err)
	}
	return nil
}

// CallFailures returns the cases whose calls fail, longest failing first.
func (s *Store) CallFailures(ctx context.Context) ([]ozgflow.CallFailure, error) {
	all, err := s.rdb.HGetAll(ctx, s.callsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("read failing calls: %w", err)
	}
	out := make([]ozgflow.CallFailure, 0, len(all))
	for _, v := range all {
		var f ozgflow.CallFailure
		if json.Unmarshal([]byte(v), &f) == nil && f.CaseID != "" {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Since.Equal(out[j].Since) {
			return out[i].Since.Before(out[j].Since)
		}
		return out[i].CaseID < out[j].CaseID
	})
	return out, nil
}

// FailingDeliveries returns the cases whose delivery to a Fachverfahren
// or archive fails right now, for the dashboard.
func (s *Store) FailingDeliveries(ctx context.Context) (map[string]bool, error) {
	calls, err := s.CallFailures(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, f := range calls {
		if f.Operation == "Deliver" {
			out[f.CaseID] = true
		}
	}
	return out, nil
}

// FailingTargets returns each target that fails right now and since when.
func (s *Store) FailingTargets(ctx context.Context) (map[string]time.Time, error) {
	return s.targetTimes(ctx, s.targetsKey())
}

// ClearTarget forgets that a target fails, once no case waits on it.
func (s *Store) ClearTarget(ctx context.Context, target string) error {
	return s.rdb.HDel(ctx, s.targetsKey(), target).Err()
}

// markAlerted notes an incident (a target and the start of its failure)
// unless that very incident is noted; a mark of an earlier incident is
// replaced.
var markAlerted = redis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`)

// clearAlerted drops the mark of an incident, if it is still the one noted.
var clearAlerted = redis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
return redis.call('HDEL', KEYS[1], ARGV[1])`)

// MarkAlerted notes that the operator is alerted of the target's failure
// that began at since; it reports false when that incident was noted
// before, so that an incident is alerted once however many workers watch.
// A mark of an earlier incident of the target gives way to the new one.
func (s *Store) MarkAlerted(ctx context.Context, target string, since time.Time) (bool, error) {
	n, err := markAlerted.Run(ctx, s.rdb, []string{s.alertedKey()}, target, since.UTC().Format(time.RFC3339Nano)).Int()
	if err != nil {
		return false, fmt.Errorf("note alert of %s: %w", target, err)
	}
	return n == 1, nil
}

// AlertedTargets returns the targets the operator was alerted of and not
// yet told of their recovery, with the start of their failure.
func (s *Store) AlertedTargets(ctx context.Context) (map[string]time.Time, error) {
	return s.targetTimes(ctx, s.alertedKey())
}

// ClearAlerted drops the mark of the target's incident that began at
// since: its recovery is told, or its alert could not be sent and is tried
// again. It reports false when that mark is gone (another worker did it)
// or belongs to another incident.
func (s *Store) ClearAlerted(ctx context.Context, target string, since time.Time) (bool, error) {
	n, err := clearAlerted.Run(ctx, s.rdb, []string{s.alertedKey()}, target, since.UTC().Format(time.RFC3339Nano)).Int()
	if err != nil {
		return false, fmt.Errorf("clear alert of %s: %w", target, err)
	}
	return n == 1, nil
}

func (s *Store) targetTimes(ctx context.Context, key string) (map[string]time.Time, error) {
	all, err := s.rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, fmt.Errorf("read failing targets: %w", err)
	}
	out := make(map[string]time.Time, len(all))
	for target, v := range all {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			continue
		}
		out[target] = t
	}
	return out, nil
}

// The index of rejected deliveries: the cases delivered by FIT-Connect
// whose destination rejected the submission (or did not answer before the
// deadline) and that wait for an administrator to resend them, each scored
// by the rejection's time. The projection's write keeps it (writeCase); it
// is a cheap list of candidates, the projection says whether a case still
// waits.

func (s *Store) rejectedKey() string { return s.prefix + "ops:rejected" }

// indexRejection queues the change of the index of rejected deliveries
// that a snapshot makes: a rejected case goes in, any other case delivered
// by FIT-Connect goes out. Cases delivered otherwise cost nothing.
func (s *Store) indexRejection(ctx context.Context, p redis.Pipeliner, c ozgflow.Case) {
	if c.Delivery == nil || c.Delivery.Protocol != ozgflow.DeliveryFITConnect {
		return
	}
	if c.DeliveryRejected() {
		p.ZAdd(ctx, s.rejectedKey(), redis.Z{Score: float64(c.Delivery.Rejected.Since.UnixMilli()), Member: c.ID})
		return
	}
	p.ZRem(ctx, s.rejectedKey(), c.ID)
}

// RejectedDelivery is an entry of the index of rejected deliveries: a case
// and the time of the rejection it was indexed with.
type RejectedDelivery struct {
	CaseID string
	Since  time.Time
}

// RejectedDeliveries returns the cases whose delivery its destination
// rejected, longest waiting first.
func (s *Store) RejectedDeliveries(ctx context.Context) ([]RejectedDelivery, error) {
	entries, err := s.rdb.ZRangeWithScores(ctx, s.rejectedKey(), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("read rejected deliveries: %w", err)
	}
	out := make([]RejectedDelivery, 0, len(entries))
	for _, z := range entries {
		id, ok := z.Member.(string)
		if !ok {
			continue
		}
		out = append(out, RejectedDelivery{CaseID: id, Since: time.UnixMilli(int64(z.Score)).UTC()})
	}
	return out, nil
}

// forgetRejected drops a case from the index if its entry is of the
// rejection at ARGV[2] (in milliseconds), or of any when ARGV[2] is empty.
var forgetRejected = redis.NewScript(`
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return 0 end
if ARGV[2] ~= '' and tonumber(score) ~= tonumber(ARGV[2]) then return 0 end
return redis.call('ZREM', KEYS[1], ARGV[1])`)

// ForgetRejectedDelivery drops a case from the index of rejected
// deliveries (it was resent, cancelled, or its projection is gone) if its
// entry is of the rejection at since, so that a newer rejection written
// meanwhile stays; a zero since drops the entry whatever its rejection.
func (s *Store) ForgetRejectedDelivery(ctx context.Context, caseID string, since time.Time) error {
	at := ""
	if !since.IsZero() {
		at = strconv.FormatInt(since.UnixMilli(), 10)
	}
	if err := forgetRejected.Run(ctx, s.rdb, []string{s.rejectedKey()}, caseID, at).Err(); err != nil {
		return fmt.Errorf("forget rejected delivery of case %s: %w", caseID, err)
	}
	return nil
}
