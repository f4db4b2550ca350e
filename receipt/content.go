package receipt

import (
	"bytes"
	"strings"
)

// Lines returns the text a receipt PDF shows, line by line in the order
// its content streams draw it (each Tj of Render is one line or one part of
// a wrapped one), decoded from WinAnsi. Streams that are no content (fonts,
// images) show nothing.
func Lines(pdf []byte) []string {
	if len(pdf) > maxInput {
		pdf = pdf[:maxInput]
	}
	var lines []string
	budget := maxInput // all inflated streams together, against compression bombs
	for _, s := range findStreams(pdf) {
		data := pdf[s.start:s.end]
		if flate := inflate(pdf, s, budget); flate != nil {
			data = flate
			budget -= len(flate)
		}
		if !bytes.Contains(data, []byte("Tj")) && !bytes.Contains(data, []byte("TJ")) &&
			!bytes.Contains(data, []byte("'")) && !bytes.Contains(data, []byte(`"`)) {
			continue
		}
		lx := &lexer{src: data}
		var shown []byte
		for {
			tok, ok := lx.next()
			if !ok {
				break
			}
			switch {
			case tok.kind == tokString:
				shown = append(shown, tok.value...)
			case tok.kind == tokOperator && showsText(string(tok.value)):
				lines = append(lines, decodeWinAnsi(shown))
				shown = shown[:0]
			case tok.kind == tokOperator:
				shown = shown[:0]
			}
		}
	}
	return lines
}

// showsText reports the operators that show text: Tj and TJ, and ' and "
// (which move to the next line first).
func showsText(op string) bool { return op == "Tj" || op == "TJ" || op == "'" || op == `"` }

// decodeWinAnsi turns WinAnsi bytes back into text.
func decodeWinAnsi(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if r, ok := winAnsiRune[c]; ok {
			sb.WriteRune(r)
			continue
		}
		sb.WriteRune(rune(c)) // ASCII and Latin-1 share their code points
	}
	return sb.String()
}

// winAnsiRune is winAnsiSpecial the other way round.
var winAnsiRune = func() map[byte]rune {
	m := make(map[byte]rune, len(winAnsiSpecial))
	for r, b := range winAnsiSpecial {
		m[b] = r
	}
	return m
}()

// Difference is a line a receipt prints that the case's receipt does not
// print there ("" where the case's receipt has a line the PDF lacks). What
// the case's receipt prints is not told: the answer goes to whoever sends a
// PDF, and the fee's state is not part of the seal.
type Difference struct {
	Shown string `json:"shown"`
}

// maxShown bounds a difference's line, which the sender wrote.
const maxShown = 200

// maxDifferences bounds how many differences a check names.
const maxDifferences = 5

// Differences compares the lines a PDF shows with those of the receipts
// the case could have had (e.g. before and after its fee was paid) and
// returns what differs from the closest one; none when one matches exactly.
func Differences(pdf []byte, candidates ...Receipt) []Difference {
	shown := Lines(pdf)
	var closest []Difference
	for _, c := range candidates {
		recorded, err := Render(c)
		if err != nil {
			continue
		}
		diffs := compareLines(shown, Lines(recorded))
		if len(diffs) == 0 {
			return nil
		}
		if closest == nil || len(diffs) < len(closest) {
			closest = diffs
		}
	}
	return closest
}

// compareLines pairs the lines position by position and lists those that
// differ, at most maxDifferences.
func compareLines(shown, recorded []string) []Difference {
	var out []Difference
	for i := 0; i < max(len(shown), len(recorded)) && len(out) < maxDifferences; i++ {
		var s, r string
		if i < len(shown) {
			s = shown[i]
		}
		if i < len(recorded) {
			r = recorded[i]
		}
		if s != r {
			if len([]rune(s)) > maxShown {
				s = string([]rune(s)[:maxShown]) + "…"
			}
			out = append(out, Difference{Shown: s})
		}
	}
	return out
}
