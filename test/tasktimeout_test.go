package test

import (
	"context"
	"testing"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/casework"
	"github.com/ozgflow/ozgflow/test/e2e"
)

// TestCasesStartWithTheirTaskTimeout starts a case with a plain start (no
// fee) and one with the payment link's update (a fee), and reads from the
// engine how long a worker may take over one of their workflow tasks.
func TestCasesStartWithTheirTaskTimeout(t *testing.T) {
	st := stackOf(dev)
	plain := st.Submit(t, e2e.Hundesteuer(e2e.Leipzig))
	paid := st.Submit(t, e2e.Gewerbeanmeldung(e2e.Leipzig, "amt24-anna"))
	if plain.PaymentURL != "" || paid.PaymentURL == "" {
		t.Fatalf("payment links %q and %q: the test needs a case without one and a case with one", plain.PaymentURL, paid.PaymentURL)
	}
	for _, s := range []e2e.Submitted{plain, paid} {
		desc, err := dev.Client.DescribeWorkflowExecution(context.Background(), ozgflow.CaseWorkflowID(s.ID), "")
		if err != nil {
			t.Fatal(err)
		}
		got := desc.GetExecutionConfig().GetDefaultWorkflowTaskTimeout().AsDuration()
		if got != casework.CaseTaskTimeout {
			t.Errorf("case %s: workflow task timeout %s, want %s", s.ID, got, casework.CaseTaskTimeout)
		}
	}
}
