package test

import (
	"context"
	"testing"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/ozgflow/ozgflow/devserver"
)

// TestDevSetsTheNamespaceRetention reads the namespace's retention back
// from the running dev: it is the one dev states, not the server's default.
func TestDevSetsTheNamespaceRetention(t *testing.T) {
	desc, err := dev.Client.WorkflowService().DescribeNamespace(context.Background(),
		&workflowservice.DescribeNamespaceRequest{Namespace: "ozgflow"})
	if err != nil {
		t.Fatal(err)
	}
	got := desc.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration()
	if got != devserver.DevRetention || dev.TemporalRetention != devserver.DevRetention {
		t.Errorf("namespace retention %v, dev says %v, want %v", got, dev.TemporalRetention, devserver.DevRetention)
	}
}
