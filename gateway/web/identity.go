package web

import (
	"context"
	"net/http"
	"sort"
	"strings"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
)

// Cookies that carry credentials.
const (
	// SessionCookie holds the random ID of a signed-in staff member's
	// session (Sessions).
	SessionCookie = "ozgflow_session"
	// ApplicantCookie holds the access token of the case the applicant
	// opened, so that it leaves the address bar (and the history) at once.
	ApplicantCookie = "ozgflow_antrag"
)

// Authenticator turns a bearer token into an identity: the JWT access
// tokens of the identity provider (gateway/idp) and, in `dev` only, the
// fixed demo tokens.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (ozgflow.Identity, bool)
}

// Authenticators try each authenticator in turn.
type Authenticators []Authenticator

// Authenticate implements Authenticator.
func (as Authenticators) Authenticate(ctx context.Context, token string) (ozgflow.Identity, bool) {
	for _, a := range as {
		if id, ok := a.Authenticate(ctx, token); ok {
			return id, true
		}
	}
	return ozgflow.Identity{}, false
}

// StaticTokensOf returns the fixed token table among auth, if any.
func StaticTokensOf(auth Authenticator) (StaticTokens, bool) {
	switch a := auth.(type) {
	case StaticTokens:
		return a, true
	case Authenticators:
		for _, each := range a {
			if t, ok := StaticTokensOf(each); ok {
				return t, true
			}
		}
	}
	return nil, false
}

// StaticTokens is an Authenticator over a fixed token table.
type StaticTokens map[string]ozgflow.Identity

// Authenticate implements Authenticator.
func (s StaticTokens) Authenticate(_ context.Context, token string) (ozgflow.Identity, bool) {
	id, ok := s[token]
	return id, ok
}

// CaseWorkers implements ozgflow.Directory: the case workers of the table,
// by name.
func (s StaticTokens) CaseWorkers(_ context.Context, authority string) []ozgflow.Identity {
	var out []ozgflow.Identity
	for _, id := range s {
		if id.Role == ozgflow.RoleCaseWorker && id.Authority == authority {
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Source says where a request's credential came from.
type Source string

// Sources of credentials, in the order the Identifier prefers them.
const (
	SourceBearer    Source = "bearer"     // Authorization: Bearer
	SourceLink      Source = "token-link" // an access token in the address (GET only)
	SourceApplicant Source = "applicant"  // the applicant's cookie of the route's case
	SourceSession   Source = "session"    // the staff session cookie
)

// Credential describes what a request presented, beyond whom it identifies:
// rooms need it to answer a refusal (401 or 404).
type Credential struct {
	Source Source
	// Refused is set when a credential was presented but identified no one.
	Refused bool
	// AccessToken is set when the refused credential looked like an
	// applicant's access token (of another case, then).
	AccessToken bool
}

// Presented is one credential a request brought and whom it identifies
// (nobody, when it was refused).
type Presented struct {
	Identity   ozgflow.Identity
	Credential Credential
}

type credentialKey struct{}
type presentedKey struct{}

// CredentialFrom returns the credential the request's identity rests on.
func CredentialFrom(ctx context.Context) Credential {
	c, _ := ctx.Value(credentialKey{}).(Credential)
	return c
}

// withIdentity returns ctx carrying the identity and its credential.
func withIdentity(ctx context.Context, p Presented) context.Context {
	ctx = ozgflow.NewContextWithIdentity(ctx, p.Identity)
	return context.WithValue(ctx, credentialKey{}, p.Credential)
}

// presentedFrom returns every credential the request brought, preferred
// first.
func presentedFrom(ctx context.Context) []Presented {
	p, _ := ctx.Value(presentedKey{}).([]Presented)
	return p
}

// Identifier establishes who makes a request, once, for every room. It
// checks every credential the request brings: a bearer token (a staff or
// system token, or the access token of the case the route names), an
// access token in the address of a GET, the applicant's cookie of the
// route's case, the staff session. The preferred one becomes the request's
// identity; a room that accepts fewer sources (Audience.Sources) takes the
// first of those it accepts.
type Identifier struct {
	Auth     Authenticator
	Tokens   AccessTokens
	Sessions Sessions
}

// Middleware puts the identity, its credential and every credential
// presented into the request context.
func (i Identifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		presented := i.identify(r)
		for _, p := range presented {
			if p.Credential.Source == SourceSession && p.Credential.Refused {
				// The session ended: the browser may forget its ID.
				http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
					Secure: i.Sessions.Secure, SameSite: http.SameSiteLaxMode})
			}
		}
		ctx := context.WithValue(r.Context(), presentedKey{}, presented)
		if len(presented) > 0 {
			ctx = withIdentity(ctx, presented[0])
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (i Identifier) identify(r *http.Request) []Presented {
	caseID := mux.Vars(r)["id"]
	var out []Presented
	if token := bearerToken(r); token != "" {
		out = append(out, i.token(r.Context(), caseID, token, SourceBearer))
	}
	if link := r.URL.Query().Get("token"); strings.HasPrefix(link, "at_") && r.Method == http.MethodGet {
		// Only access tokens count in the address, never a staff token.
		out = append(out, i.token(r.Context(), caseID, link, SourceLink))
	}
	if ck, err := r.Cookie(ApplicantCookie); err == nil && i.Tokens.Valid(caseID, ck.Value) {
		out = append(out, Presented{applicant(caseID), Credential{Source: SourceApplicant}})
	}
	if ck, err := r.Cookie(SessionCookie); err == nil {
		if id, ok := i.Sessions.Identity(r.Context(), ck.Value); ok {
			out = append(out, Presented{id, Credential{Source: SourceSession}})
		} else {
			out = append(out, Presented{Credential: Credential{Source: SourceSession, Refused: true}})
		}
	}
	return out
}

// token identifies the holder of a token: the applicant of the route's
// case, or whom the authenticator knows.
func (i Identifier) token(ctx context.Context, caseID, token string, source Source) Presented {
	if i.Tokens.Valid(caseID, token) {
		return Presented{applicant(caseID), Credential{Source: source}}
	}
	if source == SourceBearer {
		if id, ok := i.Auth.Authenticate(ctx, token); ok {
			return Presented{id, Credential{Source: source}}
		}
	}
	return Presented{Credential: Credential{Source: source, Refused: true, AccessToken: strings.HasPrefix(token, "at_")}}
}

func applicant(caseID string) ozgflow.Identity {
	return ozgflow.Identity{Subject: "applicant:" + caseID, Role: ozgflow.RoleApplicant, CaseID: caseID}
}

func bearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if scheme, token, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(token)
	}
	return ""
}

// SessionToken returns the staff session's ID, for binding forms to it.
func SessionToken(r *http.Request) string {
	if ck, err := r.Cookie(SessionCookie); err == nil {
		return ck.Value
	}
	return ""
}
