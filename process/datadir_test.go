package process_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ozgflow/ozgflow/process"
)

// TestDevRefusesADataDirectoryThatDoesNotBelongTogether: a lost secret or a
// lost engine database is named, before dev creates anything.
func TestDevRefusesADataDirectoryThatDoesNotBelongTogether(t *testing.T) {
	for _, tt := range []struct {
		name  string
		files []string // a name ending in .db is a good SQLite database, "damaged.db" stands for a damaged one
		want  string
	}{
		{"engine database without its secret", []string{"temporal.db", "records.db"}, "no secret"},
		{"records without the engine database", []string{"secret", "records.db"}, "no temporal.db"},
		{"a damaged engine database", []string{"secret", "damaged.db"}, "temporal.db is damaged"},
		{"an installation without its engine database", []string{"secret", "installation"}, "temporal.db is gone"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tt.files {
				path := filepath.Join(dir, f)
				switch {
				case f == "damaged.db":
					path = filepath.Join(dir, "temporal.db")
					if err := os.WriteFile(path, []byte("SQLite format 3\x00 but not a database at all"), 0o600); err != nil {
						t.Fatal(err)
					}
				case strings.HasSuffix(f, ".db"):
					db, err := sql.Open("sqlite", "file:"+path)
					if err == nil {
						_, err = db.Exec("CREATE TABLE t (x INTEGER)")
						db.Close()
					}
					if err != nil {
						t.Fatal(err)
					}
				default:
					if err := os.WriteFile(path, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
			cfg := process.DefaultConfig()
			cfg.Addr, cfg.DataDir = "127.0.0.1:0", dir
			_, err := process.StartDev(context.Background(), cfg, process.DevOptions{},
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), dir) {
				t.Fatalf("start: %v, want a refusal saying %q", err, tt.want)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != len(tt.files) {
				t.Errorf("the refused start created files: %v", entries)
			}
		})
	}
	fresh := process.DefaultConfig()
	fresh.DataDir = t.TempDir()
	if !process.FirstStart(fresh) {
		t.Error("an empty data directory is no first start")
	}
}
