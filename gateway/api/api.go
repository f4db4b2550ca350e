// Package api is the JSON API under /api/v1 for portals, case workers,
// administrators, back-office systems and the providers' webhooks. Its
// routes are grouped by audience; the identity of a request is established
// before (gateway/web.Identifier), and handlers ask the request context who
// is calling. Errors are RFC 9457 problem documents.
package api

import (
	_ "embed"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"go.temporal.io/sdk/converter"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/store"
)

// OpenAPI is the API description served at /api/v1/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte

// WebhookSecrets verify the providers' webhooks and the Fachverfahren's
// callbacks; an empty secret refuses all of its kind.
type WebhookSecrets struct {
	Payment   []byte
	Signature []byte
	// Fachverfahren is the delivery secret, which signs callbacks too.
	Fachverfahren []byte
}

// API serves the JSON API.
type API struct {
	cases    *casework.Service
	receipts *casework.Receipts
	catalog  *casework.Catalog
	store    *store.Store
	tokens   web.AccessTokens
	webhooks WebhookSecrets
	codec    converter.PayloadCodec // the codec endpoint's (DecodeWith); nil decodes nothing
	errors   web.Errors
	audit    web.Auditor
	logger   *slog.Logger
	now      func() time.Time
}

// New returns the API over the case service.
func New(cases *casework.Service, receipts *casework.Receipts, tokens web.AccessTokens, webhooks WebhookSecrets, logger *slog.Logger) *API {
	return &API{cases: cases, receipts: receipts, catalog: cases.Catalog, store: cases.Store, tokens: tokens,
		webhooks: webhooks, errors: web.Errors{Logger: logger}, logger: logger, now: cases.Now,
		audit: web.Auditor{Records: cases.Records, Logger: logger, Now: cases.Now}}
}

// Register adds the API's routes under /api/v1, one room per audience.
func (s *API) Register(root *mux.Router, rooms *web.Rooms) {
	const prefix = "/api/v1"
	// The API takes bearer tokens, and the staff's session for reading
	// (downloads linked from the pages).
	sources := []web.Source{web.SourceBearer, web.SourceSession}
	room := func(name, forbidden, scope string, roles ...ozgflow.Role) *mux.Router {
		return rooms.Open(root, prefix, web.Audience{Name: name, Roles: roles, Deny: s.deny(forbidden),
			Sources: sources, BearerForChanges: true, Scope: scope})
	}
	// Whoever may not read a case learns nothing of it: 404, as if it did
	// not exist.
	readerRoles := []ozgflow.Role{ozgflow.RoleApplicant, ozgflow.RoleCaseWorker, ozgflow.RoleAdmin, ozgflow.RoleSystem}
	readerRoom := func(name string, sources ...web.Source) *mux.Router {
		return rooms.Open(root, prefix, web.Audience{Name: name, Roles: readerRoles, Deny: s.deny(""),
			Sources: sources, BearerForChanges: true, Scope: ozgflow.ScopeCasesRead})
	}

	public := room("anyone (signed webhooks check their signature)", "", "", ozgflow.RoleAnonymous)
	public.Handle("/openapi.yaml", s.audit.Declare(web.NoPersonalData, handleOpenAPI)).Methods(http.MethodGet)
	public.Handle("/keys", s.audit.Declare(web.NoPersonalData, s.handleKeys)).Methods(http.MethodGet)
	public.Handle("/receipts/verify", s.audit.Declare(web.NoPersonalData, s.handleVerifyReceipt)).Methods(http.MethodPost)
	public.Handle("/webhooks/payments", s.audit.Declare(web.Changes("webhook.payment").By(paymentProvider), s.handlePaymentWebhook)).Methods(http.MethodPost)
	public.Handle("/webhooks/signatures", s.audit.Declare(web.Changes("webhook.signature").By(signingService), s.handleSignatureWebhook)).Methods(http.MethodPost)
	public.Handle("/fachverfahren/callbacks", s.audit.Declare(web.Changes("case.callback").By(fachverfahrenSystem), s.handleCallback)).Methods(http.MethodPost)

	submitters := room("portal clients", "Only portal clients may submit applications.", ozgflow.ScopeSubmit, ozgflow.RolePortal)
	submitters.Handle("/applications", s.audit.Declare(web.Changes("case.submit"), s.handleSubmit)).Methods(http.MethodPost)

	readers := readerRoom("whoever may see the case", sources...)
	readers.Handle("/applications/{id}", s.audit.Declare(web.Reads("case.read"), s.handleGetApplication)).Methods(http.MethodGet)
	readers.Handle("/applications/{id}/receipt", s.audit.Declare(web.Reads("receipt.read"), s.handleReceipt)).Methods(http.MethodGet)
	readers.Handle("/applications/{id}/documents", s.audit.Declare(web.Reads("document.list"), s.handleListDocuments)).Methods(http.MethodGet)
	// The applicant's pages link to the receipt: the access token in the
	// link and the applicant's cookie count there too.
	downloads := readerRoom("whoever may see the case, also by the applicant's link or cookie",
		web.SourceBearer, web.SourceLink, web.SourceApplicant, web.SourceSession)
	downloads.Handle("/applications/{id}/receipt.pdf", s.audit.Declare(web.Reads("receipt.download"), s.handleReceiptPDF)).Methods(http.MethodGet)
	downloads.Handle("/applications/{id}/documents/{sha256}", s.audit.Declare(web.Reads("document.download"), s.handleDocument)).Methods(http.MethodGet)

	applicants := room("the applicant of the case", "This action is open to the applicant only.", "", ozgflow.RoleApplicant)
	applicants.Handle("/applications/{id}/responses", s.audit.Declare(web.Changes("case.respond"), s.handleRespond)).Methods(http.MethodPost)
	applicants.Handle("/applications/{id}/withdraw", s.audit.Declare(web.Changes("case.withdraw"), s.handleWithdraw)).Methods(http.MethodPost)
	applicants.Handle("/applications/{id}/payment", s.audit.Declare(web.Changes("case.payment"), s.handleRetryPayment)).Methods(http.MethodPost)

	backOffice := room("back-office systems", "Only back-office systems report events.", ozgflow.ScopeEvents, ozgflow.RoleSystem)
	backOffice.Handle("/applications/{id}/events", s.audit.Declare(web.Changes("case.event"), s.handleExternalEvent)).Methods(http.MethodPost)

	// A mailbox is the portal account's: administrators neither read nor
	// mark the notices of citizens.
	mailboxes := room("portal clients", "Only portal clients may read mailboxes.", ozgflow.ScopeMailbox, ozgflow.RolePortal)
	mailboxes.Handle("/accounts/{account}/notices", s.audit.Declare(web.Reads("mailbox.read"), s.handleNotices)).Methods(http.MethodGet)
	mailboxes.Handle("/accounts/{account}/notices/{noticeId}/read", s.audit.Declare(web.Changes("mailbox.mark"), s.handleNoticeRead)).Methods(http.MethodPost)

	staff := room("case workers and administrators", "Only case workers and administrators work with tasks.", "",
		ozgflow.RoleCaseWorker, ozgflow.RoleAdmin)
	staff.Handle("/queues", s.audit.Declare(web.NoPersonalData, s.handleQueues)).Methods(http.MethodGet)
	staff.Handle("/cases", s.audit.Declare(web.Reads("case.search"), s.handleSearchCases)).Methods(http.MethodGet)
	staff.Handle("/tasks", s.audit.Declare(web.Reads("task.list"), s.handleListTasks)).Methods(http.MethodGet)
	staff.Handle("/tasks/bulk", s.audit.Declare(web.Changes("task.bulk"), s.handleBulkTasks)).Methods(http.MethodPost)
	staff.Handle("/tasks/export.xlsx", s.audit.Declare(web.Reads("task.export"), s.handleExportTasks)).Methods(http.MethodGet)
	for _, action := range []struct{ path, update string }{
		{"claim", ozgflow.UpdateClaim}, {"release", ozgflow.UpdateRelease}, {"complete", ozgflow.UpdateComplete},
		{"handover", ozgflow.UpdateHandover}, {"approve", ozgflow.UpdateApprove}, {"follow-up", ozgflow.UpdateFollowUp},
	} {
		staff.Handle("/tasks/{taskId}/"+action.path, s.audit.Declare(web.Changes("task."+action.path), s.handleTaskAction(action.update))).Methods(http.MethodPost)
	}
	staff.Handle("/reports/cases.xlsx", s.audit.Declare(web.Reads("report.cases"), s.handleCaseReport)).Methods(http.MethodGet)
	staff.Handle("/reports/statistics.xlsx", s.audit.Declare(web.NoPersonalData, s.handleStatisticsReport)).Methods(http.MethodGet)

	// The trail of a case, for those who may see the case (CaseFor decides).
	trailReaders := room("case workers and administrators", "Only case workers and administrators read a case's trail.", "",
		ozgflow.RoleCaseWorker, ozgflow.RoleAdmin)
	trailReaders.Handle("/applications/{id}/trail", s.audit.Declare(web.Reads("trail.read"), s.handleCaseTrail)).Methods(http.MethodGet)
	// The whole trail, for the data protection role only.
	protection := room("the data protection role", "Only the data protection role exports the audit trail.", "",
		ozgflow.RoleDataProtection)
	protection.Handle("/trail", s.audit.Declare(web.Reads("trail.export"), s.handleTrailExport)).Methods(http.MethodGet)

	admins := room("administrators", "Only administrators manage definitions and portal deliveries.", "", ozgflow.RoleAdmin)
	admins.Handle("/portal-events", s.audit.Declare(web.Reads("delivery.list"), s.handlePortalEvents)).Methods(http.MethodGet)
	admins.Handle("/portal-events/{id}/resend", s.audit.Declare(web.Changes("delivery.resend").WithID("notice"), s.handleResendPortalEvent)).Methods(http.MethodPost)
	admins.Handle("/operations/stuck", s.audit.Declare(web.Reads("stuck.list"), s.handleStuckCases)).Methods(http.MethodGet)
	admins.Handle("/operations/stuck/{caseId}/resend", s.audit.Declare(web.Changes("stuck.resend"), s.handleResendStuck)).Methods(http.MethodPost)
	admins.Handle("/operations/stuck/{caseId}/cancel", s.audit.Declare(web.Changes("stuck.cancel"), s.handleCancelStuck)).Methods(http.MethodPost)
	admins.Handle("/cases/{id}/delivery/resend", s.audit.Declare(web.Changes("case.delivery.resend"), s.handleResendDelivery)).Methods(http.MethodPost)
	s.registerDefinitionRoutes(admins)
	admins.Handle("/fit-connect/destinations", s.audit.Declare(web.NoPersonalData, s.handleFITConnectDestinations)).Methods(http.MethodGet)
	s.registerPrivacyRoutes(root, rooms, prefix, sources)
	s.registerCodecRoutes(root, rooms, prefix)
}

// registerDefinitionRoutes adds the administrators' API over the versioned
// definitions. Without a catalog (tests with a fixed registry) they answer 503.
func (s *API) registerDefinitionRoutes(r *mux.Router) {
	withCatalog := func(h func(http.ResponseWriter, *http.Request, ozgflow.Identity)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if s.catalog == nil {
				s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EUNAVAILABLE, "The catalog is not available here."))
				return
			}
			h(w, r, ozgflow.IdentityFrom(r.Context()))
		}
	}
	r.Handle("/definitions", s.audit.Declare(web.NoPersonalData, withCatalog(s.handleListDefinitions))).Methods(http.MethodGet)
	r.Handle("/definitions", s.audit.Declare(web.NoPersonalData, withCatalog(s.handleCreateDefinition))).Methods(http.MethodPost)
	r.Handle("/definitions/changes", s.audit.Declare(web.NoPersonalData, withCatalog(s.handleDefinitionChanges))).Methods(http.MethodGet)
	r.Handle("/definitions/export.xlsx", s.audit.Declare(web.NoPersonalData, withCatalog(s.handleExportDefinitions))).Methods(http.MethodGet)
	r.Handle("/definitions/import", s.audit.Declare(web.NoPersonalData, withCatalog(s.handleImportDefinitions))).Methods(http.MethodPost)
	r.Handle("/definitions/{id}", s.audit.Declare(web.NoPersonalData, withCatalog(s.handleGetDefinition))).Methods(http.MethodGet)
	r.Handle("/definitions/{id}/drafts", s.audit.Declare(web.NoPersonalData, withCatalog(s.handleDraftDefinition))).Methods(http.MethodPost)
	r.Handle("/definitions/{id}/versions/{version}", s.audit.Declare(web.NoPersonalData, withCatalog(s.handleGetVersion))).Methods(http.MethodGet)
	r.Handle("/definitions/{id}/versions/{version}", s.audit.Declare(web.NoPersonalData, withCatalog(s.handleEditVersion))).Methods(http.MethodPut)
	r.Handle("/definitions/{id}/versions/{version}/publish", s.audit.Declare(web.NoPersonalData, withCatalog(s.changeVersion(ozgflow.UpdateDefinitionPublish)))).Methods(http.MethodPost)
	r.Handle("/definitions/{id}/versions/{version}/retire", s.audit.Declare(web.NoPersonalData, withCatalog(s.changeVersion(ozgflow.UpdateDefinitionRetire)))).Methods(http.MethodPost)
}

// deny answers a request the room does not admit: 401 without a valid
// credential, 404 for an access token of another case (the case stays
// hidden), 403 with forbidden for an identity of another audience, or 404
// when forbidden is empty (rooms that hide what they hold).
func (s *API) deny(forbidden string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, cred := ozgflow.IdentityFrom(r.Context()), web.CredentialFrom(r.Context())
		caseID := mux.Vars(r)["id"]
		switch {
		case id.Role != ozgflow.RoleAnonymous && forbidden == "":
			s.errors.Write(w, r, ozgflow.Errorf(ozgflow.ENOTFOUND, "Application %s not found.", caseID))
		case id.Role != ozgflow.RoleAnonymous:
			s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EFORBIDDEN, "%s", forbidden))
		case cred.Refused && cred.AccessToken && caseID != "" && strings.HasPrefix(r.URL.Path, "/api/v1/applications/"):
			s.errors.Write(w, r, ozgflow.Errorf(ozgflow.ENOTFOUND, "Application %s not found.", caseID))
		case cred.Refused:
			w.Header().Set("WWW-Authenticate", `Bearer realm="ozgflow", error="invalid_token"`)
			s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EUNAUTHORIZED, "The bearer token is not valid."))
		default:
			w.Header().Set("WWW-Authenticate", `Bearer realm="ozgflow"`)
			s.errors.Write(w, r, ozgflow.Errorf(ozgflow.EUNAUTHORIZED, "A bearer token is required."))
		}
	}
}
