package ozgflow

import (
	"context"
	"slices"
	"strings"
)

// Role is what a person or system may do in ozgflow.
type Role string

// Roles of the identities a request can carry.
const (
	RoleAnonymous  Role = ""           // no or no valid credentials
	RolePortal     Role = "portal"     // a portal client: submits applications, reads mailboxes
	RoleCaseWorker Role = "caseworker" // works the queues of one authority
	RoleAdmin      Role = "admin"      // sees every authority
	RoleSystem     Role = "system"     // a back-office system reporting events
	RoleApplicant  Role = "applicant"  // holds the access token of one case
	// RoleProvider is a payment provider or signing service: it reaches its
	// webhooks and nothing else.
	RoleProvider Role = "provider"
	// RoleDataProtection is the data protection officer: exports the audit
	// trail per case, per person and per period, and sees no case itself.
	RoleDataProtection Role = "dataprotection"
	// RoleFITConnect is an online service that delivers applications over
	// FIT-Connect with its client credentials: it reaches the Submission
	// API under /fit-connect and nothing else.
	RoleFITConnect Role = "fitconnect"
)

// Scopes an API client's access token must grant for each kind of access.
const (
	ScopeSubmit    = "ozgflow.submit"     // submit applications
	ScopeMailbox   = "ozgflow.mailbox"    // read and mark the portal mailboxes
	ScopeCasesRead = "ozgflow.cases.read" // read cases and their receipts
	ScopeEvents    = "ozgflow.events"     // report back-office events on cases
)

// Identity is who makes a request. It is established once per request, by
// the gateway's identity middleware, and read from the request context.
type Identity struct {
	Subject   string `json:"subject"`
	Name      string `json:"name"`
	Role      Role   `json:"role"`
	Authority string `json:"authority,omitempty"`
	CaseID    string `json:"caseId,omitempty"` // applicants only
	// Queues a case worker is a member of; none means every queue of the
	// authority.
	Queues []string `json:"queues,omitempty"`
	// Roles are further roles the same person holds, e.g. an administrator
	// who also works as a case worker of their authority.
	Roles []Role `json:"roles,omitempty"`
	// AccountPrefix binds a portal client to its portal accounts: it reads
	// and marks only the mailboxes of accounts that start with it, and
	// submits only for them. Empty leaves a portal client unbound (the demo
	// portal of `dev`).
	AccountPrefix string `json:"accountPrefix,omitempty"`
	// Targets bind a back-office system to the cases delivered to these
	// delivery targets (within its Authority); none means every case of its
	// authority. A system without an authority sees every case (`dev` only).
	Targets []string `json:"targets,omitempty"`
	// Scopes are what an API client's token grants; nil for identities not
	// limited by scopes (staff, applicants, demo tokens).
	Scopes []string `json:"scopes,omitempty"`
}

// Has reports whether the identity holds role, as its own or a further one.
func (id Identity) Has(role Role) bool {
	return id.Role == role || slices.Contains(id.Roles, role)
}

// WorksCases reports whether the identity may work the tasks of an
// authority's cases: claim, decide, hand over, approve. Administrators may
// not, unless they also are case workers of that authority.
func (id Identity) WorksCases(authority string) bool {
	return id.Has(RoleCaseWorker) && id.Authority == authority
}

// Granted reports whether an API client's token grants scope; identities
// not limited by scopes are granted every scope.
func (id Identity) Granted(scope string) bool {
	return id.Scopes == nil || slices.Contains(id.Scopes, scope)
}

// OwnsAccount reports whether a portal client may use a portal account;
// nobody else may.
func (id Identity) OwnsAccount(account string) bool {
	return id.Role == RolePortal && strings.HasPrefix(account, id.AccountPrefix)
}

// MemberOf reports whether a case worker works the given queue.
func (id Identity) MemberOf(queue string) bool {
	return len(id.Queues) == 0 || slices.Contains(id.Queues, queue)
}

// Sees reports whether the identity may see a case: its applicant, an
// administrator, a back-office system bound to it, or a case worker of its
// authority with a task in a queue they work (or a case without tasks).
func (id Identity) Sees(c Case) bool {
	if id.Has(RoleAdmin) {
		return true
	}
	switch id.Role {
	case RoleApplicant:
		return id.CaseID == c.ID
	case RoleSystem:
		return id.servesAsSystem(c)
	case RoleCaseWorker:
		if c.Authority != id.Authority {
			return false
		}
		for _, t := range c.Tasks {
			if id.MemberOf(t.Queue) {
				return true
			}
		}
		return len(c.Tasks) == 0
	}
	return false
}

// servesAsSystem reports whether a back-office system is bound to a case:
// of its authority and, if it names targets, delivered to one of them.
func (id Identity) servesAsSystem(c Case) bool {
	if id.Authority == "" {
		return true
	}
	if c.Authority != id.Authority {
		return false
	}
	if len(id.Targets) == 0 {
		return true
	}
	return c.Delivery != nil && slices.Contains(id.Targets, c.Delivery.Target)
}

// Directory lists the case workers of an authority, to hand tasks over to
// and to name who holds a task.
type Directory interface {
	CaseWorkers(ctx context.Context, authority string) []Identity
}

// Directories merges directories: the first that lists a subject names it.
type Directories []Directory

// CaseWorkers implements Directory, sorted by name.
func (ds Directories) CaseWorkers(ctx context.Context, authority string) []Identity {
	var out []Identity
	seen := map[string]bool{}
	for _, d := range ds {
		for _, id := range d.CaseWorkers(ctx, authority) {
			if !seen[id.Subject] {
				seen[id.Subject] = true
				out = append(out, id)
			}
		}
	}
	slices.SortFunc(out, func(a, b Identity) int { return strings.Compare(a.Name, b.Name) })
	return out
}

type identityKey struct{}

// NewContextWithIdentity returns ctx carrying the caller's identity.
func NewContextWithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the identity a request carries; anonymous when none
// was established.
func IdentityFrom(ctx context.Context) Identity {
	id, _ := ctx.Value(identityKey{}).(Identity)
	return id
}
