package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/records"
)

// Answers to information requests may carry documents. The API and the
// applicant's page read them the same way: multipart/form-data with a field
// "text", optionally "data" (a JSON object) and up to MaxUploadFiles parts
// "files". The type of a file is what its bytes are (PDF, JPEG, PNG), never
// what its name says.

// Limits of an answer's uploads.
const (
	MaxUploadFiles      = 5
	MaxUploadFileBytes  = 5_000_000
	MaxUploadTotalBytes = 10_000_000
	MaxAnswerTextRunes  = ozgflow.MaxAnswerRunes
	// maxUploadBody bounds the whole body: the files plus room for the
	// text and the parts' headers.
	maxUploadBody = MaxUploadTotalBytes + 512<<10
	// MaxUploadDrain is how much of a too large body is still read, so
	// that the client gets the answer instead of a broken connection.
	MaxUploadDrain = 64 << 20
)

// uploadTypes are the accepted types, as sniffed, with their file extension.
var uploadTypes = map[string]string{
	"application/pdf": ".pdf",
	"image/jpeg":      ".jpg",
	"image/png":       ".png",
}

// AnswerUpload is an answer read from a multipart body.
type AnswerUpload struct {
	Text  string
	Data  json.RawMessage
	CSRF  string
	Files []records.Document
}

// UploadProblem is one thing wrong with an upload, named for the API by its
// pointer and for the page by its reason.
type UploadProblem struct {
	Pointer string
	Reason  string // a key "upload.<reason>" of the page texts
	Name    string // the file concerned, sanitised
}

// UploadError is a refused upload; its code decides the status.
type UploadError struct {
	Code     string
	Problems []UploadProblem
}

// Error implements error.
func (e *UploadError) Error() string { return "upload refused: " + e.Code }

// add records a problem; the gravest code wins (too large, then
// unsupported type, then anything else).
func (e *UploadError) add(code, pointer, reason, name string) {
	rank := map[string]int{ozgflow.ETOOLARGE: 3, ozgflow.EUNSUPPORTED: 2, ozgflow.EUNPROCESSABLE: 1, ozgflow.EINVALID: 1}
	if rank[code] > rank[e.Code] {
		e.Code = code
	}
	e.Problems = append(e.Problems, UploadProblem{Pointer: pointer, Reason: reason, Name: name})
}

// broken records why a body broke off: it was too large when its limit is
// used up, else unreadable.
func (e *UploadError) broken(body *io.LimitedReader) *UploadError {
	if body.N <= 0 {
		e.add(ozgflow.ETOOLARGE, "/files", "too_large_total", "")
	} else {
		e.add(ozgflow.EINVALID, "", "unreadable", "")
	}
	return e
}

// APIError is the refusal as the API answers it.
func (e *UploadError) APIError() error {
	details := map[string]func(p UploadProblem) string{
		"empty_answer": func(UploadProblem) string { return "is required unless files are uploaded" },
		"application_missing": func(UploadProblem) string {
			return "is required: the application as JSON, beside the documents in parts \"files\""
		},
		"application_too_large": func(UploadProblem) string { return fmt.Sprintf("is larger than %d bytes", MaxBodyBytes) },
		"too_large_file": func(p UploadProblem) string {
			return fmt.Sprintf("%q is larger than %d bytes", p.Name, MaxUploadFileBytes)
		},
		"too_large_total": func(UploadProblem) string {
			return fmt.Sprintf("the files are larger than %d bytes together", MaxUploadTotalBytes)
		},
		"too_many":      func(UploadProblem) string { return fmt.Sprintf("at most %d files", MaxUploadFiles) },
		"wrong_type":    func(p UploadProblem) string { return fmt.Sprintf("%q is not a PDF, JPEG or PNG document", p.Name) },
		"empty_file":    func(p UploadProblem) string { return fmt.Sprintf("%q is empty", p.Name) },
		"text_too_long": func(UploadProblem) string { return fmt.Sprintf("at most %d characters", MaxAnswerTextRunes) },
		"data_invalid":  func(UploadProblem) string { return "must be a JSON object" },
		"not_multipart": func(UploadProblem) string { return "the body must be multipart/form-data or application/json" },
		"unreadable":    func(UploadProblem) string { return "the multipart body could not be read" },
	}
	messages := map[string]string{
		ozgflow.ETOOLARGE:      "The upload is too large.",
		ozgflow.EUNSUPPORTED:   "Only PDF, JPEG and PNG documents are accepted.",
		ozgflow.EUNPROCESSABLE: "The answer cannot be accepted.",
		ozgflow.EINVALID:       "The body could not be read.",
	}
	out := &ozgflow.Error{Code: e.Code, Message: messages[e.Code]}
	for _, p := range e.Problems {
		out.Fields = append(out.Fields, ozgflow.FieldError{Pointer: p.Pointer, Detail: details[p.Reason](p)})
	}
	return out
}

// IsMultipart reports whether the request carries a multipart form.
func IsMultipart(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "multipart/form-data"
}

// ReadAnswerUpload reads a multipart answer. It keeps at most
// maxUploadBody bytes in memory and names every problem it finds; a body
// that is too large is read on (up to MaxUploadDrain) and dropped, so that
// the client still receives the refusal.
func ReadAnswerUpload(r *http.Request) (AnswerUpload, *UploadError) {
	var up AnswerUpload
	fail := &UploadError{}
	files, err := readParts(r, maxUploadBody, fail, func(part *multipart.Part) {
		switch part.FormName() {
		case "text":
			b, _ := io.ReadAll(io.LimitReader(part, 4*MaxAnswerTextRunes+1))
			up.Text = strings.TrimSpace(strings.ReplaceAll(string(b), "\r\n", "\n"))
			// Invalid UTF-8 and control characters are the case service's
			// to refuse, for JSON answers alike; a text cut short by the
			// limit counts its last broken bytes and so is too long.
			if utf8.RuneCountInString(up.Text) > MaxAnswerTextRunes {
				fail.add(ozgflow.EUNPROCESSABLE, "/text", "text_too_long", "")
			}
		case "data":
			b, _ := io.ReadAll(io.LimitReader(part, 64<<10+1))
			if len(b) > 64<<10 {
				fail.add(ozgflow.ETOOLARGE, "/data", "data_invalid", "")
				break
			}
			if t := bytes.TrimSpace(b); len(t) > 0 {
				// The same rules as a JSON body: no key twice, no NUL or
				// control characters.
				if t[0] != '{' || !json.Valid(t) || CheckJSON(t) != nil {
					fail.add(ozgflow.EUNPROCESSABLE, "/data", "data_invalid", "")
				}
				up.Data = t
			}
		case "csrf":
			b, _ := io.ReadAll(io.LimitReader(part, 256))
			up.CSRF = string(b)
		}
	})
	if err != nil {
		return up, fail
	}
	up.Files = files
	if len(fail.Problems) == 0 && up.Text == "" && len(up.Data) == 0 && len(up.Files) == 0 {
		fail.add(ozgflow.EUNPROCESSABLE, "/text", "empty_answer", "")
	}
	if len(fail.Problems) > 0 {
		up.Files = nil
		return up, fail
	}
	return up, nil
}

// SubmitUpload is an application sent as multipart/form-data: the
// application as JSON in the part "application", its documents in parts
// "files".
type SubmitUpload struct {
	Application []byte
	Files       []records.Document
}

// ReadSubmitUpload reads a multipart application under the same rules as
// an answer's documents; the application part is bounded like a JSON body.
func ReadSubmitUpload(r *http.Request) (SubmitUpload, *UploadError) {
	var up SubmitUpload
	fail := &UploadError{}
	files, err := readParts(r, maxUploadBody+MaxBodyBytes, fail, func(part *multipart.Part) {
		if part.FormName() != "application" {
			return
		}
		b, _ := io.ReadAll(io.LimitReader(part, MaxBodyBytes+1))
		if len(b) > MaxBodyBytes {
			fail.add(ozgflow.ETOOLARGE, "/application", "application_too_large", "")
			return
		}
		up.Application = b
	})
	if err != nil {
		return up, fail
	}
	up.Files = files
	if len(fail.Problems) == 0 && len(bytes.TrimSpace(up.Application)) == 0 {
		fail.add(ozgflow.EUNPROCESSABLE, "/application", "application_missing", "")
	}
	if len(fail.Problems) > 0 {
		return SubmitUpload{}, fail
	}
	return up, nil
}

// readParts reads a multipart body of at most limit bytes: the documents
// of its parts "files" (under the rules of fileParts), and every other
// part through field. It returns an error, recorded in fail, when the body
// broke off; a body that is too large is read on (up to MaxUploadDrain)
// and dropped, so that the client still receives the refusal.
func readParts(r *http.Request, limit int64, fail *UploadError, field func(*multipart.Part)) ([]records.Document, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		fail.add(ozgflow.EUNSUPPORTED, "", "not_multipart", "")
		return nil, fail
	}
	body := &io.LimitedReader{R: r.Body, N: limit + 1}
	defer func() { _, _ = io.CopyN(io.Discard, r.Body, MaxUploadDrain) }()
	files := newFileParts(fail)
	mr := multipart.NewReader(body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return files.finish(), nil
		}
		if err == nil {
			switch part.FormName() {
			case "files", "files[]", "file":
				err = files.read(part)
			default:
				field(part)
			}
		}
		if err != nil {
			return nil, fail.broken(body)
		}
	}
}

// fileParts collects the documents of a multipart body: each sniffed to
// be a PDF, JPEG or PNG, within the size limits, and the same document
// kept once.
type fileParts struct {
	fail  *UploadError
	files []records.Document
	seen  map[string]bool
	index int
	total int64
}

func newFileParts(fail *UploadError) *fileParts {
	return &fileParts{fail: fail, seen: map[string]bool{}}
}

// read takes one file part; an error means the body broke off.
func (fp *fileParts) read(part *multipart.Part) error {
	data, err := io.ReadAll(io.LimitReader(part, MaxUploadFileBytes+1))
	if err != nil {
		return err
	}
	if part.FileName() == "" && len(data) == 0 {
		return nil // a file field left empty
	}
	pointer := "/files/" + strconv.Itoa(fp.index)
	contentType := DocumentType(data)
	name := SanitizeFileName(part.FileName(), contentType, fp.index)
	fp.index++
	switch {
	case fp.index > MaxUploadFiles:
		if fp.index == MaxUploadFiles+1 {
			fp.fail.add(ozgflow.EUNPROCESSABLE, "/files", "too_many", "")
		}
		return nil
	case len(data) > MaxUploadFileBytes:
		_, _ = io.Copy(io.Discard, part)
		fp.fail.add(ozgflow.ETOOLARGE, pointer, "too_large_file", name)
		return nil
	case len(data) == 0:
		fp.fail.add(ozgflow.EUNPROCESSABLE, pointer, "empty_file", name)
		return nil
	case contentType == "":
		fp.fail.add(ozgflow.EUNSUPPORTED, pointer, "wrong_type", name)
		return nil
	}
	fp.total += int64(len(data))
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	if !fp.seen[hash] { // the same document twice is kept once
		fp.seen[hash] = true
		fp.files = append(fp.files, records.Document{Name: name, ContentType: contentType, SHA256: hash,
			Size: int64(len(data)), Kind: records.KindUpload, Data: data})
	}
	return nil
}

// finish checks the files together and returns them.
func (fp *fileParts) finish() []records.Document {
	if fp.total > MaxUploadTotalBytes {
		fp.fail.add(ozgflow.ETOOLARGE, "/files", "too_large_total", "")
	}
	return fp.files
}

// DocumentType returns the accepted type the bytes are (PDF, JPEG, PNG, as
// sniffed), or "" for documents ozgflow does not take.
func DocumentType(data []byte) string {
	mt, _, _ := mime.ParseMediaType(http.DetectContentType(data))
	if _, ok := uploadTypes[mt]; ok {
		return mt
	}
	return ""
}

// SanitizeFileName keeps the last element of a client's file name, drops
// control and path characters, shortens it and gives it the extension of
// its real type, so that the name is safe to show and to save anywhere.
func SanitizeFileName(name, contentType string, index int) string {
	name = strings.ReplaceAll(name, "\\", "/")
	if name = path.Base("/" + name); name == "/" {
		name = ""
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Cf, r):
		case unicode.IsLetter(r), unicode.IsDigit(r), strings.ContainsRune(" .-_()+,", r):
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	clean := strings.Trim(strings.Join(strings.Fields(b.String()), " "), " .")
	ext := uploadTypes[contentType]
	base, have := clean, strings.ToLower(path.Ext(clean))
	if have == ext || (contentType == "image/jpeg" && have == ".jpeg") {
		base = strings.TrimSuffix(clean, path.Ext(clean))
	} else {
		have = ext
	}
	if runes := []rune(base); len(runes) > 100 {
		base = strings.TrimRight(string(runes[:100]), " .")
	}
	if base == "" || base == "/" {
		base = "dokument-" + strconv.Itoa(index+1)
	}
	return base + have
}
