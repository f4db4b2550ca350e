package locale

import (
	"math"
	"time"
	// Time zone data is embedded so German local times in deadlines, notices
	// and pages do not depend on the host's zoneinfo.
	_ "time/tzdata"
)

// Berlin is the time zone German deadlines are counted and times are shown in.
var Berlin = loadBerlin()

func loadBerlin() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic("locale: embedded time zone data lacks Europe/Berlin: " + err.Error())
	}
	return loc
}

// SaxonyHoliday reports whether day (in German local time) is a public holiday
// in Saxony, and its name.
func SaxonyHoliday(day time.Time) (string, bool) {
	day = day.In(Berlin)
	y, m, d := day.Date()
	switch {
	case m == time.January && d == 1:
		return "Neujahr", true
	case m == time.May && d == 1:
		return "Tag der Arbeit", true
	case m == time.October && d == 3:
		return "Tag der Deutschen Einheit", true
	case m == time.October && d == 31:
		return "Reformationstag", true
	case m == time.December && d == 25:
		return "1. Weihnachtsfeiertag", true
	case m == time.December && d == 26:
		return "2. Weihnachtsfeiertag", true
	case m == time.November && d == repentanceDay(y):
		return "Buß- und Bettag", true
	}
	easter := easterSunday(y)
	offset := int(math.Round(time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Sub(easter).Hours() / 24))
	switch offset {
	case -2:
		return "Karfreitag", true
	case 1:
		return "Ostermontag", true
	case 39:
		return "Christi Himmelfahrt", true
	case 50:
		return "Pfingstmontag", true
	}
	return "", false
}

// easterSunday returns Easter Sunday of year y (Gregorian, anonymous
// algorithm), at noon UTC.
func easterSunday(y int) time.Time {
	a := y % 19
	b, c := y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Date(y, time.Month(month), day, 12, 0, 0, 0, time.UTC)
}

// repentanceDay is the day of November of Buß- und Bettag: the Wednesday
// before 23 November.
func repentanceDay(y int) int {
	nov22 := time.Date(y, time.November, 22, 12, 0, 0, 0, time.UTC)
	back := (int(nov22.Weekday()) - int(time.Wednesday) + 7) % 7
	return 22 - back
}

// WorkingDay reports whether day is a working day in Saxony: Monday to Friday
// and no public holiday.
func WorkingDay(day time.Time) bool {
	day = day.In(Berlin)
	if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	_, holiday := SaxonyHoliday(day)
	return !holiday
}

// AddWorkingDays returns the end (23:59:59 German time) of the n-th working
// day after from. With n = 0 it is the end of from's own day.
func AddWorkingDays(from time.Time, n int) time.Time {
	day := from.In(Berlin)
	day = time.Date(day.Year(), day.Month(), day.Day(), 12, 0, 0, 0, Berlin)
	for n > 0 {
		day = day.AddDate(0, 0, 1)
		if WorkingDay(day) {
			n--
		}
	}
	return time.Date(day.Year(), day.Month(), day.Day(), 23, 59, 59, 0, Berlin).UTC()
}
