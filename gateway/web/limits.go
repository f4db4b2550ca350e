package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/gorilla/mux"
	"github.com/redis/go-redis/v9"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/locale"
)

// Rate limits brake what an attacker repeats: submitting applications,
// signing in, presenting tokens that are refused, checking receipts. Each
// is counted per client (the identity's subject, where there is one) and per
// address, in Redis, so that every gateway process shares the counts. The
// algorithm is GCRA (go-redis/redis_rate): a full burst at once, then one
// request per period/N. A limit is a brake, not a gate: when Redis fails,
// requests pass and a warning is logged.

// LimitKind names what a rate limits.
type LimitKind string

// Kinds of limited requests.
const (
	LimitSubmit        LimitKind = "submit"         // POST /api/v1/applications
	LimitSignIn        LimitKind = "signin"         // the staff's sign-in
	LimitTokenFailures LimitKind = "token-failures" // credentials presented and refused
	LimitReceiptCheck  LimitKind = "receipt-check"  // POST /api/v1/receipts/verify, POST /pruefen
)

// LimitedRoutes are the routes the limiter guards, by method and path
// template as the router knows them. Routes that are not (yet) registered
// are simply never matched.
var LimitedRoutes = map[string]LimitKind{
	"POST /api/v1/applications":    LimitSubmit,
	"POST /anmelden":               LimitSignIn,
	"GET /anmelden/oidc":           LimitSignIn,
	"GET /anmelden/rueckkehr":      LimitSignIn,
	"POST /api/v1/receipts/verify": LimitReceiptCheck,
	"POST /pruefen":                LimitReceiptCheck,
	// FIT-Connect: client secrets are guessed no faster than passwords,
	// submissions are announced no faster than submitted.
	"POST /fit-connect/token":          LimitSignIn,
	"POST /fit-connect/v1/submissions": LimitSubmit,
}

// Rate is how many requests of a kind one client or one address may make
// per period. The zero Rate is off: it allows everything.
type Rate struct {
	N   int
	Per time.Duration
}

// ParseRate reads a rate such as "60/m", "10/s" or "1000/h"; "0" and "off"
// switch the limit off.
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "0" || s == "off" {
		return Rate{}, nil
	}
	count, unit, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(count)
	if !ok || err != nil || n < 0 {
		return Rate{}, fmt.Errorf("%q: want requests per s, m or h, such as 60/m, or off", s)
	}
	per, ok := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}[unit]
	if !ok {
		return Rate{}, fmt.Errorf("%q: the period is s, m or h", s)
	}
	if n == 0 {
		return Rate{}, nil
	}
	return Rate{N: n, Per: per}, nil
}

// Off reports whether the rate allows everything.
func (r Rate) Off() bool { return r.N <= 0 || r.Per <= 0 }

// String writes the rate as ParseRate reads it.
func (r Rate) String() string {
	if r.Off() {
		return "off"
	}
	unit := map[time.Duration]string{time.Second: "s", time.Minute: "m", time.Hour: "h"}[r.Per]
	if unit == "" {
		unit = r.Per.String()
	}
	return fmt.Sprintf("%d/%s", r.N, unit)
}

// Limits configure a Limiter. The zero Limits limit nothing.
type Limits struct {
	Submit        Rate
	SignIn        Rate
	TokenFailures Rate
	ReceiptCheck  Rate
	// TrustedProxies are the reverse proxies whose X-Forwarded-For header
	// names the client's address; from any other peer the header is
	// ignored, as anyone can send it.
	TrustedProxies []netip.Prefix
	// Prefix starts every key the limiter keeps in Redis.
	Prefix string
}

// rate returns the rate of a kind.
func (l Limits) rate(kind LimitKind) Rate {
	switch kind {
	case LimitSubmit:
		return l.Submit
	case LimitSignIn:
		return l.SignIn
	case LimitTokenFailures:
		return l.TokenFailures
	case LimitReceiptCheck:
		return l.ReceiptCheck
	}
	return Rate{}
}

// ParseTrustedProxies reads a comma-separated list of addresses and
// networks, such as "10.0.0.5, 10.1.0.0/16".
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if strings.Contains(item, "/") {
			p, err := netip.ParsePrefix(item)
			if err != nil {
				return nil, fmt.Errorf("%q is no address or network", item)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("%q is no address or network", item)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// Limiter counts requests in Redis and refuses those over their rate. A nil
// Limiter allows everything.
type Limiter struct {
	limits Limits
	redis  *redis_rate.Limiter
	rdb    redis.UniversalClient
	logger *slog.Logger
	// warned is when the last warning about Redis was logged (Unix
	// seconds), so that an outage logs once a minute, not per request.
	warned atomic.Int64
	// pausedUntil is until when (Unix nanoseconds) Redis is not asked
	// after it failed, so that an outage does not slow every request.
	pausedUntil atomic.Int64
	// covered are the routes the limiter guards (Cover).
	covered map[*mux.Route]bool
}

const (
	// limiterTimeout bounds one question to Redis: a slow Redis must not
	// make the gateway slow.
	limiterTimeout = 500 * time.Millisecond
	// limiterPause is how long limits go unchecked after Redis failed.
	limiterPause = 5 * time.Second
)

// errLimitsPaused says that limits go unchecked for a while after Redis
// failed.
var errLimitsPaused = errors.New("rate limits paused after Redis failed")

// NewLimiter returns a limiter keeping its counts in rdb.
func NewLimiter(rdb redis.UniversalClient, limits Limits, logger *slog.Logger) *Limiter {
	if limits.Prefix == "" {
		limits.Prefix = "ozgflow:"
	}
	return &Limiter{limits: limits, redis: redis_rate.NewLimiter(rdb), rdb: rdb, logger: logger}
}

// Allow counts one request of kind by key (a client or an address, as the
// caller names it) and reports whether it is within the rate; if not,
// retryAfter says when the next one would be. A kind whose rate is off is
// allowed without asking Redis. When Redis fails the request is allowed,
// a warning logged and the error returned for the caller's information.
func (l *Limiter) Allow(ctx context.Context, kind LimitKind, key string) (ok bool, retryAfter time.Duration, err error) {
	if l == nil {
		return true, 0, nil
	}
	rate := l.limits.rate(kind)
	if rate.Off() {
		return true, 0, nil
	}
	if l.paused() {
		return true, 0, errLimitsPaused
	}
	ctx, cancel := context.WithTimeout(ctx, limiterTimeout)
	defer cancel()
	res, err := l.redis.Allow(ctx, l.key(kind, key), limitOf(rate))
	if err != nil {
		l.failed(kind, err)
		return true, 0, err
	}
	return res.Allowed > 0, max(res.RetryAfter, 0), nil
}

// exhausted reports, without counting, whether key has no request of kind
// left: whether the next one would be refused, and when it would not be.
func (l *Limiter) exhausted(ctx context.Context, kind LimitKind, key string) (bool, time.Duration) {
	if l == nil || l.limits.rate(kind).Off() {
		return false, 0
	}
	if l.paused() {
		return false, 0
	}
	ctx, cancel := context.WithTimeout(ctx, limiterTimeout)
	defer cancel()
	// A key without a count has its whole burst left: for an address that
	// never had a credential refused, which is nearly every request, a
	// look at the key answers without running the limiter's script.
	n, err := l.rdb.Exists(ctx, rateKeyPrefix+l.key(kind, key)).Result()
	if err != nil {
		l.failed(kind, err)
		return false, 0
	}
	if n == 0 {
		return false, 0
	}
	// AllowAtMost of nothing changes nothing; it answers a retry time
	// (not -1) exactly when less than one request is left.
	res, err := l.redis.AllowAtMost(ctx, l.key(kind, key), limitOf(l.limits.rate(kind)), 0)
	if err != nil {
		l.failed(kind, err)
		return false, 0
	}
	return res.RetryAfter > 0, res.RetryAfter
}

// rateKeyPrefix is what go-redis/redis_rate puts before the keys it
// counts in.
const rateKeyPrefix = "rate:"

func (l *Limiter) key(kind LimitKind, key string) string {
	return l.limits.Prefix + "limit:" + string(kind) + ":" + key
}

func limitOf(r Rate) redis_rate.Limit {
	return redis_rate.Limit{Rate: r.N, Burst: r.N, Period: r.Per}
}

func (l *Limiter) paused() bool { return time.Now().UnixNano() < l.pausedUntil.Load() }

// failed pauses the limits after Redis failed and warns, once a minute.
func (l *Limiter) failed(kind LimitKind, err error) {
	now := time.Now()
	l.pausedUntil.Store(now.Add(limiterPause).UnixNano())
	if last := l.warned.Load(); now.Unix()-last >= 60 && l.warned.CompareAndSwap(last, now.Unix()) {
		l.logger.Warn("Rate limits not checked; requests pass until Redis answers", "kind", kind, "error", err)
	}
}

// AllowRequest counts a request of kind once per address and, when the
// request carries an identity, once per client, and reports whether both
// are within the rate, and if not, when to come back.
func (l *Limiter) AllowRequest(r *http.Request, kind LimitKind) (ok bool, retryAfter time.Duration) {
	if l == nil || l.limits.rate(kind).Off() {
		return true, 0
	}
	if ok, retry, _ := l.Allow(r.Context(), kind, "ip:"+l.Address(r)); !ok {
		return false, retry
	}
	if subject := ozgflow.IdentityFrom(r.Context()).Subject; subject != "" {
		if ok, retry, _ := l.Allow(r.Context(), kind, "client:"+subject); !ok {
			return false, retry
		}
	}
	return true, 0
}

// Address is the address a request comes from: the peer's, or, when the
// peer is a trusted proxy, the last address in X-Forwarded-For that is not
// one of the trusted proxies.
func (l *Limiter) Address(r *http.Request) string {
	peer := peerAddr(r.RemoteAddr)
	if l == nil || !l.trusted(peer) {
		return addrString(peer, r.RemoteAddr)
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a broken header: believe no more of it
		}
		hop = hop.Unmap()
		if !l.trusted(hop) {
			return hop.String()
		}
		peer = hop
	}
	return addrString(peer, r.RemoteAddr)
}

func (l *Limiter) trusted(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range l.limits.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerAddr is the address of host:port, or the invalid Addr.
func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func addrString(a netip.Addr, remote string) string {
	if a.IsValid() {
		return a.String()
	}
	return remote
}

// Cover makes the limiter guard the routes of root that sit in a room of
// rooms, as root holds them now; call it once, before serving. Routes
// mounted later (the sandboxes of `dev`) talk to their own clients with
// their own credentials, which are none of the gateway's business.
func (l *Limiter) Cover(root *mux.Router, rooms *Rooms) {
	if l == nil {
		return
	}
	l.covered = map[*mux.Route]bool{}
	_ = root.Walk(func(route *mux.Route, owner *mux.Router, _ []*mux.Route) error {
		if _, ok := rooms.AudienceOf(owner); ok && route.GetHandler() != nil {
			l.covered[route] = true
		}
		return nil
	})
}

// Middleware limits every request to a covered route, after the
// Identifier: a request whose address has used up its token failures is
// refused whatever it presents, a refused credential counts as a failure,
// and the routes of LimitedRoutes are limited by their kind.
func (l *Limiter) Middleware(next http.Handler) http.Handler {
	if l == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !l.covered[mux.CurrentRoute(r)] {
			next.ServeHTTP(w, r)
			return
		}
		if ok, retry := l.checkCredentials(r); !ok {
			l.Refuse(w, r, retry)
			return
		}
		if kind, limited := limitedRoute(r); limited {
			if ok, retry := l.AllowRequest(r, kind); !ok {
				l.Refuse(w, r, retry)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Limit returns middleware that limits every request of a room (or any
// subrouter) as kind.
func (l *Limiter) Limit(kind LimitKind) mux.MiddlewareFunc {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ok, retry := l.AllowRequest(r, kind); !ok {
				l.Refuse(w, r, retry)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Gate runs before the Identifier: a request that brings a credential from
// an address that has used up its token failures is refused before any
// credential is checked, so that forged tokens cannot make the gateway ask
// the identity provider for keys again and again. Once over the limit,
// even the right token waits.
func (l *Limiter) Gate(next http.Handler) http.Handler {
	if l == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(context.WithValue(r.Context(), clientAddressKey{}, l.Address(r)))
		if l.covered[mux.CurrentRoute(r)] && !l.limits.TokenFailures.Off() && bringsCredential(r) {
			if over, retry := l.exhausted(r.Context(), LimitTokenFailures, "ip:"+l.Address(r)); over {
				l.Refuse(w, r, retry)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// bringsCredential reports whether a request presents anything the
// Identifier checks.
func bringsCredential(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" || strings.HasPrefix(r.URL.Query().Get("token"), "at_") {
		return true
	}
	for _, name := range []string{SessionCookie, ApplicantCookie} {
		if _, err := r.Cookie(name); err == nil {
			return true
		}
	}
	return false
}

// checkCredentials counts a request that presented a credential which was
// refused, per address. A session that ended is no guess (its ID is 256
// random bits) and does not count.
func (l *Limiter) checkCredentials(r *http.Request) (bool, time.Duration) {
	if l.limits.TokenFailures.Off() {
		return true, 0
	}
	for _, p := range presentedFrom(r.Context()) {
		if p.Credential.Refused && p.Credential.Source != SourceSession {
			ok, retry, _ := l.Allow(r.Context(), LimitTokenFailures, "ip:"+l.Address(r))
			return ok, retry
		}
	}
	return true, 0
}

// limitedRoute returns the kind that limits the request's route, if any.
func limitedRoute(r *http.Request) (LimitKind, bool) {
	route := mux.CurrentRoute(r)
	if route == nil {
		return "", false
	}
	tmpl, err := route.GetPathTemplate()
	if err != nil {
		return "", false
	}
	kind, ok := LimitedRoutes[r.Method+" "+tmpl]
	return kind, ok
}

// Refuse answers a request over its rate with 429 and Retry-After (whole
// seconds): a problem document under /api, a readable page in the
// request's language elsewhere.
func (l *Limiter) Refuse(w http.ResponseWriter, r *http.Request, retryAfter time.Duration) {
	seconds := max(1, int(math.Ceil(retryAfter.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(seconds))
	if IsAPI(r) {
		WriteProblem(w, Problem{Type: "urn:ozgflow:problem:rate-limited", Title: http.StatusText(http.StatusTooManyRequests),
			Status: http.StatusTooManyRequests,
			Detail: fmt.Sprintf("Too many requests from this client or address; try again in %d seconds.", seconds)})
		return
	}
	lang := locale.FromRequest(r)
	Renderer{Logger: l.logger}.Error(w, http.StatusTooManyRequests, ErrorPage{Lang: string(lang),
		Title: lang.Text(false, "error.ratelimit.page.title"), Text: lang.Text(false, "error.ratelimit.page.text"),
		Help: lang.Text(false, "error.ratelimit.page.help", seconds)})
}

// IsAPI reports whether a request is addressed to the JSON API or the
// FIT-Connect Submission API, which answer problem documents, not pages.
func IsAPI(r *http.Request) bool {
	p := r.URL.Path
	return p == "/api" || strings.HasPrefix(p, "/api/") || p == "/fit-connect" || strings.HasPrefix(p, "/fit-connect/")
}
