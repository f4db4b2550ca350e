package test

import (
	"context"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/test/e2e"
)

// TestTemporalHoldsNoPersonalDataInTheClear reads a case's history and search
// attributes with a client that has no payload key, as an operator with the
// Temporal CLI or Web UI would.
func TestTemporalHoldsNoPersonalDataInTheClear(t *testing.T) {
	st := stackOf(dev)
	s := st.Submit(t, e2e.Gewerbeanmeldung(e2e.Leipzig, "amt24-anna"))
	e2e.Pay(t, s.PaymentURL, "pay")
	st.WaitStatus(t, s, "in_review")

	raw, err := client.Dial(client.Options{HostPort: dev.TemporalAddr, Namespace: ozgflow.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	ctx := context.Background()
	var history strings.Builder
	it := raw.GetWorkflowHistory(ctx, ozgflow.CaseWorkflowID(s.ID), "", false, 0)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := protojson.Marshal(ev)
		history.Write(b)
	}
	for _, personal := range []string{"Anna Muster", "anna@example.org", "Café Anna", "Markt"} {
		if strings.Contains(history.String(), personal) {
			t.Errorf("history shows %q in the clear", personal)
		}
	}

	desc, err := raw.DescribeWorkflowExecution(ctx, ozgflow.CaseWorkflowID(s.ID), "")
	if err != nil {
		t.Fatal(err)
	}
	attrs, _ := protojson.Marshal(desc.WorkflowExecutionInfo.SearchAttributes)
	for _, want := range []string{ozgflow.SearchAttrService, ozgflow.SearchAttrAuthority, ozgflow.SearchAttrStatus,
		ozgflow.SearchAttrQueue, ozgflow.SearchAttrDueAt} {
		if !strings.Contains(string(attrs), want) {
			t.Errorf("search attribute %s not set: %s", want, attrs)
		}
	}
	if strings.Contains(string(attrs), "Anna") {
		t.Errorf("search attributes carry personal data: %s", attrs)
	}
	// Operators find cases by status and queue.
	if n := st.CountCases(t, "OzgStatus = 'in_review' AND OzgQueue = 'gewerbe'"); n < 1 {
		t.Errorf("count by search attributes: %d", n)
	}
}

func TestDevRunsWithoutRedis(t *testing.T) {
	t.Setenv("REDIS_URL", "redis://127.0.0.1:1/0")
	cfg := devConfig(t.TempDir(), "127.0.0.1:0")
	d, err := startDev(cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if !d.EmbeddedRedis {
		t.Fatal("dev did not fall back to the embedded Redis")
	}
	st := stackOf(d)
	st.WaitStatus(t, st.Submit(t, e2e.Hundesteuer(e2e.Leipzig)), "approved")
}
