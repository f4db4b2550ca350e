package definitions_test

import (
	"slices"
	"testing"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions"
)

func TestCatalogFeesCarryBookingData(t *testing.T) {
	def, err := mustCatalog(t).Resolve("gewerbeanmeldung", leipzig)
	if err != nil {
		t.Fatal(err)
	}
	items := def.Fee.LineItems()
	if len(items) != 1 {
		t.Fatalf("Leipzig's fee has %d lines, want the inherited one: %+v", len(items), items)
	}
	fee := items[0]
	// The single line costs the whole fee; its description is the base's.
	if fee.ID != "gebuehr" || fee.Amount != 2600 || fee.Description != "Verwaltungsgebühr Gewerbeanzeige (§ 14 GewO)" || fee.Quantity != 1 {
		t.Errorf("fee line = %+v, want Leipzig's amount on the base's line", fee)
	}
	// Booking data merges key by key onto the base's.
	if fee.BookingData["haushaltsstelle"] != "1.122.01.431100" || fee.BookingData["objektnummer"] != "1220100" ||
		fee.BookingData["buchungskennzeichen"] != "GEW-AN" {
		t.Errorf("booking data = %v", fee.BookingData)
	}
	// A new amount needs no change of the line.
	def.Fee.Amount = 3100
	if err := def.Validate(); err != nil || def.Fee.LineItems()[0].Amount != 3100 {
		t.Errorf("fee changed to 3100: %v %+v", err, def.Fee.LineItems())
	}
}

func TestFeeLinesAddUp(t *testing.T) {
	fee := &definitions.Fee{Amount: 2600, Purpose: "Gebühr Gewerbeanmeldung", Items: []ozgflow.PaymentItem{
		{ID: "gebuehr", Description: "Verwaltungsgebühr", Amount: 2500},
		{ID: "auslagen", Description: "Auslagen", Amount: 50, Quantity: 2, BookingData: map[string]string{"buchungskennzeichen": "GEW-AUS"}},
	}}
	items := fee.LineItems()
	var sum int64
	for _, it := range items {
		sum += it.Total()
	}
	if len(items) != 2 || items[0].Quantity != 1 || sum != 2600 {
		t.Errorf("lines = %+v, sum %d, want two lines of 2600", items, sum)
	}
}

func TestFeeWithoutItemsIsOneLine(t *testing.T) {
	fee := &definitions.Fee{Amount: 1500, Purpose: "Gebühr Führungszeugnis"}
	got := fee.LineItems()
	want := []ozgflow.PaymentItem{{ID: "1", Description: "Gebühr Führungszeugnis", Amount: 1500, Quantity: 1}}
	if len(got) != 1 || got[0].ID != want[0].ID || got[0].Description != want[0].Description ||
		got[0].Amount != want[0].Amount || got[0].Quantity != want[0].Quantity {
		t.Errorf("LineItems() = %+v, want %+v", got, want)
	}
	if (&definitions.Fee{}).LineItems() != nil || (*definitions.Fee)(nil).LineItems() != nil {
		t.Error("no fee, but lines")
	}
}

func TestValidateFeeItems(t *testing.T) {
	item := func(change func(*ozgflow.PaymentItem)) []ozgflow.PaymentItem {
		it := ozgflow.PaymentItem{ID: "gebuehr", Description: "Gebühr", Amount: 2600, Quantity: 1,
			BookingData: map[string]string{"haushaltsstelle": "1.122.01.431100"}}
		change(&it)
		return []ozgflow.PaymentItem{it}
	}
	tests := []struct {
		name     string
		items    []ozgflow.PaymentItem
		pointers []string
	}{
		{"sum differs", item(func(it *ozgflow.PaymentItem) { it.Amount = 2500 }), []string{"/fee/items"}},
		{"two lines without price", append(item(func(it *ozgflow.PaymentItem) { it.Amount = 0 }),
			item(func(it *ozgflow.PaymentItem) { it.ID, it.Amount = "auslagen", 0 })...), []string{"/fee/items/0/amount", "/fee/items/1/amount"}},
		{"no description", item(func(it *ozgflow.PaymentItem) { it.Description = " " }), []string{"/fee/items/0/description"}},
		{"negative amount", item(func(it *ozgflow.PaymentItem) { it.Amount = -2600 }), []string{"/fee/items/0/amount", "/fee/items"}},
		{"negative quantity", item(func(it *ozgflow.PaymentItem) { it.Quantity = -1 }), []string{"/fee/items/0/quantity", "/fee/items"}},
		{"bad booking key", item(func(it *ozgflow.PaymentItem) { it.BookingData["Haus halt"] = "x" }), []string{"/fee/items/0/bookingData/Haus halt"}},
		{"empty booking value", item(func(it *ozgflow.PaymentItem) { it.BookingData["objektnummer"] = "" }), []string{"/fee/items/0/bookingData/objektnummer"}},
		{"same id twice", append(item(func(it *ozgflow.PaymentItem) { it.Amount = 1300 }),
			item(func(it *ozgflow.PaymentItem) { it.Amount = 1300 })...), []string{"/fee/items/1/id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def, err := mustCatalog(t).Resolve("gewerbeanmeldung", leipzig)
			if err != nil {
				t.Fatal(err)
			}
			def.Fee.Items = tt.items
			var got []string
			for _, f := range ozgflow.ErrorFields(def.Validate()) {
				got = append(got, f.Pointer)
			}
			for _, ptr := range tt.pointers {
				if !slices.Contains(got, ptr) {
					t.Errorf("no error at %s, got %v", ptr, got)
				}
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		def, _ := mustCatalog(t).Resolve("gewerbeanmeldung", leipzig)
		def.Fee.Items = item(func(*ozgflow.PaymentItem) {})
		if err := def.Validate(); err != nil {
			t.Errorf("valid items refused: %v %v", err, ozgflow.ErrorFields(err))
		}
	})
}
