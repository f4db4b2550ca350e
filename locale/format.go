package locale

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Time writes a moment in German local time the way the language does:
// "20.11.2026, 10:30 Uhr", "20 November 2026, 10:30".
func (l Lang) Time(t time.Time) string {
	t = t.In(Berlin)
	if l == EN {
		return t.Format("2 January 2006, 15:04")
	}
	return t.Format("02.01.2006, 15:04") + " Uhr"
}

// Short writes a moment in German local time compactly, for lists, tables
// and spreadsheet cells: "20.11.2026 10:30", "20 Nov 2026 10:30".
func (l Lang) Short(t time.Time) string {
	t = t.In(Berlin)
	if l == EN {
		return t.Format("2 Jan 2006 15:04")
	}
	return t.Format("02.01.2006 15:04")
}

// Deadline writes a deadline in German local time the way the case
// workflow has always put it into notices, decisions and the audit trail:
// "30.11.2026 23:59 Uhr", without the comma of Time, since running cases'
// texts and their tests carry this form. In English it is Time.
func (l Lang) Deadline(t time.Time) string {
	if l == EN {
		return l.Time(t)
	}
	return t.In(Berlin).Format("02.01.2006 15:04") + " Uhr"
}

// Amount writes cents the way the language does: 123456, "EUR" →
// "1.234,56 EUR" in German, "EUR 1,234.56" in English. No currency means
// euros.
func (l Lang) Amount(cents int64, currency string) string {
	if currency == "" {
		currency = "EUR"
	}
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	if l == EN {
		return fmt.Sprintf("%s %s%s.%02d", currency, sign, group(cents/100, ','), cents%100)
	}
	return fmt.Sprintf("%s%s,%02d %s", sign, group(cents/100, '.'), cents%100, currency)
}

// group writes n with sep between groups of three digits.
func group(n int64, sep byte) string {
	digits := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(sep)
		}
		b.WriteByte(digits[i])
	}
	return b.String()
}

// Size writes a number of bytes in MB (10⁶), as file dialogs do, with the
// language's decimal separator: "2,5 MB", "2.5 MB", "10 MB".
func (l Lang) Size(n int64) string {
	s := strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	if l == DE {
		s = strings.ReplaceAll(s, ".", ",")
	}
	return s + " MB"
}
