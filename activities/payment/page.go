package payment

import (
	_ "embed"
	"errors"
	"html/template"
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities/internal/sandbox"
	"github.com/ozgflow/ozgflow/locale"
)

//go:embed page.html
var pageHTML string

// page is the payment page; a broken template fails at start, not on a request.
var page = template.Must(template.New("page").Parse(pageHTML))

// pageData fills the payment page.
type pageData struct {
	Found                   bool
	ID, Amount, Purpose     string
	Status, Result, Message string
	Action                  string
	Open                    bool
	// Return is the applicant's status page, where the page leads back.
	Return        string
	Kassenzeichen string
	Items         []pageItem
}

// pageItem is a line of the payment as the page lists it.
type pageItem struct {
	Description, Total string
	Quantity           int64
}

// statusText names a status for the applicant.
var statusText = map[string]string{
	ozgflow.PaymentInitial:  "Offen",
	ozgflow.PaymentPayed:    "Bezahlt",
	ozgflow.PaymentFailed:   "Fehlgeschlagen",
	ozgflow.PaymentCanceled: "Abgebrochen",
}

// resultText tells the applicant what a finished payment means.
var resultText = map[string]string{
	ozgflow.PaymentPayed:    "Die Zahlung ist eingegangen. Ihr Antrag wird jetzt weiter bearbeitet.",
	ozgflow.PaymentFailed:   "Die Zahlung ist fehlgeschlagen. Sie können die Zahlung in Ihrem Antrag erneut starten.",
	ozgflow.PaymentCanceled: "Die Zahlung wurde abgebrochen. Sie können die Zahlung in Ihrem Antrag erneut starten.",
}

// returnNote names, for the status page's message, how a payment ended.
var returnNote = map[string]string{
	ozgflow.PaymentPayed:    "bezahlt",
	ozgflow.PaymentFailed:   "zahlung-fehlgeschlagen",
	ozgflow.PaymentCanceled: "zahlung-abgebrochen",
}

// back is the status page a finished payment returns to, with a note of
// how it ended; "" when the payment names none.
func back(p record) string {
	if p.ReturnURL == "" {
		return ""
	}
	u, err := url.Parse(p.ReturnURL)
	if err != nil {
		return ""
	}
	if note, ok := returnNote[p.Status]; ok {
		q := u.Query()
		q.Set("hinweis", note)
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// render answers the page of paymentID with the given HTTP status and an
// optional message for the applicant.
func (s *Sandbox) render(w http.ResponseWriter, status int, paymentID, message string) {
	data := pageData{Message: message}
	if p, ok := s.view(paymentID); ok {
		data.Found = true
		data.ID, data.Purpose = p.ID, p.Purpose
		data.Amount = locale.DE.Amount(p.Amount, p.Currency)
		data.Status, data.Result = statusText[p.Status], resultText[p.Status]
		if p.Refund == ozgflow.RefundRefunded {
			data.Status += " und erstattet"
			data.Result = "Der Betrag wurde Ihnen erstattet."
		}
		data.Open = p.Status == ozgflow.PaymentInitial
		data.Action = PagePath + p.ID
		data.Return = p.ReturnURL
		data.Kassenzeichen = p.Kassenzeichen
		for _, it := range p.Items {
			data.Items = append(data.Items, pageItem{Description: it.Description, Quantity: it.Quantity,
				Total: locale.DE.Amount(it.Total(), p.Currency)})
		}
	} else if message == "" {
		data.Message = "Diese Zahlung ist unbekannt. Bitte starten Sie die Zahlung aus Ihrem Antrag heraus."
	}
	if err := sandbox.WritePage(w, status, page, data); err != nil {
		s.log.Error("Payment page not rendered", "paymentId", paymentID, "error", err)
	}
}

func (s *Sandbox) handlePage(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	status := http.StatusOK
	if _, ok := s.view(id); !ok {
		status = http.StatusNotFound
	}
	s.render(w, status, id, "")
}

func (s *Sandbox) handleAction(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		s.render(w, http.StatusBadRequest, id, "Das Formular konnte nicht gelesen werden.")
		return
	}
	err := s.SetStatus(id, r.PostForm.Get("action"))
	switch {
	case err == nil:
		// Back to the applicant's status page, as a provider does; a
		// payment that names none shows its result here.
		target := PagePath + id
		if p, ok := s.view(id); ok && back(p) != "" {
			target = back(p)
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	case errors.Is(err, ErrUnknownPayment):
		s.render(w, http.StatusNotFound, id, "")
	case errors.Is(err, ErrBadAction):
		s.render(w, http.StatusBadRequest, id, "Unbekannte Aktion. Bitte wählen Sie eine der Schaltflächen.")
	case errors.Is(err, ErrNotOpen):
		s.render(w, http.StatusConflict, id, "Diese Zahlung ist bereits abgeschlossen und kann nicht mehr geändert werden.")
	default:
		s.log.Error("Payment status not saved", "paymentId", id, "error", err)
		s.render(w, http.StatusInternalServerError, id, "Der Zahlungsstatus konnte nicht gespeichert werden. Bitte versuchen Sie es erneut.")
	}
}
