package citizen

import (
	"strings"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
	"github.com/ozgflow/ozgflow/locale"
)

// citizenCase is a case as its applicant's status page shows it: every
// sentence in the page's language, every date formatted.
type citizenCase struct {
	ID string
	// Number is the short case number people quote (GEW-2026-000123); the
	// ID for cases from before case numbers.
	Number      string
	Revision    int64
	ServiceName string
	Status      ozgflow.Status
	Final       bool
	Submitted   *timeStamp

	StatusText  string
	NextHeading string
	NextText    string
	Action      bool // the applicant has something to do

	Amount      string
	Deadline    *timeStamp
	PayURL      string
	PayRetry    bool
	PaymentNote string // paid, refunded
	// Kassenzeichen and PaymentReference name the payment for the cash
	// office, once the provider issued them.
	Kassenzeichen    string
	PaymentReference string
	SignURL          string

	Open     *requestItem
	Past     []requestItem
	Decision *decisionItem
	Receipt  string
	// Uploads are the documents the applicant sent, with the application
	// or an answer, each opened through the API's download.
	Uploads  []documentLink
	Timeline []noticeItem

	CanWithdraw bool
	EventsURL   string
	FragmentURL string

	// AnswerText is the answer as typed, shown again after a refusal.
	AnswerText string
	// FieldErrors are the messages per form field id.
	FieldErrors map[string][]string
}

// timeStamp is a time for a <time> element: machine and human form.
type timeStamp struct{ ISO, Text string }

func newTimeStamp(l locale.Lang, t time.Time) *timeStamp {
	if t.IsZero() {
		return nil
	}
	return &timeStamp{ISO: t.UTC().Format(time.RFC3339), Text: l.Time(t)}
}

// requestItem is a question of the authority and the applicant's answer.
type requestItem struct {
	Question  string
	Fields    []string
	Asked     *timeStamp
	Due       *timeStamp
	Answer    string
	Answered  *timeStamp
	Expired   *timeStamp
	Documents []documentLink
}

// documentLink is a document the applicant uploaded, opened through the
// API's download, which the applicant's cookie opens.
type documentLink struct {
	Name, Href string
}

// decisionItem is the decision as the applicant reads it; a rejection
// says how to object and whom to turn to.
type decisionItem struct {
	Outcome string
	Text    string
	At      *timeStamp
	Comment string
	// Remedy is the variant's Rechtsbehelfsbelehrung (German; easy-to-read
	// in the easy view where the variant has it).
	Remedy string
	// Contact is the office to turn to, one item a line.
	Contact []string
}

// noticeItem is one entry of the timeline.
type noticeItem struct {
	Title string
	Text  string
	At    *timeStamp
	Easy  bool // the text is the easy-to-read one
}

// Paragraphs are the notice's text cut at its blank lines, each a list of
// lines (a rejection's remedy and contact are paragraphs of their own).
func (n noticeItem) Paragraphs() [][]string {
	var out [][]string
	for _, p := range strings.Split(n.Text, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, strings.Split(p, "\n"))
		}
	}
	return out
}

// wording is what the variant of a case says to its applicant: how it
// words the outcomes, its Rechtsbehelfsbelehrung, and the office's
// contact. The zero value leaves everything to the locale.
type wording struct {
	def     *definitions.Definition
	contact *definitions.Contact
}

// statusText is the sentence of the case's status: the variant's wording
// of the outcome for a decided case, in German, else the locale's.
func (w wording) statusText(v pageView, c ozgflow.Case) string {
	status := c.ShownStatus()
	if d := c.Decision; d != nil && v.Lang == locale.DE && (status == ozgflow.StatusApproved || status == ozgflow.StatusRejected) {
		if dw, ok := w.def.Wording(d.Outcome); ok {
			switch {
			case v.Easy && dw.Easy != "":
				return dw.Easy
			case !v.Easy && dw.Status != "":
				return dw.Status
			}
		}
	}
	return v.T("status." + string(status))
}

// decision is the decision as the page shows it.
func (w wording) decision(v pageView, d ozgflow.Decision) *decisionItem {
	item := &decisionItem{Outcome: d.Outcome, Text: v.T("decision." + d.Outcome), At: newTimeStamp(v.Lang, d.At), Comment: d.Comment}
	if dw, ok := w.def.Wording(d.Outcome); ok && v.Lang == locale.DE {
		item.Text = dw.Label
	}
	if d.Outcome != ozgflow.OutcomeReject {
		return item
	}
	if w.def != nil && w.def.LegalRemedy != nil {
		item.Remedy = w.def.LegalRemedy.Text
		if v.Easy && w.def.LegalRemedy.Easy != "" {
			item.Remedy = w.def.LegalRemedy.Easy
		}
	}
	item.Contact = w.contact.Lines()
	return item
}

// caseNumber is the number the applicant quotes: the short case number,
// or the ID of a case from before them.
func caseNumber(c ozgflow.Case) string {
	if c.CaseNumber != "" {
		return c.CaseNumber
	}
	return c.ID
}

// newCitizenCase prepares a case for its status page, in the words of its
// variant.
func newCitizenCase(v pageView, c ozgflow.Case, w wording) *citizenCase {
	l := v.Lang
	cc := &citizenCase{
		ID: c.ID, Number: caseNumber(c), Revision: c.Revision, ServiceName: c.ServiceName, Status: c.Status, Final: c.Status.Final(),
		Submitted:   newTimeStamp(l, c.SubmittedAt),
		StatusText:  w.statusText(v, c),
		CanWithdraw: !c.Status.Final(),
		EventsURL:   "/antraege/" + c.ID + "/ereignisse",
		FragmentURL: "/antraege/" + c.ID + "?fragment=status",
		FieldErrors: map[string][]string{},
	}
	if cc.ServiceName == "" {
		cc.ServiceName = c.Service
	}
	if p := c.Payment; p != nil {
		cc.Amount = l.Amount(p.Amount, p.Currency)
		cc.Kassenzeichen, cc.PaymentReference = p.Kassenzeichen, p.Reference
		switch {
		case p.Refund == ozgflow.RefundRefunded:
			cc.PaymentNote = v.T("payment.refund.done", cc.Amount)
		case p.Refund == ozgflow.RefundPending:
			cc.PaymentNote = v.T("payment.refund.pending", cc.Amount)
		case p.Status == ozgflow.PaymentPayed:
			cc.PaymentNote = v.T("payment.paid", cc.Amount, l.Time(p.PaidAt))
		}
	}
	for i, req := range c.Requests {
		item := requestItem{Question: req.Question, Fields: req.Fields, Asked: newTimeStamp(l, req.AskedAt),
			Due: newTimeStamp(l, req.DueAt), Answer: req.Answer, Answered: newTimeStamp(l, req.AnsweredAt),
			Expired: newTimeStamp(l, req.ExpiredAt)}
		for _, a := range req.Attachments {
			item.Documents = append(item.Documents, documentLink{Name: a.Name,
				Href: "/api/v1/applications/" + c.ID + "/documents/" + a.SHA256})
		}
		if req.Open() && i == len(c.Requests)-1 && c.Status == ozgflow.StatusInformationRequested {
			cc.Open = &item
		} else {
			cc.Past = append(cc.Past, item)
		}
	}
	cc.nextStep(v, c)
	if d := c.Decision; d != nil && (c.Status == ozgflow.StatusApproved || c.Status == ozgflow.StatusRejected) {
		cc.Decision = w.decision(v, *d)
	}
	if c.Seal != nil {
		// The applicant's cookie opens the download; an access token in the
		// address would stay in the history and in logs.
		cc.Receipt = "/api/v1/applications/" + c.ID + "/receipt.pdf"
	}
	for _, n := range c.Timeline {
		item := noticeItem{Title: n.Title, Text: n.Text, At: newTimeStamp(l, n.At)}
		if v.Easy && n.Easy != "" {
			item.Text, item.Easy = n.Easy, true
		}
		cc.Timeline = append(cc.Timeline, item)
	}
	return cc
}

// nextStep says what happens next and what the applicant must do, with the
// links and forms to do it.
func (cc *citizenCase) nextStep(v pageView, c ozgflow.Case) {
	l := v.Lang
	cc.NextHeading = "next.heading.none"
	if c.WaitingFor() == ozgflow.WaitingForDelivery {
		// Paid, or nothing to pay: the delivery may retry for hours
		// while the back-office system is down.
		cc.NextText = v.T("next.delivering")
		return
	}
	switch c.Status {
	case ozgflow.StatusReceived:
		cc.NextText = v.T("next.received")
	case ozgflow.StatusAwaitingPayment:
		p := c.Payment
		if p == nil {
			cc.NextText = v.T("next.pay.preparing")
			break
		}
		cc.Deadline = newTimeStamp(l, p.DeadlineAt)
		deadline := l.Time(p.DeadlineAt)
		switch {
		case p.Status == ozgflow.PaymentFailed || p.Status == ozgflow.PaymentCanceled:
			cc.Action, cc.PayRetry = true, true
			cc.NextText = v.T("next.pay.failed", deadline)
		case p.Status == ozgflow.PaymentInitial && p.RedirectURL != "":
			cc.Action, cc.PayURL = true, p.RedirectURL
			cc.NextText = v.T("next.pay", cc.Amount, deadline)
		case p.Status == ozgflow.PaymentPayed:
			cc.NextText = v.T("next.wait")
		default:
			cc.NextText = v.T("next.pay.preparing")
		}
	case ozgflow.StatusAwaitingSignature:
		if sg := c.Signing; sg != nil && sg.Status == ozgflow.SignaturePending && sg.RedirectURL != "" {
			cc.Action, cc.SignURL = true, sg.RedirectURL
			cc.NextText = v.T("next.sign")
		} else {
			cc.NextText = v.T("next.sign.waiting")
		}
	case ozgflow.StatusInformationRequested:
		switch {
		case cc.Open == nil:
			cc.NextText = v.T("next.wait")
		case cc.Open.Due != nil:
			cc.Action = true
			cc.NextText = v.T("next.answer.due", cc.Open.Due.Text)
		default:
			cc.Action = true
			cc.NextText = v.T("next.answer")
		}
	case ozgflow.StatusApproved, ozgflow.StatusRejected:
		cc.NextText = v.T("next.decided")
	case ozgflow.StatusWithdrawn:
		cc.NextText = v.T("next.closed")
	case ozgflow.StatusCancelled:
		cc.NextText = v.T("next.cancelled")
	default:
		cc.NextText = v.T("next.wait")
	}
	if cc.Action {
		cc.NextHeading = "next.heading"
	}
}
