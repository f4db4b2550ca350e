package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ozgflow/ozgflow"
)

// The index of failing external calls: which cases wait on a target whose
// calls fail (one record per case, its last failure and since when), and
// since when each target fails without a success in between. The worker
// writes it at every attempt of an external call; it is a cheap list of
// candidates, while Temporal says whether a case still waits. Losing it
// loses nothing: the next failing attempt writes it again.

func (s *Store) callsKey() string   { return s.prefix + "ops:calls" }
func (s *Store) targetsKey() string { return s.prefix + "ops:targets" }
func (s *Store) alertedKey() string { return s.prefix + "ops:alerted" }

// CallFailed records a failed attempt of a case's call to f.Target. The
// run's start (Since) stays that of the case's earlier failures on the same
// target, and the target counts as failing from its first failure on.
func (s *Store) CallFailed(ctx context.Context, f ozgflow.CallFailure) error {
	f.Since = f.At
	if b, err := s.rdb.HGet(ctx, s.callsKey(), f.CaseID).Bytes(); err == nil {
		var prev ozgflow.CallFailure
		if json.Unmarshal(b, &prev) == nil && prev.Target == f.Target && !prev.Since.IsZero() && prev.Since.Before(f.At) {
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
	p.HSet(ctx, s.callsKey(), f.CaseID, b)
	p.HSetNX(ctx, s.targetsKey(), f.Target, f.At.UTC().Format(time.RFC3339Nano))
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("record failing call of case %s: %w", f.CaseID, err)
	}
	return nil
}

// CallSucceeded clears the case's failing call and the target's failure:
// the target answers again.
func (s *Store) CallSucceeded(ctx context.Context, caseID, target string) error {
	p := s.rdb.Pipeline()
	p.HDel(ctx, s.callsKey(), caseID)
	p.HDel(ctx, s.targetsKey(), target)
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("clear failing call of case %s: %w", caseID, err)
	}
	return nil
}

// ForgetCallFailure drops the record of a case that no longer waits on a
// target (it was cancelled, ended, or its call failed for good).
func (s *Store) ForgetCallFailure(ctx context.Context, caseID string) error {
	if err := s.rdb.HDel(ctx, s.callsKey(), caseID).Err(); err != nil {
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

// FailingTargets returns each target that fails right now and since when.
func (s *Store) FailingTargets(ctx context.Context) (map[string]time.Time, error) {
	return s.targetTimes(ctx, s.targetsKey())
}

// ClearTarget forgets that a target fails, once no case waits on it.
func (s *Store) ClearTarget(ctx context.Context, target string) error {
	return s.rdb.HDel(ctx, s.targetsKey(), target).Err()
}

// MarkAlerted notes that the operator was alerted of the target's
// failure that began at since; it reports false when that was noted
// before, so that an incident is alerted once however many workers watch.
func (s *Store) MarkAlerted(ctx context.Context, target string, since time.Time) (bool, error) {
	ok, err := s.rdb.HSetNX(ctx, s.alertedKey(), target, since.UTC().Format(time.RFC3339Nano)).Result()
	if err != nil {
		return false, fmt.Errorf("note alert of %s: %w", target, err)
	}
	return ok, nil
}

// AlertedTargets returns the targets the operator was alerted of and not
// yet told of their recovery, with the start of their failure.
func (s *Store) AlertedTargets(ctx context.Context) (map[string]time.Time, error) {
	return s.targetTimes(ctx, s.alertedKey())
}

// ClearAlerted notes that the operator was told of the target's recovery;
// it reports false when another worker did so first.
func (s *Store) ClearAlerted(ctx context.Context, target string) (bool, error) {
	n, err := s.rdb.HDel(ctx, s.alertedKey(), target).Result()
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
