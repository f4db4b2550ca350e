package payment

import (
	"encoding/json"
)

// WebhookEvent is the body the sandbox posts to the webhook URL after a
// payment changed, under a webhook ID of its own (ozgflow.HeaderWebhookID)
// and signed with ozgflow.SignWebhook in the headers
// ozgflow.HeaderSignature and ozgflow.HeaderSignatureTimestamp.
type WebhookEvent struct {
	PaymentID string `json:"paymentId"`
	RequestID string `json:"requestId"`
	CaseID    string `json:"caseId"`
	Status    string `json:"status"` // ozgflow.PaymentPayed, PaymentFailed, …
	Refund    string `json:"refund"` // ozgflow.RefundRefunded once refunded, else empty
	// Kassenzeichen is the cash office's reference of the payment.
	Kassenzeichen string `json:"kassenzeichen,omitempty"`
}

func event(p *record) WebhookEvent {
	return WebhookEvent{PaymentID: p.ID, RequestID: p.RequestID, CaseID: p.CaseID, Status: p.Status, Refund: p.Refund,
		Kassenzeichen: p.Kassenzeichen}
}

// SetWebhooks switches the webhooks on or off. While they are off, status
// changes are kept but not posted, as when a provider's webhook is lost:
// the case finds the status by asking the provider.
func (s *Sandbox) SetWebhooks(on bool) { s.webhooksOff.SetDown(!on) }

// notify posts ev to the webhook URL. A failed delivery never fails the
// caller: it is retried in the background with growing delays and logged.
func (s *Sandbox) notify(ev WebhookEvent) {
	if s.webhooksOff.Down() {
		s.log.Info("Payment webhook held back, webhooks are off", "paymentId", ev.PaymentID, "status", ev.Status)
		return
	}
	body, err := json.Marshal(ev)
	if err != nil {
		s.log.Error("Payment webhook not encoded", "paymentId", ev.PaymentID, "error", err)
		return
	}
	s.webhooks.Send(body, "paymentId", ev.PaymentID, "status", ev.Status)
}
