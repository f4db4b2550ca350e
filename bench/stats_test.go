package bench

import "testing"

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
