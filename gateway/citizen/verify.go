package citizen

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/ozgflow/ozgflow/gateway/web"
	"github.com/ozgflow/ozgflow/locale"
	"github.com/ozgflow/ozgflow/receipt"
)

// /pruefen checks a receipt (Eingangsbestätigung) for anyone: its text
// pasted or its PDF uploaded. The answer is genuine, changed or unknown, in
// plain words, with what a genuine seal covers.

// maxVerifyBytes bounds what /pruefen reads; a receipt is far smaller.
const maxVerifyBytes = 5_000_000

// verifyCookie holds a random value the form's CSRF token is bound to; the
// page has no session of its own.
const verifyCookie = "ozgflow_pruefen"

// verifyData is what the verification page shows.
type verifyData struct {
	Text     string
	SizeHint string
	Result   *verifyResult
}

// verifyResult is a verdict as the page shows it.
type verifyResult struct {
	Verdict  string
	Headline string
	Message  string
	CaseID   string
	// CaseNumber is the short number of the receipt's case, where it has one.
	CaseNumber  string
	ServiceName string
	Authority   string
	Submitted   *timeStamp
	// Differences are the printed lines of a changed receipt and what the
	// case's receipt shows there.
	Differences []receipt.Difference
}

func (p *Pages) handleVerifyPage(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && p.takeSwitches(w, r, "") {
		return
	}
	v := p.newView(r)
	v.Title = v.T("verify.title")
	nonce := visitorNonce(w, r)
	v.CSRF = p.csrf.Token(csrfVerify, nonce)
	d := verifyData{SizeHint: v.Lang.Size(maxVerifyBytes)}
	v.Data = &d
	if r.Method == http.MethodGet {
		p.show(w, http.StatusOK, "verify", v)
		return
	}
	input, text, csrf, status, problem := readVerifyForm(r)
	d.Text = text
	if nonce == "" || !p.csrf.Valid(csrfVerify, nonce, csrf) {
		p.formExpired(w, v, "/pruefen")
		return
	}
	if problem != "" {
		v.ProblemTitle = v.T("problems.title")
		target := "verify-text"
		if problem == "verify.too_large" {
			target = "verify-file"
		}
		v.Problems = []citizenProblem{{Target: target, Text: v.T(problem, v.Lang.Size(maxVerifyBytes))}}
		p.show(w, status, "verify", v)
		return
	}
	d.Result = newVerifyResult(v, p.receipts.Verify(r.Context(), input))
	p.show(w, http.StatusOK, "verify", v)
}

// visitorNonce is the random value the form's CSRF token is bound to: from
// the visitor's cookie, or for a first visit a new one in a new cookie.
func visitorNonce(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(verifyCookie); err == nil && len(ck.Value) == 32 {
		return ck.Value
	}
	if r.Method != http.MethodGet {
		return ""
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	nonce := hex.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: verifyCookie, Value: nonce, Path: "/pruefen", HttpOnly: true,
		Secure: web.SecureCookies(r), SameSite: http.SameSiteLaxMode})
	return nonce
}

// newVerifyResult words a verdict for the page.
func newVerifyResult(v pageView, res receipt.Result) *verifyResult {
	out := &verifyResult{Verdict: string(res.Verdict), Headline: v.T("verify." + string(res.Verdict)), Message: res.Message,
		CaseID: res.CaseID, CaseNumber: res.CaseNumber, ServiceName: res.ServiceName, Authority: res.AuthorityName, Submitted: newTimeStamp(v.Lang, res.SubmittedAt),
		Differences: res.Differences}
	switch {
	case v.Lang == locale.EN:
		out.Message = res.MessageEN
	case v.Easy && locale.HasEasy("verify.reason."+res.Reason):
		out.Message = v.T("verify.reason." + res.Reason)
	}
	if out.ServiceName == "" {
		out.ServiceName = res.Service
	}
	if out.Authority == "" {
		out.Authority = res.Authority
	}
	return out
}

// readVerifyForm reads the pasted text or the uploaded file of /pruefen
// (the file wins when both are given). A problem is a text key.
func readVerifyForm(r *http.Request) (input []byte, text, csrf string, status int, problem string) {
	defer func() { _, _ = io.CopyN(io.Discard, r.Body, web.MaxUploadDrain) }()
	body := &io.LimitedReader{R: r.Body, N: maxVerifyBytes + 256<<10}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		b, _ := io.ReadAll(body)
		vals, _ := url.ParseQuery(string(b))
		text, csrf = vals.Get("text"), vals.Get("csrf")
		input = []byte(strings.TrimSpace(text))
	} else {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err != nil {
				if body.N <= 0 {
					return nil, text, csrf, http.StatusRequestEntityTooLarge, "verify.too_large"
				}
				break
			}
			b, _ := io.ReadAll(io.LimitReader(part, maxVerifyBytes+1))
			switch part.FormName() {
			case "csrf":
				csrf = string(b)
			case "text":
				text = string(b)
			case "file":
				if len(b) > maxVerifyBytes {
					return nil, text, csrf, http.StatusRequestEntityTooLarge, "verify.too_large"
				}
				if len(b) > 0 {
					input = b
				}
			}
		}
		if input == nil {
			input = []byte(strings.TrimSpace(text))
		}
	}
	if len(input) == 0 {
		return nil, text, csrf, http.StatusUnprocessableEntity, "verify.empty"
	}
	return input, text, csrf, http.StatusOK, ""
}
