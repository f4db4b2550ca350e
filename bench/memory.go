package bench

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
)

// MiB is a mebibyte.
const MiB = 1 << 20

// MemoryState is what the process holds after a garbage collection.
type MemoryState struct {
	HeapInUse  int64 `json:"heapInUse"` // spans of the Go heap in use, live objects and their gaps
	HeapLive   int64 `json:"heapLive"`  // live objects
	Stacks     int64 `json:"stacks"`    // goroutine stacks
	RSS        int64 `json:"rss"`       // resident set of the whole process
	Goroutines int   `json:"goroutines"`
}

// MemoryCheck is what the waiting phase measured against its budget.
type MemoryCheck struct {
	Waiting int64 `json:"waiting"` // cases waiting for a case worker
	Budget  int64 `json:"budget"`  // bytes the whole process may hold at its peak
	PeakRSS int64 `json:"peakRss"` // the peak while the cases were created and waited
	// After is what the process held with the cases waiting.
	After MemoryState `json:"after"`
	// PerCaseRSS and PerCaseHeap are the growth of the resident set and of
	// the Go heap, both after a garbage collection, per waiting case: what
	// more cases would add.
	PerCaseRSS  int64 `json:"perCaseRss"`
	PerCaseHeap int64 `json:"perCaseHeap"`
}

// Over reports whether the peak exceeded the budget.
func (m MemoryCheck) Over() bool { return m.PeakRSS > m.Budget }

// String says the figure and the budget in one line.
func (m MemoryCheck) String() string {
	verdict := "within"
	if m.Over() {
		verdict = "OVER"
	}
	return fmt.Sprintf("peak RSS %d MiB with %d cases waiting: %s the budget of %d MiB; after GC: RSS %d MiB, "+
		"Go heap %d MiB in use (%d MiB live), stacks %d MiB, %d goroutines; per case %.1f KiB RSS, %.1f KiB heap",
		m.PeakRSS/MiB, m.Waiting, verdict, m.Budget/MiB, m.After.RSS/MiB, m.After.HeapInUse/MiB, m.After.HeapLive/MiB,
		m.After.Stacks/MiB, m.After.Goroutines, float64(m.PerCaseRSS)/1024, float64(m.PerCaseHeap)/1024)
}

// MemoryBudget is what the whole dev process (engine, worker, gateway,
// sandboxes) may hold at its peak with n cases waiting for a case worker:
// 500 MiB up to 10,000 cases, 1 GiB at 100,000, on the line through both
// points beyond.
func MemoryBudget(n int64) int64 {
	const (
		small, smallBudget = 10_000, 500 * MiB
		large, largeBudget = 100_000, 1024 * MiB
	)
	if n <= small {
		return smallBudget
	}
	return smallBudget + (n-small)*(largeBudget-smallBudget)/(large-small)
}

// settled collects the garbage and returns the freed pages to the system,
// then reads what the process holds, without what the collector has not
// got round to.
func settled() MemoryState {
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, _ := rssBytes()
	return MemoryState{HeapInUse: int64(ms.HeapInuse), HeapLive: int64(ms.HeapAlloc), Stacks: int64(ms.StackInuse),
		RSS: rss, Goroutines: runtime.NumGoroutine()}
}

// writeHeapProfile writes the heap profile as of the last collection to
// heap, and the goroutines, grouped by their stacks, to goroutines: a cached
// workflow holds goroutines as well as heap.
func writeHeapProfile(heap, goroutines string) error {
	for _, p := range []struct {
		name, path string
		debug      int
	}{{"heap", heap, 0}, {"goroutine", goroutines, 1}} {
		f, err := os.Create(p.path)
		if err != nil {
			return err
		}
		if err := pprof.Lookup(p.name).WriteTo(f, p.debug); err != nil {
			f.Close()
			return fmt.Errorf("%s profile: %w", p.name, err)
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}
