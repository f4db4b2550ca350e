package submissionapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ozgflow/ozgflow/fitconnect"
)

// States of a submission.
const (
	StateAnnounced = "announced" // created; attachments may follow
	StateAccepted  = "accepted"  // submitted, and the destination accepted it
	StateRejected  = "rejected"  // submitted, and the destination rejected it
)

// Submission is a submission as the server keeps it: what was announced,
// whose it is, and how it ended. Its parts are kept apart (attachments) or
// not at all (metadata and data go to the receiver at the submit).
type Submission struct {
	ID            string                         `json:"id"`
	CaseID        string                         `json:"caseId"`
	DestinationID string                         `json:"destinationId"`
	Client        string                         `json:"client"`
	ServiceType   fitconnect.ServiceType         `json:"serviceType"`
	Announced     []string                       `json:"announced"`
	State         string                         `json:"state"`
	CreatedAt     time.Time                      `json:"createdAt"`
	SubmittedAt   time.Time                      `json:"submittedAt,omitzero"`
	Tags          *fitconnect.AuthenticationTags `json:"tags,omitempty"`
	Problems      []fitconnect.Problem           `json:"problems,omitempty"`
}

// Store keeps submissions in progress, their attachments (as received:
// JWE, so encrypted at rest) and the event logs of cases.
type Store interface {
	PutSubmission(ctx context.Context, s Submission) error
	// Submission returns a submission; false when there is none.
	Submission(ctx context.Context, id string) (Submission, bool, error)
	// PutAttachment keeps an attachment (replacing one of the same ID)
	// unless the submission's attachments would then have more than
	// maxTotal bytes together; false when they would. Check and put are
	// one step, so uploads at the same time cannot pass the bound together.
	PutAttachment(ctx context.Context, submissionID, attachmentID, jwe string, maxTotal int) (bool, error)
	// Attachment returns an uploaded attachment; false when there is none.
	Attachment(ctx context.Context, submissionID, attachmentID string) (string, bool, error)
	// DeleteAttachments drops a submission's attachments, once the
	// destination has taken or refused them.
	DeleteAttachments(ctx context.Context, submissionID string) error
	// AppendEvent adds a signed event to the case's log; the case belongs
	// to client from its first event on.
	AppendEvent(ctx context.Context, caseID, client, event string) error
	// Events returns the case's owner and events, oldest first; false when
	// the case has none.
	Events(ctx context.Context, caseID string) (client string, events []string, found bool, err error)
	// Lock takes the lock named key for ttl; false when another holds it.
	Lock(ctx context.Context, key string, ttl time.Duration) (unlock func(), ok bool, err error)
}

// RedisStore keeps everything in Redis under prefix, each key expiring TTL
// after its last change.
type RedisStore struct {
	RDB    redis.UniversalClient
	Prefix string
	TTL    time.Duration
}

func (s RedisStore) ttl() time.Duration {
	if s.TTL <= 0 {
		return DefaultTTL
	}
	return s.TTL
}

func (s RedisStore) key(parts ...string) string {
	k := s.Prefix + "fitconnect"
	for _, p := range parts {
		k += ":" + p
	}
	return k
}

// PutSubmission implements Store.
func (s RedisStore) PutSubmission(ctx context.Context, sub Submission) error {
	b, err := json.Marshal(sub)
	if err != nil {
		return err
	}
	return s.RDB.Set(ctx, s.key("submission", sub.ID), b, s.ttl()).Err()
}

// Submission implements Store.
func (s RedisStore) Submission(ctx context.Context, id string) (Submission, bool, error) {
	var sub Submission
	b, err := s.RDB.Get(ctx, s.key("submission", id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return sub, false, nil
	}
	if err != nil {
		return sub, false, err
	}
	if err := json.Unmarshal(b, &sub); err != nil {
		return sub, false, fmt.Errorf("submission %s: %w", id, err)
	}
	return sub, true, nil
}

// putWithin sets field ARGV[1] of hash KEYS[1] to ARGV[2] and renews the
// TTL (ARGV[4] ms) unless the other fields and it together exceed ARGV[3]
// bytes: 1 when set, 0 when refused.
var putWithin = redis.NewScript(`
local total = string.len(ARGV[2])
for _, f in ipairs(redis.call("hkeys", KEYS[1])) do
  if f ~= ARGV[1] then total = total + redis.call("hstrlen", KEYS[1], f) end
end
if total > tonumber(ARGV[3]) then return 0 end
redis.call("hset", KEYS[1], ARGV[1], ARGV[2])
redis.call("pexpire", KEYS[1], ARGV[4])
return 1`)

// PutAttachment implements Store.
func (s RedisStore) PutAttachment(ctx context.Context, submissionID, attachmentID, jwe string, maxTotal int) (bool, error) {
	n, err := putWithin.Run(ctx, s.RDB, []string{s.key("attachments", submissionID)},
		attachmentID, jwe, maxTotal, s.ttl().Milliseconds()).Int()
	return n == 1, err
}

// Attachment implements Store.
func (s RedisStore) Attachment(ctx context.Context, submissionID, attachmentID string) (string, bool, error) {
	v, err := s.RDB.HGet(ctx, s.key("attachments", submissionID), attachmentID).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	return v, err == nil, err
}

// DeleteAttachments implements Store.
func (s RedisStore) DeleteAttachments(ctx context.Context, submissionID string) error {
	return s.RDB.Del(ctx, s.key("attachments", submissionID)).Err()
}

// AppendEvent implements Store.
func (s RedisStore) AppendEvent(ctx context.Context, caseID, client, event string) error {
	owner, log := s.key("case", caseID, "client"), s.key("case", caseID, "events")
	_, err := s.RDB.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SetNX(ctx, owner, client, s.ttl())
		p.Expire(ctx, owner, s.ttl())
		p.RPush(ctx, log, event)
		p.Expire(ctx, log, s.ttl())
		return nil
	})
	return err
}

// Events implements Store.
func (s RedisStore) Events(ctx context.Context, caseID string) (string, []string, bool, error) {
	client, err := s.RDB.Get(ctx, s.key("case", caseID, "client")).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, err
	}
	events, err := s.RDB.LRange(ctx, s.key("case", caseID, "events"), 0, -1).Result()
	return client, events, err == nil, err
}

// Lock implements Store.
func (s RedisStore) Lock(ctx context.Context, key string, ttl time.Duration) (func(), bool, error) {
	k := s.key("lock", key)
	token := randomToken()
	ok, err := s.RDB.SetNX(ctx, k, token, ttl).Result()
	if err != nil || !ok {
		return func() {}, false, err
	}
	return func() {
		// Only our own lock is released, even when it ran out meanwhile.
		_ = s.RDB.Eval(context.WithoutCancel(ctx),
			`if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end return 0`,
			[]string{k}, token).Err()
	}, true, nil
}

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// MemoryStore keeps everything in memory: for tests and sandboxes whose
// submissions need not outlive the process.
type MemoryStore struct {
	mu          sync.Mutex
	submissions map[string]Submission
	attachments map[string]map[string]string
	owners      map[string]string
	events      map[string][]string
	locks       map[string]time.Time
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{submissions: map[string]Submission{}, attachments: map[string]map[string]string{},
		owners: map[string]string{}, events: map[string][]string{}, locks: map[string]time.Time{}}
}

// PutSubmission implements Store.
func (m *MemoryStore) PutSubmission(_ context.Context, s Submission) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s.Announced = append([]string(nil), s.Announced...)
	m.submissions[s.ID] = s
	return nil
}

// Submission implements Store.
func (m *MemoryStore) Submission(_ context.Context, id string) (Submission, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.submissions[id]
	return s, ok, nil
}

// PutAttachment implements Store.
func (m *MemoryStore) PutAttachment(_ context.Context, submissionID, attachmentID, jwe string, maxTotal int) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	total := len(jwe)
	for id, v := range m.attachments[submissionID] {
		if id != attachmentID {
			total += len(v)
		}
	}
	if total > maxTotal {
		return false, nil
	}
	if m.attachments[submissionID] == nil {
		m.attachments[submissionID] = map[string]string{}
	}
	m.attachments[submissionID][attachmentID] = jwe
	return true, nil
}

// Attachment implements Store.
func (m *MemoryStore) Attachment(_ context.Context, submissionID, attachmentID string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.attachments[submissionID][attachmentID]
	return v, ok, nil
}

// DeleteAttachments implements Store.
func (m *MemoryStore) DeleteAttachments(_ context.Context, submissionID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.attachments, submissionID)
	return nil
}

// AppendEvent implements Store.
func (m *MemoryStore) AppendEvent(_ context.Context, caseID, client, event string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.owners[caseID]; !ok {
		m.owners[caseID] = client
	}
	m.events[caseID] = append(m.events[caseID], event)
	return nil
}

// Events implements Store.
func (m *MemoryStore) Events(_ context.Context, caseID string) (string, []string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	owner, ok := m.owners[caseID]
	return owner, append([]string(nil), m.events[caseID]...), ok, nil
}

// Lock implements Store.
func (m *MemoryStore) Lock(_ context.Context, key string, ttl time.Duration) (func(), bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if until, held := m.locks[key]; held && time.Now().Before(until) {
		return func() {}, false, nil
	}
	m.locks[key] = time.Now().Add(ttl)
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		delete(m.locks, key)
	}, true, nil
}
