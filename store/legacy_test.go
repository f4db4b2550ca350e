package store_test

import (
	"context"
	"testing"

	"github.com/ozgflow/ozgflow/internal/redistest"
	"github.com/ozgflow/ozgflow/store"
)

// TestLegacyFilesAndReadMarksLeaveRedis: what an installation from before
// the records database kept in Redis is handed over once and then gone
// from Redis; what the taker refuses stays.
func TestLegacyFilesAndReadMarksLeaveRedis(t *testing.T) {
	ctx := context.Background()
	s := redistest.Store(t, "test:")
	rdb := s.Client()
	prefix := s.Prefix()
	rdb.HSet(ctx, prefix+"file:case-1:abc", "data", "%PDF-1.4 x", "name", "a.pdf", "contentType", "application/pdf", "size", 10)
	rdb.SAdd(ctx, prefix+"postbox-read:amt24-1", "case-1-1", "case-1-2")

	var got []store.LegacyFile
	n, err := s.MoveLegacyFiles(ctx, func(f store.LegacyFile) error { got = append(got, f); return nil })
	if err != nil || n != 1 || len(got) != 1 {
		t.Fatalf("moved %d, %v: %+v", n, err, got)
	}
	if f := got[0]; f.CaseID != "case-1" || f.SHA256 != "abc" || f.Name != "a.pdf" || string(f.Data) != "%PDF-1.4 x" {
		t.Errorf("file handed over as %+v", f)
	}
	marks := map[string][]string{}
	if n, err := s.MoveLegacyReadMarks(ctx, func(acc string, ids []string) error { marks[acc] = ids; return nil }); err != nil || n != 2 {
		t.Fatalf("moved %d read marks, %v", n, err)
	}
	if len(marks["amt24-1"]) != 2 {
		t.Errorf("read marks %v", marks)
	}
	if keys, _ := rdb.Keys(ctx, prefix+"*").Result(); len(keys) != 0 {
		t.Errorf("left in Redis: %v", keys)
	}
	if n, _ := s.MoveLegacyFiles(ctx, func(store.LegacyFile) error { return nil }); n != 0 {
		t.Errorf("moved again: %d", n)
	}
}
