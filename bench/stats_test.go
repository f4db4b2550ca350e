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
