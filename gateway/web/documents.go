package web

import (
	"mime"
	"net/http"
	"strconv"

	"github.com/ozgflow/ozgflow/records"
)

// inlineTypes are the document types a browser shows itself; uploads are
// sniffed to be one of them, so nothing else is ever served inline.
var inlineTypes = map[string]bool{"application/pdf": true, "image/png": true, "image/jpeg": true}

// ServeDocument answers with a document's bytes: shown in the browser when
// it is a PDF or an image, downloaded otherwise, under its own name, never
// cached and never sniffed as anything else.
func ServeDocument(w http.ResponseWriter, d records.Document) { ServeDocumentAs(w, d, false) }

// ServeDocumentAs is ServeDocument that, with download, has the browser
// save a PDF or an image too instead of showing it.
func ServeDocumentAs(w http.ResponseWriter, d records.Document, download bool) {
	disposition, contentType := "attachment", "application/octet-stream"
	if inlineTypes[d.ContentType] {
		contentType = d.ContentType
		if !download {
			disposition = "inline"
		}
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": d.Name}))
	h.Set("Content-Length", strconv.Itoa(len(d.Data)))
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(d.Data)
}
