package receipt

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestEveryChangedLineIsNamed flips one byte in every line each content
// stream of a receipt shows: the comparison with the case's receipt names
// that line, and an unchanged receipt has no differences.
func TestEveryChangedLineIsNamed(t *testing.T) {
	key := newKey(t)
	c := sealedCase(t, key, gewerbeData)
	def := gewerbe(t)
	r, err := FromCase(c, &def, "Stadt Leipzig")
	if err != nil {
		t.Fatal(err)
	}
	pdf := renderCase(t, c)
	if diffs := Differences(pdf, r); len(diffs) != 0 {
		t.Fatalf("the case's own receipt differs: %+v", diffs)
	}
	lines := Lines(pdf)
	if len(lines) < 30 || !containsLine(lines, "20,00 EUR, bezahlt am 20.11.2026, 10:35 Uhr") {
		t.Fatalf("lines shown: %q", lines)
	}
	flipped := 0
	for _, line := range lines {
		raw := shown(line)
		at := bytes.Index(pdf, []byte(raw))
		if at < 0 || strings.Trim(line, " ") == "" {
			continue
		}
		// The first letter or digit of the line becomes another one.
		i := strings.IndexFunc(raw, func(r rune) bool { return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' })
		if i < 0 {
			continue
		}
		changed := bytes.Clone(pdf)
		changed[at+i] = map[bool]byte{true: 'X', false: 'Y'}[changed[at+i] != 'X']
		diffs := Differences(changed, r)
		if len(diffs) == 0 || diffs[0].Shown == line || len(diffs[0].Shown) != len(line) {
			t.Errorf("line %q changed: differences %+v", line, diffs)
		}
		flipped++
	}
	if flipped < 30 {
		t.Errorf("only %d lines flipped", flipped)
	}
}

// TestAReceiptFromBeforeThePaymentStillMatches: the receipt fetched before
// the fee was paid shows no date of payment; it matches the receipt
// without one, not the current.
func TestAReceiptFromBeforeThePaymentStillMatches(t *testing.T) {
	key := newKey(t)
	c := sealedCase(t, key, gewerbeData)
	def := gewerbe(t)
	paid, _ := FromCase(c, &def, "Stadt Leipzig")
	unpaid := paid
	p := *paid.Payment
	p.PaidAt = time.Time{}
	unpaid.Payment = &p
	early, _ := Render(unpaid)
	if diffs := Differences(early, paid); len(diffs) == 0 {
		t.Error("the receipt before payment matches the paid one")
	}
	if diffs := Differences(early, paid, unpaid); len(diffs) != 0 {
		t.Errorf("the receipt before payment: %+v", diffs)
	}
	// The Kassenzeichen is printed once the payment is made, not before.
	late, _ := Render(paid)
	if text := strings.Join(Lines(late), "\n"); !strings.Contains(text, "202612345678") {
		t.Errorf("the paid receipt lacks the Kassenzeichen:\n%s", text)
	}
	if text := strings.Join(Lines(early), "\n"); strings.Contains(text, "Kassenzeichen") || strings.Contains(text, "202612345678") {
		t.Errorf("the receipt before payment prints the Kassenzeichen of a payment not made:\n%s", text)
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// TestManyStreamsStayFast: a PDF of a megabyte of empty streams is read
// in linear time (searching each stream's dictionary back to the start of
// the file took minutes).
func TestManyStreamsStayFast(t *testing.T) {
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte(">>stream\nendstream "), (1<<20)/19)...)
	start := time.Now()
	_, _ = Extract(pdf)
	_ = Lines(pdf)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("a megabyte of streams took %v", d)
	}
}

// TestTextShownByQuoteOperatorsCounts: a line drawn with ' or " is read
// like one drawn with Tj.
func TestTextShownByQuoteOperatorsCounts(t *testing.T) {
	c := sealedCase(t, newKey(t), gewerbeData)
	def := gewerbe(t)
	r, _ := FromCase(c, &def, "Stadt Leipzig")
	pdf := renderCase(t, c)
	for _, op := range []string{"'", `0 0 "`} {
		at := bytes.Index(pdf, []byte("endstream"))
		added := append(append(bytes.Clone(pdf[:at]), []byte("BT (Gebuehr: 0,00 EUR) "+op+" ET\n")...), pdf[at:]...)
		diffs := Differences(added, r)
		if len(diffs) == 0 {
			t.Errorf("a line shown with %s went unnoticed", op)
		}
	}
}
