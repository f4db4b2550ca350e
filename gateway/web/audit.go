package web

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/locale"
	"github.com/ozgflow/ozgflow/records"
)

// Use is what a route does with personal data. Every route declares its
// use when it is registered (Auditor.Declare); a route that reads or
// changes personal data writes one entry to the audit trail for every
// request it answers with success, before the answer leaves.
type Use struct {
	// Action names the entry, e.g. "case.read" or "task.claim"; empty for
	// a route that touches no personal data.
	Action string
	// Changes says that the route changes personal data; otherwise it
	// reads it.
	Changes bool
	// Stream says that the route streams its answer (server-sent events):
	// its entry is written before the stream starts.
	Stream bool
	// Actor acts when the request carries no identity: a provider's or a
	// back-office system's signed webhook.
	Actor ozgflow.Identity
	// IDNames what the route's {id} is when it is not a case, e.g. "notice";
	// such an {id} goes into the entry's detail.
	IDNames string
}

// NoPersonalData is the use of a route that neither reads nor changes
// personal data: health, documents, static files, the sign-in page.
var NoPersonalData = Use{}

// Reads is the use of a route that reads personal data.
func Reads(action string) Use { return Use{Action: action} }

// Changes is the use of a route that changes personal data.
func Changes(action string) Use { return Use{Action: action, Changes: true} }

// Streaming marks a use whose answer is a stream.
func (u Use) Streaming() Use { u.Stream = true; return u }

// By names who acts when the request carries no identity.
func (u Use) By(actor ozgflow.Identity) Use { u.Actor = actor; return u }

// WithID says what the route's {id} names when it is not a case.
func (u Use) WithID(kind string) Use { u.IDNames = kind; return u }

// Audited reports whether the route writes to the audit trail.
func (u Use) Audited() bool { return u.Action != "" }

// Kind is "read", "change" or "none", for people reading a declaration.
func (u Use) Kind() string {
	switch {
	case !u.Audited():
		return "none"
	case u.Changes:
		return "change"
	}
	return "read"
}

// Auditor declares the routes' uses of personal data and writes the audit
// trail of those that read or change it.
type Auditor struct {
	// Records holds the trail; without it every audited request is
	// answered 503, as the trail cannot be written.
	Records *records.DB
	Logger  *slog.Logger
	// Now stamps the entries; nil is time.Now.
	Now func() time.Time
}

// Declare returns h as the handler of a route whose use of personal data
// is use. Every route of the gateway is registered through it: a route
// whose handler was not declared fails the start (Undeclared).
func (a Auditor) Declare(use Use, h http.HandlerFunc) http.Handler {
	return &declared{use: use, next: h, auditor: a}
}

// DeclarationOf returns the use a route's handler declared.
func DeclarationOf(h http.Handler) (Use, bool) {
	d, ok := h.(*declared)
	if !ok {
		return Use{}, false
	}
	return d.use, true
}

// Undeclared lists the routes under root ("GET /path") whose handler did
// not declare its use of personal data.
func Undeclared(root *mux.Router) []string {
	var out []string
	_ = root.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		h := route.GetHandler()
		if h == nil {
			return nil // a room, not a route
		}
		if _, ok := DeclarationOf(h); ok {
			return nil
		}
		tmpl, _ := route.GetPathTemplate()
		methods, _ := route.GetMethods()
		if len(methods) == 0 {
			methods = []string{"*"}
		}
		for _, m := range methods {
			out = append(out, m+" "+tmpl)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// declared is a route's handler with its declared use.
type declared struct {
	use     Use
	next    http.HandlerFunc
	auditor Auditor
}

// auditNote is what a handler adds to its request's entry.
type auditNote struct {
	caseID, account, detail, action string
	actor                           *ozgflow.Identity
}

type auditNoteKey struct{}

func noteFrom(ctx context.Context) *auditNote {
	n, _ := ctx.Value(auditNoteKey{}).(*auditNote)
	if n == nil {
		return &auditNote{} // an unaudited route: the note goes nowhere
	}
	return n
}

// NoteCase names the case a request touched, where the route does not
// (a webhook's payload, a bulk action).
func NoteCase(ctx context.Context, caseID string) { noteFrom(ctx).caseID = caseID }

// NoteAccount names the portal account a request touched.
func NoteAccount(ctx context.Context, account string) { noteFrom(ctx).account = account }

// NoteActor names who acted when the request's identity does not (a
// sign-in, which starts the identity).
func NoteActor(ctx context.Context, id ozgflow.Identity) { noteFrom(ctx).actor = &id }

// NoteAction names the action more closely than the route can, e.g. the
// task action a form carried out.
func NoteAction(ctx context.Context, action string) { noteFrom(ctx).action = action }

// NoteDetail adds a short detail to the entry: IDs, counts, a way of
// signing in; never personal data.
func NoteDetail(ctx context.Context, detail string) { noteFrom(ctx).detail = detail }

func (d *declared) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !d.use.Audited() {
		d.next(w, r)
		return
	}
	note := &auditNote{}
	r = r.WithContext(context.WithValue(r.Context(), auditNoteKey{}, note))
	if d.use.Stream {
		if err := d.append(r, note, nil); err != nil {
			d.unavailable(w, r, err)
			return
		}
		d.next(w, r)
		return
	}
	buf := &bufferedResponse{header: http.Header{}}
	d.next(buf, r)
	if buf.status == 0 {
		buf.status = http.StatusOK
	}
	if buf.status < 400 {
		if err := d.append(r, note, buf.header); err != nil {
			d.unavailable(w, r, err)
			return
		}
	}
	buf.sendTo(w)
}

// append writes the request's entry.
func (d *declared) append(r *http.Request, note *auditNote, answer http.Header) error {
	if d.auditor.Records == nil {
		return errors.New("no records database")
	}
	e := d.entry(r, note, answer)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	return d.auditor.Records.Append(ctx, e)
}

// entry is the trail's entry of a request: who, in which role and
// authority, did what to which case or account, from where.
func (d *declared) entry(r *http.Request, note *auditNote, answer http.Header) records.Entry {
	id := ozgflow.IdentityFrom(r.Context())
	if note.actor != nil {
		id = *note.actor
	} else if id.Subject == "" && d.use.Actor.Subject != "" {
		id = d.use.Actor
	}
	actor := id.Subject
	if actor == "" {
		actor = "anonymous"
	}
	vars := mux.Vars(r)
	tmpl := r.URL.Path
	if cur := mux.CurrentRoute(r); cur != nil {
		if t, err := cur.GetPathTemplate(); err == nil {
			tmpl = t
		}
	}
	detail := []string{r.Method + " " + tmpl}
	caseID := note.caseID
	if caseID == "" {
		caseID = vars["caseId"]
	}
	if caseID == "" && d.use.IDNames == "" {
		caseID = vars["id"]
	}
	if d.use.IDNames != "" && vars["id"] != "" {
		detail = append(detail, d.use.IDNames+" "+vars["id"])
	}
	if task := vars["taskId"]; task != "" {
		detail = append(detail, "task "+task)
		if caseID == "" {
			caseID, _ = ozgflow.CaseIDFromTaskID(task)
		}
	}
	if caseID == "" && answer != nil {
		caseID = caseFromLocation(answer.Get("Location"))
	}
	if caseID == "" && id.Role == ozgflow.RoleApplicant {
		caseID = id.CaseID
	}
	account := note.account
	if account == "" {
		account = vars["account"]
	}
	if note.detail != "" {
		detail = append(detail, note.detail)
	}
	now := time.Now
	if d.auditor.Now != nil {
		now = d.auditor.Now
	}
	action := d.use.Action
	if note.action != "" {
		action = note.action
	}
	return records.Entry{At: now().UTC(), Actor: actor, Role: string(id.Role), Authority: id.Authority,
		CaseID: caseID, Account: account, Action: action, Detail: strings.Join(detail, "; "),
		Address: ClientAddress(r)}
}

// caseFromLocation reads the case ID off the address of a created case.
func caseFromLocation(loc string) string {
	for _, prefix := range []string{"/api/v1/applications/", "/antraege/"} {
		if rest, ok := strings.CutPrefix(loc, prefix); ok && rest != "" {
			return path.Base(strings.SplitN(rest, "?", 2)[0])
		}
	}
	return ""
}

// unavailable answers a request whose entry could not be written: what
// the handler answered stays unsent.
func (d *declared) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	logger := d.auditor.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.Error("Audit trail not written; the answer is withheld", "action", d.use.Action, "error", err)
	if IsAPI(r) {
		WriteProblem(w, NewProblem(ozgflow.Errorf(ozgflow.EUNAVAILABLE,
			"The audit trail cannot be written just now, so the request is not answered. Please try again in a few minutes.")))
		return
	}
	l := locale.DE
	Renderer{Logger: logger}.Error(w, http.StatusServiceUnavailable, ErrorPage{Lang: string(l),
		Title: l.Text(false, "staff.error.unavailable.title"), Text: l.Text(false, "staff.error.unavailable.text"),
		Help: l.Text(false, "staff.error.unavailable.help")})
}

// bufferedResponse holds an answer until its entry is written.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// sendTo sends the held answer.
func (b *bufferedResponse) sendTo(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range b.header {
		if k == "Set-Cookie" {
			// Cookies set before the route (an ended session's) stay.
			h[k] = append(h[k], v...)
			continue
		}
		h[k] = v
	}
	w.WriteHeader(b.status)
	_, _ = b.body.WriteTo(w)
}
