package metrics

import (
	"testing"
	"time"
)

// TestExternalCallsAreCountedByTargetOperationAndOutcome: calls to the
// payment provider are counted and timed like every other target's, under
// target "payment", and nowhere else.
func TestExternalCallsAreCountedByTargetOperationAndOutcome(t *testing.T) {
	m := New()
	m.ObserveCall("payment", "CreatePayment", CallOK, 20*time.Millisecond)
	m.ObserveCall("payment", "PaymentStatus", CallTimeout, 10*time.Second)
	m.ObserveCall("payment", "PaymentStatus", CallTimeout, 10*time.Second)
	m.ObserveCall("signer", "Seal", CallOK, time.Second)
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	calls, timed := map[string]float64{}, map[string]uint64{}
	for _, f := range families {
		for _, s := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range s.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch f.GetName() {
			case "ozgflow_external_calls_total":
				calls[labels["target"]+" "+labels["operation"]+" "+labels["outcome"]] = s.GetCounter().GetValue()
			case "ozgflow_external_call_duration_seconds":
				timed[labels["target"]+" "+labels["operation"]] = s.GetHistogram().GetSampleCount()
			case "ozgflow_payment_provider_call_duration_seconds":
				t.Errorf("calls to the payment provider measured twice, also in %s", f.GetName())
			}
		}
	}
	if len(calls) != 3 || calls["payment CreatePayment ok"] != 1 || calls["payment PaymentStatus timeout"] != 2 ||
		calls["signer Seal ok"] != 1 {
		t.Errorf("calls = %v, want payment CreatePayment ok 1, payment PaymentStatus timeout 2, signer Seal ok 1", calls)
	}
	if len(timed) != 3 || timed["payment CreatePayment"] != 1 || timed["payment PaymentStatus"] != 2 {
		t.Errorf("timed calls = %v, want payment CreatePayment 1 and payment PaymentStatus 2", timed)
	}
}
