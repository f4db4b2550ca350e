package metrics

import (
	"testing"
	"time"
)

func TestPaymentCallsAreCountedByOperationAndOutcome(t *testing.T) {
	m := New()
	m.ObservePaymentCall("create", "ok", 20*time.Millisecond)
	m.ObservePaymentCall("status", "timeout", 10*time.Second)
	m.ObservePaymentCall("status", "timeout", 10*time.Second)
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, f := range families {
		if f.GetName() != "ozgflow_payment_provider_call_duration_seconds" {
			continue
		}
		for _, s := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range s.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			counts[labels["operation"]+" "+labels["outcome"]] = s.GetHistogram().GetSampleCount()
		}
	}
	if len(counts) != 2 || counts["create ok"] != 1 || counts["status timeout"] != 2 {
		t.Errorf("payment calls = %v, want create ok 1 and status timeout 2", counts)
	}
}
