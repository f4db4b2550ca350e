package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ozgflow/ozgflow"
)

// The case search: an index in Redis over every case of an authority that
// is not erased, open or closed, kept in step with the projection by
// writeCase, EraseCase and the rebuild. Every case is in exactly one class
// of its authority: its status (open or closed) and the queues its tasks
// are in ("closed|gewerbe"), so that a status filter and what a case worker
// may see (Identity.Sees: a task in a queue they work, or none) are a
// choice of classes. Per authority and class:
//
//   - search:<ars>:c:<class>: the class's cases, scored by submission time
//     (ms);
//   - search:<ars>:w:<class>:<token>: a sorted set per token of the class's
//     cases it finds, scored alike;
//   - search:<ars>:vocab:<class>: the class's tokens, for prefix search
//     (ZRANGEBYLEX);
//
// and search:<ars>:classes names the classes; search:doc:<id> is what the
// index holds of a case, so that a change, the erasure or the end of the
// projection's retention takes exactly that out again.
//
// A search reads, in each class it shows, the set of each typed word (a
// word begun, the union of the tokens it begins), intersects them when
// there are several, counts the hits in the period and reads the first
// offset + limit by submission time; the classes' pages are merged. Its
// cost grows with the smallest set it intersects and the page, not with
// the authority's cases. Temporal's search attributes hold none of it.

func (s *Store) searchKey(ars, part string) string { return s.prefix + "search:" + ars + ":" + part }
func (s *Store) searchWordKey(ars, class, token string) string {
	return s.searchKey(ars, "w:"+class+":"+token)
}
func (s *Store) searchVocabKey(ars, class string) string { return s.searchKey(ars, "vocab:"+class) }
func (s *Store) searchClassKey(ars, class string) string { return s.searchKey(ars, "c:"+class) }
func (s *Store) searchClassesKey(ars string) string      { return s.searchKey(ars, "classes") }
func (s *Store) searchDocKey(id string) string           { return s.prefix + "search:doc:" + id }
func (s *Store) searchMarkerKey() string                 { return s.prefix + "search:version" }
func (s *Store) searchBuildLeaseKey() string             { return s.prefix + "search:building" }
func (s *Store) searchTempKey(n int, nonce string) string {
	return s.prefix + "search:tmp:" + nonce + ":" + strconv.Itoa(n)
}

// searchClass names a case's class: its status and its tasks' queues.
func searchClass(status string, queues []string) string {
	return status + "|" + strings.Join(queues, ",")
}

func classQueues(class string) (status string, qs []string) {
	status, list, _ := strings.Cut(class, "|")
	if list != "" {
		qs = strings.Split(list, ",")
	}
	return status, qs
}

// searchIndexVersion names the shape of the index; a Redis whose marker
// names another (or none) is indexed again from its projections.
const searchIndexVersion = "1"

// Statuses a search filters by.
const (
	SearchOpen   = "open"
	SearchClosed = "closed"
)

// searchDoc is what the index holds of one case.
type searchDoc struct {
	Authority string   `json:"a"`
	Submitted int64    `json:"s"` // ms
	Class     string   `json:"c"`
	Tokens    []string `json:"t,omitempty"`
}

// newSearchDoc is what the index should hold of c; nil for a case that is
// not searched: erased, or of no authority.
func newSearchDoc(c ozgflow.Case) *searchDoc {
	if !c.ErasedAt.IsZero() || c.Authority == "" || c.ID == "" {
		return nil
	}
	status := SearchOpen
	if c.Status.Final() {
		status = SearchClosed
	}
	var queues []string
	for _, t := range c.Tasks {
		queues = append(queues, t.Queue)
	}
	slices.Sort(queues)
	return &searchDoc{Authority: c.Authority, Submitted: c.SubmittedAt.UnixMilli(),
		Class: searchClass(status, slices.Compact(queues)), Tokens: caseTokens(c)}
}

func (d *searchDoc) equal(o *searchDoc) bool {
	if d == nil || o == nil {
		return d == o
	}
	return d.Authority == o.Authority && d.Submitted == o.Submitted && d.Class == o.Class && slices.Equal(d.Tokens, o.Tokens)
}

func (s *Store) searchDocKeys(cases []ozgflow.Case) []string {
	keys := make([]string, len(cases))
	for i, c := range cases {
		keys[i] = s.searchDocKey(c.ID)
	}
	return keys
}

// readSearchDocs reads the index's docs of the cases into their heads,
// inside the transaction that writes them.
func (s *Store) readSearchDocs(ctx context.Context, tx redis.Cmdable, cases []ozgflow.Case, heads []caseHead) error {
	docs, err := s.searchDocs(ctx, tx, s.searchDocKeys(cases))
	for i := range heads {
		if err == nil {
			heads[i].search = docs[i]
		}
	}
	return err
}

func (s *Store) searchDocs(ctx context.Context, r redis.Cmdable, keys []string) ([]*searchDoc, error) {
	vals, err := r.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, err
	}
	docs := make([]*searchDoc, len(keys))
	for i, v := range vals {
		docs[i] = searchDocOf(v)
	}
	return docs, nil
}

// searchDocOf decodes a search record as Redis answered it; nil when
// there is none or it is broken.
func searchDocOf(v any) *searchDoc {
	str, ok := v.(string)
	if !ok {
		return nil
	}
	var d searchDoc
	if json.Unmarshal([]byte(str), &d) != nil {
		return nil
	}
	return &d
}

// indexSearch queues what changes the index from old to what c needs.
func (s *Store) indexSearch(ctx context.Context, p redis.Pipeliner, c ozgflow.Case, old *searchDoc) {
	next := newSearchDoc(c)
	if next.equal(old) {
		return
	}
	if old != nil && (next == nil || old.Authority != next.Authority || old.Submitted != next.Submitted || old.Class != next.Class) {
		s.unindexSearch(ctx, p, c.ID, old)
		old = nil
	}
	if next == nil {
		p.Del(ctx, s.searchDocKey(c.ID))
		return
	}
	ars, class, score := next.Authority, next.Class, float64(next.Submitted)
	var had []string
	if old != nil {
		had = old.Tokens
	}
	var gone []string
	for _, t := range had {
		if _, found := slices.BinarySearch(next.Tokens, t); !found {
			gone = append(gone, t)
		}
	}
	s.dropTokens(ctx, p, ars, class, c.ID, gone)
	for _, t := range next.Tokens {
		if _, found := slices.BinarySearch(had, t); !found {
			p.ZAdd(ctx, s.searchWordKey(ars, class, t), redis.Z{Score: score, Member: c.ID})
			p.ZAdd(ctx, s.searchVocabKey(ars, class), redis.Z{Member: t})
		}
	}
	if old == nil {
		p.ZAdd(ctx, s.searchClassKey(ars, class), redis.Z{Score: score, Member: c.ID})
		p.SAdd(ctx, s.searchClassesKey(ars), class)
	}
	b, _ := json.Marshal(next)
	p.Set(ctx, s.searchDocKey(c.ID), b, 0)
}

// unindexSearch queues what takes a case out of the index entirely.
func (s *Store) unindexSearch(ctx context.Context, p redis.Pipeliner, id string, old *searchDoc) {
	if old == nil {
		return
	}
	s.dropTokens(ctx, p, old.Authority, old.Class, id, old.Tokens)
	p.ZRem(ctx, s.searchClassKey(old.Authority, old.Class), id)
	p.Del(ctx, s.searchDocKey(id))
}

// dropTokensScript takes a case out of token sets and a token that no
// case of the class holds any more out of the class's vocabulary, which
// would keep a name otherwise.
var dropTokensScript = redis.NewScript(`
for i = 2, #KEYS do
  redis.call('ZREM', KEYS[i], ARGV[1])
  if redis.call('EXISTS', KEYS[i]) == 0 then redis.call('ZREM', KEYS[1], ARGV[i]) end
end
return 1`)

func (s *Store) dropTokens(ctx context.Context, p redis.Pipeliner, ars, class, id string, tokens []string) {
	if len(tokens) == 0 {
		return
	}
	keys := []string{s.searchVocabKey(ars, class)}
	args := []any{id}
	for _, t := range tokens {
		keys = append(keys, s.searchWordKey(ars, class, t))
		args = append(args, t)
	}
	dropTokensScript.Eval(ctx, p, keys, args...)
}

// dropFromSearch takes cases out of the index whose projection is gone
// (its retention ended and the key expired before the erasure ran).
func (s *Store) dropFromSearch(ctx context.Context, ids []string) error {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.searchDocKey(id)
	}
	docs, err := s.searchDocs(ctx, s.rdb, keys)
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			s.unindexSearch(ctx, p, id, docs[i])
		}
		return nil
	})
	return err
}

// CaseSearch asks for one page of an authority's cases.
type CaseSearch struct {
	Authority string
	// Text is what was typed: case number, names, business name, address,
	// e-mail address; empty lists every case.
	Text string
	// From and To bound the submission time: From <= submitted < To; a
	// zero bound is open.
	From, To time.Time
	// Status is "" (all), SearchOpen or SearchClosed.
	Status string
	// Queues, if not nil, are the queues the searching case worker works:
	// only cases with a task in one of them, or with no task, are found.
	Queues []string
	Offset int64
	Limit  int64
}

// CaseHits is one page of a search, newest submission first.
type CaseHits struct {
	Cases []ozgflow.Case
	Total int64
}

// TooGeneralError says that a typed word begins too many tokens to search
// for all of them.
type TooGeneralError struct{ Word string }

func (e *TooGeneralError) Error() string {
	return fmt.Sprintf("the search word %q begins too many words; type more of it", e.Word)
}

// Bounds of a search.
const (
	// MaxPrefixTokens is how many tokens one typed word may begin.
	MaxPrefixTokens = 500
	// MaxSearchOffset bounds how deep a search pages.
	MaxSearchOffset = 10_000
)

// SearchCases returns one page of the authority's cases that match every
// word of the text, in the period and status, that the case worker may
// see, newest submission first, and how many match.
func (s *Store) SearchCases(ctx context.Context, q CaseSearch) (CaseHits, error) {
	hits := CaseHits{Cases: []ozgflow.Case{}}
	if q.Limit <= 0 {
		q.Limit = 25
	}
	q.Offset = min(max(q.Offset, 0), MaxSearchOffset)
	terms := parseQuery(q.Text)
	all, err := s.rdb.SMembers(ctx, s.searchClassesKey(q.Authority)).Result()
	if err != nil {
		return hits, fmt.Errorf("search cases: %w", err)
	}
	classes := q.classes(all)
	if len(classes) == 0 {
		return hits, nil
	}
	// The tokens each word begun begins, in each class.
	expansions := make([][][]*redis.StringSliceCmd, len(classes))
	if slices.ContainsFunc(terms, func(w queryWord) bool { return w.Prefix }) {
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for c, class := range classes {
				expansions[c] = make([][]*redis.StringSliceCmd, len(terms))
				for i, w := range terms {
					for _, token := range w.Tokens {
						if w.Prefix {
							expansions[c][i] = append(expansions[c][i], p.ZRangeByLex(ctx, s.searchVocabKey(q.Authority, class),
								&redis.ZRangeBy{Min: "[" + token, Max: "[" + token + "\xff", Count: MaxPrefixTokens + 1}))
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			return hits, fmt.Errorf("search cases: %w", err)
		}
	}
	// In each class, each word is a token's set or the union of several.
	termKeys := make([][][]string, len(classes))
	for c, class := range classes {
		termKeys[c] = make([][]string, len(terms))
		for i, w := range terms {
			tokens := w.Tokens
			if w.Prefix {
				tokens = nil
				for _, cmd := range expansions[c][i] {
					tokens = append(tokens, cmd.Val()...)
				}
				slices.Sort(tokens)
				tokens = slices.Compact(tokens)
			}
			if len(tokens) > MaxPrefixTokens {
				return hits, &TooGeneralError{Word: w.Tokens[0]}
			}
			for _, t := range tokens {
				termKeys[c][i] = append(termKeys[c][i], s.searchWordKey(q.Authority, class, t))
			}
		}
	}
	lo, hi := "-inf", "+inf"
	if !q.From.IsZero() {
		lo = strconv.FormatInt(q.From.UnixMilli(), 10)
	}
	if !q.To.IsZero() {
		hi = "(" + strconv.FormatInt(q.To.UnixMilli(), 10)
	}
	need := q.Offset + q.Limit
	counts := make([]*redis.IntCmd, len(classes))
	pages := make([]*redis.ZSliceCmd, len(classes))
	nonce := rand.Text()
	var temps []string
	temp := func() string {
		k := s.searchTempKey(len(temps), nonce)
		temps = append(temps, k)
		return k
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for c, class := range classes {
			key, none := s.searchClassKey(q.Authority, class), false
			var sets []string
			for _, keys := range termKeys[c] {
				switch len(keys) {
				case 0:
					none = true // no token of the class begins so
				case 1:
					sets = append(sets, keys[0])
				default:
					union := temp()
					p.ZUnionStore(ctx, union, &redis.ZStore{Keys: keys, Aggregate: "MAX"})
					sets = append(sets, union)
				}
			}
			if none {
				continue
			}
			switch len(sets) {
			case 0:
			case 1:
				key = sets[0]
			default:
				key = temp()
				p.ZInterStore(ctx, key, &redis.ZStore{Keys: sets, Aggregate: "MAX"})
			}
			counts[c] = p.ZCount(ctx, key, lo, hi)
			pages[c] = p.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{Key: key, Start: hi, Stop: lo, ByScore: true, Rev: true, Count: need})
		}
		if len(temps) > 0 {
			p.Del(ctx, temps...)
		}
		return nil
	})
	if err != nil {
		return hits, fmt.Errorf("search cases: %w", err)
	}
	var found []redis.Z
	for c := range classes {
		if counts[c] != nil {
			hits.Total += counts[c].Val()
			found = append(found, pages[c].Val()...)
		}
	}
	slices.SortFunc(found, func(a, b redis.Z) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.Member.(string), b.Member.(string))
	})
	found = found[min(q.Offset, int64(len(found))):]
	found = found[:min(q.Limit, int64(len(found)))]
	ids := make([]string, len(found))
	for i, z := range found {
		ids[i] = z.Member.(string)
	}
	hits.Cases, err = s.loadHits(ctx, q.Authority, ids)
	if missing := int64(len(ids) - len(hits.Cases)); missing > 0 {
		hits.Total = max(hits.Total-missing, int64(len(hits.Cases)))
	}
	return hits, err
}

// classes picks the classes a search shows: of its status, and seen by
// its case worker.
func (q CaseSearch) classes(all []string) []string {
	var out []string
	for _, class := range all {
		status, queues := classQueues(class)
		if q.Status != "" && status != q.Status {
			continue
		}
		if q.Queues != nil && len(queues) > 0 && !slices.ContainsFunc(queues, func(queue string) bool {
			return slices.Contains(q.Queues, queue)
		}) {
			continue
		}
		out = append(out, class)
	}
	slices.Sort(out)
	return out
}

// loadHits reads the projections of the hits in order; a hit whose
// projection is gone (its retention ended) or erased leaves the index.
func (s *Store) loadHits(ctx context.Context, ars string, ids []string) ([]ozgflow.Case, error) {
	out := make([]ozgflow.Case, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.caseKey(id)
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return out, fmt.Errorf("read found cases: %w", err)
	}
	var gone []string
	for i, v := range vals {
		var c ozgflow.Case
		str, ok := v.(string)
		if !ok || json.Unmarshal([]byte(str), &c) != nil || !c.ErasedAt.IsZero() || c.Authority != ars {
			gone = append(gone, ids[i])
			continue
		}
		out = append(out, c)
	}
	if len(gone) > 0 {
		if err := s.dropFromSearch(ctx, gone); err != nil {
			return out, fmt.Errorf("drop gone cases from the search: %w", err)
		}
	}
	return out, nil
}

// SearchIndexed reports whether the search index holds every case of the
// projections: it was built with them (a rebuild) or since (EnsureSearchIndex).
func (s *Store) SearchIndexed(ctx context.Context) (bool, error) {
	v, err := s.rdb.Get(ctx, s.searchMarkerKey()).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	return v == searchIndexVersion, err
}

// EnsureSearchIndex indexes the cases the projections hold when the
// index's marker is missing or names another version: projections written
// before the search existed. One process does it at a time; it reports
// how many cases it indexed, and is harmless to repeat.
func (s *Store) EnsureSearchIndex(ctx context.Context) (int, error) {
	if ok, err := s.SearchIndexed(ctx); err != nil || ok {
		return 0, err
	}
	owner := rand.Text()
	claimed, err := s.rdb.SetNX(ctx, s.searchBuildLeaseKey(), owner, 10*time.Minute).Result()
	if err != nil || !claimed {
		return 0, err
	}
	defer s.rdb.Del(context.WithoutCancel(ctx), s.searchBuildLeaseKey())
	n := 0
	iter := s.rdb.Scan(ctx, 0, s.caseKey("*"), 500).Iterator()
	var batch []string
	flush := func() error {
		done, err := s.indexStored(ctx, batch)
		n += done
		batch = batch[:0]
		return err
	}
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == 500 {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return n, fmt.Errorf("index cases for the search: %w", err)
	}
	if err := flush(); err != nil {
		return n, err
	}
	return n, s.rdb.Set(ctx, s.searchMarkerKey(), searchIndexVersion, 0).Err()
}

// indexStored indexes the stored projections under keys, watching them
// so that a case written meanwhile is read again.
func (s *Store) indexStored(ctx context.Context, keys []string) (int, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	indexed := 0
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		err = s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			vals, err := tx.MGet(ctx, keys...).Result()
			if err != nil {
				return err
			}
			var cases []ozgflow.Case
			for _, v := range vals {
				var c ozgflow.Case
				if str, ok := v.(string); ok && json.Unmarshal([]byte(str), &c) == nil && c.ID != "" {
					cases = append(cases, c)
				}
			}
			heads := make([]caseHead, len(cases))
			if len(cases) > 0 {
				if err := s.readSearchDocs(ctx, tx, cases, heads); err != nil {
					return err
				}
			}
			indexed = 0
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				for i, c := range cases {
					if !newSearchDoc(c).equal(heads[i].search) {
						s.indexSearch(ctx, p, c, heads[i].search)
						indexed++
					}
				}
				return nil
			})
			return err
		}, keys...)
		if !errors.Is(err, redis.TxFailedErr) {
			break
		}
	}
	if err != nil {
		return indexed, fmt.Errorf("index cases for the search: %w", err)
	}
	return indexed, nil
}
