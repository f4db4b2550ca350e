// Package access declares who may use each route of the gateway: the
// least-privilege matrix. gateway's TestAccessMatrixCoversTheRouter holds it
// to the router (a route without a row fails, and so does a row without a
// route); the end-to-end scenario LeastPrivilege (test/e2e/access.go) tries
// every caller on every route of a running ozgflow and fails on any answer
// other than the declared one.
//
// The matrix is measured on one case: a paid Gewerbeanmeldung in Leipzig
// (147130000000), submitted by the portal client that owns its account,
// delivered to Leipzig's Gewerbe back-office system, its review task handed
// over to the team lead's queue gewerbe-leitung.
package access

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Caller is one identity the matrix tries, with how it presents itself.
type Caller struct {
	Name string // the column's heading
	Who  string
}

// Callers are the identities of the matrix, in the order of its columns.
// Each presents every credential it holds on every request: the bearer token
// (an API client's, a staff member's, or the applicant's access token), the
// staff session cookie, the applicant's cookie of the case; a room takes
// what it accepts.
var Callers = []Caller{
	{"none", "no credential at all"},
	{"junk", "a bearer token, a session cookie and an applicant's cookie that identify no one"},
	{"appl", "the applicant of the case, with its access token"},
	{"appl2", "the applicant of another case, with that case's access token"},
	{"port", "the portal client owning the case's portal account"},
	{"port2", "another portal client"},
	{"sb", "a case worker of the case's authority who works the task's queue"},
	{"sbX", "a case worker of another authority"},
	{"sbQ", "a case worker of the case's authority outside the task's queue"},
	{"admin", "an administrator"},
	{"sys", "the back-office system the case was delivered to"},
	{"sysX", "the back-office system of another authority"},
	{"dp", "the data protection officer, who exports the audit trail"},
}

// Answer is what a route declares for a caller: Admitted, SignIn or an
// HTTP status the answer must have.
type Answer string

const (
	// Admitted is any answer that is not a refusal: 2xx, a redirect other
	// than to the sign-in page, or 400, 409, 415 or 422 for the harmless,
	// often empty, body the matrix sends.
	Admitted Answer = "ok"
	// SignIn is the staff pages' answer to whoever has no session: 303 to
	// /anmelden, with the page asked for as next.
	SignIn Answer = "signin"
)

// Matches reports whether an answer with status and Location header is
// the declared one.
func (a Answer) Matches(status int, location string) bool {
	toSignIn := status == http.StatusSeeOther && (location == "/anmelden" || strings.HasPrefix(location, "/anmelden?next="))
	switch a {
	case Admitted:
		switch {
		case status >= 200 && status < 300:
			return true
		case status >= 300 && status < 400:
			return !toSignIn
		}
		return status == http.StatusBadRequest || status == http.StatusConflict ||
			status == http.StatusUnsupportedMediaType || status == http.StatusUnprocessableEntity
	case SignIn:
		return toSignIn
	}
	return string(a) == strconv.Itoa(status)
}

// Route is one route of the gateway, as the router has it, with the answer
// each caller gets, in the order of Callers.
type Route struct {
	Method, Path string
	Want         []Answer
}

// String is the route as the matrix names it, e.g. "GET /healthz".
func (r Route) String() string { return r.Method + " " + r.Path }

// Matrix declares, per route, the answer of each caller. A column's answer
// is ok (admitted), signin (sent to the sign-in page), or the status every
// refusal of that kind has: 401 without a valid credential, 403 for a
// caller of another audience, 404 where the case or task stays hidden.
// A few rows name a status where it says more than ok: the portal client
// submits (201), another portal client may not submit for this account
// (422 at /applicant/portalAccount).
//
// Read by column: an applicant reaches only their own case, and nothing of
// the API but it; portal clients submit and read their own accounts'
// mailboxes; case workers see the tasks and cases of their authority's
// queues that they work, through the API and the Arbeitskorb; administrators
// look at tasks (403 on acting) and manage definitions and deliveries, but
// neither work cases nor read mailboxes, but see any case's payloads
// decrypted through the codec endpoint; back-office systems report events
// on the cases delivered to them and read those cases; the data protection
// officer exports the audit trail and sees no case.
const Matrix = `
#      path                                                           none   junk   appl   appl2  port   port2  sb     sbX    sbQ    admin  sys    sysX  dp
GET    /healthz                                                       ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok
GET    /readyz                                                        ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok
GET    /metrics                                                       ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok

# The API: documents and checks for anyone; webhooks and callbacks count their signature, never a token.
GET    /api/v1/openapi.yaml                                           ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok
GET    /api/v1/keys                                                   ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok
POST   /api/v1/receipts/verify                                        ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok
POST   /api/v1/webhooks/payments                                      401    401    401    401    401    401    401    401    401    401    401    401    401
POST   /api/v1/webhooks/signatures                                    401    401    401    401    401    401    401    401    401    401    401    401    401
POST   /api/v1/fachverfahren/callbacks                                401    401    401    401    401    401    401    401    401    401    401    401    401

# Submitting, and the case for whoever may see it.
POST   /api/v1/applications                                           401    401    401    401    201    422    403    403    403    403    403    403    403
GET    /api/v1/applications/{id}                                      401    401    ok     404    404    404    ok     404    404    ok     ok     404    404
GET    /api/v1/applications/{id}/receipt                              401    401    ok     404    404    404    ok     404    404    ok     ok     404    404
GET    /api/v1/applications/{id}/receipt.pdf                          401    401    ok     404    404    404    ok     404    404    ok     ok     404    404
GET    /api/v1/applications/{id}/documents                            401    401    ok     404    404    404    ok     404    404    ok     ok     404    404
GET    /api/v1/applications/{id}/documents/{sha256}                   401    401    ok     404    404    404    ok     404    404    ok     ok     404    404
POST   /api/v1/applications/{id}/responses                            401    401    ok     404    403    403    403    403    403    403    403    403    403
POST   /api/v1/applications/{id}/withdraw                             401    401    ok     404    403    403    403    403    403    403    403    403    403
POST   /api/v1/applications/{id}/payment                              401    401    ok     404    403    403    403    403    403    403    403    403    403
POST   /api/v1/applications/{id}/events                               401    401    403    404    403    403    403    403    403    403    ok     404    403

# The audit trail: a case's for whoever of the staff may see the case, the whole for the data protection role.
GET    /api/v1/applications/{id}/trail                                401    401    403    404    403    403    ok     404    404    ok     403    403    403
GET    /api/v1/trail                                                  401    401    401    401    403    403    403    403    403    403    403    403    ok

# The portal account's mailbox.
GET    /api/v1/accounts/{account}/notices                             401    401    401    401    ok     403    403    403    403    403    403    403    403
POST   /api/v1/accounts/{account}/notices/{noticeId}/read             401    401    401    401    ok     403    403    403    403    403    403    403    403

# Data protection: access on request for the account's portal and administrators, erasure by administrators.
GET    /api/v1/accounts/{account}/data                                401    401    401    401    ok     403    403    403    403    ok     403    403    403
POST   /api/v1/accounts/{account}/erasure                             401    401    401    401    403    403    403    403    403    ok     403    403    403
POST   /api/v1/applications/{id}/erasure                              401    401    403    404    403    403    403    403    403    ok     403    403    403

# Queues, tasks and reports of an authority.
GET    /api/v1/queues                                                 401    401    401    401    403    403    ok     ok     ok     ok     403    403    403
GET    /api/v1/cases                                                  401    401    401    401    403    403    ok     ok     ok     ok     403    403    403
GET    /api/v1/tasks                                                  401    401    401    401    403    403    ok     ok     ok     ok     403    403    403
POST   /api/v1/tasks/bulk                                             401    401    401    401    403    403    ok     ok     ok     ok     403    403    403
GET    /api/v1/tasks/export.xlsx                                      401    401    401    401    403    403    ok     ok     ok     ok     403    403    403
POST   /api/v1/tasks/{taskId}/claim                                   401    401    401    401    403    403    ok     404    404    403    403    403    403
POST   /api/v1/tasks/{taskId}/release                                 401    401    401    401    403    403    ok     404    404    403    403    403    403
POST   /api/v1/tasks/{taskId}/complete                                401    401    401    401    403    403    ok     404    404    403    403    403    403
POST   /api/v1/tasks/{taskId}/handover                                401    401    401    401    403    403    ok     404    404    403    403    403    403
POST   /api/v1/tasks/{taskId}/approve                                 401    401    401    401    403    403    ok     404    404    403    403    403    403
POST   /api/v1/tasks/{taskId}/follow-up                               401    401    401    401    403    403    ok     404    404    403    403    403    403
GET    /api/v1/reports/cases.xlsx                                     401    401    401    401    403    403    ok     ok     ok     ok     403    403    403
GET    /api/v1/reports/statistics.xlsx                                401    401    401    401    403    403    ok     ok     ok     ok     403    403    403

# Administration: portal deliveries and definitions.
GET    /api/v1/portal-events                                          401    401    401    401    403    403    403    403    403    ok     403    403    403
POST   /api/v1/portal-events/{id}/resend                              401    401    401    401    403    403    403    403    403    ok     403    403    403
GET    /api/v1/operations/stuck                                       401    401    401    401    403    403    403    403    403    ok     403    403    403
POST   /api/v1/operations/stuck/{caseId}/resend                       401    401    401    401    403    403    403    403    403    ok     403    403    403
POST   /api/v1/operations/stuck/{caseId}/cancel                       401    401    401    401    403    403    403    403    403    ok     403    403    403
POST   /api/v1/cases/{id}/delivery/resend                             401    401    403    401    403    403    403    403    403    ok     403    403    403
GET    /api/v1/definitions                                            401    401    401    401    403    403    403    403    403    ok     403    403    403
POST   /api/v1/definitions                                            401    401    401    401    403    403    403    403    403    ok     403    403    403
GET    /api/v1/definitions/changes                                    401    401    401    401    403    403    403    403    403    ok     403    403    403
GET    /api/v1/definitions/export.xlsx                                401    401    401    401    403    403    403    403    403    ok     403    403    403
POST   /api/v1/definitions/import                                     401    401    401    401    403    403    403    403    403    ok     403    403    403
GET    /api/v1/definitions/{id}                                       401    401    401    401    403    403    403    403    403    ok     403    403    403
POST   /api/v1/definitions/{id}/drafts                                401    401    401    401    403    403    403    403    403    ok     403    403    403
GET    /api/v1/definitions/{id}/versions/{version}                    401    401    401    401    403    403    403    403    403    ok     403    403    403
PUT    /api/v1/definitions/{id}/versions/{version}                    401    401    401    401    403    403    403    403    403    ok     403    403    403
POST   /api/v1/definitions/{id}/versions/{version}/publish            401    401    401    401    403    403    403    403    403    ok     403    403    403
POST   /api/v1/definitions/{id}/versions/{version}/retire             401    401    401    401    403    403    403    403    403    ok     403    403    403

# Temporal's codec endpoint: decrypted payloads for administrators alone (the Web UI sends the session).
POST   /api/v1/codec/decode                                           401    401    401    401    403    403    403    403    403    ok     403    403    403

# Signing in (each caller types its own token): staff only. No identity
# provider is configured in dev, so its two routes are not found.
GET    /anmelden                                                      ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok
POST   /anmelden                                                      401    401    401    401    403    403    ok     ok     ok     ok     403    403    ok
GET    /anmelden/oidc                                                 404    404    404    404    404    404    404    404    404    404    404    404    404
GET    /anmelden/rueckkehr                                            404    404    404    404    404    404    404    404    404    404    404    404    404
POST   /abmelden                                                      signin signin signin signin signin signin ok     ok     ok     ok     signin signin ok

# The Arbeitskorb: case workers, by session only.
GET    /arbeitskorb                                                   signin signin signin signin signin signin ok     ok     ok     403    signin signin 403
POST   /arbeitskorb/sammelaktion                                      signin signin signin signin signin signin ok     ok     ok     403    signin signin 403
GET    /arbeitskorb/ereignisse                                        signin signin signin signin signin signin ok     ok     ok     403    signin signin 403
GET    /arbeitskorb/suche                                             signin signin signin signin signin signin ok     ok     ok     403    signin signin 403
GET    /arbeitskorb/vorgaenge/{caseId}                                signin signin signin signin signin signin ok     404    404    403    signin signin 403
GET    /arbeitskorb/vorgaenge/{caseId}/dokumente/{sha256}             signin signin signin signin signin signin ok     404    404    403    signin signin 403
POST   /arbeitskorb/vorgaenge/{caseId}/notizen                        signin signin signin signin signin signin ok     404    404    403    signin signin 403
POST   /arbeitskorb/aufgaben/{taskId}/{action}                        signin signin signin signin signin signin ok     404    404    403    signin signin 403

# The Verwaltung: administrators, by session only; the dashboard also for
# the team leads of the authority (sb and sbX lead their teams, sbQ does not).
GET    /verwaltung                                                    signin signin signin signin signin signin 403    403    403    ok     signin signin 403
POST   /verwaltung/import                                             signin signin signin signin signin signin 403    403    403    ok     signin signin 403
GET    /verwaltung/aenderungen                                        signin signin signin signin signin signin 403    403    403    ok     signin signin 403
GET    /verwaltung/auswertung                                         signin signin signin signin signin signin ok     ok     403    ok     signin signin 403
GET    /verwaltung/zustellungen                                       signin signin signin signin signin signin 403    403    403    ok     signin signin 403
GET    /verwaltung/loeschung                                          signin signin signin signin signin signin 403    403    403    ok     signin signin 403
POST   /verwaltung/loeschung                                          signin signin signin signin signin signin 403    403    403    ok     signin signin 403
POST   /verwaltung/zustellungen/{id}/erneut                           signin signin signin signin signin signin 403    403    403    ok     signin signin 403
GET    /verwaltung/stoerungen                                         signin signin signin signin signin signin 403    403    403    ok     signin signin 403
POST   /verwaltung/stoerungen/{caseId}/erneut                         signin signin signin signin signin signin 403    403    403    ok     signin signin 403
POST   /verwaltung/stoerungen/{caseId}/abbrechen                      signin signin signin signin signin signin 403    403    403    ok     signin signin 403
GET    /verwaltung/definitionen/{id}                                  signin signin signin signin signin signin 403    403    403    ok     signin signin 403
POST   /verwaltung/definitionen/{id}/entwurf                          signin signin signin signin signin signin 403    403    403    ok     signin signin 403
GET    /verwaltung/definitionen/{id}/versionen/{version}              signin signin signin signin signin signin 403    403    403    ok     signin signin 403
POST   /verwaltung/definitionen/{id}/versionen/{version}              signin signin signin signin signin signin 403    403    403    ok     signin signin 403
POST   /verwaltung/definitionen/{id}/versionen/{version}/stilllegen   signin signin signin signin signin signin 403    403    403    ok     signin signin 403
POST   /verwaltung/definitionen/{id}/versionen/{version}/formular     signin signin signin signin signin signin 403    403    403    ok     signin signin 403
GET    /verwaltung/vorgaenge/{caseId}/zustellung                      signin signin signin signin signin signin 403    403    403    ok     signin signin 403
POST   /verwaltung/vorgaenge/{caseId}/zustellung/erneut               signin signin signin signin signin signin 403    403    403    ok     signin signin 403

# The data protection role's page: the choice of an export.
GET    /verwaltung/protokoll                                          signin signin signin signin signin signin 403    403    403    403    signin signin ok

# The applicant's pages: the case's access token (link or cookie), nothing else.
GET    /antraege/{id}                                                 403    403    ok     403    403    403    403    403    403    403    403    403    403
GET    /antraege/{id}/ereignisse                                      403    403    ok     403    403    403    403    403    403    403    403    403    403
POST   /antraege/{id}/zahlung                                         403    403    ok     403    403    403    403    403    403    403    403    403    403
POST   /antraege/{id}/antwort                                         403    403    ok     403    403    403    403    403    403    403    403    403    403
GET    /antraege/{id}/zurueckziehen                                   403    403    ok     403    403    403    403    403    403    403    403    403    403
POST   /antraege/{id}/zurueckziehen                                   403    403    ok     403    403    403    403    403    403    403    403    403    403

# Checking a receipt: anyone.
GET    /pruefen                                                       ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok
POST   /pruefen                                                       ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok

# FIT-Connect: the token endpoint and the API's keys for anyone, the Submission
# API for online services with FIT-Connect client credentials (none of the callers).
POST   /fit-connect/token                                             ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok
GET    /fit-connect/.well-known/jwks.json                             ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok     ok
GET    /fit-connect/v1/destinations/{destinationId}                   401    401    401    401    403    403    403    403    403    403    403    403    403
GET    /fit-connect/v1/destinations/{destinationId}/keys/{keyId}      401    401    401    401    403    403    403    403    403    403    403    403    403
POST   /fit-connect/v1/submissions                                    401    401    401    401    403    403    403    403    403    403    403    403    403
PUT    /fit-connect/v1/submissions/{submissionId}/attachments/{attachmentId} 401    401    401    401    403    403    403    403    403    403    403    403    403
PUT    /fit-connect/v1/submissions/{submissionId}                     401    401    401    401    403    403    403    403    403    403    403    403    403
GET    /fit-connect/v1/submissions/{submissionId}                     401    401    401    401    403    403    403    403    403    403    403    403    403
GET    /fit-connect/v1/cases/{caseId}/events                          401    401    401    401    403    403    403    403    403    403    403    403    403
# The destinations, for administrators.
GET    /api/v1/fit-connect/destinations                               401    401    401    401    403    403    403    403    403    ok     403    403    403
`

// Routes reads the matrix. Lines starting with # are comments.
func Routes() ([]Route, error) {
	var routes []Route
	seen := map[string]bool{}
	for n, line := range strings.Split(Matrix, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) != 2+len(Callers) {
			return nil, fmt.Errorf("matrix line %d: %d answers, want one for each of the %d callers", n, len(fields)-2, len(Callers))
		}
		r := Route{Method: fields[0], Path: fields[1]}
		switch r.Method {
		case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			return nil, fmt.Errorf("matrix line %d: unknown method %q", n, r.Method)
		}
		if !strings.HasPrefix(r.Path, "/") {
			return nil, fmt.Errorf("matrix line %d: path %q does not start with /", n, r.Path)
		}
		if seen[r.String()] {
			return nil, fmt.Errorf("matrix line %d: %s is declared twice", n, r)
		}
		seen[r.String()] = true
		for _, f := range fields[2:] {
			a := Answer(f)
			if code, err := strconv.Atoi(f); a != Admitted && a != SignIn && (err != nil || code < 100 || code > 599) {
				return nil, fmt.Errorf("matrix line %d: %q is no answer (ok, signin or a status)", n, f)
			}
			r.Want = append(r.Want, a)
		}
		routes = append(routes, r)
	}
	return routes, nil
}
