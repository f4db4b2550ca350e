package devserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
)

// ClusterRetention is how long an external Temporal cluster keeps the
// history of a closed workflow in a namespace EnsureNamespace registers:
// thirty days, room to investigate a complaint about a closed case in the
// Web UI. A variant's shorter retention still holds: the retention
// schedule deletes a case's history when it erases the case.
const ClusterRetention = 30 * 24 * time.Hour

// EnsureNamespace registers the namespace and ozgflow's search attributes on
// any Temporal cluster reachable at addr; what exists already is kept.
func EnsureNamespace(ctx context.Context, addr, namespace string) error {
	c, ctx, done, err := dialFor(ctx, addr)
	if err != nil {
		return err
	}
	defer done()
	_, err = c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace:                        namespace,
		WorkflowExecutionRetentionPeriod: durationpb.New(ClusterRetention),
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

// SetRetention sets how long the namespace keeps closed workflows' history
// when it keeps them for another period.
func SetRetention(ctx context.Context, addr, namespace string, retention time.Duration) error {
	c, ctx, done, err := dialFor(ctx, addr)
	if err != nil {
		return err
	}
	defer done()
	desc, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("describe namespace %s: %w", namespace, err)
	}
	if desc.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration() == retention {
		return nil
	}
	_, err = c.WorkflowService().UpdateNamespace(ctx, &workflowservice.UpdateNamespaceRequest{
		Namespace: namespace,
		Config:    &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: durationpb.New(retention)},
	})
	if err != nil {
		return fmt.Errorf("set the retention of namespace %s: %w", namespace, err)
	}
	return nil
}

// dialFor connects to the Temporal frontend at addr, waiting for it while
// it starts, for one operation; the wait and the operation together take at
// most a minute. done closes the client.
func dialFor(ctx context.Context, addr string) (client.Client, context.Context, func(), error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	c, err := DialWhenReady(ctx, client.Options{HostPort: addr})
	if err != nil {
		cancel()
		return nil, ctx, nil, err
	}
	return c, ctx, func() { cancel(); c.Close() }, nil
}

// DialWhenReady connects to a Temporal frontend that may still be starting:
// while it answers "unavailable" (not listening yet, or "Frontend is not
// healthy yet" in its first seconds), it tries again until ctx ends, so ctx
// needs a deadline. When it gives up, the error names the frontend's last
// answer.
func DialWhenReady(ctx context.Context, opts client.Options) (client.Client, error) {
	var lastUnavailable error
	for {
		c, err := client.DialContext(ctx, opts)
		var unavailable *serviceerror.Unavailable
		switch {
		case err == nil:
			return c, nil
		case errors.As(err, &unavailable):
			lastUnavailable = err
		case lastUnavailable != nil && ctx.Err() != nil:
			// The deadline ended the last try; what the frontend said
			// before is the cause worth reporting.
		default:
			return nil, fmt.Errorf("connect to temporal at %s: %w", opts.HostPort, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connect to temporal at %s: still unavailable when giving up: %w", opts.HostPort, lastUnavailable)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
