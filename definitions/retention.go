package definitions

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Retention says how long a case's personal data is kept after its final
// status: a count and a unit, "90d" (days), "2W" (weeks), "6M" (months) or
// "1Y" (years). Months and years are calendar months and years, so a case
// closed on 31 January with "1M" is kept until 3 March, as time.AddDate
// counts. Empty means DefaultRetention.
type Retention string

// DefaultRetention is the retention of a variant that states none: six
// months after the final status, the shortest period the state's
// administrations commonly keep application files for.
const DefaultRetention Retention = "6M"

// maxRetentionYears bounds a retention; longer is a typo, not a policy.
const maxRetentionYears = 30

// Effective is the retention that applies: r, or DefaultRetention when empty.
func (r Retention) Effective() Retention {
	if strings.TrimSpace(string(r)) == "" {
		return DefaultRetention
	}
	return r
}

// parse reads the count and the unit of a retention.
func (r Retention) parse() (n int, unit byte, err error) {
	s := strings.TrimSpace(string(r.Effective()))
	bad := fmt.Errorf("„%s“ ist keine Aufbewahrungsfrist: erwartet werden eine Zahl und eine Einheit, etwa 90d, 2W, 6M oder 1Y (Tage, Wochen, Monate, Jahre)", string(r))
	if len(s) < 2 {
		return 0, 0, bad
	}
	unit = s[len(s)-1]
	n, err = strconv.Atoi(s[:len(s)-1])
	if err != nil || n < 1 {
		return 0, 0, bad
	}
	var years float64
	switch unit {
	case 'd':
		years = float64(n) / 365
	case 'W':
		years = float64(n) * 7 / 365
	case 'M':
		years = float64(n) / 12
	case 'Y':
		years = float64(n)
	default:
		return 0, 0, bad
	}
	if years > maxRetentionYears {
		return 0, 0, fmt.Errorf("die Aufbewahrungsfrist „%s“ ist länger als %d Jahre", string(r), maxRetentionYears)
	}
	return n, unit, nil
}

// Check reports why a retention cannot be read; nil when it can.
func (r Retention) Check() error {
	_, _, err := r.parse()
	return err
}

// Until is the moment the personal data of a case closed at closedAt is due
// for erasure. It depends only on its arguments, so workflows may call it.
// An invalid retention counts as DefaultRetention: validation refuses it
// before a variant is published.
func (r Retention) Until(closedAt time.Time) time.Time {
	n, unit, err := r.parse()
	if err != nil {
		n, unit, _ = DefaultRetention.parse()
	}
	switch unit {
	case 'd':
		return closedAt.AddDate(0, 0, n)
	case 'W':
		return closedAt.AddDate(0, 0, 7*n)
	case 'Y':
		return closedAt.AddDate(n, 0, 0)
	default:
		return closedAt.AddDate(0, n, 0)
	}
}
