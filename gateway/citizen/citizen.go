// Package citizen holds the applicant's pages: the status of one case
// under /antraege/{id}, opened with the case's access token, and what the
// applicant does there (pay, sign, answer a question, withdraw), updated
// live; and /pruefen, where anyone checks a receipt. German first, English
// on request, WCAG 2.1 AA.
package citizen

import (
	"embed"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/locale"
	"github.com/ozgflow/ozgflow/records"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages are parsed once, at start, each with the applicant's layout.
var pages = web.ParsePages(templateFS, nil, "status", "withdraw", "verify")

// Purposes of the pages' form tokens.
const (
	csrfCase   = "citizen csrf"
	csrfVerify = "verify csrf"
)

// Pages serves the applicant's pages.
type Pages struct {
	cases    *casework.Service
	receipts *casework.Receipts
	tokens   web.AccessTokens
	csrf     web.CSRF
	render   web.Renderer
	audit    web.Auditor
	logger   *slog.Logger
}

// New returns the applicant's pages.
func New(cases *casework.Service, receipts *casework.Receipts, tokens web.AccessTokens, secret []byte, logger *slog.Logger) *Pages {
	return &Pages{cases: cases, receipts: receipts, tokens: tokens, csrf: web.CSRF{Secret: secret},
		render: web.Renderer{Logger: logger}, logger: logger,
		audit: web.Auditor{Records: cases.Records, Logger: logger, Now: cases.Now}}
}

// Register adds the applicant's pages: those of one case for its applicant,
// and the receipt check for anyone.
func (p *Pages) Register(root *mux.Router, rooms *web.Rooms) {
	applicant := rooms.Open(root, "/antraege", web.Audience{Name: "the applicant of the case",
		Roles: []ozgflow.Role{ozgflow.RoleApplicant}, Deny: p.deny, Sources: []web.Source{web.SourceLink, web.SourceApplicant}})
	applicant.Handle("/{id}", p.audit.Declare(web.Reads("case.read"), p.page(p.handleStatus))).Methods(http.MethodGet)
	applicant.Handle("/{id}/ereignisse", p.audit.Declare(web.Reads("case.events").Streaming(), p.page(p.handleEvents))).Methods(http.MethodGet)
	applicant.Handle("/{id}/zahlung", p.audit.Declare(web.Changes("case.payment"), p.page(p.handleRetryPayment))).Methods(http.MethodPost)
	applicant.Handle("/{id}/antwort", p.audit.Declare(web.Changes("case.respond"), p.uploadPage(p.handleAnswer))).Methods(http.MethodPost)
	applicant.Handle("/{id}/zurueckziehen", p.audit.Declare(web.Reads("case.read"), p.page(p.handleWithdrawPage))).Methods(http.MethodGet)
	applicant.Handle("/{id}/zurueckziehen", p.audit.Declare(web.Changes("case.withdraw"), p.page(p.handleWithdraw))).Methods(http.MethodPost)

	public := rooms.Open(root, "/pruefen", web.Audience{Name: "anyone", Roles: []ozgflow.Role{ozgflow.RoleAnonymous}})
	public.Handle("", p.audit.Declare(web.NoPersonalData, p.handleVerifyPage)).Methods(http.MethodGet, http.MethodPost)
}

// caseHandler handles a page of one case, for the holder of its token.
type caseHandler func(w http.ResponseWriter, r *http.Request, v pageView, c ozgflow.Case, token string)

// deny answers whoever is not the case's applicant: not found for what is
// no case number, else no access.
func (p *Pages) deny(w http.ResponseWriter, r *http.Request) {
	v := p.newView(r)
	if _, err := uuid.Parse(mux.Vars(r)["id"]); err != nil {
		p.errorPage(w, v, http.StatusNotFound, "notfound")
		return
	}
	p.errorPage(w, v, http.StatusForbidden, "forbidden")
}

// page wraps a page of one case: it takes the language and view switches
// and the access token from the address into cookies (and the address
// clean again), checks the CSRF token of every form, and loads the case.
func (p *Pages) page(h caseHandler) http.HandlerFunc { return p.casePage(h, false) }

// uploadPage is page for the answer form, whose multipart body carries its
// CSRF token among the files: the handler checks it while reading them.
// Any other multipart form is read whole and checked before its handler
// runs, like a plain one.
func (p *Pages) uploadPage(h caseHandler) http.HandlerFunc { return p.casePage(h, true) }

func (p *Pages) casePage(h caseHandler, upload bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caseID := mux.Vars(r)["id"]
		if r.Method == http.MethodGet && p.takeSwitches(w, r, caseID) {
			return
		}
		v := p.newView(r)
		token := p.tokens.Issue(caseID) // the identity is this case's applicant
		v.CSRF = p.csrf.Token(csrfCase, token)
		if r.Method == http.MethodPost && !(upload && web.IsMultipart(r)) {
			r.Body = http.MaxBytesReader(w, r.Body, maxCitizenForm)
			if !p.csrf.Valid(csrfCase, token, r.PostFormValue("csrf")) {
				p.formExpired(w, v, "/antraege/"+caseID)
				return
			}
		}
		c, err := p.cases.Load(r.Context(), caseID)
		switch ozgflow.ErrorCode(err) {
		case "":
			web.NoteAccount(r.Context(), c.PortalAccount)
			h(w, r, v, c, token)
		case ozgflow.ENOTFOUND:
			p.errorPage(w, v, http.StatusNotFound, "notfound")
		default:
			if ozgflow.ErrorCode(err) == ozgflow.EINTERNAL {
				p.logger.Error("Case not read for its applicant", "case", caseID, "error", err)
			}
			p.errorPage(w, v, http.StatusServiceUnavailable, "unavailable")
		}
	}
}

// Cookies of the applicant's pages.
const (
	// viewCookie remembers the easy-to-read view.
	viewCookie = "ozgflow_ansicht"
)

// maxCitizenForm bounds the plain forms of the pages (withdraw, payment).
const maxCitizenForm = 64 << 10

// pageView is what every applicant's page gets.
type pageView struct {
	Lang         locale.Lang
	Easy         bool
	Title        string
	Path         string
	CSRF         string
	Nonce        string
	Flash        string
	ProblemTitle string
	Problems     []citizenProblem
	Case         *citizenCase
	Data         any
}

// citizenProblem is a message of the problem summary; Target is the id of
// the form field it concerns, if any.
type citizenProblem struct{ Target, Text string }

// T returns a text of the page in its language and view.
func (v pageView) T(key string, args ...any) string { return v.Lang.Text(v.Easy, key, args...) }

// OtherLang is the language the switch offers.
func (v pageView) OtherLang() locale.Lang {
	if v.Lang == locale.EN {
		return locale.DE
	}
	return locale.EN
}

// EasyURL switches the easy-to-read view on or off; it is German only.
func (v pageView) EasyURL() string {
	if v.Easy {
		return v.Path + "?ansicht=standard"
	}
	if v.Lang != locale.DE {
		return v.Path + "?ansicht=einfach&lang=de"
	}
	return v.Path + "?ansicht=einfach"
}

// MaxFiles, MaxFileSize and MaxTotalSize are the upload limits, for the hints.
func (v pageView) MaxFiles() int        { return web.MaxUploadFiles }
func (v pageView) MaxFileSize() string  { return v.Lang.Size(web.MaxUploadFileBytes) }
func (v pageView) MaxTotalSize() string { return v.Lang.Size(web.MaxUploadTotalBytes) }

// takeSwitches moves token, lang and ansicht from the address into cookies
// and redirects to the address without them; it reports whether it did.
// A token that is not the case's stays, and the page says so.
func (p *Pages) takeSwitches(w http.ResponseWriter, r *http.Request, caseID string) bool {
	q := r.URL.Query()
	moved := false
	if t := q.Get("token"); t != "" && p.tokens.Valid(caseID, t) {
		http.SetCookie(w, &http.Cookie{Name: web.ApplicantCookie, Value: t, Path: "/", HttpOnly: true,
			Secure: web.SecureCookies(r), SameSite: http.SameSiteLaxMode})
		q.Del("token")
		moved = true
	}
	if l, ok := locale.Parse(q.Get("lang")); ok {
		http.SetCookie(w, &http.Cookie{Name: locale.CookieName, Value: string(l), Path: "/", HttpOnly: true,
			Secure: web.SecureCookies(r), SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
		q.Del("lang")
		moved = true
	}
	switch q.Get("ansicht") {
	case "einfach":
		http.SetCookie(w, &http.Cookie{Name: viewCookie, Value: "einfach", Path: "/", HttpOnly: true,
			Secure: web.SecureCookies(r), SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
		q.Del("ansicht")
		moved = true
	case "standard":
		http.SetCookie(w, &http.Cookie{Name: viewCookie, Value: "", Path: "/", MaxAge: -1})
		q.Del("ansicht")
		moved = true
	}
	if !moved {
		return false
	}
	target := r.URL.Path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, target, http.StatusSeeOther)
	return true
}

// newView starts the view of a request: language, view, nonce.
func (p *Pages) newView(r *http.Request) pageView {
	v := pageView{Lang: locale.FromRequest(r), Path: r.URL.Path, Nonce: web.NewNonce()}
	if ck, err := r.Cookie(viewCookie); err == nil && ck.Value == "einfach" {
		v.Easy = v.Lang == locale.DE
	}
	return v
}

// show writes a page.
func (p *Pages) show(w http.ResponseWriter, status int, page string, v pageView) {
	p.showTemplate(w, status, page, "layout", v)
}

// showTemplate writes a template of a page: the whole page, or only the
// status region for the live updates.
func (p *Pages) showTemplate(w http.ResponseWriter, status int, page, name string, v pageView) {
	p.render.Page(w, status, pages[page], name, string(v.Lang), v.Nonce, v)
}

// errorPage answers with the error page of a kind: forbidden, notfound,
// conflict or unavailable.
func (p *Pages) errorPage(w http.ResponseWriter, v pageView, status int, kind string) {
	p.render.Error(w, status, errorPageOf(v, web.ErrorPage{Title: v.T("error." + kind + ".title"),
		Text: v.T("error." + kind + ".text"), Help: v.T("error." + kind + ".help")}))
}

// errorPageOf puts an error page into the frame of the applicant's pages.
func errorPageOf(v pageView, e web.ErrorPage) web.ErrorPage {
	e.Lang, e.Site, e.Footer = string(v.Lang), v.T("site.name"), v.T("footer.text")
	e.Links = []web.Link{{Href: "/pruefen", Text: v.T("nav.verify")}}
	return e
}

// formExpired answers a form whose CSRF token does not match.
func (p *Pages) formExpired(w http.ResponseWriter, v pageView, back string) {
	p.render.Error(w, http.StatusForbidden, errorPageOf(v, web.ErrorPage{Title: v.T("error.csrf.title"),
		Text: v.T("error.csrf"), Help: v.T("error.csrf.help"), Back: back, BackText: v.T("problems.back")}))
}

// flashKeys are the messages a redirect after a form carries.
var flashKeys = map[string]string{
	"zahlung":        "flash.payment",
	"antwort":        "flash.answer",
	"zurueckgezogen": "flash.withdrawn",
	// Back from the payment provider.
	"bezahlt":                "flash.paid",
	"zahlung-fehlgeschlagen": "flash.payment.failed",
	"zahlung-abgebrochen":    "flash.payment.cancelled",
}

func (p *Pages) handleStatus(w http.ResponseWriter, r *http.Request, v pageView, c ozgflow.Case, _ string) {
	if key, ok := flashKeys[r.URL.Query().Get("hinweis")]; ok {
		v.Flash = v.T(key)
	}
	if returnedFromPayment(r) && r.URL.Query().Get("fragment") == "" {
		c = p.paymentReturned(r, c)
	}
	p.showStatus(w, r, v, c, http.StatusOK, "")
}

// paymentReturnQuery is ozgflow.PaymentReturnQuery, parsed.
var paymentReturnQuery, _ = url.ParseQuery(ozgflow.PaymentReturnQuery)

// returnedFromPayment says whether r is the applicant's return from the
// payment provider to the status page.
func returnedFromPayment(r *http.Request) bool {
	q := r.URL.Query()
	for key := range paymentReturnQuery {
		if q.Get(key) != paymentReturnQuery.Get(key) {
			return false
		}
	}
	return len(paymentReturnQuery) > 0
}

// paymentReturnEvery bounds how often an applicant's return from the
// payment page asks the case: every ask is a workflow update, an entry in
// the case's history, and a reload of the return address must not grow it
// without end. A webhook or the case's own polling brings a later payment.
const paymentReturnEvery = time.Minute

// paymentReturned asks the case, back from the payment page with its
// payment still open, to ask the provider now, so that the page shows a
// payment made without waiting for the webhook, at most once per case in
// paymentReturnEvery (remembered in Redis, for every gateway). The case as
// it stands then is shown; if the provider is slow, the case no longer
// waits or was asked just now, the page shows c, and the live updates
// bring the payment when it comes.
func (p *Pages) paymentReturned(r *http.Request, c ozgflow.Case) ozgflow.Case {
	if c.Status != ozgflow.StatusAwaitingPayment || c.Payment == nil || c.Payment.Status != ozgflow.PaymentInitial {
		return c
	}
	if p.cases.Store != nil {
		first, err := p.cases.Store.FirstSeen(r.Context(), "payment-return", c.ID, paymentReturnEvery)
		if err != nil {
			p.logger.Warn("Payment return not remembered; the case is not asked", "case", c.ID, "error", err)
			return c
		}
		if !first {
			return c
		}
	}
	pay, err := p.cases.PaymentReturned(r.Context(), c.ID)
	if err != nil {
		if ozgflow.ErrorCode(err) != ozgflow.ECONFLICT {
			p.logger.Warn("Payment status not asked for on the applicant's return", "case", c.ID, "error", err)
		}
		return c
	}
	if fresh, err := p.cases.Load(r.Context(), c.ID); err == nil {
		return fresh
	}
	c.Payment = &pay
	return c
}

// showStatus renders the status page, or with ?fragment=status only the
// region the live updates replace. answer is the text of a refused answer.
func (p *Pages) showStatus(w http.ResponseWriter, r *http.Request, v pageView, c ozgflow.Case, status int, answer string) {
	v.Case = newCitizenCase(v, c, p.wording(c))
	v.Case.AnswerText = answer
	if docs, err := p.cases.Records.Documents(r.Context(), c.ID); err == nil {
		for _, d := range docs {
			if d.Kind == records.KindUpload {
				v.Case.Uploads = append(v.Case.Uploads, documentLink{Name: d.Name, Href: "/api/v1/applications/" + c.ID + "/documents/" + d.SHA256})
			}
		}
	} else {
		p.logger.Warn("Documents of a case not listed", "case", c.ID, "error", err)
	}
	for _, p := range v.Problems {
		if p.Target != "" {
			v.Case.FieldErrors[p.Target] = append(v.Case.FieldErrors[p.Target], p.Text)
		}
	}
	v.Title = v.T("status.title", c.ServiceName)
	if r.Method == http.MethodGet && r.URL.Query().Get("fragment") == "status" {
		p.showTemplate(w, status, "status", "region", v)
		return
	}
	p.show(w, status, "status", v)
}

// actionFailed shows the status page again with why an action failed, in
// the applicant's words; the case is read again, it may have moved on.
func (p *Pages) actionFailed(w http.ResponseWriter, r *http.Request, v pageView, c ozgflow.Case, err error, answer string) {
	code := ozgflow.ErrorCode(err)
	if bounds := ozgflow.ErrorFields(err); len(v.Lang.InputProblems(bounds)) > 0 {
		v.ProblemTitle = v.T("problems.title")
		for _, fe := range bounds {
			if fe.Rule != "" {
				v.Problems = append(v.Problems, citizenProblem{Target: fieldTarget(fe.Pointer), Text: v.Lang.InputProblem(fe)})
			}
		}
		p.showStatus(w, r, v, c, web.StatusOf(code), answer)
		return
	}
	text := p.cases.Explain(r.Context(), v.Lang, c.Authority, err)
	switch {
	case text != "":
	case code == ozgflow.ECONFLICT:
		text = v.T("error.conflict")
	case code == ozgflow.EUNAVAILABLE:
		text = v.T("error.unavailable")
	default:
		text = v.T("error.internal")
		p.logger.Error("Applicant's action failed", "case", c.ID, "code", code, "error", err)
	}
	if fresh, err := p.cases.Load(r.Context(), c.ID); err == nil {
		c = fresh
	}
	v.ProblemTitle = v.T("problems.action")
	v.Problems = append(v.Problems, citizenProblem{Text: text})
	p.showStatus(w, r, v, c, web.StatusOf(code), answer)
}

// fieldTarget is the id of the form field a pointer of an answer names.
func fieldTarget(pointer string) string {
	if pointer == "/text" {
		return "answer-text"
	}
	return ""
}

// handleRetryPayment opens a new payment after a failed one, like
// POST /api/v1/applications/{id}/payment.
func (p *Pages) handleRetryPayment(w http.ResponseWriter, r *http.Request, v pageView, c ozgflow.Case, _ string) {
	if _, err := p.cases.RetryPayment(r.Context(), c.ID); err != nil {
		p.actionFailed(w, r, v, c, err, "")
		return
	}
	http.Redirect(w, r, "/antraege/"+c.ID+"?hinweis=zahlung", http.StatusSeeOther)
}

// handleAnswer takes the answer to an information request with its
// documents, like POST /api/v1/applications/{id}/responses.
func (p *Pages) handleAnswer(w http.ResponseWriter, r *http.Request, v pageView, c ozgflow.Case, token string) {
	up, fail := web.ReadAnswerUpload(r)
	// The token comes first in the form, so it is read even from a body
	// refused for its files; without it nothing else is looked at, as for
	// the plain forms (whose token the page checked already).
	if web.IsMultipart(r) && !p.csrf.Valid(csrfCase, token, up.CSRF) {
		p.formExpired(w, v, "/antraege/"+c.ID)
		return
	}
	if fail != nil {
		v.ProblemTitle = v.T("problems.title")
		for _, p := range fail.Problems {
			v.Problems = append(v.Problems, uploadProblemText(v, p))
		}
		p.showStatus(w, r, v, c, web.StatusOf(fail.Code), up.Text)
		return
	}
	if _, err := p.cases.Respond(r.Context(), c.ID, ozgflow.Response{Text: up.Text, Data: up.Data}, up.Files); err != nil {
		p.actionFailed(w, r, v, c, err, up.Text)
		return
	}
	http.Redirect(w, r, "/antraege/"+c.ID+"?hinweis=antwort", http.StatusSeeOther)
}

// uploadProblemText says what is wrong with an upload, for the page.
func uploadProblemText(v pageView, up web.UploadProblem) citizenProblem {
	var args []any
	switch up.Reason {
	case "too_large_file":
		args = []any{up.Name, v.Lang.Size(web.MaxUploadFileBytes)}
	case "too_large_total":
		args = []any{v.Lang.Size(web.MaxUploadTotalBytes)}
	case "too_many":
		args = []any{web.MaxUploadFiles}
	case "wrong_type", "empty_file":
		args = []any{up.Name}
	case "text_too_long":
		args = []any{web.MaxAnswerTextRunes}
	}
	target := "answer-text"
	if strings.HasPrefix(up.Pointer, "/files") {
		target = "answer-files"
	}
	return citizenProblem{Target: target, Text: v.T("upload."+up.Reason, args...)}
}

// withdrawData is what the confirmation page shows.
type withdrawData struct {
	Final      bool
	Refund     string
	Reason     string
	StatusText string
}

// handleWithdrawPage asks the applicant to confirm the withdrawal and
// says what it means.
func (p *Pages) handleWithdrawPage(w http.ResponseWriter, r *http.Request, v pageView, c ozgflow.Case, _ string) {
	v.Title = v.T("withdraw.title")
	v.Case = &citizenCase{ID: c.ID, Number: caseNumber(c), ServiceName: c.ServiceName}
	d := withdrawData{Final: c.Status.Final(), StatusText: p.wording(c).statusText(v, c)}
	switch p := c.Payment; {
	case p == nil:
		d.Refund = v.T("withdraw.nofee")
	case p.Status == ozgflow.PaymentPayed:
		d.Refund = v.T("withdraw.refund", v.Lang.Amount(p.Amount, p.Currency))
	default:
		d.Refund = v.T("withdraw.unpaid")
	}
	v.Data = d
	status := http.StatusOK
	if d.Final {
		status = http.StatusConflict
	}
	p.show(w, status, "withdraw", v)
}

// handleWithdraw withdraws the case once confirmed.
func (p *Pages) handleWithdraw(w http.ResponseWriter, r *http.Request, v pageView, c ozgflow.Case, _ string) {
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if _, err := p.cases.Withdraw(r.Context(), c.ID, ozgflow.Withdrawal{Reason: reason}); err != nil {
		p.actionFailed(w, r, v, c, err, "")
		return
	}
	http.Redirect(w, r, "/antraege/"+c.ID+"?hinweis=zurueckgezogen", http.StatusSeeOther)
}

// wording is what the case's variant and authority say to its applicant.
func (p *Pages) wording(c ozgflow.Case) wording {
	return wording{def: p.cases.Definition(c), contact: p.cases.AuthorityContact(c.Authority)}
}

// handleEvents streams server-sent events while the status page is
// open: an event whenever the projection of this case was saved. The page
// then fetches its status region again.
func (p *Pages) handleEvents(w http.ResponseWriter, r *http.Request, v pageView, c ozgflow.Case, _ string) {
	web.StreamCaseEvents(w, r, p.cases.Store, c.Authority, "status", func(caseID string) bool { return caseID == c.ID }, v.T("error.unavailable"))
}
