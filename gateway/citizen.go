package gateway

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
)

// The applicant's pages: the status of one case under /antraege/{id}, opened
// with the case's access token, and what the applicant does there (pay,
// sign, answer a question, withdraw), updated live; /pruefen verifies
// receipts. German first, English on request, WCAG 2.1 AA.

//go:embed templates/citizen/*.html
var citizenFS embed.FS

// citizenPages are parsed once, at start, each with the citizen layout.
var citizenPages = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"status", "withdraw", "problem", "verify"} {
		out[name] = template.Must(template.New(name).ParseFS(citizenFS,
			"templates/citizen/layout.html", "templates/citizen/"+name+".html"))
	}
	return out
}()

// Cookies of the applicant's pages.
const (
	// citizenCookie holds the access token of the case the applicant opened,
	// so that it leaves the address bar (and the history) at once.
	citizenCookie = "ozgflow_antrag"
	// viewCookie remembers the easy-to-read view.
	viewCookie = "ozgflow_ansicht"
)

// maxCitizenForm bounds the plain forms of the pages (withdraw, payment).
const maxCitizenForm = 64 << 10

func (s *Server) registerCitizenRoutes(api *mux.Router) {
	s.router.HandleFunc("/antraege/{id}", s.citizen(s.handleCitizenStatus)).Methods(http.MethodGet)
	s.router.HandleFunc("/antraege/{id}/ereignisse", s.citizen(s.handleCitizenEvents)).Methods(http.MethodGet)
	s.router.HandleFunc("/antraege/{id}/zahlung", s.citizen(s.handleCitizenRetryPayment)).Methods(http.MethodPost)
	s.router.HandleFunc("/antraege/{id}/antwort", s.citizen(s.handleCitizenAnswer)).Methods(http.MethodPost)
	s.router.HandleFunc("/antraege/{id}/zurueckziehen", s.citizen(s.handleCitizenWithdrawPage)).Methods(http.MethodGet)
	s.router.HandleFunc("/antraege/{id}/zurueckziehen", s.citizen(s.handleCitizenWithdraw)).Methods(http.MethodPost)
	s.router.HandleFunc("/pruefen", s.handleVerifyPage).Methods(http.MethodGet, http.MethodPost)
	api.HandleFunc("/accounts/{account}/notices/{noticeId}/read", s.handleNoticeRead).Methods(http.MethodPost)
}

// citizenView is what every applicant's page gets.
type citizenView struct {
	Lang         lang
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
func (v citizenView) T(key string, args ...any) string { return v.Lang.text(v.Easy, key, args...) }

// OtherLang is the language the switch offers.
func (v citizenView) OtherLang() lang {
	if v.Lang == langEN {
		return langDE
	}
	return langEN
}

// EasyURL switches the easy-to-read view on or off; it is German only.
func (v citizenView) EasyURL() string {
	if v.Easy {
		return v.Path + "?ansicht=standard"
	}
	if v.Lang != langDE {
		return v.Path + "?ansicht=einfach&lang=de"
	}
	return v.Path + "?ansicht=einfach"
}

// MaxFiles, MaxFileSize and MaxTotalSize are the upload limits, for the hints.
func (v citizenView) MaxFiles() int        { return maxUploadFiles }
func (v citizenView) MaxFileSize() string  { return v.Lang.formatSize(maxUploadFileBytes) }
func (v citizenView) MaxTotalSize() string { return v.Lang.formatSize(maxUploadTotalBytes) }

// citizenHandler handles a page of one case, for the holder of its token.
type citizenHandler func(w http.ResponseWriter, r *http.Request, v citizenView, c ozgflow.Case, token string)

// citizen wraps a page of one case: it takes the language and view
// switches and the access token from the address into cookies (and the
// address clean again), lets only the token's holder in, checks the CSRF
// token of plain forms (answers check theirs after reading the upload), and
// loads the case.
func (s *Server) citizen(h citizenHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		caseID := mux.Vars(r)["id"]
		if r.Method == http.MethodGet && s.takeSwitches(w, r, caseID) {
			return
		}
		v := s.newCitizenView(r)
		if _, err := uuid.Parse(caseID); err != nil {
			s.citizenErrorPage(w, r, v, http.StatusNotFound, "notfound")
			return
		}
		token := ""
		if ck, err := r.Cookie(citizenCookie); err == nil {
			token = ck.Value
		}
		if q := r.URL.Query().Get("token"); q != "" && r.Method == http.MethodGet {
			token = q // a token that is not valid stays in the address
		}
		if !s.tokens.Valid(caseID, token) {
			s.citizenErrorPage(w, r, v, http.StatusForbidden, "forbidden")
			return
		}
		v.CSRF = s.citizenCSRF(token)
		if r.Method == http.MethodPost && !isMultipart(r) {
			r.Body = http.MaxBytesReader(w, r.Body, maxCitizenForm)
			if !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(v.CSRF)) {
				v.Title = v.T("error.forbidden.title")
				v.Data = errorPage{Text: v.T("error.csrf"), Back: "/antraege/" + caseID}
				s.renderCitizen(w, http.StatusForbidden, "problem", v)
				return
			}
		}
		c, err := s.loadCase(r.Context(), caseID)
		switch ozgflow.ErrorCode(err) {
		case "":
		case ozgflow.ENOTFOUND:
			s.citizenErrorPage(w, r, v, http.StatusNotFound, "notfound")
			return
		default:
			if ozgflow.ErrorCode(err) == ozgflow.EINTERNAL {
				s.logger.Error("Case not read for its applicant", "case", caseID, "error", err)
			}
			s.citizenErrorPage(w, r, v, http.StatusServiceUnavailable, "unavailable")
			return
		}
		h(w, r, v, c, token)
	}
}

// takeSwitches moves token, lang and ansicht from the address into cookies
// and redirects to the address without them; it reports whether it did.
// A token that is not the case's stays, and the page says so.
func (s *Server) takeSwitches(w http.ResponseWriter, r *http.Request, caseID string) bool {
	q := r.URL.Query()
	moved := false
	if t := q.Get("token"); t != "" && s.tokens.Valid(caseID, t) {
		http.SetCookie(w, &http.Cookie{Name: citizenCookie, Value: t, Path: "/", HttpOnly: true,
			Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
		q.Del("token")
		moved = true
	}
	if l, ok := parseLang(q.Get("lang")); ok {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: string(l), Path: "/", HttpOnly: true,
			Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
		q.Del("lang")
		moved = true
	}
	switch q.Get("ansicht") {
	case "einfach":
		http.SetCookie(w, &http.Cookie{Name: viewCookie, Value: "einfach", Path: "/", HttpOnly: true,
			Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
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

// newCitizenView starts the view of a request: language, view, nonce.
func (s *Server) newCitizenView(r *http.Request) citizenView {
	v := citizenView{Lang: requestLang(r), Path: r.URL.Path}
	if ck, err := r.Cookie(viewCookie); err == nil && ck.Value == "einfach" {
		v.Easy = v.Lang == langDE
	}
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	v.Nonce = base64.RawStdEncoding.EncodeToString(nonce[:])
	return v
}

// citizenCSRF binds the forms of a case's pages to its access token.
func (s *Server) citizenCSRF(token string) string {
	mac := hmac.New(sha256.New, s.cfg.Secret)
	mac.Write([]byte("citizen csrf\x00" + token))
	return hex.EncodeToString(mac.Sum(nil))
}

// renderCitizen writes a page, or only its status region for the live
// updates. It renders into a buffer, so a template error never leaves half
// a page.
func (s *Server) renderCitizen(w http.ResponseWriter, status int, page string, v citizenView) {
	s.renderCitizenTemplate(w, status, page, "layout", v)
}

func (s *Server) renderCitizenTemplate(w http.ResponseWriter, status int, page, name string, v citizenView) {
	var buf bytes.Buffer
	if err := citizenPages[page].ExecuteTemplate(&buf, name, v); err != nil {
		s.logger.Error("Page not rendered", "page", page, "error", err)
		http.Error(w, v.T("error.internal"), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", string(v.Lang))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'nonce-"+v.Nonce+"'; style-src 'self' 'unsafe-inline'; "+
		"img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Vary", "Cookie, Accept-Language")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// errorPage is what the problem page shows.
type errorPage struct {
	Text, Help, Back string
}

// citizenErrorPage answers with a readable page: forbidden, notfound or
// unavailable.
func (s *Server) citizenErrorPage(w http.ResponseWriter, r *http.Request, v citizenView, status int, kind string) {
	v.Title = v.T("error." + kind + ".title")
	v.Data = errorPage{Text: v.T("error." + kind + ".text"), Help: v.T("error." + kind + ".help")}
	s.renderCitizen(w, status, "problem", v)
}

// citizenFlash are the messages a redirect after a form carries.
var citizenFlash = map[string]string{
	"zahlung":        "flash.payment",
	"antwort":        "flash.answer",
	"zurueckgezogen": "flash.withdrawn",
}

func (s *Server) handleCitizenStatus(w http.ResponseWriter, r *http.Request, v citizenView, c ozgflow.Case, token string) {
	if key, ok := citizenFlash[r.URL.Query().Get("hinweis")]; ok {
		v.Flash = v.T(key)
	}
	s.showStatus(w, r, v, c, token, http.StatusOK, "")
}

// showStatus renders the status page, or with ?fragment=status only the
// region the live updates replace. answer is the text of a refused answer.
func (s *Server) showStatus(w http.ResponseWriter, r *http.Request, v citizenView, c ozgflow.Case, token string, status int, answer string) {
	v.Case = newCitizenCase(v, c, token)
	v.Case.AnswerText = answer
	for _, p := range v.Problems {
		if p.Target != "" {
			v.Case.FieldErrors[p.Target] = append(v.Case.FieldErrors[p.Target], p.Text)
		}
	}
	v.Title = v.T("status.title", c.ServiceName)
	if r.Method == http.MethodGet && r.URL.Query().Get("fragment") == "status" {
		s.renderCitizenTemplate(w, status, "status", "region", v)
		return
	}
	s.renderCitizen(w, status, "status", v)
}

// actionFailed shows the status page again with why an action failed, in
// the applicant's words; the case is read again, it may have moved on.
func (s *Server) actionFailed(w http.ResponseWriter, r *http.Request, v citizenView, c ozgflow.Case, token string, err error, answer string) {
	code := ozgflow.ErrorCode(err)
	key := map[string]string{ozgflow.ECONFLICT: "error.conflict", ozgflow.EUNAVAILABLE: "error.unavailable"}[code]
	if key == "" {
		key = "error.internal"
		s.logger.Error("Applicant's action failed", "case", c.ID, "code", code, "error", err)
	}
	if fresh, err := s.loadCase(r.Context(), c.ID); err == nil {
		c = fresh
	}
	v.ProblemTitle = v.T("problems.action")
	v.Problems = append(v.Problems, citizenProblem{Text: v.T(key)})
	s.showStatus(w, r, v, c, token, StatusOf(code), answer)
}

// handleCitizenRetryPayment opens a new payment after a failed one, like
// POST /api/v1/applications/{id}/payment.
func (s *Server) handleCitizenRetryPayment(w http.ResponseWriter, r *http.Request, v citizenView, c ozgflow.Case, token string) {
	var p ozgflow.Payment
	if err := s.update(r.Context(), c.ID, ozgflow.UpdateRetryPayment, &p); err != nil {
		s.actionFailed(w, r, v, c, token, err, "")
		return
	}
	http.Redirect(w, r, "/antraege/"+c.ID+"?hinweis=zahlung", http.StatusSeeOther)
}

// handleCitizenAnswer takes the answer to an information request with its
// documents, like POST /api/v1/applications/{id}/responses.
func (s *Server) handleCitizenAnswer(w http.ResponseWriter, r *http.Request, v citizenView, c ozgflow.Case, token string) {
	up, fail := readAnswerUpload(r)
	if fail == nil && !hmac.Equal([]byte(up.CSRF), []byte(v.CSRF)) {
		v.Title = v.T("error.forbidden.title")
		v.Data = errorPage{Text: v.T("error.csrf"), Back: "/antraege/" + c.ID}
		s.renderCitizen(w, http.StatusForbidden, "problem", v)
		return
	}
	if fail != nil {
		v.ProblemTitle = v.T("problems.title")
		for _, p := range fail.Problems {
			v.Problems = append(v.Problems, uploadProblemText(v, p))
		}
		s.showStatus(w, r, v, c, token, StatusOf(fail.Code), up.Text)
		return
	}
	if _, err := s.respondWithFiles(r.Context(), c.ID, ozgflow.Response{Text: up.Text, Data: up.Data}, up.Files); err != nil {
		s.actionFailed(w, r, v, c, token, err, up.Text)
		return
	}
	http.Redirect(w, r, "/antraege/"+c.ID+"?hinweis=antwort", http.StatusSeeOther)
}

// uploadProblemText says what is wrong with an upload, for the page.
func uploadProblemText(v citizenView, p uploadProblem) citizenProblem {
	var args []any
	switch p.Reason {
	case "too_large_file":
		args = []any{p.Name, v.Lang.formatSize(maxUploadFileBytes)}
	case "too_large_total":
		args = []any{v.Lang.formatSize(maxUploadTotalBytes)}
	case "too_many":
		args = []any{maxUploadFiles}
	case "wrong_type", "empty_file":
		args = []any{p.Name}
	case "text_too_long":
		args = []any{maxAnswerTextRunes}
	}
	target := "answer-text"
	if strings.HasPrefix(p.Pointer, "/files") {
		target = "answer-files"
	}
	return citizenProblem{Target: target, Text: v.T("upload."+p.Reason, args...)}
}

// withdrawData is what the confirmation page shows.
type withdrawData struct {
	Final      bool
	Refund     string
	Reason     string
	StatusText string
}

// handleCitizenWithdrawPage asks the applicant to confirm the withdrawal and
// says what it means.
func (s *Server) handleCitizenWithdrawPage(w http.ResponseWriter, r *http.Request, v citizenView, c ozgflow.Case, _ string) {
	v.Title = v.T("withdraw.title")
	v.Case = &citizenCase{ID: c.ID, ServiceName: c.ServiceName}
	d := withdrawData{Final: c.Status.Final(), StatusText: v.T("status." + string(c.Status))}
	switch p := c.Payment; {
	case p == nil:
		d.Refund = v.T("withdraw.nofee")
	case p.Status == ozgflow.PaymentPayed:
		d.Refund = v.T("withdraw.refund", v.Lang.formatAmount(p.Amount, p.Currency))
	default:
		d.Refund = v.T("withdraw.unpaid")
	}
	v.Data = d
	status := http.StatusOK
	if d.Final {
		status = http.StatusConflict
	}
	s.renderCitizen(w, status, "withdraw", v)
}

// handleCitizenWithdraw withdraws the case once confirmed.
func (s *Server) handleCitizenWithdraw(w http.ResponseWriter, r *http.Request, v citizenView, c ozgflow.Case, token string) {
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if utf8.RuneCountInString(reason) > 2000 {
		reason = string([]rune(reason)[:2000])
	}
	var state ozgflow.Case
	if err := s.update(r.Context(), c.ID, ozgflow.UpdateWithdraw, &state, ozgflow.Withdrawal{Reason: reason}); err != nil {
		s.actionFailed(w, r, v, c, token, err, "")
		return
	}
	http.Redirect(w, r, "/antraege/"+c.ID+"?hinweis=zurueckgezogen", http.StatusSeeOther)
}

// handleCitizenEvents streams server-sent events while the status page is
// open: an event whenever the projection of this case was saved. The page
// then fetches its status region again.
func (s *Server) handleCitizenEvents(w http.ResponseWriter, r *http.Request, v citizenView, c ozgflow.Case, _ string) {
	s.streamCaseEvents(w, r, c.Authority, "status", func(caseID string) bool { return caseID == c.ID }, v.T("error.unavailable"))
}

// escapeToken keeps a token safe in a query string.
func escapeToken(token string) string { return url.QueryEscape(token) }
