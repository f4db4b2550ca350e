package locale

import (
	"testing"
	"time"
)

func TestSaxonyHolidays(t *testing.T) {
	for _, tc := range []struct {
		date string
		name string
	}{
		{"2026-01-01", "Neujahr"},
		{"2026-04-03", "Karfreitag"},
		{"2026-04-06", "Ostermontag"},
		{"2026-05-01", "Tag der Arbeit"},
		{"2026-05-14", "Christi Himmelfahrt"},
		{"2026-05-25", "Pfingstmontag"},
		{"2026-10-03", "Tag der Deutschen Einheit"},
		{"2026-10-31", "Reformationstag"},
		{"2026-11-18", "Buß- und Bettag"},
		{"2027-11-17", "Buß- und Bettag"},
		{"2025-11-19", "Buß- und Bettag"},
		{"2027-03-26", "Karfreitag"},
		{"2026-12-25", "1. Weihnachtsfeiertag"},
		{"2026-12-26", "2. Weihnachtsfeiertag"},
	} {
		day, _ := time.ParseInLocation("2006-01-02", tc.date, Berlin)
		got, ok := SaxonyHoliday(day)
		if !ok || got != tc.name {
			t.Errorf("%s: got %q %v, want %q", tc.date, got, ok, tc.name)
		}
	}
	for _, date := range []string{"2026-11-23", "2026-06-04", "2026-12-24", "2026-04-05"} {
		day, _ := time.ParseInLocation("2006-01-02", date, Berlin)
		if name, ok := SaxonyHoliday(day); ok {
			t.Errorf("%s is no Saxon public holiday, got %q", date, name)
		}
	}
}

func TestAddWorkingDays(t *testing.T) {
	for _, tc := range []struct {
		name     string
		from     string
		n        int
		wantDate string
	}{
		{"same day", "2026-11-23 10:00", 0, "2026-11-23"},
		{"over a weekend", "2026-11-20 10:00", 1, "2026-11-23"},
		{"ten days", "2026-11-09 10:00", 10, "2026-11-24"}, // skips 18.11. Buß- und Bettag
		{"over Christmas", "2026-12-23 10:00", 2, "2026-12-28"},
		{"over Easter", "2026-04-02 15:00", 1, "2026-04-07"},
		{"late evening UTC", "2026-11-22 23:30", 1, "2026-11-23"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from, _ := time.ParseInLocation("2006-01-02 15:04", tc.from, Berlin)
			got := AddWorkingDays(from.UTC(), tc.n).In(Berlin)
			if got.Format("2006-01-02") != tc.wantDate || got.Hour() != 23 || got.Minute() != 59 {
				t.Errorf("got %s, want end of %s", got.Format(time.DateTime), tc.wantDate)
			}
		})
	}
}
