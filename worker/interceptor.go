package worker

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"

	"github.com/ozgflow/ozgflow/activities"
	"github.com/ozgflow/ozgflow/metrics"
)

// stepMetrics times every activity execution, local ones included.
type stepMetrics struct {
	interceptor.WorkerInterceptorBase
	m *metrics.Metrics
}

func (s *stepMetrics) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	in := &stepMetricsInbound{m: s.m}
	in.Next = next
	return in
}

type stepMetricsInbound struct {
	interceptor.ActivityInboundInterceptorBase
	m *metrics.Metrics
}

func (s *stepMetricsInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	start := time.Now()
	res, err := s.Next.ExecuteActivity(ctx, in)
	name := activity.GetInfo(ctx).ActivityType.Name
	s.m.ObserveStep(name, err, activities.IsCall(name), time.Since(start))
	return res, err
}
