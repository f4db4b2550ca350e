package devserver

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// startingFrontend answers as a Temporal frontend does in its first
// seconds: "not healthy yet" until it has been asked notReadyFor times.
type startingFrontend struct {
	workflowservice.UnimplementedWorkflowServiceServer
	operatorservice.UnimplementedOperatorServiceServer
	notReadyFor int32
	asked       atomic.Int32
	registered  atomic.Bool
}

func (f *startingFrontend) GetSystemInfo(context.Context, *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	if f.asked.Add(1) <= f.notReadyFor {
		// On the wire, as the server's interceptors send it.
		return nil, status.Error(codes.Unavailable, "Frontend is not healthy yet")
	}
	return &workflowservice.GetSystemInfoResponse{}, nil
}

func (f *startingFrontend) RegisterNamespace(context.Context, *workflowservice.RegisterNamespaceRequest) (*workflowservice.RegisterNamespaceResponse, error) {
	f.registered.Store(true)
	return &workflowservice.RegisterNamespaceResponse{}, nil
}

func (f *startingFrontend) AddSearchAttributes(context.Context, *operatorservice.AddSearchAttributesRequest) (*operatorservice.AddSearchAttributesResponse, error) {
	return &operatorservice.AddSearchAttributesResponse{}, nil
}

func TestEnsureNamespaceWaitsForAStartingFrontend(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	frontend := &startingFrontend{notReadyFor: 3}
	srv := grpc.NewServer()
	workflowservice.RegisterWorkflowServiceServer(srv, frontend)
	operatorservice.RegisterOperatorServiceServer(srv, frontend)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := EnsureNamespace(ctx, lis.Addr().String(), "ozgflow"); err != nil {
		t.Fatalf("EnsureNamespace against a starting frontend: %v", err)
	}
	if !frontend.registered.Load() {
		t.Error("the namespace was not registered")
	}
	if got := frontend.asked.Load(); got <= frontend.notReadyFor {
		t.Errorf("asked %d times, want more than %d", got, frontend.notReadyFor)
	}
}

func TestEnsureNamespaceGivesUpWhenNothingAnswers(t *testing.T) {
	ports, err := freePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	began := time.Now()
	err = EnsureNamespace(ctx, addr, "ozgflow")
	// It waited for the frontend until the deadline, and says so.
	var unavailable *serviceerror.Unavailable
	if err == nil || !errors.As(err, &unavailable) || !strings.Contains(err.Error(), addr) {
		t.Fatalf("EnsureNamespace without a frontend: %v", err)
	}
	if waited := time.Since(began); waited < 900*time.Millisecond {
		t.Errorf("gave up after %v, before the deadline", waited)
	}
}
