package gateway

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// Role is what an identity may do.
type Role string

// Roles known to the gateway.
const (
	RolePortal     Role = "portal"     // a portal client: submits applications, reads mailboxes
	RoleCaseWorker Role = "caseworker" // works the queues of one authority
	RoleAdmin      Role = "admin"      // sees every authority
	RoleSystem     Role = "system"     // a back-office system reporting events
	RoleApplicant  Role = "applicant"  // holds the access token of one case
)

// Identity is who makes a request.
type Identity struct {
	Subject   string `json:"subject"`
	Name      string `json:"name"`
	Role      Role   `json:"role"`
	Authority string `json:"authority,omitempty"`
	CaseID    string `json:"caseId,omitempty"` // applicants only
	// Queues a case worker is a member of; none means every queue of the
	// authority.
	Queues []string `json:"queues,omitempty"`
}

// MemberOf reports whether a case worker works the given queue.
func (id Identity) MemberOf(queue string) bool {
	return len(id.Queues) == 0 || slices.Contains(id.Queues, queue)
}

// Directory lists the case workers of an authority, to hand tasks over to.
type Directory interface {
	CaseWorkers(ctx context.Context, authority string) []Identity
}

// Authenticator turns a bearer token into an identity. Production identity
// providers plug in here; `dev` uses fixed demo tokens.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (Identity, bool)
}

// StaticTokens is an Authenticator over a fixed token table.
type StaticTokens map[string]Identity

// Authenticate implements Authenticator.
func (s StaticTokens) Authenticate(_ context.Context, token string) (Identity, bool) {
	id, ok := s[token]
	return id, ok
}

// CaseWorkers implements Directory: the case workers of the table, by name.
func (s StaticTokens) CaseWorkers(_ context.Context, authority string) []Identity {
	var out []Identity
	for _, id := range s {
		if id.Role == RoleCaseWorker && id.Authority == authority {
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// DevTokens are the demo identities of `ozgflow dev`: per city a team lead,
// who also works the team lead's queue escalations land in, and a colleague,
// so that four-eyes decisions and competing claims can be tried.
func DevTokens() StaticTokens {
	const leipzig, dresden = "147130000000", "146120000000"
	lead := []string{"gewerbe", "gewerbe-leitung", "parken"}
	team := []string{"gewerbe", "parken"}
	return StaticTokens{
		"dev-portal":        {Subject: "portal-amt24", Name: "Amt24 (Demo)", Role: RolePortal},
		"dev-sb-leipzig":    {Subject: "sb-leipzig", Name: "Sachbearbeitung Leipzig (Teamleitung)", Role: RoleCaseWorker, Authority: leipzig, Queues: lead},
		"dev-sb-leipzig-2":  {Subject: "sb-leipzig-2", Name: "Sachbearbeitung Leipzig 2", Role: RoleCaseWorker, Authority: leipzig, Queues: team},
		"dev-sb-dresden":    {Subject: "sb-dresden", Name: "Sachbearbeitung Dresden (Teamleitung)", Role: RoleCaseWorker, Authority: dresden, Queues: lead},
		"dev-sb-dresden-2":  {Subject: "sb-dresden-2", Name: "Sachbearbeitung Dresden 2", Role: RoleCaseWorker, Authority: dresden, Queues: team},
		"dev-admin":         {Subject: "admin", Name: "Fachadministration (Demo)", Role: RoleAdmin},
		"dev-fachverfahren": {Subject: "fachverfahren", Name: "Fachverfahren (Demo)", Role: RoleSystem},
	}
}

// AccessTokens issues and checks the bearer tokens applicants use for their
// own case. A token is an HMAC of the case ID, so it needs no storage and
// survives the loss of Redis.
type AccessTokens struct{ secret []byte }

// NewAccessTokens derives the token key from the gateway secret.
func NewAccessTokens(secret []byte) AccessTokens {
	key := sha256.Sum256(append([]byte("ozgflow access token\x00"), secret...))
	return AccessTokens{secret: key[:]}
}

// Issue returns the access token of a case.
func (a AccessTokens) Issue(caseID string) string {
	mac := hmac.New(sha256.New, a.secret)
	mac.Write([]byte(caseID))
	return "at_" + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// Valid reports whether token is the access token of the case.
func (a AccessTokens) Valid(caseID, token string) bool {
	return caseID != "" && hmac.Equal([]byte(a.Issue(caseID)), []byte(token))
}

func bearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if scheme, token, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(token)
	}
	return ""
}
