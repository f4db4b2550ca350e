package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/ozgflow/ozgflow"
	"github.com/ozgflow/ozgflow/internal/redistest"
	"github.com/ozgflow/ozgflow/store"
)

func TestFilesAreKeptByCaseAndHash(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t, "test:")
	data := []byte("%PDF-1.4\n% Meldebescheinigung\n")
	sum := sha256.Sum256(data)
	f := store.File{Name: "meldebescheinigung.pdf", ContentType: "application/pdf", SHA256: hex.EncodeToString(sum[:]), Data: data}

	created, err := s.SaveFile(ctx, "c1", f)
	if err != nil || !created {
		t.Fatalf("first save: created %v, %v", created, err)
	}
	again := f
	again.Name = "kopie.pdf"
	if created, err := s.SaveFile(ctx, "c1", again); err != nil || created {
		t.Errorf("second save of the same bytes: created %v, %v; want kept once", created, err)
	}
	got, err := s.File(ctx, "c1", f.SHA256)
	if err != nil || got.Name != "meldebescheinigung.pdf" || got.ContentType != "application/pdf" || !bytes.Equal(got.Data, data) {
		t.Errorf("File = %+v, %v", got, err)
	}
	if a := got.Attachment(); a.Size != int64(len(data)) || a.SHA256 != f.SHA256 {
		t.Errorf("Attachment = %+v", a)
	}
	if _, err := s.File(ctx, "c2", f.SHA256); ozgflow.ErrorCode(err) != ozgflow.ENOTFOUND {
		t.Errorf("the file of another case: %v, want not found", err)
	}
	if has, err := s.HasFile(ctx, "c1", f.SHA256); !has || err != nil {
		t.Errorf("HasFile = %v, %v", has, err)
	}
	if err := s.DeleteFile(ctx, "c1", f.SHA256); err != nil {
		t.Fatal(err)
	}
	if has, _ := s.HasFile(ctx, "c1", f.SHA256); has {
		t.Error("the file is still there after DeleteFile")
	}

	wrong := f
	wrong.SHA256 = hex.EncodeToString(make([]byte, 32))
	if _, err := s.SaveFile(ctx, "c1", wrong); err == nil {
		t.Error("a hash that does not match the bytes was accepted")
	}
}
