package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"go.temporal.io/api/enums/v1"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/receipt"
)

// SetPaymentWebhooks switches the payment sandbox's webhooks on or off, as
// a provider whose webhooks are lost.
func (st *Stack) SetPaymentWebhooks(t *testing.T, on bool) {
	t.Helper()
	res := Call(t, st.SandboxURL, http.MethodPut, "/sandbox/paymentprovider/webhooks/outage", "", map[string]bool{"down": !on})
	if res.Status != http.StatusOK {
		t.Fatalf("switch the payment webhooks: %d %s", res.Status, res.Body)
	}
}

// PayAndReturn pays on the sandbox's page with the payment's webhook
// switched off and follows the provider back to the status page, as the
// browser would; it returns that page.
func (st *Stack) PayAndReturn(t *testing.T, s Submitted) pageResponse {
	t.Helper()
	st.SetPaymentWebhooks(t, false)
	t.Cleanup(func() { st.SetPaymentWebhooks(t, true) })
	back := Pay(t, s.PaymentURL, "pay")
	st.SetPaymentWebhooks(t, true)
	if !strings.Contains(back, "rueckkehr=zahlung") {
		t.Errorf("the provider sends the applicant to %q, without the mark of the return", back)
	}
	return st.ReturnFromPayment(t, s, back)
}

// ReturnFromPayment opens the status page at back, the address the payment
// provider sends the applicant to, with the applicant's cookie; an empty
// back is the status page's address the provider was given.
func (st *Stack) ReturnFromPayment(t *testing.T, s Submitted, back string) pageResponse {
	t.Helper()
	p := &page{t: t, base: st.URL, cookies: map[string]string{}}
	if res := p.get("/antraege/" + s.ID + "?token=" + url.QueryEscape(s.Token)); res.Status != http.StatusSeeOther {
		t.Fatalf("the status page's link: %d", res.Status)
	}
	if back == "" {
		back = "/antraege/" + s.ID + "?rueckkehr=zahlung"
	}
	u, err := url.Parse(back)
	if err != nil {
		t.Fatal(err)
	}
	return p.get(u.RequestURI())
}

// paymentFoundOnTheApplicantsReturn: the provider's webhook never comes;
// the applicant's return to the status page makes the case ask the
// provider, and the page shows the fee paid with its Kassenzeichen and
// payment reference. The Fachverfahren receives both, and the receipt
// prints them.
func paymentFoundOnTheApplicantsReturn(t *testing.T, st *Stack) {
	returnsReloadedAskOnce(t, st)
	s := st.submit(t, gewerbeanmeldung(leipzig, "amt24-anna"))
	res := st.PayAndReturn(t, s)
	if res.Status != http.StatusOK {
		t.Fatalf("back on the status page: %d", res.Status)
	}
	c := st.caseOf(t, s.ID, s.Token)
	p := c["payment"].(map[string]any)
	kz, _ := p["kassenzeichen"].(string)
	if p["status"] != "PAYED" || kz == "" || p["reference"] != s.ID+"-1" {
		t.Fatalf("payment after the return = %v, want PAYED with Kassenzeichen and reference", p)
	}
	items, _ := p["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["bookingData"].(map[string]any)["haushaltsstelle"] != "1.122.01.431100" {
		t.Errorf("payment lines = %v, want Leipzig's line with its booking data", items)
	}
	for _, want := range []string{"ist am", "bezahlt worden", `id="kassenzeichen">` + kz + "<", `id="payment-reference">` + s.ID + "-1<"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("the status page after the return lacks %q", want)
		}
	}
	if strings.Contains(res.Body, `id="pay-link"`) {
		t.Error("the status page still asks to pay")
	}

	st.waitStatus(t, s, "in_review")
	recs := st.receivedBy(t, s.ID)
	if len(recs) == 0 {
		t.Fatal("nothing delivered to the Fachverfahren")
	}
	delivered, _ := recs[0]["submission"].(map[string]any)["payment"].(map[string]any)
	if delivered["kassenzeichen"] != kz || delivered["reference"] != s.ID+"-1" {
		t.Errorf("the Fachverfahren received the payment %v, want Kassenzeichen %s and reference", delivered, kz)
	}
	pdf := st.api(t, http.MethodGet, "/api/v1/applications/"+s.ID+"/receipt.pdf", s.Token, nil)
	if pdf.Status != http.StatusOK {
		t.Fatalf("receipt: %d", pdf.Status)
	}
	if lines := strings.Join(receipt.Lines(pdf.Body), "\n"); !strings.Contains(lines, kz) || !strings.Contains(lines, "Kassenzeichen") {
		t.Errorf("the receipt does not print the Kassenzeichen %s:\n%s", kz, lines)
	}
}

// returnsReloadedAskOnce: the applicant reloads the return address while
// the payment is still open; the case is asked once, so that reloads do
// not grow its history, and every reload still shows the page to pay.
func returnsReloadedAskOnce(t *testing.T, st *Stack) {
	t.Helper()
	s := st.submit(t, gewerbeanmeldung(leipzig, "amt24-anna"))
	for range 3 {
		if res := st.ReturnFromPayment(t, s, ""); res.Status != http.StatusOK || !strings.Contains(res.Body, `id="pay-link"`) {
			t.Fatalf("back without paying: %d, the page does not ask to pay", res.Status)
		}
	}
	updates := 0
	it := st.Temporal.GetWorkflowHistory(context.Background(), ozgflow.CaseWorkflowID(s.ID), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := e.GetWorkflowExecutionUpdateAcceptedEventAttributes(); a != nil && a.GetAcceptedRequest().GetInput().GetName() == ozgflow.UpdatePaymentReturned {
			updates++
		}
	}
	if updates != 1 {
		t.Errorf("three returns asked the case %d times, want once", updates)
	}
}
