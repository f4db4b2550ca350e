package ozgflow

import (
	"context"
	"slices"
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
}

// MemberOf reports whether a case worker works the given queue.
func (id Identity) MemberOf(queue string) bool {
	return len(id.Queues) == 0 || slices.Contains(id.Queues, queue)
}

// Sees reports whether the identity may see a case: its applicant, an
// administrator, a back-office system, or a case worker of its authority
// with a task in a queue they work (or a case without tasks).
func (id Identity) Sees(c Case) bool {
	switch id.Role {
	case RoleApplicant:
		return id.CaseID == c.ID
	case RoleAdmin, RoleSystem:
		return true
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

// Directory lists the case workers of an authority, to hand tasks over to
// and to name who holds a task.
type Directory interface {
	CaseWorkers(ctx context.Context, authority string) []Identity
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
