package bench

import (
	"bytes"
	"context"
	"os"
	"runtime/pprof"
	"time"

	"github.com/google/pprof/profile"
)

// roleClient labels the benchmark's own client goroutines.
const roleClient = "client"

// cpuByRole profiles the CPU while a phase runs and splits it by the "role"
// label that `dev` gives its goroutines (engine, worker, gateway, sandbox);
// samples without a role are the Go runtime and shared clients.
type cpuByRole struct {
	buf     bytes.Buffer
	started bool
}

// start begins profiling; it does nothing when another profile runs (the
// --cpuprofile flag), and the split is then left out.
func (c *cpuByRole) start() {
	c.started = pprof.StartCPUProfile(&c.buf) == nil
}

// stop ends profiling and returns CPU cores used per role over elapsed;
// with save set, it writes the profile there too.
func (c *cpuByRole) stop(elapsed time.Duration, save string) map[string]float64 {
	if !c.started {
		return nil
	}
	pprof.StopCPUProfile()
	if save != "" {
		_ = os.WriteFile(save, c.buf.Bytes(), 0o644)
	}
	p, err := profile.Parse(&c.buf)
	if err != nil || len(p.SampleType) < 2 {
		return nil
	}
	out := map[string]float64{}
	for _, s := range p.Sample {
		role := "other"
		if r := s.Label["role"]; len(r) > 0 {
			role = r[0]
		}
		out[role] += float64(s.Value[1]) / 1e9 / elapsed.Seconds()
	}
	return out
}

// asClient runs fn with the client label.
func asClient(ctx context.Context, fn func(context.Context)) {
	pprof.Do(ctx, pprof.Labels("role", roleClient), fn)
}
