package gateway

import (
	"bytes"
	"context"
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
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/store"
)

// Answers to information requests may carry documents. The API and the
// applicant's page read them the same way: multipart/form-data with a field
// "text", optionally "data" (a JSON object) and up to maxUploadFiles parts
// "files". The type of a file is what its bytes are (PDF, JPEG, PNG), never
// what its name says.

// Limits of an answer's uploads.
const (
	maxUploadFiles      = 5
	maxUploadFileBytes  = 5_000_000
	maxUploadTotalBytes = 10_000_000
	maxAnswerTextRunes  = 10_000
	// maxUploadBody bounds the whole body: the files plus room for the
	// text and the parts' headers.
	maxUploadBody = maxUploadTotalBytes + 512<<10
	// maxUploadDrain is how much of a too large body is still read, so
	// that the client gets the answer instead of a broken connection.
	maxUploadDrain = 64 << 20
)

// uploadTypes are the accepted types, as sniffed, with their file extension.
var uploadTypes = map[string]string{
	"application/pdf": ".pdf",
	"image/jpeg":      ".jpg",
	"image/png":       ".png",
}

// answerUpload is an answer read from a multipart body.
type answerUpload struct {
	Text  string
	Data  json.RawMessage
	CSRF  string
	Files []store.File
}

// uploadProblem is one thing wrong with an upload, named for the API by its
// pointer and for the page by its reason.
type uploadProblem struct {
	Pointer string
	Reason  string // a key "upload.<reason>" of the page texts
	Name    string // the file concerned, sanitised
}

// uploadError is a refused upload; its code decides the status.
type uploadError struct {
	Code     string
	Problems []uploadProblem
}

func (e *uploadError) Error() string { return "upload refused: " + e.Code }

// add records a problem; the gravest code wins (too large, then
// unsupported type, then anything else).
func (e *uploadError) add(code, pointer, reason, name string) {
	rank := map[string]int{ozgflow.ETOOLARGE: 3, ozgflow.EUNSUPPORTED: 2, ozgflow.EUNPROCESSABLE: 1, ozgflow.EINVALID: 1}
	if rank[code] > rank[e.Code] {
		e.Code = code
	}
	e.Problems = append(e.Problems, uploadProblem{Pointer: pointer, Reason: reason, Name: name})
}

// apiError is the refusal as the API answers it.
func (e *uploadError) apiError() error {
	details := map[string]func(p uploadProblem) string{
		"empty_answer": func(uploadProblem) string { return "is required unless files are uploaded" },
		"too_large_file": func(p uploadProblem) string {
			return fmt.Sprintf("%q is larger than %d bytes", p.Name, maxUploadFileBytes)
		},
		"too_large_total": func(uploadProblem) string {
			return fmt.Sprintf("the files are larger than %d bytes together", maxUploadTotalBytes)
		},
		"too_many":      func(uploadProblem) string { return fmt.Sprintf("at most %d files", maxUploadFiles) },
		"wrong_type":    func(p uploadProblem) string { return fmt.Sprintf("%q is not a PDF, JPEG or PNG document", p.Name) },
		"empty_file":    func(p uploadProblem) string { return fmt.Sprintf("%q is empty", p.Name) },
		"text_too_long": func(uploadProblem) string { return fmt.Sprintf("at most %d characters", maxAnswerTextRunes) },
		"data_invalid":  func(uploadProblem) string { return "must be a JSON object" },
		"not_multipart": func(uploadProblem) string { return "the body must be multipart/form-data or application/json" },
		"unreadable":    func(uploadProblem) string { return "the multipart body could not be read" },
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

// isMultipart reports whether the request carries a multipart form.
func isMultipart(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "multipart/form-data"
}

// readAnswerUpload reads a multipart answer. It keeps at most
// maxUploadBody bytes in memory and names every problem it finds; a body
// that is too large is read on (up to maxUploadDrain) and dropped, so that
// the client still receives the refusal.
func readAnswerUpload(r *http.Request) (answerUpload, *uploadError) {
	var up answerUpload
	fail := &uploadError{}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		fail.add(ozgflow.EUNSUPPORTED, "", "not_multipart", "")
		return up, fail
	}
	body := &io.LimitedReader{R: r.Body, N: maxUploadBody + 1}
	defer func() { _, _ = io.CopyN(io.Discard, r.Body, maxUploadDrain) }()
	mr := multipart.NewReader(body, params["boundary"])
	var total int64
	seen := map[string]bool{}
	for index := 0; ; {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if body.N <= 0 {
				fail.add(ozgflow.ETOOLARGE, "/files", "too_large_total", "")
			} else {
				fail.add(ozgflow.EINVALID, "", "unreadable", "")
			}
			return up, fail
		}
		switch part.FormName() {
		case "text":
			b, _ := io.ReadAll(io.LimitReader(part, 4*maxAnswerTextRunes+1))
			up.Text = strings.TrimSpace(strings.ReplaceAll(string(b), "\r\n", "\n"))
			if !utf8.ValidString(up.Text) || utf8.RuneCountInString(up.Text) > maxAnswerTextRunes {
				fail.add(ozgflow.EUNPROCESSABLE, "/text", "text_too_long", "")
			}
		case "data":
			b, _ := io.ReadAll(io.LimitReader(part, 64<<10))
			if t := bytes.TrimSpace(b); len(t) > 0 {
				if t[0] != '{' || !json.Valid(t) {
					fail.add(ozgflow.EUNPROCESSABLE, "/data", "data_invalid", "")
				}
				up.Data = t
			}
		case "csrf":
			b, _ := io.ReadAll(io.LimitReader(part, 256))
			up.CSRF = string(b)
		case "files", "files[]", "file":
			data, err := io.ReadAll(io.LimitReader(part, maxUploadFileBytes+1))
			if err != nil {
				if body.N <= 0 {
					fail.add(ozgflow.ETOOLARGE, "/files", "too_large_total", "")
				} else {
					fail.add(ozgflow.EINVALID, "", "unreadable", "")
				}
				return up, fail
			}
			if part.FileName() == "" && len(data) == 0 {
				continue // a file field left empty
			}
			pointer := "/files/" + itoa(index)
			contentType := sniffUpload(data)
			name := sanitizeFileName(part.FileName(), contentType, index)
			index++
			switch {
			case index > maxUploadFiles:
				if index == maxUploadFiles+1 {
					fail.add(ozgflow.EUNPROCESSABLE, "/files", "too_many", "")
				}
				continue
			case len(data) > maxUploadFileBytes:
				_, _ = io.Copy(io.Discard, part)
				fail.add(ozgflow.ETOOLARGE, pointer, "too_large_file", name)
				continue
			case len(data) == 0:
				fail.add(ozgflow.EUNPROCESSABLE, pointer, "empty_file", name)
				continue
			case contentType == "":
				fail.add(ozgflow.EUNSUPPORTED, pointer, "wrong_type", name)
				continue
			}
			total += int64(len(data))
			sum := sha256.Sum256(data)
			hash := hex.EncodeToString(sum[:])
			if !seen[hash] { // the same document twice is kept once
				seen[hash] = true
				up.Files = append(up.Files, store.File{Name: name, ContentType: contentType, SHA256: hash, Data: data})
			}
		}
	}
	if total > maxUploadTotalBytes {
		fail.add(ozgflow.ETOOLARGE, "/files", "too_large_total", "")
	}
	if len(fail.Problems) == 0 && up.Text == "" && len(up.Data) == 0 && len(up.Files) == 0 {
		fail.add(ozgflow.EUNPROCESSABLE, "/text", "empty_answer", "")
	}
	if len(fail.Problems) > 0 {
		up.Files = nil
		return up, fail
	}
	return up, nil
}

// sniffUpload returns the accepted type the bytes are, or "".
func sniffUpload(data []byte) string {
	mt, _, _ := mime.ParseMediaType(http.DetectContentType(data))
	if _, ok := uploadTypes[mt]; ok {
		return mt
	}
	return ""
}

// sanitizeFileName keeps the last element of a client's file name, drops
// control and path characters, shortens it and gives it the extension of
// its real type, so that the name is safe to show and to save anywhere.
func sanitizeFileName(name, contentType string, index int) string {
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
		base = "dokument-" + itoa(index+1)
	}
	return base + have
}

// respondWithFiles keeps the uploaded documents and passes the answer to the
// case. Documents stored for an answer the case refuses are removed again.
func (s *Server) respondWithFiles(ctx context.Context, caseID string, resp ozgflow.Response, files []store.File) (ozgflow.Case, error) {
	var created []string
	for _, f := range files {
		isNew, err := s.store.SaveFile(ctx, caseID, f)
		if err != nil {
			s.dropFiles(caseID, created)
			return ozgflow.Case{}, err
		}
		if isNew {
			created = append(created, f.SHA256)
		}
		resp.Attachments = append(resp.Attachments, f.Attachment())
	}
	var state ozgflow.Case
	if err := s.update(ctx, caseID, ozgflow.UpdateRespond, &state, resp); err != nil {
		s.dropFiles(caseID, created)
		return state, err
	}
	return state, nil
}

// dropFiles removes documents of a refused answer; it runs even when the
// request was cancelled.
func (s *Server) dropFiles(caseID string, hashes []string) {
	for _, h := range hashes {
		if err := s.store.DeleteFile(context.Background(), caseID, h); err != nil {
			s.logger.Warn("Document of a refused answer not removed", "case", caseID, "error", err)
		}
	}
}

// checkAnswer checks an answer sent as JSON: it must say something, and the
// attachments it names must be documents uploaded to this case before.
func (s *Server) checkAnswer(ctx context.Context, caseID string, resp ozgflow.Response) error {
	if strings.TrimSpace(resp.Text) == "" && len(resp.Data) == 0 && len(resp.Attachments) == 0 {
		return &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: "The answer is empty.",
			Fields: []ozgflow.FieldError{{Pointer: "/text", Detail: "is required"}}}
	}
	var errs []ozgflow.FieldError
	for i, a := range resp.Attachments {
		has, err := s.store.HasFile(ctx, caseID, a.SHA256)
		if err != nil {
			return err
		}
		if !has {
			errs = append(errs, ozgflow.FieldError{Pointer: "/attachments/" + itoa(i) + "/sha256",
				Detail: "is no document of this application; upload documents as multipart/form-data"})
		}
	}
	if len(errs) > 0 {
		return &ozgflow.Error{Code: ozgflow.EUNPROCESSABLE, Message: "Unknown attachments.", Fields: errs}
	}
	return nil
}
