package bench

import (
	"bufio"
	"context"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Latencies collects durations and reports percentiles.
type Latencies []time.Duration

// Percentile returns the p-th percentile (0–100), 0 when empty.
func (l Latencies) Percentile(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := append(Latencies(nil), l...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

// usage is what the process, and the Redis server beside it, have used so
// far.
type usage struct {
	cpu     time.Duration // user and system CPU time
	written int64         // bytes written to storage
	redis   time.Duration // the Redis server's CPU time, 0 if unknown
	stolen  time.Duration // CPU time the host took from the machine, 0 if unknown
}

// usageNow is what the process and the Redis server have used until now.
func (r *runner) usageNow() usage {
	return usage{cpu: cpuTime(), written: writtenBytes(), redis: r.redisCPU(), stolen: stolenTime()}
}

// userHZ is the unit of the times in /proc/stat: hundredths of a second
// on every Linux.
const userHZ = 100

// stolenTime is the CPU time that the host of this virtual machine gave
// to others while one of its CPUs wanted to run (steal in /proc/stat), 0
// where that is missing.
func stolenTime() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	return stealOf(string(b))
}

// stealOf reads the steal time of all CPUs from the text of /proc/stat.
func stealOf(stat string) time.Duration {
	for line := range strings.Lines(stat) {
		fields := strings.Fields(line)
		if len(fields) < 9 || fields[0] != "cpu" {
			continue
		}
		ticks, err := strconv.ParseInt(fields[8], 10, 64)
		if err != nil {
			return 0
		}
		return time.Duration(ticks) * time.Second / userHZ
	}
	return 0
}

// redisCPU is the CPU time the Redis server of dev's projections has used
// so far (INFO cpu), 0 when it cannot be read (dev's embedded stand-in
// does not say).
func (r *runner) redisCPU() time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	info, err := r.dev.Store.Client().Info(ctx, "cpu").Result()
	if err != nil {
		return 0
	}
	return redisCPUOf(info)
}

// redisCPUOf reads the server's system and user CPU seconds from the text
// of INFO cpu.
func redisCPUOf(info string) time.Duration {
	var total float64
	for line := range strings.Lines(info) {
		name, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || (name != "used_cpu_sys" && name != "used_cpu_user") {
			continue
		}
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0
		}
		total += secs
	}
	return time.Duration(total * float64(time.Second))
}

// writtenBytes is how many bytes the process has caused to be written to
// storage so far (write_bytes in /proc/self/io; 0 where that is missing).
func writtenBytes() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	return writeBytesOf(string(b))
}

// writeBytesOf reads write_bytes from the text of /proc/<pid>/io.
func writeBytesOf(io string) int64 {
	for line := range strings.Lines(io) {
		if v, ok := strings.CutPrefix(line, "write_bytes:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssBytes reads the current (VmRSS) and peak (VmHWM) resident set size.
func rssBytes() (current, peak int64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "VmRSS:":
			current = kb << 10
		case "VmHWM:":
			peak = kb << 10
		}
	}
	return current, peak
}

// resetPeakRSS lets VmHWM start again from the current RSS (Linux ≥ 4.0).
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}
