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
}

func event(p *record) WebhookEvent {
	return WebhookEvent{PaymentID: p.ID, RequestID: p.RequestID, CaseID: p.CaseID, Status: p.Status, Refund: p.Refund}
}

// notify posts ev to the webhook URL. A failed delivery never fails the
// caller: it is retried in the background with growing delays and logged.
func (s *Sandbox) notify(ev WebhookEvent) {
	body, err := json.Marshal(ev)
	if err != nil {
		s.log.Error("Payment webhook not encoded", "paymentId", ev.PaymentID, "error", err)
		return
	}
	s.webhooks.Send(body, "paymentId", ev.PaymentID, "status", ev.Status)
}
