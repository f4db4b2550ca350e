package receipt

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Errors of Extract.
var (
	// ErrNoJWS: the input holds nothing that looks like a compact JWS.
	ErrNoJWS = errors.New("no seal (compact JWS) found")
	// ErrMismatch: a receipt PDF whose embedded seal differs from the printed one.
	ErrMismatch = errors.New("the seal embedded in the PDF differs from the printed seal")
)

// maxInput bounds what Extract reads; a receipt is far smaller.
const maxInput = 20 << 20

// Extract finds the compact JWS of a receipt: in a PDF made by Render (the
// embedded seal, checked against the printed one), or in text that contains
// one, possibly wrapped over lines and broken by spaces.
func Extract(input []byte) (string, error) {
	if len(input) > maxInput {
		input = input[:maxInput]
	}
	if isPDF(input) {
		return extractPDF(input)
	}
	if jws, ok := findCompact(string(input)); ok {
		return jws, nil
	}
	return "", ErrNoJWS
}

// isPDF reports whether input starts like a PDF (the header may follow a
// little junk, as readers allow).
func isPDF(input []byte) bool {
	return bytes.Contains(input[:min(len(input), 1024)], []byte("%PDF-"))
}

// extractPDF reads the embedded and the printed seal. Both present must be
// equal; one alone is taken as it is.
func extractPDF(pdf []byte) (string, error) {
	streams := findStreams(pdf)
	embedded := embeddedSeal(pdf, streams)
	printed := printedSeal(pdf, streams)
	switch {
	case embedded != "" && printed != "" && embedded != printed:
		return "", ErrMismatch
	case embedded != "":
		return embedded, nil
	case printed != "":
		return printed, nil
	}
	return "", ErrNoJWS
}

// span is a byte range of the file: the data of one stream.
// span is a stream's data, start to end, and where its dictionary begins.
type span struct{ start, end, dict int }

var (
	streamKeyword = regexp.MustCompile(`>>\s*stream(\r\n|\n)`)
	lengthEntry   = regexp.MustCompile(`/Length\s+(\d+)(\s+\d+\s+R)?`)
)

// findStreams locates the data of every stream, by its direct /Length where
// it has one and by the endstream keyword otherwise.
func findStreams(pdf []byte) []span {
	var out []span
	from := 0
	for {
		loc := streamKeyword.FindIndex(pdf[from:])
		if loc == nil {
			return out
		}
		start := from + loc[1]
		// The dictionary lies after the previous stream: searching back only
		// that far keeps the scan linear in the file.
		dictStart := bytes.LastIndex(pdf[from:from+loc[0]], []byte(" obj"))
		if dictStart >= 0 {
			dictStart += from
		}
		dict := pdf[max(dictStart, from) : from+loc[0]]
		end := -1
		if m := lengthEntry.FindSubmatch(dict); m != nil && len(m[2]) == 0 {
			if n, err := strconv.Atoi(string(m[1])); err == nil && start+n <= len(pdf) &&
				bytes.HasPrefix(bytes.TrimLeft(pdf[start+n:], "\r\n"), []byte("endstream")) {
				end = start + n
			}
		}
		if end < 0 {
			i := bytes.Index(pdf[start:], []byte("endstream"))
			if i < 0 {
				return append(out, span{start, len(pdf), max(dictStart, from)})
			}
			end = start + i
		}
		out = append(out, span{start, end, max(dictStart, from)})
		from = end
	}
}

// inStream reports whether offset lies in the data of a stream.
func inStream(streams []span, offset int) bool {
	for _, s := range streams {
		if offset >= s.start && offset < s.end {
			return true
		}
	}
	return false
}

// embeddedSeal returns the string of the last /OzgflowJWS entry outside any
// stream: the document information dictionary, as the latest update has it.
func embeddedSeal(pdf []byte, streams []span) string {
	key := []byte("/" + infoSealKey)
	found := ""
	for from := 0; ; {
		i := bytes.Index(pdf[from:], key)
		if i < 0 {
			return found
		}
		at := from + i
		from = at + len(key)
		if inStream(streams, at) {
			continue
		}
		lx := &lexer{src: pdf, pos: from}
		if tok, ok := lx.next(); ok && tok.kind == tokString {
			found = strings.TrimSpace(string(tok.value))
		}
	}
}

// printedSeal joins the strings shown inside the marked parts of the seal in
// the content streams, ordered by their part numbers.
func printedSeal(pdf []byte, streams []span) string {
	type part struct {
		n    int
		text string
	}
	var parts []part
	budget := maxInput // all inflated streams together, against compression bombs
	for _, s := range streams {
		data := pdf[s.start:s.end]
		if flate := inflate(pdf, s, budget); flate != nil {
			data = flate
			budget -= len(flate)
		}
		if !bytes.Contains(data, []byte("/"+sealTag)) {
			continue
		}
		lx := &lexer{src: data}
		var operands []token
		depth, current := 0, -1
		var text strings.Builder
		for {
			tok, ok := lx.next()
			if !ok {
				break
			}
			if tok.kind != tokOperator {
				if current >= 0 && tok.kind == tokString {
					text.Write(tok.value)
				}
				operands = append(operands, tok)
				continue
			}
			switch string(tok.value) {
			case "BDC", "BMC":
				if current >= 0 {
					depth++
				} else if n, ok := sealPart(operands); ok {
					current, depth = n, 0
					text.Reset()
				}
			case "EMC":
				if current >= 0 && depth > 0 {
					depth--
				} else if current >= 0 {
					parts = append(parts, part{current, text.String()})
					current = -1
				}
			}
			operands = operands[:0]
		}
	}
	sort.SliceStable(parts, func(i, j int) bool { return parts[i].n < parts[j].n })
	var sb strings.Builder
	for _, p := range parts {
		sb.WriteString(p.text)
	}
	return strings.Join(strings.Fields(sb.String()), "")
}

// sealPart reads the operands of BDC: /OzgflowSeal << /Part n >>.
func sealPart(operands []token) (int, bool) {
	for i, op := range operands {
		if op.kind == tokName && string(op.value) == sealTag {
			for j := i + 1; j+1 < len(operands); j++ {
				if operands[j].kind == tokName && string(operands[j].value) == "Part" && operands[j+1].kind == tokNumber {
					n, err := strconv.Atoi(string(operands[j+1].value))
					return n, err == nil
				}
			}
			return 0, true
		}
	}
	return 0, false
}

// inflate decompresses, up to limit bytes, a stream whose dictionary names
// /FlateDecode; other streams give nil.
func inflate(pdf []byte, s span, limit int) []byte {
	if limit <= 0 || !bytes.Contains(pdf[s.dict:s.start], []byte("/FlateDecode")) {
		return nil
	}
	r, err := zlib.NewReader(bytes.NewReader(pdf[s.start:s.end]))
	if err != nil {
		return nil
	}
	out, _ := io.ReadAll(io.LimitReader(r, int64(limit)))
	return out
}

// Token kinds of the small PDF lexer.
const (
	tokOther = iota
	tokString
	tokName
	tokNumber
	tokOperator
)

type token struct {
	kind  int
	value []byte
}

// lexer reads the tokens of PDF syntax that the seal is found with:
// strings (decoded), names, numbers and operators; delimiters of arrays
// and dictionaries come as tokOther.
type lexer struct {
	src []byte
	pos int
}

func isDelimiter(c byte) bool { return strings.IndexByte("()<>[]{}/%", c) >= 0 }
func isSpace(c byte) bool     { return strings.IndexByte(" \t\r\n\f\x00", c) >= 0 }

func (lx *lexer) next() (token, bool) {
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		switch {
		case isSpace(c):
			lx.pos++
		case c == '%':
			for lx.pos < len(lx.src) && lx.src[lx.pos] != '\n' && lx.src[lx.pos] != '\r' {
				lx.pos++
			}
		case c == '(':
			return token{tokString, lx.literal()}, true
		case c == '<' && lx.pos+1 < len(lx.src) && lx.src[lx.pos+1] == '<',
			c == '>' && lx.pos+1 < len(lx.src) && lx.src[lx.pos+1] == '>':
			lx.pos += 2
			return token{kind: tokOther}, true
		case c == '<':
			return token{tokString, lx.hex()}, true
		case c == '/':
			lx.pos++
			start := lx.pos
			for lx.pos < len(lx.src) && !isSpace(lx.src[lx.pos]) && !isDelimiter(lx.src[lx.pos]) {
				lx.pos++
			}
			return token{tokName, lx.src[start:lx.pos]}, true
		case isDelimiter(c):
			lx.pos++
			return token{kind: tokOther}, true
		default:
			start := lx.pos
			for lx.pos < len(lx.src) && !isSpace(lx.src[lx.pos]) && !isDelimiter(lx.src[lx.pos]) {
				lx.pos++
			}
			word := lx.src[start:lx.pos]
			if _, err := strconv.ParseFloat(string(word), 64); err == nil {
				return token{tokNumber, word}, true
			}
			return token{tokOperator, word}, true
		}
	}
	return token{}, false
}

// literal decodes a literal string at pos, which holds '('.
func (lx *lexer) literal() []byte {
	var out []byte
	depth := 0
	lx.pos++
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		lx.pos++
		switch c {
		case '(':
			depth++
			out = append(out, c)
		case ')':
			if depth == 0 {
				return out
			}
			depth--
			out = append(out, c)
		case '\\':
			if lx.pos >= len(lx.src) {
				return out
			}
			e := lx.src[lx.pos]
			lx.pos++
			switch e {
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case '\r':
				if lx.pos < len(lx.src) && lx.src[lx.pos] == '\n' {
					lx.pos++
				}
			case '\n':
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for k := 0; k < 2 && lx.pos < len(lx.src) && lx.src[lx.pos] >= '0' && lx.src[lx.pos] <= '7'; k++ {
						v = v*8 + int(lx.src[lx.pos]-'0')
						lx.pos++
					}
					out = append(out, byte(v))
				} else {
					out = append(out, e)
				}
			}
		default:
			out = append(out, c)
		}
	}
	return out
}

// hex decodes a hexadecimal string at pos, which holds '<'.
func (lx *lexer) hex() []byte {
	lx.pos++
	var digits []byte
	for lx.pos < len(lx.src) && lx.src[lx.pos] != '>' {
		if c := lx.src[lx.pos]; strings.IndexByte("0123456789abcdefABCDEF", c) >= 0 {
			digits = append(digits, c)
		}
		lx.pos++
	}
	lx.pos++
	if len(digits)%2 == 1 {
		digits = append(digits, '0')
	}
	out := make([]byte, len(digits)/2)
	for i := range out {
		v, _ := strconv.ParseUint(string(digits[2*i:2*i+2]), 16, 8)
		out[i] = byte(v)
	}
	return out
}

// signatureLength is the length in base64url characters of the signature
// of the JWS algorithms with a fixed signature size; 0 for the others.
var signatureLength = map[string]int{
	"ES256": 86, "ES384": 128, "ES512": 176, "EdDSA": 86,
	"HS256": 43, "HS384": 64, "HS512": 86,
}

// Bounds of the search for a seal in text, so that no input makes it slow:
// the candidates tried (words starting with "eyJ") and the length of a
// header.
const (
	maxCandidates = 64
	maxHeader     = 4096
)

// findCompact finds the first compact JWS in text. Its header starts with
// "eyJ" (base64url of `{"`) and must decode to JSON naming an algorithm;
// from there whitespace is skipped, and the JWS ends at the first character
// that cannot be part of it or, for algorithms with a fixed signature size,
// where the signature is complete.
func findCompact(text string) (string, bool) {
	for from, tried := 0, 0; tried < maxCandidates; {
		i := strings.Index(text[from:], "eyJ")
		if i < 0 {
			return "", false
		}
		start := from + i
		from = start + 3
		if start > 0 && isBase64URL(rune(text[start-1])) {
			continue // inside some other word
		}
		tried++
		if jws, ok := compactAt(text[start:]); ok {
			return jws, true
		}
	}
	return "", false
}

func compactAt(text string) (string, bool) {
	var sb strings.Builder
	dots, sigLen, sig := 0, 0, 0
	for _, r := range text {
		if dots == 0 && sb.Len() > maxHeader {
			return "", false
		}
		switch {
		case r == '.':
			if dots == 2 {
				return result(sb.String(), dots)
			}
			dots++
			if dots == 1 {
				alg := algOf(sb.String())
				if alg == "" {
					return "", false // not a JWS header, or text glued to one
				}
				sigLen = signatureLength[alg]
			}
			sb.WriteRune(r)
		case isBase64URL(r):
			sb.WriteRune(r)
			if dots == 2 {
				sig++
				if sigLen > 0 && sig == sigLen {
					return result(sb.String(), dots)
				}
			}
		case unicode.IsSpace(r):
		default:
			return result(sb.String(), dots)
		}
	}
	return result(sb.String(), dots)
}

func result(jws string, dots int) (string, bool) {
	return jws, dots == 2 && !strings.HasSuffix(jws, ".")
}

func isBase64URL(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}

// algOf reads the alg of an encoded JWS header, or "".
func algOf(encodedHeader string) string {
	b, err := base64.RawURLEncoding.DecodeString(encodedHeader)
	if err != nil {
		return ""
	}
	var h struct {
		Alg string `json:"alg"`
	}
	_ = json.Unmarshal(b, &h)
	return h.Alg
}
