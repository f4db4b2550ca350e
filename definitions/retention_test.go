package definitions_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
)

func TestRetentionUntilCountsCalendarUnits(t *testing.T) {
	closed := time.Date(2025, 1, 31, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		retention definitions.Retention
		want      time.Time
	}{
		{"90d", time.Date(2025, 5, 1, 14, 0, 0, 0, time.UTC)},
		{"2W", time.Date(2025, 2, 14, 14, 0, 0, 0, time.UTC)},
		{"1M", time.Date(2025, 3, 3, 14, 0, 0, 0, time.UTC)}, // 31 February is 3 March
		{"6M", time.Date(2025, 7, 31, 14, 0, 0, 0, time.UTC)},
		{"1Y", time.Date(2026, 1, 31, 14, 0, 0, 0, time.UTC)},
		{"", time.Date(2025, 7, 31, 14, 0, 0, 0, time.UTC)}, // the default, six months
	}
	for _, tt := range tests {
		t.Run(string(tt.retention), func(t *testing.T) {
			if got := tt.retention.Until(closed); !got.Equal(tt.want) {
				t.Errorf("Retention(%q).Until(%s) = %s, want %s", tt.retention, closed, got, tt.want)
			}
		})
	}
}

func TestInvalidRetentionIsRefusedWithItsPointer(t *testing.T) {
	for _, bad := range []string{"6", "M", "6m", "0d", "-1Y", "six months", "31Y", "12000M"} {
		t.Run(bad, func(t *testing.T) {
			def := mustCatalog(t).Published()[0]
			def.Retention = definitions.Retention(bad)
			err := def.Validate()
			if err == nil {
				t.Fatalf("retention %q accepted", bad)
			}
			var detail string
			for _, f := range ozgflow.ErrorFields(err) {
				if f.Pointer == "/retention" {
					detail = f.Detail
				}
			}
			if !strings.Contains(detail, "90d, 2W, 6M oder 1Y") && !strings.Contains(detail, "länger als 30 Jahre") {
				t.Errorf("no clear message at /retention: %v %v", err, ozgflow.ErrorFields(err))
			}
		})
	}
}

func TestEveryShippedVariantStatesItsRetention(t *testing.T) {
	for _, def := range mustCatalog(t).Published() {
		if def.Retention == "" {
			t.Errorf("variant %s states no retention", def.ID)
		}
		if err := def.Retention.Check(); err != nil {
			t.Errorf("variant %s: %v", def.ID, err)
		}
	}
}
