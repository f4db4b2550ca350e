package receipt

import (
	"bytes"
	"crypto/md5"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// A small PDF 1.4 writer: A4 pages of text in the standard fonts Helvetica,
// Helvetica-Bold and Courier with WinAnsiEncoding (no fonts to embed, ä ö ü
// ß € included), uncompressed content streams and a document information
// dictionary that carries the seal for machines.

// font is one of the three standard fonts a receipt uses.
type font int

const (
	regular font = iota
	bold
	mono
)

var (
	fontBase     = [...]string{"Helvetica", "Helvetica-Bold", "Courier"}
	fontResource = [...]string{"F1", "F2", "F3"}
)

// A4 in points, and the margins of the text.
const (
	pageWidth  = 595.28
	pageHeight = 841.89
	marginX    = 56.69 // 2 cm
	marginTop  = 56.69
	marginBot  = 70.0 // leaves room for the footer
)

// infoSealKey is the entry of the document information dictionary that holds
// the compact JWS, and sealTag marks the printed JWS in the content streams.
const (
	infoSealKey = "OzgflowJWS"
	sealTag     = "OzgflowSeal"
)

// helvetica and helveticaBold are the advance widths (1/1000 em) of the
// printable ASCII characters 32–126, from Adobe's font metrics.
var helvetica = [95]int{
	278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
	556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
	1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
	667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
	333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
	556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
}

var helveticaBold = [95]int{
	278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
	556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
	975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
	667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
	333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
	611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
}

// winAnsiSpecial maps the characters of WinAnsiEncoding's 0x80–0x9F range.
var winAnsiSpecial = map[rune]byte{
	'€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87, 'ˆ': 0x88,
	'‰': 0x89, 'Š': 0x8A, '‹': 0x8B, 'Œ': 0x8C, 'Ž': 0x8E, '‘': 0x91, '’': 0x92, '“': 0x93,
	'”': 0x94, '•': 0x95, '–': 0x96, '—': 0x97, '˜': 0x98, '™': 0x99, 'š': 0x9A, '›': 0x9B,
	'œ': 0x9C, 'ž': 0x9E, 'Ÿ': 0x9F,
}

// specialWidth holds the widths of the characters outside ASCII whose width
// is not that of a base letter; where regular and bold differ, the larger,
// so that a line never runs over.
var specialWidth = map[byte]int{
	0x80: 556, 0x82: 278, 0x83: 556, 0x84: 500, 0x85: 1000, 0x86: 556, 0x87: 556, 0x88: 333,
	0x89: 1000, 0x8A: 667, 0x8B: 333, 0x8C: 1000, 0x8E: 611, 0x91: 278, 0x92: 278, 0x93: 500,
	0x94: 500, 0x95: 350, 0x96: 556, 0x97: 1000, 0x98: 333, 0x99: 1000, 0x9A: 556, 0x9B: 333,
	0x9C: 944, 0x9E: 500, 0x9F: 667,
	0xA0: 278, 0xA1: 333, 0xA2: 556, 0xA3: 556, 0xA4: 556, 0xA5: 556, 0xA6: 280, 0xA7: 556,
	0xA8: 333, 0xA9: 737, 0xAA: 370, 0xAB: 556, 0xAC: 584, 0xAD: 333, 0xAE: 737, 0xAF: 333,
	0xB0: 400, 0xB1: 584, 0xB2: 333, 0xB3: 333, 0xB4: 333, 0xB5: 611, 0xB6: 556, 0xB7: 278,
	0xB8: 333, 0xB9: 333, 0xBA: 365, 0xBB: 556, 0xBC: 834, 0xBD: 834, 0xBE: 834, 0xBF: 611,
	0xC6: 1000, 0xD0: 722, 0xD7: 584, 0xD8: 778, 0xDE: 667, 0xDF: 611,
	0xE6: 889, 0xF0: 611, 0xF7: 584, 0xF8: 611, 0xFE: 611,
	0xCC: 278, 0xCD: 278, 0xCE: 278, 0xCF: 278, 0xEC: 278, 0xED: 278, 0xEE: 278, 0xEF: 278,
}

// latinBase names the base letter of the accented letters 0xC0–0xFF, whose
// width is that of the base letter; '.' marks those in specialWidth.
const latinBase = "AAAAAA.CEEEE....DNOOOOO..UUUUY..aaaaaa.ceeee.....nooooo..uuuuy.y"

// encode converts text to WinAnsiEncoding. A character outside it loses its
// accents if that makes it encodable (ő → o) and becomes '?' otherwise.
func encode(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if b, ok := winAnsi(r); ok {
			out = append(out, b)
			continue
		}
		b := byte('?')
		for _, d := range norm.NFD.String(string(r)) {
			if enc, ok := winAnsi(d); ok && !unicode.Is(unicode.Mn, d) {
				b = enc
				break
			}
		}
		out = append(out, b)
	}
	return out
}

func winAnsi(r rune) (byte, bool) {
	switch {
	case r == '\t':
		return ' ', true
	case r >= 0x20 && r <= 0x7E, r >= 0xA0 && r <= 0xFF:
		return byte(r), true
	}
	b, ok := winAnsiSpecial[r]
	return b, ok
}

// glyphWidth is the width of one WinAnsi byte in 1/1000 em.
func glyphWidth(f font, b byte) int {
	switch {
	case f == mono:
		return 600
	case b >= 0x20 && b <= 0x7E:
		if f == bold {
			return helveticaBold[b-0x20]
		}
		return helvetica[b-0x20]
	case b >= 0xC0 && latinBase[b-0xC0] != '.':
		return glyphWidth(f, latinBase[b-0xC0])
	}
	if w, ok := specialWidth[b]; ok {
		return w
	}
	return 1000
}

// textWidth is the width of s in points at the given size.
func textWidth(f font, size float64, s string) float64 {
	total := 0
	for _, b := range encode(s) {
		total += glyphWidth(f, b)
	}
	return float64(total) * size / 1000
}

// wrap breaks text into lines no wider than width: at spaces where it can,
// inside a word that is wider than a line by itself. Newlines are kept, and
// a dash between two parts of a label stays at the end of the line.
func wrap(f font, size, width float64, text string) []string {
	var lines []string
	text = strings.NewReplacer(" – ", "\u00a0– ", " €", "\u00a0€").Replace(text)
	for _, para := range strings.Split(text, "\n") {
		words := strings.FieldsFunc(para, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' })
		if len(words) == 0 {
			lines = append(lines, "")
			continue
		}
		line := ""
		for _, word := range words {
			candidate := word
			if line != "" {
				candidate = line + " " + word
			}
			if textWidth(f, size, candidate) <= width {
				line = candidate
				continue
			}
			if line != "" {
				lines = append(lines, line)
				line = ""
			}
			for textWidth(f, size, word) > width {
				cut := fitting(f, size, width, word)
				lines = append(lines, word[:cut])
				word = word[cut:]
			}
			line = word
		}
		lines = append(lines, line)
	}
	return lines
}

// fitting returns how many bytes of word (at least one character) fit into width.
func fitting(f font, size, width float64, word string) int {
	end := 0
	for end < len(word) {
		_, n := utf8.DecodeRuneInString(word[end:])
		if end > 0 && textWidth(f, size, word[:end+n]) > width {
			break
		}
		end += n
	}
	return end
}

// literal writes bytes as a PDF literal string, escaping what must be and
// everything outside printable ASCII, so that the file stays 7-bit text.
func literal(b []byte) string {
	var sb strings.Builder
	sb.WriteByte('(')
	for _, c := range b {
		switch {
		case c == '(' || c == ')' || c == '\\':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case c < 0x20 || c > 0x7E:
			fmt.Fprintf(&sb, "\\%03o", c)
		default:
			sb.WriteByte(c)
		}
	}
	sb.WriteByte(')')
	return sb.String()
}

// textString writes a document information text as UTF-16BE with a byte
// order mark, which every reader understands for any character.
func textString(s string) string {
	var sb strings.Builder
	sb.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&sb, "%04X", u)
	}
	sb.WriteByte('>')
	return sb.String()
}

// pdfDate writes a time as a PDF date, D:YYYYMMDDHHmmSS+HH'mm'.
func pdfDate(t time.Time) string {
	_, offset := t.Zone()
	sign := '+'
	if offset < 0 {
		sign, offset = '-', -offset
	}
	return fmt.Sprintf("D:%s%c%02d'%02d'", t.Format("20060102150405"), sign, offset/3600, offset%3600/60)
}

// num writes a coordinate with at most two decimals.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

// infoEntry is one entry of the document information dictionary; Value is
// written as is (a PDF string or name).
type infoEntry struct{ Key, Value string }

// writePDF assembles the file: catalog, page tree, fonts, information
// dictionary, and for each page its content stream.
func writePDF(pages [][]byte, info []infoEntry) []byte {
	var buf bytes.Buffer
	var offsets []int
	object := func(body string) int {
		offsets = append(offsets, buf.Len())
		n := len(offsets)
		fmt.Fprintf(&buf, "%d 0 obj\n%s\nendobj\n", n, body)
		return n
	}
	buf.WriteString("%PDF-1.4\n%\xE2\xE3\xCF\xD3\n")

	// Fixed numbers: 1 catalog, 2 page tree, 3–5 fonts, 6 info; pages follow.
	const firstPage = 7
	object("<< /Type /Catalog /Pages 2 0 R /Lang (de-DE) /ViewerPreferences << /DisplayDocTitle true >> >>")
	kids := make([]string, len(pages))
	for i := range pages {
		kids[i] = fmt.Sprintf("%d 0 R", firstPage+2*i)
	}
	object(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(pages)))
	for _, base := range fontBase {
		object("<< /Type /Font /Subtype /Type1 /BaseFont /" + base + " /Encoding /WinAnsiEncoding >>")
	}
	var sb strings.Builder
	sb.WriteString("<<")
	for _, e := range info {
		fmt.Fprintf(&sb, " /%s %s", e.Key, e.Value)
	}
	sb.WriteString(" >>")
	object(sb.String())
	resources := "<< /Font << /F1 3 0 R /F2 4 0 R /F3 5 0 R >> >>"
	for i, content := range pages {
		object(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Resources %s /Contents %d 0 R >>",
			num(pageWidth), num(pageHeight), resources, firstPage+2*i+1))
		object(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	}

	xref := buf.Len()
	fmt.Fprintf(&buf, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, off := range offsets {
		fmt.Fprintf(&buf, "%010d 00000 n \n", off)
	}
	id := md5.Sum(buf.Bytes()) // identifies the file, as PDF/A and PDF 2.0 readers expect
	fmt.Fprintf(&buf, "trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R /ID [<%X> <%X>] >>\nstartxref\n%d\n%%%%EOF\n",
		len(offsets)+1, id, id, xref)
	return buf.Bytes()
}
