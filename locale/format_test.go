package locale

import (
	"testing"
	"time"
)

func TestFormats(t *testing.T) {
	at := time.Date(2026, 11, 24, 17, 0, 0, 0, time.UTC)
	summer := time.Date(2026, 7, 1, 8, 5, 0, 0, time.UTC)
	tests := []struct {
		name, got, want string
	}{
		{"German time", DE.Time(at), "24.11.2026, 18:00 Uhr"},
		{"English time", EN.Time(at), "24 November 2026, 18:00"},
		{"summer time", DE.Time(summer), "01.07.2026, 10:05 Uhr"},
		{"German list time", DE.Short(at), "24.11.2026 18:00"},
		{"English list time", EN.Short(at), "24 Nov 2026 18:00"},
		{"German deadline", DE.Deadline(at), "24.11.2026 18:00 Uhr"},
		{"English deadline", EN.Deadline(at), "24 November 2026, 18:00"},
		{"English amount", EN.Amount(123456, "EUR"), "EUR 1,234.56"},
		{"English default currency", EN.Amount(2000, ""), "EUR 20.00"},
		{"English negative amount", EN.Amount(-2600, "EUR"), "EUR -26.00"},
		{"German size", DE.Size(5_000_000), "5 MB"},
		{"German fraction", DE.Size(2_500_000), "2,5 MB"},
		{"English fraction", EN.Size(2_500_000), "2.5 MB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestGermanAmount(t *testing.T) {
	tests := []struct {
		name     string
		cents    int64
		currency string
		want     string
	}{
		{"fee", 2600, "EUR", "26,00 EUR"},
		{"cents", 5, "EUR", "0,05 EUR"},
		{"ten cents", 1010, "EUR", "10,10 EUR"},
		{"thousands", 123456, "EUR", "1.234,56 EUR"},
		{"millions", 123456789, "EUR", "1.234.567,89 EUR"},
		{"default currency", 100, "", "1,00 EUR"},
		{"negative", -2600, "EUR", "-26,00 EUR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DE.Amount(tt.cents, tt.currency); got != tt.want {
				t.Errorf("Amount(%d, %q) = %q, want %q", tt.cents, tt.currency, got, tt.want)
			}
		})
	}
}
