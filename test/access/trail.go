package access

import (
	"fmt"
	"strings"
)

// Trail declares, per route, what a request that succeeds writes to the
// audit trail: the action of its one entry, or "-" for a route that
// touches no personal data and writes nothing. gateway's
// TestEveryRouteDeclaresItsUseOfPersonalData holds the router's
// declarations (web.Auditor.Declare) to it; the end-to-end scenario
// LeastPrivilege checks, in every cell of the access matrix, that an
// admitted request wrote exactly this entry, with the caller as actor and
// the case, and that a refused one wrote none.
//
// The staff's task form names its action in the address; the matrix tries
// "uebernehmen", the claim.
const Trail = `
GET    /healthz                                                       -
GET    /readyz                                                        -
GET    /metrics                                                       -
GET    /api/v1/openapi.yaml                                           -
GET    /api/v1/keys                                                   -
POST   /api/v1/receipts/verify                                        -
POST   /api/v1/webhooks/payments                                      webhook.payment
POST   /api/v1/webhooks/signatures                                    webhook.signature
POST   /api/v1/fachverfahren/callbacks                                case.callback
POST   /api/v1/applications                                           case.submit
GET    /api/v1/applications/{id}                                      case.read
GET    /api/v1/applications/{id}/receipt                              receipt.read
GET    /api/v1/applications/{id}/receipt.pdf                          receipt.download
GET    /api/v1/applications/{id}/documents                            document.list
GET    /api/v1/applications/{id}/documents/{sha256}                   document.download
POST   /api/v1/applications/{id}/responses                            case.respond
POST   /api/v1/applications/{id}/withdraw                             case.withdraw
POST   /api/v1/applications/{id}/payment                              case.payment
POST   /api/v1/applications/{id}/events                               case.event
GET    /api/v1/applications/{id}/trail                                trail.read
GET    /api/v1/trail                                                  trail.export
GET    /api/v1/accounts/{account}/notices                             mailbox.read
POST   /api/v1/accounts/{account}/notices/{noticeId}/read             mailbox.mark
GET    /api/v1/accounts/{account}/data                                account.access
POST   /api/v1/accounts/{account}/erasure                             erasure.request
POST   /api/v1/applications/{id}/erasure                              erasure.request
GET    /api/v1/queues                                                 -
GET    /api/v1/cases                                                  case.search
GET    /api/v1/tasks                                                  task.list
POST   /api/v1/tasks/bulk                                             task.bulk
GET    /api/v1/tasks/export.xlsx                                      task.export
POST   /api/v1/tasks/{taskId}/claim                                   task.claim
POST   /api/v1/tasks/{taskId}/release                                 task.release
POST   /api/v1/tasks/{taskId}/complete                                task.complete
POST   /api/v1/tasks/{taskId}/handover                                task.handover
POST   /api/v1/tasks/{taskId}/approve                                 task.approve
POST   /api/v1/tasks/{taskId}/follow-up                               task.follow-up
GET    /api/v1/reports/cases.xlsx                                     report.cases
GET    /api/v1/reports/statistics.xlsx                                -
GET    /api/v1/portal-events                                          delivery.list
POST   /api/v1/portal-events/{id}/resend                              delivery.resend
GET    /api/v1/operations/stuck                                       stuck.list
POST   /api/v1/operations/stuck/{caseId}/resend                       stuck.resend
POST   /api/v1/operations/stuck/{caseId}/cancel                       stuck.cancel
POST   /api/v1/cases/{id}/delivery/resend                             case.delivery.resend
GET    /api/v1/definitions                                            -
POST   /api/v1/definitions                                            -
GET    /api/v1/definitions/changes                                    -
GET    /api/v1/definitions/export.xlsx                                -
POST   /api/v1/definitions/import                                     -
GET    /api/v1/definitions/{id}                                       -
POST   /api/v1/definitions/{id}/drafts                                -
GET    /api/v1/definitions/{id}/versions/{version}                    -
PUT    /api/v1/definitions/{id}/versions/{version}                    -
POST   /api/v1/definitions/{id}/versions/{version}/publish            -
POST   /api/v1/definitions/{id}/versions/{version}/retire             -
POST   /api/v1/codec/decode                                           payload.decode
GET    /anmelden                                                      -
POST   /anmelden                                                      signin
GET    /anmelden/oidc                                                 -
GET    /anmelden/rueckkehr                                            signin
POST   /abmelden                                                      signout
GET    /arbeitskorb                                                   task.list
POST   /arbeitskorb/sammelaktion                                      task.bulk
GET    /arbeitskorb/ereignisse                                        task.events
GET    /arbeitskorb/suche                                             case.search
GET    /arbeitskorb/vorgaenge/{caseId}                                case.read
GET    /arbeitskorb/vorgaenge/{caseId}/dokumente/{sha256}             document.download
POST   /arbeitskorb/vorgaenge/{caseId}/notizen                        case.note
POST   /arbeitskorb/aufgaben/{taskId}/{action}                        task.claim
GET    /verwaltung                                                    -
POST   /verwaltung/import                                             -
GET    /verwaltung/aenderungen                                        -
GET    /verwaltung/auswertung                                         -
GET    /verwaltung/zustellungen                                       delivery.list
GET    /verwaltung/loeschung                                          -
POST   /verwaltung/loeschung                                          erasure.request
POST   /verwaltung/zustellungen/{id}/erneut                           delivery.resend
GET    /verwaltung/stoerungen                                         stuck.list
POST   /verwaltung/stoerungen/{caseId}/erneut                         stuck.resend
POST   /verwaltung/stoerungen/{caseId}/abbrechen                      stuck.cancel
GET    /verwaltung/definitionen/{id}                                  -
POST   /verwaltung/definitionen/{id}/entwurf                          -
GET    /verwaltung/definitionen/{id}/versionen/{version}              -
POST   /verwaltung/definitionen/{id}/versionen/{version}              -
POST   /verwaltung/definitionen/{id}/versionen/{version}/stilllegen   -
POST   /verwaltung/definitionen/{id}/versionen/{version}/formular     -
GET    /verwaltung/vorgaenge/{caseId}/zustellung                      case.read
POST   /verwaltung/vorgaenge/{caseId}/zustellung/erneut               case.delivery.resend
GET    /verwaltung/protokoll                                          -
GET    /antraege/{id}                                                 case.read
GET    /antraege/{id}/ereignisse                                      case.events
POST   /antraege/{id}/zahlung                                         case.payment
POST   /antraege/{id}/antwort                                         case.respond
GET    /antraege/{id}/zurueckziehen                                   case.read
POST   /antraege/{id}/zurueckziehen                                   case.withdraw
GET    /pruefen                                                       -
POST   /pruefen                                                       -
POST   /fit-connect/token                                             -
GET    /fit-connect/.well-known/jwks.json                             -
GET    /fit-connect/v1/destinations/{destinationId}                   -
GET    /fit-connect/v1/destinations/{destinationId}/keys/{keyId}      -
POST   /fit-connect/v1/submissions                                    fitconnect.create
PUT    /fit-connect/v1/submissions/{submissionId}/attachments/{attachmentId} fitconnect.attachment
PUT    /fit-connect/v1/submissions/{submissionId}                     fitconnect.submit
GET    /fit-connect/v1/submissions/{submissionId}                     fitconnect.status
GET    /fit-connect/v1/cases/{caseId}/events                          fitconnect.events
GET    /api/v1/fit-connect/destinations                               -
`

// Refined are the routes whose handler names the action more closely
// than the route's declaration can (web.NoteAction), with the
// declaration: the task form's action comes from its address.
var Refined = map[string]string{
	"POST /arbeitskorb/aufgaben/{taskId}/{action}": "task.action",
}

// Actions reads Trail: the action of each route ("" for none), by
// "METHOD /path".
func Actions() (map[string]string, error) {
	out := map[string]string{}
	for n, line := range strings.Split(Trail, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) != 3 {
			return nil, fmt.Errorf("trail line %d: want method, path and action", n)
		}
		key := fields[0] + " " + fields[1]
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("trail line %d: %s is declared twice", n, key)
		}
		if fields[2] == "-" {
			fields[2] = ""
		}
		out[key] = fields[2]
	}
	return out, nil
}
