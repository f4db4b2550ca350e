package devserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
)

// EnsureNamespace registers the namespace and ozgflow's search attributes on
// any Temporal cluster reachable at addr; what exists already is kept.
func EnsureNamespace(ctx context.Context, addr, namespace string) error {
	c, err := client.Dial(client.Options{HostPort: addr})
	if err != nil {
		return fmt.Errorf("connect to temporal at %s: %w", addr, err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err = c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace:                        namespace,
		WorkflowExecutionRetentionPeriod: durationpb.New(30 * 24 * time.Hour),
	})
	var exists *serviceerror.NamespaceAlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("register namespace %s: %w", namespace, err)
	}
	// A new namespace takes a moment to reach every service.
	for {
		_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace: namespace, SearchAttributes: SearchAttributes,
		})
		var already *serviceerror.AlreadyExists
		if err == nil || errors.As(err, &already) || strings.Contains(err.Error(), "already exists") {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("add search attributes to %s: %w", namespace, err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}
