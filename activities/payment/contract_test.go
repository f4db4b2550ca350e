package payment_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/activities/payment"
)

// xRequest is a payment request shaped after XBezahldienste: two lines,
// each with its booking data.
func xRequest(n int) activities.PaymentRequest {
	req := request(n)
	req.Items = []ozgflow.PaymentItem{
		{ID: "gebuehr", Description: "Verwaltungsgebühr Gewerbeanzeige", Amount: 2500, Quantity: 1,
			BookingData: map[string]string{"haushaltsstelle": "1.122.01.431100", "objektnummer": "1220100"}},
		{ID: "auslagen", Description: "Auslagen", Amount: 50, Quantity: 2,
			BookingData: map[string]string{"haushaltsstelle": "1.122.01.432100", "buchungskennzeichen": "GEW-AUS"}},
	}
	req.ReturnURL = "https://antrag.example/antraege/case-1"
	return req
}

// TestProviderContract is the contract of the payment adapter: the
// production client speaking HTTP to the sandbox's provider API, and the
// sandbox as a provider in-process, pass the same test with the same
// answers and the same errors.
func TestProviderContract(t *testing.T) {
	providers := []struct {
		name    string
		provide func(e env) activities.PaymentProvider
	}{
		{"client over HTTP", func(e env) activities.PaymentProvider { return e.client }},
		{"sandbox in-process", func(e env) activities.PaymentProvider { return e.sandbox }},
	}
	for _, pv := range providers {
		t.Run(pv.name, func(t *testing.T) {
			ctx := context.Background()

			t.Run("a payment request opens a payment with a Kassenzeichen, once", func(t *testing.T) {
				e := newEnv(t, "")
				p := pv.provide(e)
				first, err := p.CreatePayment(ctx, xRequest(1))
				if err != nil {
					t.Fatal(err)
				}
				if first.PaymentID == "" || first.Status != ozgflow.PaymentInitial || first.Kassenzeichen == "" ||
					first.RedirectURL != e.server.URL+payment.PagePath+first.PaymentID {
					t.Errorf("created = %+v, want INITIAL with ID, Kassenzeichen and the payment page", first)
				}
				again, err := p.CreatePayment(ctx, xRequest(1))
				if err != nil || again != first {
					t.Errorf("same requestId again = %+v, %v; want %+v", again, err, first)
				}
				other, err := p.CreatePayment(ctx, xRequest(2))
				if err != nil || other.PaymentID == first.PaymentID || other.Kassenzeichen == first.Kassenzeichen {
					t.Errorf("next attempt = %+v, %v; want a payment and Kassenzeichen of its own", other, err)
				}
				_, body := getPage(t, first.RedirectURL)
				for _, want := range []string{first.Kassenzeichen, "Verwaltungsgebühr Gewerbeanzeige", "25,00 EUR", "Auslagen", "1,00 EUR"} {
					if !contains(body, want) {
						t.Errorf("payment page lacks %q", want)
					}
				}
			})

			t.Run("a request without lines is one line of amount and purpose", func(t *testing.T) {
				e := newEnv(t, "")
				info, err := pv.provide(e).CreatePayment(ctx, request(1))
				if err != nil || info.Status != ozgflow.PaymentInitial {
					t.Fatalf("created = %+v, %v", info, err)
				}
				if _, body := getPage(t, info.RedirectURL); !contains(body, "Gebühr Gewerbeanmeldung") || !contains(body, "26,00 EUR") {
					t.Error("payment page lacks the single line")
				}
			})

			t.Run("requests that will never succeed are refused for good", func(t *testing.T) {
				e := newEnv(t, "")
				p := pv.provide(e)
				if _, err := p.CreatePayment(ctx, xRequest(1)); err != nil {
					t.Fatal(err)
				}
				bad := []struct {
					name   string
					change func(*activities.PaymentRequest)
				}{
					{"lines do not add up", func(r *activities.PaymentRequest) { r.Items[1].Quantity = 3 }},
					{"line without description", func(r *activities.PaymentRequest) { r.Items[0].Description = "" }},
					{"line without price", func(r *activities.PaymentRequest) { r.Items[0].Amount, r.Amount = 0, 100 }},
					{"empty booking value", func(r *activities.PaymentRequest) { r.Items[0].BookingData["objektnummer"] = " " }},
					{"no purpose", func(r *activities.PaymentRequest) { r.Purpose = "" }},
					{"other currency", func(r *activities.PaymentRequest) { r.Currency = "USD" }},
					{"requestId of another payment", func(r *activities.PaymentRequest) {
						r.Amount, r.Items = 2700, append(r.Items, ozgflow.PaymentItem{Description: "mehr", Amount: 100, Quantity: 1})
					}},
				}
				for _, b := range bad {
					req := xRequest(1)
					b.change(&req)
					if _, err := p.CreatePayment(ctx, req); !appError(err, payment.ErrTypeRejected) {
						t.Errorf("%s: %v, want non-retryable %s", b.name, err, payment.ErrTypeRejected)
					}
				}
				if _, err := p.PaymentStatus(ctx, "pay_unknown"); !appError(err, payment.ErrTypeNotFound) {
					t.Errorf("status of an unknown payment: %v, want non-retryable %s", err, payment.ErrTypeNotFound)
				}
			})

			t.Run("the status is asked for after the applicant paid, and the fee refunded", func(t *testing.T) {
				e := newEnv(t, "")
				p := pv.provide(e)
				opened, err := p.CreatePayment(ctx, xRequest(1))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := p.Refund(ctx, opened.PaymentID); !appError(err, payment.ErrTypeRejected) {
					t.Errorf("refund of an open payment: %v, want non-retryable %s", err, payment.ErrTypeRejected)
				}
				if err := e.sandbox.SetStatus(opened.PaymentID, "pay"); err != nil {
					t.Fatal(err)
				}
				if ev := e.receiver.next(t); ev.Status != ozgflow.PaymentPayed || ev.Kassenzeichen != opened.Kassenzeichen {
					t.Errorf("webhook = %+v, want PAYED with Kassenzeichen %s", ev, opened.Kassenzeichen)
				}
				paid, err := p.PaymentStatus(ctx, opened.PaymentID)
				if err != nil || paid.Status != ozgflow.PaymentPayed || paid.Kassenzeichen != opened.Kassenzeichen {
					t.Errorf("status = %+v, %v; want PAYED under Kassenzeichen %s", paid, err, opened.Kassenzeichen)
				}
				refunded, err := p.Refund(ctx, opened.PaymentID)
				if err != nil || refunded.Refund != ozgflow.RefundRefunded || refunded.Kassenzeichen != opened.Kassenzeichen {
					t.Errorf("refund = %+v, %v; want REFUNDED under Kassenzeichen %s", refunded, err, opened.Kassenzeichen)
				}
				if ev := e.receiver.next(t); ev.Refund != ozgflow.RefundRefunded || ev.Kassenzeichen != opened.Kassenzeichen {
					t.Errorf("refund webhook = %+v", ev)
				}
				if again, err := p.Refund(ctx, opened.PaymentID); err != nil || again != refunded {
					t.Errorf("refund twice = %+v, %v; want %+v", again, err, refunded)
				}
				if _, err := p.Refund(ctx, "pay_unknown"); !appError(err, payment.ErrTypeRejected) {
					t.Errorf("refund of an unknown payment: %v, want non-retryable %s", err, payment.ErrTypeRejected)
				}
			})
		})
	}
}

// TestWebhooksCanBeSwitchedOff proves the sandbox's switch that stands in
// for a lost webhook: a change while they are off is kept, not posted.
func TestWebhooksCanBeSwitchedOff(t *testing.T) {
	e := newEnv(t, "")
	// Over HTTP, as tests and demos of the whole stack switch it.
	req, _ := http.NewRequest(http.MethodPut, e.server.URL+payment.ProviderPath+"/webhooks/outage", strings.NewReader(`{"down": true}`))
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("switch the webhooks off: %v %v", res, err)
	}
	res.Body.Close()
	first := create(t, e)
	if err := e.sandbox.SetStatus(first.PaymentID, "pay"); err != nil {
		t.Fatal(err)
	}
	if got, err := e.client.PaymentStatus(context.Background(), first.PaymentID); err != nil || got.Status != ozgflow.PaymentPayed {
		t.Fatalf("status = %+v, %v; want PAYED", got, err)
	}
	e.sandbox.SetWebhooks(true)
	second, err := e.client.CreatePayment(context.Background(), request(2))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sandbox.SetStatus(second.PaymentID, "fail"); err != nil {
		t.Fatal(err)
	}
	// The first webhook to arrive is the second payment's: the first
	// payment's was never posted.
	if ev := e.receiver.next(t); ev.PaymentID != second.PaymentID {
		t.Errorf("webhook of %s arrived, webhooks were off for it", ev.PaymentID)
	}
}

// TestClientEndsACallAtItsDeadline: the worker bounds each attempt by the
// payment target's timeout through the context; a provider that does not
// answer by then is a failure the activity tries again.
func TestClientEndsACallAtItsDeadline(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(slow.Close)
	c := payment.NewClient(slow.URL, apiKey, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.PaymentStatus(ctx, "p")
	if !retryable(err) || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("slow provider: %v after %s, want a retryable error at the deadline", err, time.Since(start))
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
