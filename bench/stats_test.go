package bench

import (
	"testing"
	"time"
)

func TestWriteBytesOf(t *testing.T) {
	for _, tc := range []struct {
		name, io string
		want     int64
	}{
		{"linux", "rchar: 52345\nwchar: 9013\nsyscr: 120\nsyscw: 41\nread_bytes: 4096\nwrite_bytes: 2412544\ncancelled_write_bytes: 8192\n", 2412544},
		{"cancelled is not written", "cancelled_write_bytes: 8192\nwrite_bytes: 4096\n", 4096},
		{"missing", "rchar: 1\n", 0},
		{"empty", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := writeBytesOf(tc.io); got != tc.want {
				t.Errorf("writeBytesOf = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestRedisCPUOf(t *testing.T) {
	for _, tc := range []struct {
		name, info string
		want       time.Duration
	}{
		{"server", "# CPU\r\nused_cpu_sys:3.715895\r\nused_cpu_user:8.057197\r\nused_cpu_sys_children:0.000000\r\nused_cpu_user_children:0.000000\r\nused_cpu_sys_main_thread:3.7\r\n", 11773092 * time.Microsecond},
		{"children and main thread do not count twice", "used_cpu_sys_children:5\r\nused_cpu_user_main_thread:7\r\nused_cpu_user:1.5\r\n", 1500 * time.Millisecond},
		{"unreadable", "used_cpu_sys:x\r\nused_cpu_user:1\r\n", 0},
		{"empty", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := redisCPUOf(tc.info); got != tc.want {
				t.Errorf("redisCPUOf = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRedisCores(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		before, after, elapsed time.Duration
		want                   float64
	}{
		{"a quarter core", 10 * time.Second, 25 * time.Second, time.Minute, 0.25},
		{"no first reading", 0, 25 * time.Second, time.Minute, 0},
		{"a restarted server", 10 * time.Second, 2 * time.Second, time.Minute, 0},
		{"no time", time.Second, 2 * time.Second, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := redisCores(tc.before, tc.after, tc.elapsed); got != tc.want {
				t.Errorf("redisCores = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestStealOf(t *testing.T) {
	stat := "cpu  502898 0 99645 318534 47007 0 16419 9180 0 0\ncpu0 251000 0 49000 159000 23000 0 8000 4500 0 0\nintr 1 2 3\n"
	if got, want := stealOf(stat), 91800*time.Millisecond; got != want {
		t.Errorf("stealOf = %v, want %v", got, want)
	}
	for _, broken := range []string{"", "cpu  1 2 3\n", "cpu  1 2 3 4 5 6 7 x 0 0\n", "cpu0 1 2 3 4 5 6 7 8 9 10\n"} {
		if got := stealOf(broken); got != 0 {
			t.Errorf("stealOf(%q) = %v, want 0", broken, got)
		}
	}
	if got := perSecond(0, 3*time.Second, time.Minute); got != 0.05 {
		t.Errorf("perSecond from a first reading of 0 = %v, want 0.05", got)
	}
}
