package payment

import "testing"

func TestFormatAmount(t *testing.T) {
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
			if got := formatAmount(tt.cents, tt.currency); got != tt.want {
				t.Errorf("formatAmount(%d, %q) = %q, want %q", tt.cents, tt.currency, got, tt.want)
			}
		})
	}
}
