package web

import (
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/definitions/xlsx"
)

// XLSXType is the media type of Excel workbooks.
const XLSXType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// WorkbookBody reads the uploaded workbook from the body or a multipart form.
func WorkbookBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	r.Body = http.MaxBytesReader(w, r.Body, xlsx.MaxWorkbookSize+1<<20)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var rd io.Reader = r.Body
	if strings.HasPrefix(mt, "multipart/") {
		f, _, err := r.FormFile("file")
		if err != nil {
			return nil, ozgflow.Errorf(ozgflow.EINVALID, "The upload needs the workbook in the form field \"file\".")
		}
		defer f.Close()
		rd = f
	} else if mt != XLSXType && mt != "application/octet-stream" {
		return nil, ozgflow.Errorf(ozgflow.EUNSUPPORTED, "Send the workbook as %s or as a multipart upload.", XLSXType)
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		return nil, ozgflow.Errorf(ozgflow.ETOOLARGE, "The workbook is larger than %d MiB.", xlsx.MaxWorkbookSize>>20)
	}
	return b, nil
}
